"""Correction requests (纠偏/约谈/发函) on the pages: finance issues one on a round, the editors
reply (a text, evidence files of the monitoring stage), finance asks again, closes it or opens a
target adjustment from it; the project's list (open first, overdue marked) and the inbox at
/corrections (filtered in place by htmx, like the work queue).

Every action posts from the round's page and comes back to it at the request (#correction-<id>);
on 422 the page is drawn again with the messages beside the fields of that request's form."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_login import login_required

from jixiao.platform.core.errors import Conflict, Forbidden, ValidationFailed
from jixiao.platform.web.context import actor, db
from jixiao.platform.web.pages import is_htmx
from jixiao.services.programs.views import province_today
from jixiao.services.projects.views import render_project_page

from .. import corrections
from ..models import Correction
from ..schemas import (
    CorrectionAdjustmentSchema,
    CorrectionAgainSchema,
    CorrectionCloseSchema,
    CorrectionIssueSchema,
    CorrectionReplySchema,
)
from .common import BASE, bp, load, ordered, round_by_period
from .rounds import _project, round_page

INBOX_TARGET = "jx-corrections"
STATUS_CHOICES = {
    "active": "未关闭",
    "open": "待答复",
    "answered": "已答复（待跟进）",
    "closed": "已关闭",
    "all": "全部",
}
OVERDUE_CHOICES = {"1": "只看逾期", "0": "不含逾期"}
INBOX_LIMIT = 200
TEXT_LABELS = {"issue": "要求的内容", "again": "再次要求的内容", "reply": "答复内容"}


def _act(
    project_id: int, period: str, key: str, schema: Any, raw: dict[str, Any], call: Any, done: str
) -> Any:
    """Load `raw` through the API's schema, call the service, commit; back to the round's page."""
    s = db()
    project = _project(project_id)
    found = round_by_period(project, period)
    data, errors = load(schema, raw)
    label = TEXT_LABELS.get(key.split("-")[0])
    if errors and label and "text" not in errors and not raw.get("text"):
        errors["text"] = [f"请填写{label}"]  # every problem at once, not only the schema's
    try:
        if errors:
            raise ValidationFailed(next(iter(errors.values()))[0], errors=errors)
        result = call(s, found, data)
        s.commit()
    except ValidationFailed as exc:
        s.rollback()
        actions = {key: {"form": raw, "errors": exc.errors}}
        return round_page(project, round_by_period(project, period), actions=actions, status=422)
    except (Conflict, Forbidden) as exc:
        s.rollback()
        project = _project(project_id)
        return round_page(project, round_by_period(project, period), problem=exc.message, status=exc.status)
    flash(done, "success")
    anchor = f"correction-{result.id}"
    return redirect(url_for("monitoring_pages.round", project_id=project_id, period=period, _anchor=anchor))


def _text(name: str) -> str:
    return request.form.get(name, "").strip()


def _dated(raw: dict[str, Any]) -> dict[str, Any]:
    """A date field left empty is left out (the schema then says it is required)."""
    return {k: v for k, v in raw.items() if not (k == "deadline" and v == "")}


@bp.post(BASE + "/<period>/corrections")
@login_required
def issue(project_id: int, period: str) -> Any:
    raw = {"kind": _text("kind"), "text": _text("text"), "deadline": _text("deadline")}

    def call(s: Any, found: Any, data: dict[str, Any]) -> Correction:
        return corrections.issue(s, actor(), project_id, found.id, data, province_today())

    return _act(
        project_id,
        period,
        "issue",
        CorrectionIssueSchema(),
        _dated(raw),
        call,
        f"已下发{raw['kind'] or '纠偏'}要求，等待项目单位答复",
    )


@bp.post(BASE + "/<period>/corrections/<int:correction_id>/reply")
@login_required
def reply(project_id: int, period: str, correction_id: int) -> Any:
    ids = [int(v) for v in request.form.getlist("evidence_ids") if v.isdigit()]
    raw = {"text": _text("text"), "evidence_ids": ids}

    def call(s: Any, found: Any, data: dict[str, Any]) -> Correction:
        return corrections.reply(s, actor(), project_id, found.id, correction_id, data, province_today())

    return _act(
        project_id, period, f"reply-{correction_id}", CorrectionReplySchema(), raw, call, "答复已提交"
    )


@bp.post(BASE + "/<period>/corrections/<int:correction_id>/again")
@login_required
def again(project_id: int, period: str, correction_id: int) -> Any:
    raw = {"text": _text("text"), "deadline": _text("deadline")}

    def call(s: Any, found: Any, data: dict[str, Any]) -> Correction:
        return corrections.ask_again(s, actor(), project_id, found.id, correction_id, data, province_today())

    return _act(
        project_id,
        period,
        f"again-{correction_id}",
        CorrectionAgainSchema(),
        _dated(raw),
        call,
        "已要求再次答复",
    )


@bp.post(BASE + "/<period>/corrections/<int:correction_id>/close")
@login_required
def close(project_id: int, period: str, correction_id: int) -> Any:
    raw = {"opinion": _text("opinion")}

    def call(s: Any, found: Any, data: dict[str, Any]) -> Correction:
        return corrections.close(
            s, actor(), project_id, found.id, correction_id, data.get("opinion"), province_today()
        )

    return _act(project_id, period, f"close-{correction_id}", CorrectionCloseSchema(), raw, call, "已关闭")


@bp.post(BASE + "/<period>/corrections/<int:correction_id>/adjustment")
@login_required
def adjustment(project_id: int, period: str, correction_id: int) -> Any:
    raw = {"reason": _text("reason") or "其他", "explanation": _text("explanation")}

    def call(s: Any, found: Any, data: dict[str, Any]) -> Correction:
        return corrections.open_adjustment(
            s, actor(), project_id, found.id, correction_id, data, province_today()
        )

    return _act(
        project_id,
        period,
        f"adjust-{correction_id}",
        CorrectionAdjustmentSchema(),
        raw,
        call,
        "已发起目标调整：新版本草稿已生成，请到绩效目标页修改并提交审核",
    )


# --- lists ------------------------------------------------------------------------------------


@bp.get(BASE + "/corrections", endpoint="corrections")
@login_required
def project_corrections(project_id: int) -> Any:
    project = _project(project_id)
    items = ordered(corrections.of_project(db(), actor(), project.id, province_today()))
    return render_project_page("monitoring/corrections.html", project, "corrections", corrections=items)


def _default_status() -> str:
    who = actor()
    if who.has_role("bureau_admin"):
        return "active"
    if who.has_role("project_editor"):
        return "open"
    return "all"


def _inbox_context() -> dict[str, Any]:
    default = _default_status()
    status = request.args.get("status", "")
    status = status if status in STATUS_CHOICES else default
    overdue_arg = request.args.get("overdue", "")
    overdue_arg = overdue_arg if overdue_arg in OVERDUE_CHOICES else ""
    overdue = {"1": True, "0": False}.get(overdue_arg)
    today = province_today()
    wanted: list[str | None] = (
        ["open", "answered"] if status == "active" else [None] if status == "all" else [status]
    )
    items: list[Correction] = []
    more = False
    for one in wanted:
        page = corrections.inbox(db(), actor(), today, status=one, overdue=overdue, page_size=INBOX_LIMIT)
        items += page.items
        more = more or page.total > len(page.items)
    filters: dict[str, Any] = {
        **({"status": status} if status != default else {}),
        **({"overdue": overdue_arg} if overdue_arg else {}),
    }
    return {
        "items": ordered(items),
        "more": more,
        "limit": INBOX_LIMIT,
        "status": status,
        "overdue": overdue_arg,
        "status_choices": STATUS_CHOICES,
        "overdue_choices": OVERDUE_CHOICES,
        "filters": filters,
        "default_status": default,
        "inbox_url": url_for("monitoring_pages.inbox"),
        "this_url": url_for("monitoring_pages.inbox", **filters),
    }


@bp.get("/corrections", endpoint="inbox")
@login_required
def inbox_page() -> Any:
    """财政：待跟进与未关闭的；填报人：待答复的；上级：所辖地区的（只读）。"""
    context = _inbox_context()
    if is_htmx(INBOX_TARGET):
        return (
            render_template("monitoring/_inbox_list.html", **context),
            200,
            {"HX-Push-Url": context["this_url"], "Vary": "HX-Request"},
        )
    return render_template("monitoring/inbox.html", **context)
