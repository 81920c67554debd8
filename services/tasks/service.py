"""The work queue (待办 / 已办) of a user.

待办: the kinds of `kinds.py` run in the user's walled session, narrowed to the user's own tenant
(an upper level reads a county's projects but never acts on them), to the roles and token scopes
that act on each kind, and never to one's own submission; overdue first. The same kinds run for
everyone give the deadline reminders (`jixiao.services.notifications.reminders`).

已办 comes from the audit trail: the events the user caused that acted on a project.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from jixiao.platform.core.actor import Actor
from jixiao.platform.core.audit import AuditEvent
from jixiao.platform.core.authz import authorize, policy
from jixiao.platform.core.errors import ValidationFailed
from jixiao.platform.core.pagination import Page, clamp, paginate
from jixiao.services.assessment.models import CONCLUSIONS
from jixiao.services.projects.models import Project
from jixiao.services.projects.stages import done_actions, done_stage, stage_names
from jixiao.services.targets.models import REVIEW_LEVELS

from .kinds import KIND_NAMES, Scope, Task, find, local_today


def _sort(tasks: Iterable[Task]) -> list[Task]:
    """Overdue first, then by deadline (none last), then the oldest first."""
    return sorted(
        tasks,
        key=lambda t: (
            not t.overdue,
            t.deadline is None,
            t.deadline or date.max,
            t.since is None,
            t.since.timestamp() if t.since else 0.0,
            t.project_id,
        ),
    )


def _run(session: Session, scope: Scope, day: date, kind: str | None = None) -> list[Task]:
    return _sort(find(session, scope, day, kind))


def matching(
    tasks: Iterable[Task], *, kind: str | None = None, stage: str | None = None, overdue: bool | None = None
) -> list[Task]:
    """The items of a kind, a stage, overdue or not (None: any) — the filters of the queue."""
    return [
        t
        for t in tasks
        if (kind is None or t.kind == kind)
        and (stage is None or t.stage == stage)
        and (overdue is None or t.overdue is overdue)
    ]


# --- the user's queue --------------------------------------------------------------------------


@policy("tasks.read", scope="profile")
def _may_read_tasks(actor: Actor) -> None:
    """Everyone reads their own queue; which items appear depends on roles and token scopes."""


def tasks_for(
    session: Session,
    actor: Actor,
    *,
    kind: str | None = None,
    stage: str | None = None,
    overdue: bool | None = None,
    today: date | None = None,
) -> list[Task]:
    """The user's 待办, overdue first, then by deadline and age. Filters: kind, stage, overdue."""
    authorize(actor, "tasks.read")
    problems: dict[str, list[str]] = {}
    if kind is not None and kind not in KIND_NAMES:
        problems["kind"] = [f"待办类型须为：{'、'.join(f'{k}（{v}）' for k, v in KIND_NAMES.items())}"]
    names = stage_names()
    if stage is not None and stage not in names:
        problems["stage"] = [f"阶段须为：{'、'.join(names)}"]
    if problems:
        raise ValidationFailed(next(iter(problems.values()))[0], errors=problems)
    if actor.is_evaluator:  # its granted projects' items (联审, 重点评价 …)
        scope = Scope(
            project_ids=actor.granted_project_ids,
            grants=actor.grants,
            username=actor.username,
            roles=actor.roles,
            scopes=actor.scopes,
        )
    elif actor.tenant_id is None:
        return []
    else:
        scope = Scope(
            tenant_id=actor.tenant_id, username=actor.username, roles=actor.roles, scopes=actor.scopes
        )
    found = _run(session, scope, today or local_today(), kind)
    return matching(found, stage=stage, overdue=overdue)


def all_tasks(session: Session, today: date | None = None) -> list[Task]:
    """Every open item of every tenant with the role that acts on it (the reminder job; a system
    session)."""
    return _run(session, Scope(everyone=True), today or local_today())


# --- 已办 -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Done:
    action: str
    action_name: str
    at: datetime
    project_id: int | None
    project_name: str
    tenant_code: str
    stage: str
    summary: str
    report_id: int | None = None  # an act on a pilot report (no project)

    @property
    def stage_name(self) -> str:
        return stage_names().get(self.stage, "")

    @property
    def link(self) -> str:
        if self.report_id is not None:
            return f"/reports/{self.report_id}"
        if self.project_id is None:
            return ""
        if self.stage == "assessment":
            return f"/projects/{self.project_id}/assessment"
        if self.action == "targets.review":
            return f"/projects/{self.project_id}/targets/review"
        if self.stage == "targets":
            return f"/projects/{self.project_id}/targets/versions"
        return f"/projects/{self.project_id}"  # the overview, with the stage's card and tabs


def _summary(event: AuditEvent) -> str:
    after = event.after if isinstance(event.after, dict) else {}
    if event.action == "targets.review":
        level = REVIEW_LEVELS.get(str(after.get("level")), "")
        verdict = "通过" if after.get("decision") == "approve" else "退回"
        return f"第 {after.get('number')} 版 · {level}{verdict}"
    if event.action == "assessment.decide":
        return f"结论：{CONCLUSIONS.get(str(after.get('conclusion')), '')}"
    if event.action == "targets.submit":
        return f"第 {after.get('number')} 版"
    if event.action == "targets.adjust":
        return f"第 {after.get('number')} 版 · {after.get('reason', '')}"
    return ""


def done_for(session: Session, actor: Actor, *, page: int = 1, page_size: int = 50) -> Page[Done]:
    """The user's 已办: the lifecycle actions they took, newest first, from the audit trail."""
    authorize(actor, "tasks.read")
    if actor.user_id is None:
        return Page([], 0, *clamp(page, page_size))
    actions = done_actions()
    events = paginate(
        session,
        select(AuditEvent)
        .where(
            AuditEvent.user_id == actor.user_id,
            AuditEvent.action.in_(tuple(actions)),
            AuditEvent.object_type.in_(("project", "pilot_report")),
        )
        .order_by(AuditEvent.id.desc()),
        page,
        page_size,
    )

    def number(e: AuditEvent, object_type: str) -> int | None:
        return (
            int(e.object_id)
            if e.object_type == object_type and e.object_id and e.object_id.isdigit()
            else None
        )

    pids = {e.id: number(e, "project") for e in events.items}
    wanted = {pid for pid in pids.values() if pid is not None}
    projects = (
        {p.id: p for p in session.execute(select(Project).where(Project.id.in_(wanted))).scalars()}
        if wanted
        else {}
    )
    items = []
    for e in events.items:
        project = projects.get(pids[e.id] or 0)
        items.append(
            Done(
                action=e.action,
                action_name=actions[e.action],
                at=e.at,
                project_id=pids[e.id],
                project_name=project.name
                if project
                else ("试点报告" if e.object_type == "pilot_report" else ""),
                tenant_code=project.owner.code if project else "",
                stage=done_stage(e.action) or "",
                summary=_summary(e),
                report_id=number(e, "pilot_report"),
            )
        )
    return Page(items, events.total, events.page, events.page_size)
