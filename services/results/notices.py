"""Rectification notices (整改通知) and their items (no Flask).

Finance (the bureau admin of the project's tenant) issues a notice with one or more items, each
with a deadline (today or later, the province's calendar). The project's editors reply per item
(a text, evidence files of the result-application stage) → answered; finance closes the item
(销号) or returns the reply with an opinion → open again. A closed item takes nothing more (409).
An item not closed past its deadline is overdue. When every item is closed and the
recommendation is set, the stage is complete (`service.settle`).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from jixiao.platform.core.actor import Actor
from jixiao.platform.core.audit import record
from jixiao.platform.core.authz import authorize
from jixiao.platform.core.db import utcnow
from jixiao.platform.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from jixiao.services.evidence.models import Evidence
from jixiao.services.notifications.events import announce
from jixiao.services.projects.models import Project
from jixiao.services.projects.service import get_project

from .models import STAGE, RectificationEntry, RectificationItem, RectificationNotice
from .service import require_open, settle


def _marked(notices: list[RectificationNotice], today: date) -> list[RectificationNotice]:
    for notice in notices:
        for item in notice.items:
            item.overdue = item.is_overdue(today)
    return notices


def _find(session: Session, actor: Actor, notice_id: int, item_id: int) -> tuple[Project, RectificationItem]:
    """The item of a notice (404 for an unknown one or another tenant's: the walls hide both)."""
    notice = session.get(RectificationNotice, notice_id)
    if notice is None:
        raise NotFound(f"整改通知 {notice_id} 不存在")
    project = get_project(session, actor, notice.project_id)
    item = next((i for i in notice.items if i.id == item_id), None)
    if item is None:
        raise NotFound(f"整改通知 {notice_id} 中没有整改事项 {item_id}")
    return project, item


def _audit(session: Session, project: Project, item: RectificationItem, verb: str, **after: Any) -> None:
    record(
        session,
        f"result_application.item_{verb}",
        object_type="project",
        object_id=project.id,
        after={"notice": item.notice_id, "item": item.id, "status": item.status, **after},
    )


def _entry(
    item: RectificationItem, actor: Actor, action: str, text: str, ids: list[int] | None = None
) -> None:
    item.entries.append(
        RectificationEntry(
            tenant_id=item.tenant_id,
            action=action,
            text=text,
            evidence_ids=ids or [],
            author=actor.username,
            written_at=utcnow(),
        )
    )


def _not_closed(item: RectificationItem) -> None:
    if item.status == "closed":
        raise Conflict(f"整改事项「{item.text[:30]}」已销号，不能再办理")


# --- reading ----------------------------------------------------------------------------------


def of_project(session: Session, actor: Actor, project_id: int, today: date) -> list[RectificationNotice]:
    """The project's notices, newest first, each item marked overdue or not."""
    project = get_project(session, actor, project_id)
    stmt = (
        select(RectificationNotice)
        .where(RectificationNotice.project_id == project.id)
        .order_by(RectificationNotice.id.desc())
    )
    return _marked(list(session.execute(stmt).scalars()), today)


def get_notice(session: Session, actor: Actor, notice_id: int, today: date) -> RectificationNotice:
    notice = session.get(RectificationNotice, notice_id)
    if notice is None:
        raise NotFound(f"整改通知 {notice_id} 不存在")
    get_project(session, actor, notice.project_id)
    return _marked([notice], today)[0]


# --- finance ----------------------------------------------------------------------------------


def issue(
    session: Session, actor: Actor, project_id: int, data: dict[str, Any], today: date
) -> RectificationNotice:
    project = get_project(session, actor, project_id)
    authorize(actor, "projects.finance", project=project)
    require_open(project)
    errors: dict[str, list[str]] = {}
    rows = data.get("items") or []
    if not rows:
        errors["items"] = ["整改通知至少须列出一项整改事项（内容和整改期限）"]
    for n, row in enumerate(rows, start=1):
        if not (row.get("text") or "").strip():
            errors.setdefault(f"items.{n}.text", []).append(f"第 {n} 项：请填写整改内容")
        deadline = row.get("deadline")
        if deadline is None:
            errors.setdefault(f"items.{n}.deadline", []).append(f"第 {n} 项：请填写整改期限")
        elif deadline < today:
            errors.setdefault(f"items.{n}.deadline", []).append(
                f"第 {n} 项：整改期限 {deadline.isoformat()} 已过（今天是 {today.isoformat()}），请选择今天或以后的日期"
            )
    if errors:
        raise ValidationFailed(next(iter(errors.values()))[0], errors=errors)
    notice = RectificationNotice(
        tenant_id=project.tenant_id,
        project_id=project.id,
        text=(data.get("text") or "").strip(),
        issued_by=actor.username,
        issued_at=utcnow(),
        items=[
            RectificationItem(
                tenant_id=project.tenant_id,
                project_id=project.id,
                position=n,
                text=row["text"].strip(),
                deadline=row["deadline"],
                status="open",
                entries=[],
            )
            for n, row in enumerate(rows, start=1)
        ],
    )
    session.add(notice)
    session.flush()
    record(
        session,
        "result_application.notice_issue",
        object_type="project",
        object_id=project.id,
        after={
            "notice": notice.id,
            "items": [{"id": i.id, "text": i.text, "deadline": i.deadline.isoformat()} for i in notice.items],
        },
    )
    announce(session, actor, "rectification.issued", project=project, notice=notice)
    settle(session, actor, project)
    return _marked([notice], today)[0]


def close(
    session: Session, actor: Actor, notice_id: int, item_id: int, opinion: str | None, today: date
) -> RectificationItem:
    """销号: finance accepts the reply. 409 on an item not answered yet, or closed already."""
    project, item = _find(session, actor, notice_id, item_id)
    authorize(actor, "projects.finance", project=project)
    require_open(project)
    _not_closed(item)
    if item.status != "answered":
        raise Conflict("该整改事项尚未答复，须项目单位答复后才能销号")
    item.status = "closed"
    item.closed_by, item.closed_at = actor.username, utcnow()
    _entry(item, actor, "close", (opinion or "").strip())
    session.flush()
    _audit(session, project, item, "close")
    announce(session, actor, "rectification.closed", project=project, item=item)
    settle(session, actor, project)
    item.overdue = item.is_overdue(today)
    return item


def return_reply(
    session: Session, actor: Actor, notice_id: int, item_id: int, opinion: str | None, today: date
) -> RectificationItem:
    """Finance returns the reply with an opinion (required) → open again. 409 unless answered."""
    project, item = _find(session, actor, notice_id, item_id)
    authorize(actor, "projects.finance", project=project)
    require_open(project)
    _not_closed(item)
    if item.status != "answered":
        raise Conflict("该整改事项尚未答复，没有可退回的答复")
    text = (opinion or "").strip()
    if not text:
        raise ValidationFailed(
            "请填写退回意见", errors={"opinion": ["请填写退回意见：答复哪里不足、还须做什么"]}
        )
    item.status = "open"
    _entry(item, actor, "return", text)
    session.flush()
    _audit(session, project, item, "return")
    announce(session, actor, "rectification.returned", project=project, item=item)
    item.overdue = item.is_overdue(today)
    return item


# --- the editors ------------------------------------------------------------------------------


def reply(
    session: Session, actor: Actor, notice_id: int, item_id: int, data: dict[str, Any], today: date
) -> RectificationItem:
    project, item = _find(session, actor, notice_id, item_id)
    authorize(actor, "projects.write", project=project)
    if not actor.has_role("project_editor"):
        raise Forbidden("只有项目单位填报人可以答复整改事项")
    require_open(project)
    _not_closed(item)
    errors: dict[str, list[str]] = {}
    text = (data.get("text") or "").strip()
    if not text:
        errors["text"] = ["请填写整改情况"]
    ids = list(dict.fromkeys(int(i) for i in data.get("evidence_ids") or []))
    if ids:
        present = set(
            session.execute(
                select(Evidence.id).where(
                    Evidence.id.in_(ids),
                    Evidence.project_id == project.id,
                    Evidence.stage == STAGE,
                    Evidence.status.in_(("current", "superseded")),
                )
            ).scalars()
        )
        unknown = [str(i) for i in ids if i not in present]
        if unknown:
            errors["evidence_ids"] = [f"佐证材料 {'、'.join(unknown)} 不存在，或不是本项目结果应用阶段的材料"]
    if errors:
        raise ValidationFailed(next(iter(errors.values()))[0], errors=errors)
    item.status = "answered"
    _entry(item, actor, "reply", text, ids)
    session.flush()
    _audit(session, project, item, "reply", evidence_ids=ids)
    announce(session, actor, "rectification.replied", project=project, item=item)
    item.overdue = item.is_overdue(today)
    return item
