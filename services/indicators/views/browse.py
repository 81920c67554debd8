"""Pages of the indicator library (指标库) itself: the browser (framework tree, filters, search,
paging) and one indicator's page (detail with its version history; retire and restore).

The browser's table is an htmx partial; its URL always carries the filters so a page can be
bookmarked or printed, and the export link asks the JSON API for exactly the same filters.
Thin like every handler: call the service, re-render with its Chinese messages on 422.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import flash, redirect, render_template, request, url_for
from flask_login import login_required
from sqlalchemy import func, select

from jixiao.platform.core.errors import ValidationFailed
from jixiao.platform.web.context import actor, db
from jixiao.platform.web.pages import is_htmx as _htmx
from jixiao.platform.web.pages import may as _may

from .. import service
from ..models import FRAMEWORK, KINDS, LEVEL1_OF, SCOPES, Indicator, IndicatorProposal
from ..rules import (
    DIRECTION_LABELS,
    FIELD_LABELS,
    KIND_LABELS,
    SCOPE_LABELS,
    VALUE_TYPE_LABELS,
)
from .common import STATUS_LABELS, bp, linked, vocabulary, writable

PAGE_SIZE = 50
STATUS_FILTERS = {"active": "在用", "retired": "已退出", "all": "全部"}
OWNER_FILTERS = {"": "全部", "shared": "省级共享", "own": "本单位"}
ACTION_LABELS = {"create": "新建", "update": "修改", "retire": "退出", "restore": "恢复"}
HISTORY_LABELS = {**FIELD_LABELS, "code": "编码", "status": "状态", "retired_reason": "退出原因"}
# The JSON API's export (it takes the session cookie for GETs) gets exactly the browser's filters.
EXPORT_URL = "/api/v1/indicators/export"
FILTER_KEYS = ("q", "level1", "level2", "category", "common_class", "kind", "scope", "status", "owner")


# --- the library browser ------------------------------------------------------------------------


def _filters() -> dict[str, str]:
    """The browser's filters from the query string, unknown values dropped; `status` defaults to
    在用 and `level2` wins over `level1` (it names its parent anyway)."""
    args = request.args
    f = {key: (args.get(key) or "").strip() for key in FILTER_KEYS}
    f["q"] = f["q"][:100]
    if f["level2"] not in LEVEL1_OF:
        f["level2"] = ""
    if f["level2"]:
        f["level1"] = LEVEL1_OF[f["level2"]]
    elif f["level1"] not in FRAMEWORK:
        f["level1"] = ""
    if f["kind"] not in KINDS:
        f["kind"] = ""
    if f["scope"] not in SCOPES:
        f["scope"] = ""
    if f["status"] not in STATUS_FILTERS:
        f["status"] = "active"
    if f["owner"] not in OWNER_FILTERS:
        f["owner"] = ""
    return f


def _query(f: dict[str, str], **override: Any) -> dict[str, Any]:
    """The canonical query string of some filters: no empty keys, no default status, level2
    without its (implied) level1."""
    merged: dict[str, Any] = {**f, **override}
    if merged.get("level2"):
        merged["level1"] = ""
    if merged.get("status") == "active":
        merged["status"] = ""
    if merged.get("page") == 1:
        merged["page"] = None
    return {k: v for k, v in merged.items() if v not in ("", None)}


def _service_filters(f: dict[str, str]) -> dict[str, Any]:
    return {k: (v or None) for k, v in f.items()} | {"status": f["status"]}


def _tree(f: dict[str, str]) -> dict[str, Any]:
    """The framework with the number of matching indicators under each node (level filters
    aside, so the counts say where the other filters' indicators are) and each node's link."""
    s = db()
    others = {**f, "level1": "", "level2": ""}
    sub = service.search_stmt(s, actor(), **_service_filters(others)).order_by(None).subquery()
    by_id = dict(s.execute(select(sub.c.level2_id, func.count()).group_by(sub.c.level2_id)).all())
    names = {n.id: n.name for n in service.level2_nodes(s).values()}
    count = {names[i]: c for i, c in by_id.items() if i in names}
    nodes = []
    for level1 in service.framework(s):
        children = [
            {
                "name": c["name"],
                "count": count.get(c["name"], 0),
                "query": _query(others, level2=c["name"]),
                "active": f["level2"] == c["name"],
            }
            for c in level1["children"]
        ]
        nodes.append(
            {
                "name": level1["name"],
                "count": sum(c["count"] for c in children),
                "query": _query(others, level1=level1["name"]),
                "active": f["level1"] == level1["name"] and not f["level2"],
                "children": children,
            }
        )
    return {
        "nodes": nodes,
        "total": sum(n["count"] for n in nodes),
        "query": _query(others),
        "active": not f["level1"] and not f["level2"],
    }


def _filter_summary(f: dict[str, str]) -> list[str]:
    parts = []
    if f["level2"]:
        parts.append(f"二级指标 {f['level1']}/{f['level2']}")
    elif f["level1"]:
        parts.append(f"一级指标 {f['level1']}")
    for key in ("category", "common_class"):
        if f[key]:
            parts.append(f"{FIELD_LABELS[key]} {f[key]}")
    if f["kind"]:
        parts.append(f"指标类型 {KIND_LABELS[f['kind']]}")
    if f["scope"]:
        parts.append(f"适用范围 {SCOPE_LABELS[f['scope']]}")
    parts.append(f"状态 {STATUS_FILTERS[f['status']]}")
    if f["owner"]:
        parts.append(f"所属 {OWNER_FILTERS[f['owner']]}")
    if f["q"]:
        parts.append(f"关键词「{f['q']}」")
    return parts


@bp.get("/")
@login_required
def index() -> Any:
    f = _filters()
    page_no = max(request.args.get("page", 1, type=int) or 1, 1)
    results = service.search(db(), actor(), page=page_no, page_size=PAGE_SIZE, **_service_filters(f))
    context = {
        "f": f,
        "query": _query(f),
        "results": results,
        "pages": max((results.total + PAGE_SIZE - 1) // PAGE_SIZE, 1),
        "tree": _tree(f),
        "summary": _filter_summary(f),
        "export_url": f"{EXPORT_URL}?{urlencode({**_query(f), 'status': f['status']})}",
    }
    if _htmx("jx-results"):
        response = render_template("indicators/_results.html", oob=True, **context)
        return response, 200, {"HX-Push-Url": url_for(".index", **_query(f, page=page_no))}
    return render_template(
        "indicators/index.html",
        can_write=_may("indicators.write"),
        categories=[(c, c) for c in vocabulary(Indicator.category)],
        common_classes=[(c, c) for c in vocabulary(Indicator.common_class)],
        kinds=list(KIND_LABELS.items()),
        scopes=list(SCOPE_LABELS.items()),
        statuses=list(STATUS_FILTERS.items()),
        owners=[(k, v) for k, v in OWNER_FILTERS.items() if k],
        **context,
    )


# --- one indicator ------------------------------------------------------------------------------


def _shown(key: str, value: Any) -> str:
    """A snapshot value as an official reads it."""
    if value in (None, "", {}):
        return "—"
    if key == "historical_values" and isinstance(value, dict):
        return "；".join(f"{y} 年 {v}" for y, v in sorted(value.items()))
    labels = {
        "kind": KIND_LABELS,
        "scope": SCOPE_LABELS,
        "value_type": VALUE_TYPE_LABELS,
        "direction": DIRECTION_LABELS,
        "status": STATUS_LABELS,
    }.get(key)
    return labels.get(str(value), str(value)) if labels else str(value)


def _history(indicator_id: int) -> list[dict[str, Any]]:
    """Each version with what changed since the one before it (field, old, new)."""
    versions = service.versions(db(), actor(), indicator_id)  # newest first
    rows = []
    for n, v in enumerate(versions):
        previous = versions[n + 1].data if n + 1 < len(versions) else None
        changes = []
        if previous is not None:
            for key, label in HISTORY_LABELS.items():
                old, new = previous.get(key), v.data.get(key)
                if (old or None) != (new or None):
                    changes.append({"field": label, "old": _shown(key, old), "new": _shown(key, new)})
        rows.append(
            {
                "version": v.version,
                "action": ACTION_LABELS.get(v.action, v.action),
                "changed_by": v.changed_by,
                "changed_at": v.changed_at,
                "changes": changes,
                "first": previous is None,
            }
        )
    return rows


def detail_page(
    indicator_id: int, errors: dict[str, Any] | None = None, form: dict[str, str] | None = None
) -> Any:
    """One indicator's page; `errors` and `form` re-show a refused 退出 or 推荐 (then 422)."""
    who = actor()
    s = db()
    indicator = service.get_indicator(s, who, indicator_id)
    own = _may("indicators.write", indicator=indicator)
    active = indicator.status == "active"
    pending = None
    if own:
        pending = (
            s.execute(
                select(IndicatorProposal).where(
                    IndicatorProposal.indicator_id == indicator.id, IndicatorProposal.status == "pending"
                )
            )
            .scalars()
            .first()
        )
    return render_template(
        "indicators/detail.html",
        i=indicator,
        own=own,
        can_edit=own and active,
        can_retire=own and active,
        can_restore=own and not active,
        can_propose=own and active and indicator.owner.parent_id is not None and _may("indicators.propose"),
        pending=pending,
        can_derive=(
            active
            and indicator.tenant_id != who.tenant_id
            and indicator.tenant_id in who.lineage_tenant_ids
            and _may("indicators.write")
        ),
        derived_from=linked(indicator.derived_from_id),
        origin=linked(indicator.origin_id),
        origin_hidden=indicator.origin_id is not None and linked(indicator.origin_id) is None,
        history=_history(indicator.id),
        years=sorted((indicator.historical_values or {}).items()),
        errors=errors or {},
        form=form or {},
    ), (422 if errors else 200)


@bp.get("/<int:indicator_id>")
@login_required
def detail(indicator_id: int) -> Any:
    return detail_page(indicator_id)


@bp.post("/<int:indicator_id>/retire")
@login_required
def retire(indicator_id: int) -> Any:
    writable()
    s = db()
    reason = (request.form.get("reason") or "").strip()
    try:
        indicator = service.retire_indicator(s, actor(), indicator_id, reason)
        s.commit()
    except ValidationFailed as exc:
        s.rollback()
        return detail_page(
            indicator_id, {f"retire_{k}": v for k, v in exc.errors.items()}, {"retire_reason": reason}
        )
    flash(f"指标 {indicator.code}「{indicator.name}」已退出，不能再被选用；历史数据仍可查看", "success")
    return redirect(url_for(".detail", indicator_id=indicator_id))


@bp.post("/<int:indicator_id>/restore")
@login_required
def restore(indicator_id: int) -> Any:
    writable()
    s = db()
    indicator = service.restore_indicator(s, actor(), indicator_id)
    s.commit()
    flash(f"指标 {indicator.code}「{indicator.name}」已恢复在用", "success")
    return redirect(url_for(".detail", indicator_id=indicator_id))
