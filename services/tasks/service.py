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

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from jixiao.platform.core.actor import Actor
from jixiao.platform.core.audit import AuditEvent
from jixiao.platform.core.authz import authorize, policy
from jixiao.platform.core.errors import ValidationFailed
from jixiao.platform.core.pagination import Page, clamp
from jixiao.services.assessment.models import CONCLUSIONS
from jixiao.services.programs.models import STAGE_NAMES
from jixiao.services.projects.models import Project
from jixiao.services.targets.models import REVIEW_LEVELS

from .kinds import KIND_NAMES, KINDS, Scope, Task, local_today

DONE_ACTIONS = {
    "assessment.submit": "提交事前评估",
    "assessment.decide": "作出事前评估结论",
    "targets.submit": "提交绩效目标",
    "targets.review": "审核绩效目标",
    "targets.adjust": "发起目标调整",
}


def _sort(tasks: Iterable[Task]) -> list[Task]:
    far = date.max
    return sorted(
        tasks,
        key=lambda t: (
            not t.overdue,
            t.deadline or far,
            t.since or datetime.max.replace(tzinfo=None),
            t.project_id,
        ),
    )


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
    if kind is not None and kind not in KINDS:
        problems["kind"] = [f"待办类型须为：{'、'.join(f'{k}（{v}）' for k, v in KIND_NAMES.items())}"]
    if stage is not None and stage not in STAGE_NAMES:
        problems["stage"] = [f"阶段须为：{'、'.join(STAGE_NAMES)}"]
    if problems:
        raise ValidationFailed(next(iter(problems.values()))[0], errors=problems)
    if actor.tenant_id is None:
        return []  # evaluators: their kinds arrive with the grants
    scope = Scope(tenant_id=actor.tenant_id, username=actor.username, roles=actor.roles, scopes=actor.scopes)
    day = today or local_today()
    found: list[Task] = []
    for code, query in KINDS.items():
        if kind is None or code == kind:
            found += query(session, scope, day)
    if stage is not None:
        found = [t for t in found if t.stage == stage]
    if overdue is not None:
        found = [t for t in found if t.overdue is overdue]
    return _sort(found)


def all_tasks(session: Session, today: date | None = None) -> list[Task]:
    """Every open item of every tenant with the role that acts on it (the reminder job; a system
    session)."""
    day = today or local_today()
    scope = Scope(everyone=True)
    found: list[Task] = []
    for query in KINDS.values():
        found += query(session, scope, day)
    return _sort(found)


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

    @property
    def stage_name(self) -> str:
        return STAGE_NAMES.get(self.stage, "")

    @property
    def link(self) -> str:
        if self.project_id is None:
            return ""
        if self.stage == "assessment":
            return f"/projects/{self.project_id}/assessment"
        if self.action == "targets.review":
            return f"/projects/{self.project_id}/targets/review"
        return f"/projects/{self.project_id}/targets/versions"


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
    page, page_size = clamp(page, page_size)
    if actor.user_id is None:
        return Page([], 0, page, page_size)
    stmt = select(AuditEvent).where(
        AuditEvent.user_id == actor.user_id,
        AuditEvent.action.in_(tuple(DONE_ACTIONS)),
        AuditEvent.object_type == "project",
    )
    total = session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
    events = list(
        session.execute(
            stmt.order_by(AuditEvent.id.desc()).offset((page - 1) * page_size).limit(page_size)
        ).scalars()
    )
    ids = {int(e.object_id) for e in events if e.object_id and e.object_id.isdigit()}
    projects = (
        {p.id: p for p in session.execute(select(Project).where(Project.id.in_(ids))).scalars()}
        if ids
        else {}
    )
    items = []
    for e in events:
        pid = int(e.object_id) if e.object_id and e.object_id.isdigit() else None
        project = projects.get(pid) if pid is not None else None
        items.append(
            Done(
                action=e.action,
                action_name=DONE_ACTIONS[e.action],
                at=e.at,
                project_id=pid,
                project_name=project.name if project else "",
                tenant_code=project.owner.code if project else "",
                stage=e.action.split(".")[0],
                summary=_summary(e),
            )
        )
    return Page(items, total, page, page_size)
