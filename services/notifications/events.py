"""The lifecycle's events → notifications, in the transaction of the change.

The lifecycle services call `announce(session, actor, event, …)` at each state change; this module
decides who hears of it — whoever now has the item in their 待办 (the work queue's own kinds and
roles), the submitter when their submission is approved or returned (with the reasons), the other
editors of a new project or adjustment. So `xq.dept` has both the to-do item and the notification
the moment `xq.editor`'s submit commits.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from jixiao.platform.core.actor import Actor
from jixiao.services.assessment.models import CONCLUSIONS
from jixiao.services.projects.models import Project
from jixiao.services.targets.models import REVIEW_LEVELS
from jixiao.services.tasks import kinds

from .service import by_username, holders, notify, task_body


def _task_of(session: Session, project: Project, kind: str, stage: str) -> kinds.Task | None:
    scope = kinds.Scope(tenant_id=project.tenant_id, project_id=project.id, everyone=True)
    found = [t for t in kinds.KINDS[kind](session, scope, kinds.local_today()) if t.stage == stage]
    return found[0] if found else None


def _to_holders(
    session: Session, project: Project, kind: str, stage: str, exclude: str | None = None
) -> None:
    """Notify everyone who now has this item in their 待办."""
    task = _task_of(session, project, kind, stage)
    if task is None:
        return
    notify(
        session,
        holders(session, project.tenant_id, task.role, exclude=(exclude, *task.excluded)),
        tenant_id=project.tenant_id,
        kind="task",
        title=f"待办：{project.name} · {task.title}",
        body=task_body(session, task),
        link=task.link,
        project_id=project.id,
        stage=stage,
    )


def announce(session: Session, actor: Actor, name: str, *, project: Project, **data: Any) -> None:
    """A lifecycle event happened in this transaction: tell whoever it concerns."""
    if name == "project.created":  # the assessment now awaits the tenant's other editors
        _to_holders(session, project, "fill", "assessment", exclude=actor.username)
    elif name == "targets.adjusted":  # the adjustment draft awaits the other editors too
        _to_holders(session, project, "fill", "targets", exclude=actor.username)
    elif name == "assessment.submitted":
        _to_holders(session, project, "decide", "assessment", exclude=actor.username)
    elif name == "assessment.decided":
        assessment = data["assessment"]
        conclusion = CONCLUSIONS.get(assessment.conclusion or "", "")
        notify(
            session,
            by_username(session, project.tenant_id, assessment.submitted_by),
            tenant_id=project.tenant_id,
            kind="decided" if assessment.conclusion != "reject" else "returned",
            title=f"{project.name} · 事前评估结论：{conclusion}",
            body=assessment.opinion or "",
            link=f"/projects/{project.id}/assessment",
            project_id=project.id,
            stage="assessment",
        )
        if assessment.conclusion != "reject":
            _to_holders(session, project, "fill", "targets")
    elif name == "targets.submitted":
        _to_holders(session, project, "review", "targets", exclude=actor.username)
    elif name == "targets.reviewed":
        target_set, review = data["target_set"], data["review"]
        level = REVIEW_LEVELS[review.level]
        if review.decision == "return":
            reasons = kinds.return_reasons(review)
            # every editor now has it in 待办; the submitter first among them
            editors = by_username(session, project.tenant_id, target_set.submitted_by) + holders(
                session, project.tenant_id, kinds.ROLE_OF["revise"]
            )
            notify(
                session,
                editors,
                tenant_id=project.tenant_id,
                kind="returned",
                title=f"{project.name} · 绩效目标被{level}退回",
                body=f"退回原因：{reasons}" if reasons else "",
                link=f"/projects/{project.id}/targets",
                project_id=project.id,
                stage="targets",
            )
            return
        final = target_set.status == "approved"
        notify(
            session,
            by_username(session, project.tenant_id, target_set.submitted_by),
            tenant_id=project.tenant_id,
            kind="approved",
            title=f"{project.name} · 绩效目标{level}通过" + ("，已冻结" if final else "，已转下一环节"),
            body=kinds.return_reasons(review),
            link=f"/projects/{project.id}/targets",
            project_id=project.id,
            stage="targets",
        )
        if not final:
            _to_holders(session, project, "review", "targets", exclude=actor.username)
