"""The kinds of to-do items (待办) and the shared machinery of their queries.

Nothing is a hand-kept copy that could drift: each stage capability registers, in its `stage.py`
(`projects.stages`), queries over its own tables that answer, for a `Scope` (one user's tenant,
roles and token scopes — or everyone, for the reminder job), the items awaiting an action, each with
the role that acts on it and who may not (the submitter; whoever already passed it on at the level
before). Projects that are not active (不予支持) have none.

Kinds (API codes; the pages show the Chinese):
- `fill`      待填报 — a stage open as a draft (the assessment, the targets, an adjustment, a
  monitoring round due, the self-evaluation);
- `revise`    退回修改 — a submission returned with the reviewer's reasons (also while being edited);
- `review`    待审核 — a submission awaiting 初审 (department reviewer) or 复核 (bureau admin);
- `decide`    待决策 — a submitted ex-ante assessment awaiting finance's conclusion;
- `confirm`   待确认 — a reported monitoring round awaiting finance's confirmation;
- `answer`    待答复 — a correction request (纠偏/约谈/发函) awaiting the editors' reply;
- `follow_up` 待跟进 — an answered correction awaiting finance (close it or ask again);
- `accept`    待验收 — a submitted pilot report awaiting the province's acceptance;
- `opinion`   待初审 — a county's submitted pilot report awaiting its city's preliminary opinion;
- `check`     待抽查 — a project drawn in a spot check (抽查) awaiting the review of whoever drew it.
An item belongs to a project, or (a pilot report's) to a tenant's program only: `project_id` None.
The queries themselves live beside their stage; the helpers below are what they share.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, lazyload

from jixiao.platform.core.runtime import current_runtime
from jixiao.services.projects.models import Project, ProjectStage
from jixiao.services.projects.service import stage_deadline
from jixiao.services.projects.stages import plugins, stage_names
from jixiao.services.targets.models import COMMENT_KEYS, REVIEW_LEVELS, ROLE_OF_LEVEL

KIND_NAMES = {
    "fill": "待填报",
    "revise": "退回修改",
    "review": "待审核",
    "decide": "待决策",
    "confirm": "待确认",
    "answer": "待答复",
    "follow_up": "待跟进",
    "accept": "待验收",
    "opinion": "待初审",
    "check": "待抽查",
}
# Who acts on each kind (a review: the role of its level, ROLE_OF_LEVEL).
ROLE_OF = {
    "fill": "project_editor",
    "revise": "project_editor",
    "decide": "bureau_admin",
    "confirm": "bureau_admin",
    "answer": "project_editor",
    "follow_up": "bureau_admin",
    "accept": "province_admin",
    "opinion": "bureau_admin",
    "check": "province_reviewer",  # a city's checks: its bureau admin (services/spotchecks)
}
SCOPE_OF = {
    "fill": "projects:write",
    "revise": "projects:write",
    "review": "reviews:write",
    "decide": "reviews:write",
    "confirm": "reviews:write",
    "answer": "projects:write",
    "follow_up": "reviews:write",
    "accept": "acceptance:write",
    "opinion": "reports:write",
    "check": "reviews:write",
}


@dataclass(frozen=True)
class Task:
    kind: str
    project_id: int | None  # None: an item of a tenant's program (its pilot report)
    project_name: str  # … then what it concerns: 试点报告 · <program>
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
    what: str = ""  # the action, as the queue lists it: 填报绩效目标, 确认 2027-03 监控 …
    href: str = ""  # the page where it is taken
    item: str = ""  # tells apart items of one kind and stage (a round's period, a correction's id)
    program_id: int | None = None  # whose settings (reminders) apply

    @property
    def kind_name(self) -> str:
        return KIND_NAMES[self.kind]

    @property
    def stage_name(self) -> str:
        return stage_names()[self.stage]

    @property
    def title(self) -> str:
        return self.what or f"{self.kind_name} · {self.stage_name}"

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
        return self.href or f"/projects/{self.project_id}"

    @property
    def key(self) -> str:
        """Identifies the item across runs (reminders are idempotent per key and threshold)."""
        key = f"{self.kind}:{self.project_id or 0}:{self.stage}:{self.level or ''}:{self.number or 1}"
        return f"{key}:{self.item}" if self.item else key


@dataclass(frozen=True)
class Scope:
    """Whose queue: one tenant, one user (own submissions left out), the roles held — or, for the
    reminder job, everyone (`tenant_id=None`)."""

    tenant_id: int | None = None
    project_id: int | None = None  # one project's items (the notifications of a state change)
    # an evaluator: the projects it holds live grants on, and the grants ((project, action) pairs)
    project_ids: frozenset[int] | None = None
    grants: frozenset[tuple[int, str]] = field(default_factory=frozenset)
    username: str | None = None
    roles: frozenset[str] = field(default_factory=frozenset)
    scopes: frozenset[str] = field(default_factory=frozenset)
    everyone: bool = False

    def acts_as(self, role: str, kind: str) -> bool:
        """Holds the role, and the token may act on the kind (a read-only token has no to-dos)."""
        return self.everyone or (role in self.roles and SCOPE_OF[kind] in self.scopes)


def local_today() -> date:
    return datetime.now(ZoneInfo(current_runtime().settings.timezone)).date()


# A project's stage rows, which no item reads (its stage's row is joined where it matters,
# `open_stages`): lazy here.
_UNREAD = (lazyload(Project.stages),)


def active(scope: Scope, *entities: Any) -> Select[Any]:
    """A query over the active projects of the scope (its tenant, its one project)."""
    stmt = select(*entities).where(Project.status == "active")
    if any(entity is Project for entity in entities):
        stmt = stmt.options(*_UNREAD)
    if scope.tenant_id is not None:
        stmt = stmt.where(Project.tenant_id == scope.tenant_id)
    if scope.project_id is not None:
        stmt = stmt.where(Project.id == scope.project_id)
    if scope.project_ids is not None:
        stmt = stmt.where(Project.id.in_(sorted(scope.project_ids)))
    return stmt


def make_task(
    kind: str,
    project: Project,
    stage: str,
    role: str,
    since: datetime | None,
    today: date,
    *,
    deadline: date | None | bool = True,
    **kw: Any,
) -> Task:
    """An item with the program's deadline of its stage (`deadline=True`), its own (a date), or
    none (None: an adjustment, version 2 …, has no deadline of its own)."""
    due = stage_deadline(project, stage) if deadline is True else (deadline or None)
    return Task(
        kind=kind,
        project_id=project.id,
        project_name=project.name,
        tenant_id=project.tenant_id,
        tenant_code=project.owner.code,
        tenant_name=project.owner.name,
        program_id=project.program_id,
        stage=stage,
        role=role,
        since=since,
        deadline=due,
        overdue=due is not None and today > due,
        **kw,
    )


def open_stages(
    session: Session, scope: Scope, stage: str, *statuses: str
) -> list[tuple[Project, ProjectStage]]:
    """The projects whose `stage` row is in one of `statuses`."""
    return [
        (p, row)
        for p, row in session.execute(
            active(scope, Project, ProjectStage)
            .join(ProjectStage, ProjectStage.project_id == Project.id)
            .where(ProjectStage.stage == stage, ProjectStage.status.in_(statuses))
        ).all()
    ]


# --- submissions that go through the review chain (targets, self-evaluation) ----------------------


def held_by_editors(session: Session, scope: Scope, model: Any) -> list[tuple[Project, Any, bool]]:
    """Submissions the editors hold (draft or returned) of a chain-reviewed `model`, each with whether
    a return is what they answer (a returned one stays "revise" while it is edited, until it is
    submitted again)."""
    rows = session.execute(
        active(scope, Project, model)
        .join(model, model.project_id == Project.id)
        .where(model.status.in_(("draft", "returned")))
    ).all()
    return [(p, obj, bool(obj.reviews) and obj.reviews[-1].decision == "return") for p, obj in rows]


def revise_tasks(
    session: Session, scope: Scope, today: date, model: Any, stage: str, what: str, href: Callable[[int], str]
) -> list[Task]:
    """Returned submissions of `model` (also while being edited), with the return's reasons."""
    if not scope.acts_as(ROLE_OF["revise"], "revise"):
        return []
    tasks = []
    for project, obj, returned in held_by_editors(session, scope, model):
        if not returned:
            continue
        last = obj.reviews[-1]
        number = getattr(obj, "number", None)
        tasks.append(
            make_task(
                "revise",
                project,
                stage,
                ROLE_OF["revise"],
                last.reviewed_at,
                today,
                deadline=(number or 1) == 1 or None,
                level=last.level,
                number=number,
                detail=return_reasons(last),
                what=what,
                href=href(project.id),
            )
        )
    return tasks


def review_tasks(
    session: Session,
    scope: Scope,
    today: date,
    model: Any,
    stage: str,
    noun: str,
    href: Callable[[int], str],
) -> list[Task]:
    """Submissions of a chain-reviewed `model` awaiting a level the user reviews at (never one's
    own, never a second level after passing it on at the first: the chain refuses both)."""
    levels = [lv for lv, role in ROLE_OF_LEVEL.items() if scope.acts_as(role, "review")]
    if not levels:
        return []
    stmt = (
        active(scope, Project, model)
        .join(model, model.project_id == Project.id)
        .where(model.status == "submitted", model.review_level.in_(levels))
    )
    tasks = []
    for project, obj in session.execute(stmt).all():
        approvers = tuple(
            r.reviewer
            for r in obj.reviews
            if r.decision == "approve" and obj.submitted_at and r.reviewed_at >= obj.submitted_at
        )
        excluded = tuple(filter(None, (obj.submitted_by, *approvers)))
        if scope.username in excluded:
            continue
        if (
            obj.review_level == "joint"
            and not scope.everyone
            and (project.id, "joint_review") not in scope.grants
        ):
            continue  # 联审: only an evaluator holding the `joint_review` grant on the project
        last = obj.reviews[-1] if obj.reviews else None
        since = obj.submitted_at
        if last is not None and obj.submitted_at and last.reviewed_at >= obj.submitted_at:
            since = last.reviewed_at  # the previous level passed it on
        number = getattr(obj, "number", None)
        tasks.append(
            make_task(
                "review",
                project,
                stage,
                ROLE_OF_LEVEL[obj.review_level or "first"],
                since,
                today,
                deadline=(number or 1) == 1 or None,
                level=obj.review_level,
                number=number,
                excluded=excluded,
                detail="退回后重新提交" if resubmitted(obj) else "",
                submitted_by=obj.submitted_by,
                what=f"{REVIEW_LEVELS.get(obj.review_level or '', '审核')}{noun}",
                href=href(project.id),
            )
        )
    return tasks


# --- every kind, from the registry -------------------------------------------------------------------


def queries(stage: str | None = None) -> list[Callable[[Session, Scope, date], list[Task]]]:
    """The registered queries (each may answer items of several kinds; `find` filters) — of one
    stage's plugin: a plugin's items are of its own stage (tests/api/test_work_queue_stages.py)."""
    return [query for plugin in plugins() if stage in (None, plugin.stage) for query in plugin.tasks]


def find(
    session: Session, scope: Scope, today: date, kind: str | None = None, stage: str | None = None
) -> list[Task]:
    """Every item of the scope (of one kind, of one stage)."""
    found = [task for query in queries(stage) for task in query(session, scope, today)]
    return [t for t in found if kind in (None, t.kind) and stage in (None, t.stage)]


_TRAILING = "。；;，,、.! ！　 \t\n"


def return_reasons(review: Any) -> str:
    """A return's comments as one line: 完整性：…；可行性：… — each comment's own closing
    punctuation dropped, so that no "。；" doubles up."""
    parts = (
        (COMMENT_KEYS.get(k, "其他意见"), str(v).strip().rstrip(_TRAILING))
        for k, v in (review.comments or {}).items()
    )
    return "；".join(f"{label}：{text}" for label, text in parts if text)


def resubmitted(obj: Any) -> bool:
    """Submitted again after a return (the reviewer then sees what changed)."""
    return bool(obj.status == "submitted" and any(r.decision == "return" for r in obj.reviews))
