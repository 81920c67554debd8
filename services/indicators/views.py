"""Pages of the indicator library (指标库): browse, detail with history, create/derive/edit, retire,
co-building proposals, templates, cases and the Excel import (DESIGN.md §5, §9).

Thin like every handler: parse the form, call the service, re-render with the service's own
Chinese messages on 422 (every field at once) and on 409 (stale version). The library browser's
table is an htmx partial; its URL always carries the filters so a page can be bookmarked or
printed, and the export link asks the API for exactly the same filters.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import login_required
from sqlalchemy import func, select

from jixiao.platform.core.authz import authorize
from jixiao.platform.core.errors import Conflict, DomainError, Forbidden, NotFound, ValidationFailed
from jixiao.platform.web.context import actor, db, runtime
from jixiao.platform.web.pages import is_htmx as _htmx
from jixiao.platform.web.pages import may as _may
from jixiao.tenants.models import Tenant

from . import excel, library, service, sharing
from .models import (
    DIRECTIONS,
    FRAMEWORK,
    KINDS,
    LEVEL1_OF,
    SCOPES,
    VALUE_BASES,
    VALUE_TYPES,
    Indicator,
    IndicatorProposal,
)
from .rules import (
    DIRECTION_LABELS,
    FIELD_LABELS,
    KIND_LABELS,
    SCOPE_LABELS,
    VALUE_TYPE_LABELS,
)

bp = Blueprint("indicators_pages", __name__, url_prefix="/indicators", template_folder="templates")

PAGE_SIZE = 50
STATUS_LABELS = {"active": "在用", "retired": "已退出"}
STATUS_FILTERS = {"active": "在用", "retired": "已退出", "all": "全部"}
OWNER_FILTERS = {"": "全部", "shared": "省级共享", "own": "本单位"}
ACTION_LABELS = {"create": "新建", "update": "修改", "retire": "退出", "restore": "恢复"}
PROPOSAL_STATUS = {"pending": "待处理", "accepted": "已采纳", "declined": "不予采纳"}
HISTORY_LABELS = {**FIELD_LABELS, "code": "编码", "status": "状态", "retired_reason": "退出原因"}
TEXT_FIELDS = tuple(f for f in service.EDITABLE if f != "historical_values")
# The JSON API's Excel endpoints (they take the session cookie for GETs): the export gets exactly
# the browser's filters.
EXPORT_URL = "/api/v1/indicators/export"
IMPORT_TEMPLATE_URL = "/api/v1/indicators/import-template"
FILTER_KEYS = ("q", "level1", "level2", "category", "common_class", "kind", "scope", "status", "owner")


@bp.app_template_global("indicator_labels")
def _labels() -> dict[str, Any]:
    """The Chinese names of the library's vocabularies, for every template of the blueprint."""
    return {
        "field": FIELD_LABELS,
        "kind": KIND_LABELS,
        "scope": SCOPE_LABELS,
        "value_type": VALUE_TYPE_LABELS,
        "direction": DIRECTION_LABELS,
        "status": STATUS_LABELS,
        "proposal": PROPOSAL_STATUS,
    }


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
    sub = service.search_stmt(actor(), **_service_filters(others)).order_by(None).subquery()
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


def _vocabulary(column: Any) -> list[str]:
    """Values of a free-text column (行业领域, 共性类别) in the caller's visible library."""
    rows = db().execute(select(column).distinct().where(column.is_not(None), column != "").order_by(column))
    return [r for r in rows.scalars() if r]


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
        categories=[(c, c) for c in _vocabulary(Indicator.category)],
        common_classes=[(c, c) for c in _vocabulary(Indicator.common_class)],
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


def _linked(indicator_id: int | None) -> Indicator | None:
    """A related indicator, if the caller may see it (a sibling's original is behind the walls)."""
    if indicator_id is None:
        return None
    try:
        return service.get_indicator(db(), actor(), indicator_id)
    except NotFound:
        return None


def _detail(
    indicator_id: int, errors: dict[str, Any] | None = None, form: dict[str, str] | None = None
) -> Any:
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
        derived_from=_linked(indicator.derived_from_id),
        origin=_linked(indicator.origin_id),
        origin_hidden=indicator.origin_id is not None and _linked(indicator.origin_id) is None,
        history=_history(indicator.id),
        years=sorted((indicator.historical_values or {}).items()),
        errors=errors or {},
        form=form or {},
    ), (422 if errors else 200)


@bp.get("/<int:indicator_id>")
@login_required
def detail(indicator_id: int) -> Any:
    return _detail(indicator_id)


@bp.post("/<int:indicator_id>/retire")
@login_required
def retire(indicator_id: int) -> Any:
    s = db()
    reason = (request.form.get("reason") or "").strip()
    try:
        indicator = service.retire_indicator(s, actor(), indicator_id, reason)
        s.commit()
    except ValidationFailed as exc:
        s.rollback()
        return _detail(
            indicator_id, {f"retire_{k}": v for k, v in exc.errors.items()}, {"retire_reason": reason}
        )
    flash(f"指标 {indicator.code}「{indicator.name}」已退出，不能再被选用；历史数据仍可查看", "success")
    return redirect(url_for(".detail", indicator_id=indicator_id))


@bp.post("/<int:indicator_id>/restore")
@login_required
def restore(indicator_id: int) -> Any:
    s = db()
    indicator = service.restore_indicator(s, actor(), indicator_id)
    s.commit()
    flash(f"指标 {indicator.code}「{indicator.name}」已恢复在用", "success")
    return redirect(url_for(".detail", indicator_id=indicator_id))


@bp.post("/<int:indicator_id>/propose")
@login_required
def propose(indicator_id: int) -> Any:
    s = db()
    reason = (request.form.get("reason") or "").strip()
    try:
        proposal = sharing.propose(s, actor(), indicator_id, reason)
        s.commit()
    except ValidationFailed as exc:
        s.rollback()
        return _detail(
            indicator_id, {f"propose_{k}": v for k, v in exc.errors.items()}, {"propose_reason": reason}
        )
    flash(f"已向{proposal.target.name}推荐该指标，待上级处理", "success")
    return redirect(url_for(".detail", indicator_id=indicator_id))


# --- create, derive, edit -----------------------------------------------------------------------


def _recent_years() -> list[str]:
    this_year = date.today().year
    return [str(y) for y in range(this_year - 3, this_year)]


def _history_rows(
    values: dict[str, str] | list[tuple[str, str]] | None, *, fill_years: bool
) -> list[tuple[str, str]]:
    """Year/value rows of the form: what there is, the last three years when it is new, empty
    rows up to three, and one spare empty row when every row is filled."""
    rows = sorted(values.items()) if isinstance(values, dict) else list(values or [])
    if fill_years:
        used = {y for y, _ in rows}
        rows += [(y, "") for y in _recent_years() if y not in used][: max(3 - len(rows), 0)]
        rows.sort()
    while len(rows) < 3:
        rows.append(("", ""))
    if all(v for _, v in rows):
        rows.append(("", ""))
    return rows


def _posted() -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """The indicator fields of the posted form, and its history rows as typed."""
    form = request.form
    data: dict[str, Any] = {key: form.get(key, "") for key in TEXT_FIELDS}
    rows = list(zip(form.getlist("hist_year"), form.getlist("hist_value"), strict=False))
    rows = [(y.strip(), v.strip()) for y, v in rows]
    # A year without a value is an unused row; a value without a year is the service's to refuse.
    data["historical_values"] = {y: v for y, v in rows if v}
    return data, [(y, v) for y, v in rows if y or v]


def _render_form(
    mode: str,
    form: dict[str, Any],
    rows: list[tuple[str, str]],
    *,
    errors: dict[str, Any] | None = None,
    conflict: str | None = None,
    indicator: Indicator | None = None,
    base: Indicator | None = None,
    status: int = 200,
) -> Any:
    problems = (errors or {}).get("historical_values", [])
    flagged = [
        (
            bool(year or value) and any(f"年份「{year}」" in m for m in problems),
            bool(year) and any(m.startswith(f"{year} 年的历史值") for m in problems),
        )
        for year, value in rows
    ]
    return render_template(
        "indicators/form.html",
        mode=mode,
        form=form,
        rows=[(year, value, *bad) for (year, value), bad in zip(rows, flagged, strict=True)],
        errors=errors or {},
        conflict=conflict,
        i=indicator,
        base=base,
        framework=FRAMEWORK,
        kinds=[(k, KIND_LABELS[k]) for k in KINDS],
        scopes=[(k, SCOPE_LABELS[k]) for k in SCOPES],
        value_types=[(k, VALUE_TYPE_LABELS[k]) for k in VALUE_TYPES],
        directions=[(k, DIRECTION_LABELS[k]) for k in DIRECTIONS],
        value_bases=VALUE_BASES,
        categories=_vocabulary(Indicator.category),
        common_classes=_vocabulary(Indicator.common_class),
    ), status


EMPTY_FORM = {
    "name": "",
    "level2": "",
    "category": "",
    "common_class": "",
    "kind": "individual",
    "scope": "project",
    "explanation": "",
    "source": "",
    "value_type": "quantitative",
    "direction": ">=",
    "unit": "",
    "standard_value": "",
    "value_basis": "计划标准",
}


def _as_form(indicator: Indicator) -> dict[str, Any]:
    fields = service.fields_of(indicator)
    return {k: ("" if fields[k] is None else fields[k]) for k in TEXT_FIELDS}


@bp.route("/new", methods=["GET", "POST"])
@login_required
def create() -> Any:
    """新建指标; with `?derive=<id>` 派生本单位指标 from an upper level's indicator."""
    who = actor()
    s = db()
    authorize(who, "indicators.write")
    derive_id = request.values.get("derive", type=int)
    base = service.get_indicator(s, who, derive_id) if derive_id else None
    mode = "derive" if base is not None else "create"
    if request.method == "GET":
        if base is not None:
            return _render_form(
                mode, _as_form(base), _history_rows(base.historical_values, fill_years=True), base=base
            )
        return _render_form(mode, dict(EMPTY_FORM), _history_rows(None, fill_years=True))
    data, rows = _posted()
    if base is not None:
        data["derived_from"] = base.id
    try:
        indicator = service.create_indicator(s, who, data)
        s.commit()
    except ValidationFailed as exc:
        s.rollback()
        return _render_form(
            mode, data, _history_rows(rows, fill_years=False), errors=exc.errors, base=base, status=422
        )
    verb = "派生" if base is not None else "新建"
    flash(f"已{verb}指标 {indicator.code}「{indicator.name}」", "success")
    return redirect(url_for(".detail", indicator_id=indicator.id))


@bp.route("/<int:indicator_id>/edit", methods=["GET", "POST"])
@login_required
def edit(indicator_id: int) -> Any:
    who = actor()
    s = db()
    indicator = service.get_indicator(s, who, indicator_id)
    authorize(who, "indicators.write", indicator=indicator)
    if request.method == "GET":
        if indicator.status != "active":
            raise Conflict("已退出的指标不能修改，请先恢复")
        form = {**_as_form(indicator), "version": indicator.version}
        return _render_form(
            "edit", form, _history_rows(indicator.historical_values, fill_years=True), indicator=indicator
        )
    data, rows = _posted()
    version = request.form.get("version", type=int) or 0
    form = {**data, "version": version}
    try:
        updated = service.update_indicator(s, who, indicator_id, version, data)
        s.commit()
    except ValidationFailed as exc:
        s.rollback()
        return _render_form(
            "edit",
            form,
            _history_rows(rows, fill_years=False),
            errors=exc.errors,
            indicator=indicator,
            status=422,
        )
    except Conflict as exc:  # a stale version (someone saved in between) or a retired indicator
        s.rollback()
        return _render_form(
            "edit",
            form,
            _history_rows(rows, fill_years=False),
            conflict=exc.message,
            indicator=indicator,
            status=409,
        )
    flash(f"已保存指标 {updated.code}「{updated.name}」（版本 {updated.version}）", "success")
    return redirect(url_for(".detail", indicator_id=indicator_id))


# --- co-building proposals (共建共享) -------------------------------------------------------------


def _proposals_page(
    errors: dict[int, dict[str, Any]] | None = None, form: dict[int, str] | None = None
) -> Any:
    who = actor()
    s = db()
    incoming = (
        sharing.list_proposals(s, who, direction="incoming", page_size=200).items if who.tenant_id else []
    )
    outgoing = (
        sharing.list_proposals(s, who, direction="outgoing", page_size=200).items if who.tenant_id else []
    )
    return render_template(
        "indicators/proposals.html",
        incoming=incoming,
        outgoing=outgoing,
        may_decide={p.id: _may("indicators.decide", proposal=p) for p in incoming},
        errors=errors or {},
        form=form or {},
    ), (422 if errors else 200)


@bp.get("/proposals")
@login_required
def proposals() -> Any:
    return _proposals_page()


@bp.post("/proposals/<int:proposal_id>/decision")
@login_required
def decide(proposal_id: int) -> Any:
    s = db()
    decision = request.form.get("decision", "")
    reason = (request.form.get("reason") or "").strip()
    try:
        proposal = sharing.decide(s, actor(), proposal_id, decision, reason)
        s.commit()
    except ValidationFailed as exc:
        s.rollback()
        return _proposals_page({proposal_id: exc.errors}, {proposal_id: reason})
    if proposal.status == "accepted":
        flash(f"已采纳「{proposal.indicator.name}」，本级指标库新增共享指标", "success")
    else:
        flash(f"已不予采纳「{proposal.indicator.name}」，理由已告知{proposal.proposer.name}", "success")
    return redirect(url_for(".proposals"))


# --- the picker shared by templates and cases ---------------------------------------------------


@bp.get("/picker")
@login_required
def picker() -> Any:
    """Active indicators matching a search, to add to a template or a case (htmx partial)."""
    q = (request.args.get("q") or "").strip()[:100]
    page = service.search(db(), actor(), q=q or None, status="active", page_size=20)
    return render_template("indicators/_picker.html", results=page, q=q)


def _picked_ids() -> list[int]:
    ids = []
    for raw in request.form.getlist("indicator_ids"):
        try:
            ids.append(int(raw))
        except ValueError:
            continue
    return ids


def _picked(ids: list[int]) -> list[Indicator]:
    """The indicators behind ids, in order, as the caller may see them (retired ones too, so a
    form can show why the service refuses them)."""
    found = []
    for indicator_id in ids:
        indicator = _linked(indicator_id)
        if indicator is not None:
            found.append(indicator)
    return found


# --- templates (模板库) ----------------------------------------------------------------------------


@bp.get("/templates")
@login_required
def templates() -> Any:
    s = db()
    page = library.list_templates(s, actor(), page_size=200)
    ids = {t.tenant_id for t in page.items}
    owners = dict(s.execute(select(Tenant.id, Tenant.name).where(Tenant.id.in_(ids))).all())
    return render_template(
        "indicators/templates.html", page=page, owners=owners, can_write=_may("indicators.write")
    )


@bp.get("/templates/<int:template_id>")
@login_required
def template_detail(template_id: int) -> Any:
    who = actor()
    template = library.get_template(db(), who, template_id)
    return render_template(
        "indicators/template_detail.html",
        t=template,
        can_edit=template.tenant_id == who.tenant_id and _may("indicators.write"),
    )


def _template_form(
    template: Any, form: dict[str, Any], picked: list[Indicator], errors: Any, status: int
) -> Any:
    return render_template(
        "indicators/template_form.html", t=template, form=form, picked=picked, errors=errors, conflict=None
    ), status


@bp.route("/templates/new", methods=["GET", "POST"])
@login_required
def template_create() -> Any:
    who = actor()
    s = db()
    authorize(who, "indicators.write")
    if request.method == "GET":
        return _template_form(None, {"name": "", "project_class": ""}, [], {}, 200)
    ids = _picked_ids()
    data = {
        "name": request.form.get("name", ""),
        "project_class": request.form.get("project_class", ""),
        "indicator_ids": ids,
    }
    try:
        template = library.create_template(s, who, data)
        s.commit()
    except ValidationFailed as exc:
        s.rollback()
        return _template_form(None, data, _picked(ids), exc.errors, 422)
    flash(f"已新建模板「{template.name}」（{len(template.items)} 个指标）", "success")
    return redirect(url_for(".template_detail", template_id=template.id))


@bp.route("/templates/<int:template_id>/edit", methods=["GET", "POST"])
@login_required
def template_edit(template_id: int) -> Any:
    who = actor()
    s = db()
    template = library.get_template(s, who, template_id)
    if template.tenant_id != who.tenant_id:
        raise Forbidden(f"模板「{template.name}」不属于本单位，只能查看和使用")
    authorize(who, "indicators.write")
    if request.method == "GET":
        form = {"name": template.name, "project_class": template.project_class, "version": template.version}
        return _template_form(template, form, [item.indicator for item in template.items], {}, 200)
    ids = _picked_ids()
    version = request.form.get("version", type=int) or 0
    data = {
        "name": request.form.get("name", ""),
        "project_class": request.form.get("project_class", ""),
        "indicator_ids": ids,
        "version": version,
    }
    try:
        template = library.update_template(s, who, template_id, data)
        s.commit()
    except ValidationFailed as exc:
        s.rollback()
        return _template_form(template, data, _picked(ids), exc.errors, 422)
    except Conflict as exc:
        s.rollback()
        return render_template(
            "indicators/template_form.html",
            t=template,
            form=data,
            picked=_picked(ids),
            errors={},
            conflict=exc.message,
        ), 409
    flash(f"已保存模板「{template.name}」", "success")
    return redirect(url_for(".template_detail", template_id=template_id))


@bp.post("/templates/<int:template_id>/delete")
@login_required
def template_delete(template_id: int) -> Any:
    s = db()
    template = library.get_template(s, actor(), template_id)
    name = template.name
    library.delete_template(s, actor(), template_id)
    s.commit()
    flash(f"已删除模板「{name}」", "success")
    return redirect(url_for(".templates"))


# --- cases (案例库) --------------------------------------------------------------------------------


@bp.get("/cases")
@login_required
def cases() -> Any:
    page = library.list_cases(db(), actor(), page_size=200)
    return render_template("indicators/cases.html", page=page, can_write=_may("cases.write"))


@bp.get("/cases/<int:case_id>")
@login_required
def case_detail(case_id: int) -> Any:
    case = library.get_case(db(), actor(), case_id)
    return render_template(
        "indicators/case_detail.html",
        c=case,
        indicators=_picked(list(case.indicator_ids or [])),
        can_edit=_may("cases.write", case=case),
    )


CASE_FIELDS = ("title", "project_class", "category", "text")


def _case_form(
    case: Any,
    form: dict[str, Any],
    picked: list[Indicator],
    errors: Any,
    status: int,
    conflict: str | None = None,
) -> Any:
    return render_template(
        "indicators/case_form.html", c=case, form=form, picked=picked, errors=errors, conflict=conflict
    ), status


@bp.route("/cases/new", methods=["GET", "POST"])
@login_required
def case_create() -> Any:
    who = actor()
    s = db()
    authorize(who, "cases.write")
    if request.method == "GET":
        return _case_form(None, dict.fromkeys(CASE_FIELDS, ""), [], {}, 200)
    ids = _picked_ids()
    data: dict[str, Any] = {k: request.form.get(k, "") for k in CASE_FIELDS} | {"indicator_ids": ids}
    try:
        case = library.create_case(s, who, data)
        s.commit()
    except ValidationFailed as exc:
        s.rollback()
        return _case_form(None, data, _picked(ids), exc.errors, 422)
    flash(f"已发布案例「{case.title}」", "success")
    return redirect(url_for(".case_detail", case_id=case.id))


@bp.route("/cases/<int:case_id>/edit", methods=["GET", "POST"])
@login_required
def case_edit(case_id: int) -> Any:
    who = actor()
    s = db()
    case = library.get_case(s, who, case_id)
    authorize(who, "cases.write", case=case)
    if request.method == "GET":
        form = {k: getattr(case, k) or "" for k in CASE_FIELDS} | {"version": case.version}
        return _case_form(case, form, _picked(list(case.indicator_ids or [])), {}, 200)
    ids = _picked_ids()
    version = request.form.get("version", type=int) or 0
    data: dict[str, Any] = {k: request.form.get(k, "") for k in CASE_FIELDS} | {
        "indicator_ids": ids,
        "version": version,
    }
    try:
        case = library.update_case(s, who, case_id, data)
        s.commit()
    except ValidationFailed as exc:
        s.rollback()
        return _case_form(case, data, _picked(ids), exc.errors, 422)
    except Conflict as exc:
        s.rollback()
        return _case_form(case, data, _picked(ids), {}, 409, exc.message)
    flash(f"已保存案例「{case.title}」", "success")
    return redirect(url_for(".case_detail", case_id=case_id))


@bp.post("/cases/<int:case_id>/delete")
@login_required
def case_delete(case_id: int) -> Any:
    s = db()
    case = library.get_case(s, actor(), case_id)
    title = case.title
    library.delete_case(s, actor(), case_id)
    s.commit()
    flash(f"已撤下案例「{title}」", "success")
    return redirect(url_for(".cases"))


# --- Excel import (导入) -------------------------------------------------------------------------


@bp.get("/import")
@login_required
def import_page() -> Any:
    authorize(actor(), "indicators.write")
    return render_template("indicators/import.html", job=None, problem=None, template_url=IMPORT_TEMPLATE_URL)


@bp.post("/import")
@login_required
def import_start() -> Any:
    """Store the upload and enqueue the all-or-nothing import; answer with its progress bar."""
    who = actor()
    authorize(who, "indicators.write")
    problem = None
    job = None
    try:
        if request.content_length and request.content_length > excel.MAX_UPLOAD_BYTES + 64 * 1024:
            raise excel.UploadTooLarge(
                f"文件超过 {excel.MAX_UPLOAD_BYTES // (1024 * 1024)} MiB 上限，请拆分后分批导入"
            )
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            raise ValidationFailed("请选择要导入的 Excel 文件（.xlsx）")
        job_id = excel.start_import(who, upload.filename, upload.stream, content_type=upload.mimetype)
        job = runtime().jobs.info(job_id, who)
    except DomainError as exc:
        problem = exc.message
    if _htmx():
        # 200 even for a refused file: htmx swaps only 2xx answers, and the message belongs in place.
        return render_template("indicators/_import_job.html", job=job, problem=problem)
    page = render_template(
        "indicators/import.html", job=job, problem=problem, template_url=IMPORT_TEMPLATE_URL
    )
    return page, (200 if job else 422)


@bp.get("/import/<job_id>")
@login_required
def import_progress(job_id: str) -> Any:
    job = runtime().jobs.info(job_id, actor())
    return render_template("indicators/_import_job.html", job=job, problem=None)
