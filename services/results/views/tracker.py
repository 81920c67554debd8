"""The rectification tracker (整改跟踪): the project's notices and items, each with its deadline, its
state (overdue in red) and its thread; finance issues a notice (up to `ROWS` items per form; more
with another notice), closes (销号) or returns an answered item; the editors reply with a text and
evidence files of the result-application stage.

Every action posts here and comes back to the item (#item-<id>); on 422 the page is drawn again with
the messages beside the fields of that form, on 403/409 with the reason at the top."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, request, url_for
from flask_login import login_required

from jixiao.platform.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from jixiao.platform.web.context import actor, db
from jixiao.platform.web.pages import load_form
from jixiao.services.evidence import service as evidence_service
from jixiao.services.programs.views import province_today
from jixiao.services.projects.models import Project
from jixiao.services.projects.views import render_project_page

from .. import notices
from ..models import STAGE
from ..schemas import (
    RectificationCloseSchema,
    RectificationNoticeIssueSchema,
    RectificationReplySchema,
    RectificationReturnSchema,
)
from .common import BASE, bp, load_project, writable

ROWS = 5  # item rows of the issue form


def tracker_page(
    project: Project,
    *,
    actions: dict[str, Any] | None = None,
    problem: str | None = None,
    status: int = 200,
) -> Any:
    found = notices.of_project(db(), actor(), project.id, province_today())
    replying = writable(project, "projects.write") and actor().has_role("project_editor")
    items = [i for n in found for i in n.items]
    cited = {i for item in items for e in item.entries for i in e.evidence_ids}
    return render_project_page(
        "results/tracker.html",
        project,
        "rectification",
        status=status,
        notices=found,
        total=len(items),
        closed=sum(1 for i in items if i.status == "closed"),
        overdue=sum(1 for i in items if i.overdue),
        may_issue=writable(project, "projects.finance"),
        may_reply=replying,
        evidence=evidence_service.list_evidence(db(), actor(), project.id, stage=STAGE) if replying else [],
        evidence_names={
            e.id: e
            for e in evidence_service.list_evidence(db(), actor(), project.id, include_history=True)
            if e.id in cited
        },
        evidence_url=url_for("evidence_pages.project", project_id=project.id) + f"#ev-h-{STAGE}",
        actions=actions or {},
        problem=problem,
        rows=ROWS,
    )


@bp.get(BASE, endpoint="tracker")
@login_required
def tracker(project_id: int) -> Any:
    return tracker_page(load_project(project_id))


def _act(
    project_id: int,
    key: str,
    schema: Any,
    raw: dict[str, Any],
    call: Any,
    done: str,
    notice_id: int | None = None,
) -> Any:
    s = db()
    project = load_project(project_id)
    if (
        notice_id is not None
        and notices.get_notice(s, actor(), notice_id, province_today()).project_id != project.id
    ):
        raise NotFound(f"本项目没有整改通知 {notice_id}")
    data, errors = load_form(schema, raw)
    try:
        if errors:
            raise ValidationFailed(next(iter(errors.values()))[0], errors=errors)
        result = call(s, data)
        s.commit()
    except ValidationFailed as exc:
        s.rollback()
        return tracker_page(
            load_project(project_id), actions={key: {"form": raw, "errors": exc.errors}}, status=422
        )
    except (Conflict, Forbidden) as exc:
        s.rollback()
        return tracker_page(load_project(project_id), problem=exc.message, status=exc.status)
    flash(done, "success")
    anchor = f"item-{result.items[0].id}" if hasattr(result, "items") else f"item-{result.id}"
    return redirect(url_for("results_pages.tracker", project_id=project.id, _anchor=anchor))


def _text(name: str) -> str:
    return request.form.get(name, "").strip()


@bp.post(BASE + "/notices")
@login_required
def issue(project_id: int) -> Any:
    rows = []
    for n in range(1, ROWS + 1):
        text, deadline = _text(f"item-{n}-text"), _text(f"item-{n}-deadline")
        if text or deadline:
            rows.append({"text": text, **({"deadline": deadline} if deadline else {})})
    raw = {"text": _text("text"), "items": rows}

    def call(s: Any, data: dict[str, Any]) -> Any:
        return notices.issue(s, actor(), project_id, data, province_today())

    return _act(
        project_id, "issue", RectificationNoticeIssueSchema(), raw, call, "整改通知已下发，等待项目单位答复"
    )


@bp.post(BASE + "/items/<int:notice_id>/<int:item_id>/reply")
@login_required
def reply(project_id: int, notice_id: int, item_id: int) -> Any:
    ids = [int(v) for v in request.form.getlist("evidence_ids") if v.isdigit()]
    raw = {"text": _text("text"), "evidence_ids": ids}

    def call(s: Any, data: dict[str, Any]) -> Any:
        return notices.reply(s, actor(), notice_id, item_id, data, province_today())

    done = "整改情况已答复，等待财政审核"
    return _act(project_id, f"reply-{item_id}", RectificationReplySchema(), raw, call, done, notice_id)


@bp.post(BASE + "/items/<int:notice_id>/<int:item_id>/close")
@login_required
def close(project_id: int, notice_id: int, item_id: int) -> Any:
    raw = {"opinion": _text("opinion")}

    def call(s: Any, data: dict[str, Any]) -> Any:
        return notices.close(s, actor(), notice_id, item_id, data.get("opinion"), province_today())

    return _act(
        project_id, f"close-{item_id}", RectificationCloseSchema(), raw, call, "整改事项已销号", notice_id
    )


@bp.post(BASE + "/items/<int:notice_id>/<int:item_id>/return")
@login_required
def return_reply(project_id: int, notice_id: int, item_id: int) -> Any:
    raw = {"opinion": _text("opinion")}

    def call(s: Any, data: dict[str, Any]) -> Any:
        return notices.return_reply(s, actor(), notice_id, item_id, data.get("opinion"), province_today())

    return _act(
        project_id,
        f"return-{item_id}",
        RectificationReturnSchema(),
        raw,
        call,
        "答复已退回，项目单位须重新答复",
        notice_id,
    )
