"""The lifecycle's events → notifications, in the transaction of the change.

The lifecycle services call `announce(session, actor, event, …)` at each state change; the stage
that owns the event (its `stage.py`, `projects.stages`) decides who hears of it — whoever now has
the item in their 待办 (the work queue's own kinds and roles, `to_holders`), the submitter when their
submission is approved or returned (with the reasons), the other editors of a new project or
adjustment. So `xq.dept` has both the to-do item and the notification the moment `xq.editor`'s
submit commits. This module holds what the handlers share.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from jixiao.platform.core.actor import Actor
from jixiao.services.grants.models import grantees
from jixiao.services.projects.models import Project
from jixiao.services.projects.stages import event_handler
from jixiao.services.targets.models import REVIEW_LEVELS
from jixiao.services.tasks import kinds

from .service import by_username, holders, notify, task_body


def task_of(
    session: Session, project: Project, kind: str, stage: str, item: str | None = None
) -> kinds.Task | None:
    """The project's open item of a kind and stage (and item: a round's period, a correction)."""
    scope = kinds.Scope(tenant_id=project.tenant_id, project_id=project.id, everyone=True)
    found = [
        t
        for t in kinds.find(session, scope, kinds.local_today(), kind, stage)
        if item is None or t.item == item
    ]
    return found[0] if found else None


def to_holders(
    session: Session,
    project: Project,
    kind: str,
    stage: str,
    exclude: str | None = None,
    item: str | None = None,
) -> None:
    """Notify everyone who now has this item in their 待办."""
    task = task_of(session, project, kind, stage, item)
    if task is None:
        return
    excluded = (exclude, *task.excluded)
    if task.role == "evaluator":  # 联审 / 重点评价: the users of the organisations granted it
        action = "joint_review" if task.kind == "review" else "key_evaluation"
        users = grantees(session, project.id, action, exclude=excluded)
    else:
        users = holders(session, project.tenant_id, task.role, exclude=excluded)
    notify(
        session,
        users,
        tenant_id=project.tenant_id,
        kind="task",
        title=f"待办：{project.name} · {task.title}",
        body=task_body(session, task),
        link=task.link,
        project_id=project.id,
        stage=stage,
    )


def to_user(
    session: Session,
    project: Project,
    username: str | None,
    *,
    kind: str,
    title: str,
    body: str = "",
    link: str,
    stage: str,
) -> None:
    """Notify one user of the project's tenant (the submitter of what was decided …)."""
    notify(
        session,
        by_username(session, project.tenant_id, username),
        tenant_id=project.tenant_id,
        kind=kind,
        title=f"{project.name} · {title}",
        body=body,
        link=link,
        project_id=project.id,
        stage=stage,
    )


def returned_to_editors(
    session: Session,
    project: Project,
    submitted_by: str | None,
    *,
    title: str,
    reasons: str,
    link: str,
    stage: str,
) -> None:
    """A return: every editor now has it in 待办; the submitter first among them."""
    editors = by_username(session, project.tenant_id, submitted_by) + holders(
        session, project.tenant_id, kinds.ROLE_OF["revise"]
    )
    notify(
        session,
        editors,
        tenant_id=project.tenant_id,
        kind="returned",
        title=f"{project.name} · {title}",
        body=f"退回原因：{reasons}" if reasons else "",
        link=link,
        project_id=project.id,
        stage=stage,
    )


def reviewed(
    session: Session,
    actor: Actor,
    project: Project,
    subject: Any,
    review: Any,
    *,
    noun: str,
    stage: str,
    link: str,
) -> None:
    """A level of the review chain decided on `subject` (the targets, the self-evaluation): a return
    goes to every editor with the reasons; an approval tells the submitter and, unless it was the
    last level, puts the item into the next level's 待办."""
    level = REVIEW_LEVELS[review.level]
    if review.decision == "return":
        returned_to_editors(
            session,
            project,
            subject.submitted_by,
            title=f"{noun}被{level}退回",
            reasons=kinds.return_reasons(review),
            link=link,
            stage=stage,
        )
        return
    final = subject.status == "approved"
    to_user(
        session,
        project,
        subject.submitted_by,
        kind="approved",
        title=f"{noun}{level}通过" + ("，已冻结" if final else "，已转下一环节"),
        body=kinds.return_reasons(review),
        link=link,
        stage=stage,
    )
    if not final:
        to_holders(session, project, "review", stage, exclude=actor.username)


def announce(session: Session, actor: Actor, name: str, *, project: Project | None, **data: Any) -> None:
    """A lifecycle event happened in this transaction: tell whoever it concerns (the handler the
    event's stage registered; an event nobody registered tells no one). `project` is None for an
    event of a track without one (a pilot report's: its `data` says which)."""
    handler = event_handler(name)
    if handler is not None:
        handler(session, actor, project, data)
