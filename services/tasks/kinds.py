"""The kinds of to-do items (待办): one query per kind over the stage tables.

Nothing is a hand-kept copy that could drift: each kind answers, for a `Scope` (one user's tenant,
roles and token scopes — or everyone, for the reminder job), the items awaiting an action, each with
the role that acts on it and who may not (the submitter; whoever already passed it on at the level
before). Projects that are not active (不予支持) have none.

Kinds (API codes; the pages show the Chinese):
- `fill`    待填报 — a stage open as a draft (the assessment, the first targets, a target adjustment);
- `revise`  退回修改 — a submission returned with the reviewer's reasons (also while being edited);
- `review`  待审核 — targets awaiting 初审 (department reviewer) or 复核 (bureau admin);
- `decide`  待决策 — a submitted ex-ante assessment awaiting finance's conclusion.
Later stages add their kinds to `KINDS` (correction requests, rectification items, reports to
accept, grants about to expire): one function each, same shape.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from jixiao.platform.core.runtime import current_runtime
from jixiao.services.assessment.models import Assessment
from jixiao.services.programs.models import STAGE_NAMES
from jixiao.services.projects.models import Project, ProjectStage
from jixiao.services.projects.service import stage_deadline
from jixiao.services.targets.models import COMMENT_KEYS, REVIEW_LEVELS, ROLE_OF_LEVEL, TargetReview, TargetSet

KIND_NAMES = {"fill": "待填报", "revise": "退回修改", "review": "待审核", "decide": "待决策"}
# Who acts on each kind (and, for a review, on each level of the chain).
ROLE_OF = {"fill": "project_editor", "revise": "project_editor", "decide": "bureau_admin"}
SCOPE_OF = {
    "fill": "projects:write",
    "revise": "projects:write",
    "review": "reviews:write",
    "decide": "reviews:write",
}


@dataclass(frozen=True)
class Task:
    kind: str
    project_id: int
    project_name: str
    tenant_id: int
    tenant_code: str
    tenant_name: str
    stage: str
    role: str  # the role that acts on it
    since: datetime | None
    deadline: date | None
    overdue: bool
    level: str | None = None  # review level (初审/复核/联审)
    number: int | None = None  # the target set's version (1 before the first draft is saved)
    # who may not act on it though they hold the role: the submitter, and whoever already approved
    # this submission at an earlier level (one person may hold both reviewer roles)
    excluded: tuple[str, ...] = ()
    detail: str = ""  # a return's reasons, "退回后重新提交" …
    submitted_by: str | None = None  # the login name of who submitted what awaits a review/decision

    @property
    def kind_name(self) -> str:
        return KIND_NAMES[self.kind]

    @property
    def stage_name(self) -> str:
        return STAGE_NAMES[self.stage]

    @property
    def title(self) -> str:
        what = {
            ("fill", "assessment"): "填报事前评估",
            ("fill", "targets"): "填报绩效目标"
            if (self.number or 1) == 1
            else f"填报目标调整（第 {self.number} 版）",
            ("revise", "targets"): "修改退回的绩效目标",
            ("decide", "assessment"): "对事前评估作出结论",
        }.get((self.kind, self.stage))
        if self.kind == "review":
            what = f"{REVIEW_LEVELS.get(self.level or '', '审核')}绩效目标"
        return what or f"{self.kind_name} · {self.stage_name}"

    def describe(self, name_of: Callable[[str], str] = str) -> str:
        """The item's detail as one line of text (notifications, reminders): the submitter by the
        name `name_of` gives (a display name), then the detail — 王科长 提交（退回后重新提交）."""
        if not self.submitted_by:
            return self.detail
        text = f"{name_of(self.submitted_by)} 提交"
        return f"{text}（{self.detail}）" if self.detail else text

    @property
    def link(self) -> str:
        """The page where the action is taken."""
        if self.stage == "assessment":
            return f"/projects/{self.project_id}/assessment"
        if self.kind == "review":
            return f"/projects/{self.project_id}/targets/review"
        return f"/projects/{self.project_id}/targets"

    @property
    def key(self) -> str:
        """Identifies the item across runs (reminders are idempotent per key and threshold)."""
        return f"{self.kind}:{self.project_id}:{self.stage}:{self.level or ''}:{self.number or 1}"


@dataclass(frozen=True)
class Scope:
    """Whose queue: one tenant, one user (own submissions left out), the roles held — or, for the
    reminder job, everyone (`tenant_id=None`)."""

    tenant_id: int | None = None
    project_id: int | None = None  # one project's items (the notifications of a state change)
    username: str | None = None
    roles: frozenset[str] = field(default_factory=frozenset)
    scopes: frozenset[str] = field(default_factory=frozenset)
    everyone: bool = False

    def acts_as(self, role: str, kind: str) -> bool:
        """Holds the role, and the token may act on the kind (a read-only token has no to-dos)."""
        return self.everyone or (role in self.roles and SCOPE_OF[kind] in self.scopes)


def local_today() -> date:
    return datetime.now(ZoneInfo(current_runtime().settings.timezone)).date()


def _base(scope: Scope, *entities: Any) -> Select[Any]:
    stmt = select(*entities).where(Project.status == "active")
    if scope.tenant_id is not None:
        stmt = stmt.where(Project.tenant_id == scope.tenant_id)
    if scope.project_id is not None:
        stmt = stmt.where(Project.id == scope.project_id)
    return stmt


def _task(
    kind: str, project: Project, stage: str, role: str, since: datetime | None, today: date, **kw: Any
) -> Task:
    # the program's stage deadline; an adjustment (version 2 …) has none of its own
    deadline = stage_deadline(project, stage) if (kw.get("number") or 1) == 1 else None
    return Task(
        kind=kind,
        project_id=project.id,
        project_name=project.name,
        tenant_id=project.tenant_id,
        tenant_code=project.owner.code,
        tenant_name=project.owner.name,
        stage=stage,
        role=role,
        since=since,
        deadline=deadline,
        overdue=deadline is not None and today > deadline,
        **kw,
    )


def _open_target_sets(session: Session, scope: Scope) -> list[tuple[Project, TargetSet, bool]]:
    """Target sets the editors hold (draft or returned), each with whether a return is what
    they answer (a returned set stays "revise" while it is edited, until it is submitted again)."""
    rows = session.execute(
        _base(scope, Project, TargetSet)
        .join(TargetSet, TargetSet.project_id == Project.id)
        .where(TargetSet.status.in_(("draft", "returned")))
    ).all()
    return [(p, ts, bool(ts.reviews) and ts.reviews[-1].decision == "return") for p, ts in rows]


def _fill(session: Session, scope: Scope, today: date) -> list[Task]:
    """Stages open as drafts: the assessment, the first targets (started or not), an adjustment."""
    if not scope.acts_as(ROLE_OF["fill"], "fill"):
        return []
    started = select(TargetSet.id).where(TargetSet.project_id == Project.id).exists()
    rows = session.execute(
        _base(scope, Project, ProjectStage)
        .join(ProjectStage, ProjectStage.project_id == Project.id)
        .where(ProjectStage.status == "draft")
        .where((ProjectStage.stage == "assessment") | ((ProjectStage.stage == "targets") & ~started))
    ).all()
    tasks = [
        _task(
            "fill",
            p,
            row.stage,
            ROLE_OF["fill"],
            row.opened_at,
            today,
            number=1 if row.stage == "targets" else None,
        )
        for p, row in rows
    ]
    tasks += [
        _task("fill", p, "targets", ROLE_OF["fill"], ts.created_at, today, number=ts.number)
        for p, ts, returned in _open_target_sets(session, scope)
        if not returned
    ]
    return tasks


def _revise(session: Session, scope: Scope, today: date) -> list[Task]:
    """Target sets returned by a reviewer (also while being edited), with the return's reasons."""
    if not scope.acts_as(ROLE_OF["revise"], "revise"):
        return []
    tasks = []
    for project, ts, returned in _open_target_sets(session, scope):
        if not returned:
            continue
        last = ts.reviews[-1]
        tasks.append(
            _task(
                "revise",
                project,
                "targets",
                ROLE_OF["revise"],
                last.reviewed_at,
                today,
                level=last.level,
                number=ts.number,
                detail=return_reasons(last),
            )
        )
    return tasks


def _review(session: Session, scope: Scope, today: date) -> list[Task]:
    """Target submissions awaiting a level of the chain the user reviews at (not one's own)."""
    levels = [lv for lv, role in ROLE_OF_LEVEL.items() if scope.acts_as(role, "review")]
    if not levels:
        return []
    stmt = (
        _base(scope, Project, TargetSet)
        .join(TargetSet, TargetSet.project_id == Project.id)
        .where(TargetSet.status == "submitted", TargetSet.review_level.in_(levels))
    )
    tasks = []
    for project, ts in session.execute(stmt).all():
        approvers = tuple(
            r.reviewer
            for r in ts.reviews
            if r.decision == "approve" and ts.submitted_at and r.reviewed_at >= ts.submitted_at
        )
        excluded = tuple(filter(None, (ts.submitted_by, *approvers)))
        if scope.username in excluded:
            continue  # one's own submission, or passed on at the level before (the chain refuses both)
        last = ts.reviews[-1] if ts.reviews else None
        since = ts.submitted_at
        if last is not None and ts.submitted_at and last.reviewed_at >= ts.submitted_at:
            since = last.reviewed_at  # the previous level passed it on
        tasks.append(
            _task(
                "review",
                project,
                "targets",
                ROLE_OF_LEVEL[ts.review_level or "first"],
                since,
                today,
                level=ts.review_level,
                number=ts.number,
                excluded=excluded,
                detail="退回后重新提交" if resubmitted(ts) else "",
                submitted_by=ts.submitted_by,
            )
        )
    return tasks


def _decide(session: Session, scope: Scope, today: date) -> list[Task]:
    """Submitted ex-ante assessments awaiting finance's conclusion (not by the submitter)."""
    if not scope.acts_as(ROLE_OF["decide"], "decide"):
        return []
    stmt = (
        _base(scope, Project, Assessment)
        .join(Assessment, Assessment.project_id == Project.id)
        .where(Assessment.status == "submitted")
    )
    if scope.username:
        stmt = stmt.where(func.coalesce(Assessment.submitted_by, "") != scope.username)
    return [
        _task(
            "decide",
            project,
            "assessment",
            ROLE_OF["decide"],
            a.submitted_at,
            today,
            excluded=(a.submitted_by,) if a.submitted_by else (),
            submitted_by=a.submitted_by,
        )
        for project, a in session.execute(stmt).all()
    ]


KINDS: dict[str, Callable[[Session, Scope, date], list[Task]]] = {
    "fill": _fill,
    "revise": _revise,
    "review": _review,
    "decide": _decide,
}


_TRAILING = "。；;，,、.! ！　 \t\n"


def return_reasons(review: TargetReview) -> str:
    """A return's comments as one line: 完整性：…；可行性：… — each comment's own closing
    punctuation dropped, so that no "。；" doubles up."""
    parts = (
        (COMMENT_KEYS.get(k, "其他意见"), str(v).strip().rstrip(_TRAILING))
        for k, v in (review.comments or {}).items()
    )
    return "；".join(f"{label}：{text}" for label, text in parts if text)


def resubmitted(ts: TargetSet) -> bool:
    """Submitted again after a return (the reviewer then sees what changed)."""
    return ts.status == "submitted" and any(r.decision == "return" for r in ts.reviews)
