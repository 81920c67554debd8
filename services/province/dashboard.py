"""The province dashboard (DESIGN.md §6, API.md `province/dashboard`): per participating tenant of a
program — grouped by city — each project's stage, overdue stages, the latest round's warnings and
forecast warnings, the self-evaluation's and the key evaluation's grades, budget execution against
time progress, open corrections and rectification items, and the pilot report's state; totals per
city and for the province; filters. A city sees its branch; a county never (403).

Aggregated in the database: a fixed set of statements whatever the number of tenants and projects
(one per kind of fact, each grouped or keyed by project), read in the caller's walled session — no
relationship is loaded lazily (column selects only), so the count cannot grow with the data."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.orm import Session, aliased

from jixiao.platform.core.actor import Actor
from jixiao.platform.core.authz import authorize, policy
from jixiao.platform.core.errors import Forbidden, ValidationFailed
from jixiao.services.evaluation.key.models import KeyEvaluation
from jixiao.services.evaluation.models import SelfEvaluation
from jixiao.services.monitoring.models import Correction, MonitoringLine, MonitoringRound
from jixiao.services.programs.models import STAGE_NAMES, STAGES, Program, ProgramTenant
from jixiao.services.programs.service import get_program
from jixiao.services.projects.models import Project, ProjectStage
from jixiao.services.reports.models import STATUS_NAMES as REPORT_STATUS_NAMES
from jixiao.services.reports.models import PilotReport
from jixiao.services.results.models import RectificationItem
from jixiao.tenants.models import Tenant

GRADES = ("优", "良", "中", "差")
COLOURS = ("green", "yellow", "red")
CENT = Decimal("0.01")


@policy("province.dashboard", scope="projects:read")
def _may_see(actor: Actor) -> None:
    """The province (every participant) and a city (its branch); a county or an evaluator never."""
    if actor.is_evaluator or actor.tenant_level not in ("province", "city"):
        raise Forbidden("汇总看板供省级和市级查看（县区请查看本地区的项目）")


@dataclass
class ProjectRow:
    id: int
    name: str
    stage: str
    status: str
    budget: Decimal
    overdue: list[str] = field(default_factory=list)  # the stages past their deadline
    warnings: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COLOURS, 0))
    forecast_warnings: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COLOURS, 0))
    latest_period: str | None = None
    budget_executed: Decimal | None = None
    budget_execution_rate: Decimal | None = None
    time_progress: Decimal | None = None
    grade: str | None = None  # the approved self-evaluation's
    score: Decimal | None = None
    key_evaluation_grade: str | None = None  # the accepted key evaluation's
    key_evaluation_score: Decimal | None = None
    open_corrections: int = 0
    open_rectifications: int = 0

    @property
    def stage_name(self) -> str:
        return (
            "已办结" if self.status == "active" and self.complete else STAGE_NAMES.get(self.stage, self.stage)
        )

    complete: bool = False


@dataclass
class TenantRow:
    id: int
    code: str
    name: str
    level: str
    parent_code: str | None
    projects: list[ProjectRow] = field(default_factory=list)
    report_id: int | None = None
    report_status: str | None = None  # None: no report yet
    report_version: int | None = None

    @property
    def report_status_name(self) -> str:
        return REPORT_STATUS_NAMES[self.report_status] if self.report_status else "未生成"


@dataclass
class Totals:
    tenants: int = 0
    projects: int = 0
    stages: dict[str, int] = field(default_factory=dict)  # projects at each stage (and 已办结)
    overdue: int = 0  # projects with an overdue stage
    warnings: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COLOURS, 0))
    forecast_warnings: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COLOURS, 0))
    grades: dict[str, int] = field(default_factory=lambda: dict.fromkeys(GRADES, 0))
    key_evaluation_grades: dict[str, int] = field(default_factory=lambda: dict.fromkeys(GRADES, 0))
    budget: Decimal = Decimal(0)
    budget_executed: Decimal = Decimal(0)
    open_corrections: int = 0
    open_rectifications: int = 0
    reports: dict[str, int] = field(default_factory=dict)  # report status → tenants

    @property
    def budget_execution_rate(self) -> Decimal | None:
        return (
            (self.budget_executed / self.budget * 100).quantize(CENT, ROUND_HALF_UP) if self.budget else None
        )

    def add(self, tenant: TenantRow, projects: list[ProjectRow]) -> None:
        self.tenants += 1
        key = tenant.report_status or "none"
        self.reports[key] = self.reports.get(key, 0) + 1
        for p in projects:
            self.projects += 1
            self.stages[p.stage_name] = self.stages.get(p.stage_name, 0) + 1
            self.overdue += bool(p.overdue)
            for colour in COLOURS:
                self.warnings[colour] += p.warnings[colour]
                self.forecast_warnings[colour] += p.forecast_warnings[colour]
            if p.grade:
                self.grades[p.grade] += 1
            if p.key_evaluation_grade:
                self.key_evaluation_grades[p.key_evaluation_grade] += 1
            self.budget += p.budget
            self.budget_executed += p.budget_executed or 0
            self.open_corrections += p.open_corrections
            self.open_rectifications += p.open_rectifications


@dataclass
class CityGroup:
    code: str
    name: str
    tenants: list[TenantRow]
    totals: Totals


@dataclass
class Dashboard:
    program: Program
    root: Tenant
    cities: list[CityGroup]
    totals: Totals
    filters: dict[str, Any]

    @property
    def tenants(self) -> list[TenantRow]:
        return [t for c in self.cities for t in c.tenants]


@dataclass(frozen=True)
class Filters:
    city: str | None = None  # a city's code: it and its counties
    stage: str | None = None  # a stage code, or "done" (已办结)
    grade: str | None = None
    overdue: bool | None = None
    warning: str | None = None  # a colour: projects whose latest round has a line of it

    def check(self) -> None:
        problems: dict[str, list[str]] = {}
        if self.stage is not None and self.stage not in (*STAGES, "done"):
            problems["stage"] = [f"阶段须为：{'、'.join(STAGES)}、done（已办结）"]
        if self.grade is not None and self.grade not in GRADES:
            problems["grade"] = ["等级须为：优、良、中、差"]
        if self.warning is not None and self.warning not in COLOURS:
            problems["warning"] = ["预警须为：green、yellow、red"]
        if problems:
            raise ValidationFailed(next(iter(problems.values()))[0], errors=problems)

    def keeps(self, p: ProjectRow) -> bool:
        if self.stage is not None and (
            (self.stage == "done") != p.complete or (self.stage != "done" and p.stage != self.stage)
        ):
            return False
        if self.grade is not None and self.grade not in (p.grade, p.key_evaluation_grade):
            return False
        if self.overdue is not None and bool(p.overdue) != self.overdue:
            return False
        return self.warning is None or p.warnings[self.warning] > 0

    @property
    def narrows_projects(self) -> bool:
        return any(v is not None for v in (self.stage, self.grade, self.overdue, self.warning))


# --- the statements -------------------------------------------------------------------------------


def _in_scope(program_id: int, tenant_ids: Select[Any]) -> ColumnElement[bool]:
    return (Project.program_id == program_id) & Project.tenant_id.in_(tenant_ids)


def _rate(part: Decimal | None, whole: Decimal | None) -> Decimal | None:
    if part is None or not whole:
        return None
    return (Decimal(part) / Decimal(whole) * 100).quantize(CENT, ROUND_HALF_UP)


def build(session: Session, actor: Actor, program_id: int, filters: Filters, today: date) -> Dashboard:
    authorize(actor, "province.dashboard")
    filters.check()
    program = get_program(session, actor, program_id)
    root = session.get(Tenant, actor.tenant_id)
    assert root is not None
    parent = aliased(Tenant)
    subtree = or_(Tenant.id == root.id, Tenant.path.startswith(root.path + "/"))
    tenant_ids = (
        select(Tenant.id)
        .join(ProgramTenant, ProgramTenant.tenant_id == Tenant.id)
        .where(ProgramTenant.program_id == program.id, subtree)
    )
    # 1. the participating tenants under the caller, with their parents' codes
    tenants = {
        t.id: TenantRow(t.id, t.code, t.name, t.level, parent_code)
        for t, parent_code in session.execute(
            select(Tenant, parent.code)
            .join(ProgramTenant, ProgramTenant.tenant_id == Tenant.id)
            .outerjoin(parent, parent.id == Tenant.parent_id)
            .where(ProgramTenant.program_id == program.id, subtree)
            .order_by(Tenant.code)
        ).all()
    }
    scope = _in_scope(program.id, tenant_ids)
    # 2. the projects (columns only: nothing lazy)
    projects: dict[int, ProjectRow] = {}
    owner: dict[int, int] = {}
    for pid, tid, name, stage, status, budget in session.execute(
        select(
            Project.id, Project.tenant_id, Project.name, Project.stage, Project.status, Project.budget_amount
        )
        .where(scope)
        .order_by(Project.id)
    ).all():
        projects[pid] = ProjectRow(pid, name, stage, status, Decimal(budget))
        owner[pid] = tid
    # 3. stage rows: overdue stages (the current one past its deadline, not approved) and completion
    deadlines = {k: date.fromisoformat(v) for k, v in (program.deadlines or {}).items()}
    for pid, stage, status in session.execute(
        select(ProjectStage.project_id, ProjectStage.stage, ProjectStage.status)
        .join(Project, Project.id == ProjectStage.project_id)
        .where(scope)
    ).all():
        row = projects[pid]
        due = deadlines.get(stage)
        if (
            row.status == "active"
            and stage == row.stage
            and status not in ("approved", "closed")
            and due is not None
            and today > due
        ):
            row.overdue.append(stage)
        if stage == "result_application" and status == "approved":
            row.complete = True
    # 4. the latest round of each project: budget execution, time progress
    latest = (
        select(MonitoringRound.project_id, func.max(MonitoringRound.period).label("period"))
        .join(Project, Project.id == MonitoringRound.project_id)
        .where(scope)
        .group_by(MonitoringRound.project_id)
        .subquery()
    )
    on_latest = (MonitoringRound.project_id == latest.c.project_id) & (
        MonitoringRound.period == latest.c.period
    )
    for pid, period, executed, rate, progress in session.execute(
        select(
            MonitoringRound.project_id,
            MonitoringRound.period,
            MonitoringRound.budget_executed,
            MonitoringRound.execution_rate,
            MonitoringRound.time_progress,
        ).join(latest, on_latest)
    ).all():
        row = projects[pid]
        row.latest_period, row.budget_executed = period, executed
        row.budget_execution_rate, row.time_progress = rate, progress
    # 5. the latest round's lines by warning and forecast warning
    for pid, warning, forecast, count in session.execute(
        select(
            MonitoringRound.project_id, MonitoringLine.warning, MonitoringLine.forecast_warning, func.count()
        )
        .join(MonitoringLine, MonitoringLine.round_id == MonitoringRound.id)
        .join(latest, on_latest)
        .group_by(MonitoringRound.project_id, MonitoringLine.warning, MonitoringLine.forecast_warning)
    ).all():
        row = projects[pid]
        if warning in COLOURS:
            row.warnings[warning] += count
        if forecast in COLOURS:
            row.forecast_warnings[forecast] += count
    # 6. the self-evaluations (the approved one's grade; its execution replaces the round's)
    for pid, status, score, grade, executed in session.execute(
        select(
            SelfEvaluation.project_id,
            SelfEvaluation.status,
            SelfEvaluation.score,
            SelfEvaluation.grade,
            SelfEvaluation.budget_executed,
        )
        .join(Project, Project.id == SelfEvaluation.project_id)
        .where(scope)
    ).all():
        if status == "approved":
            row = projects[pid]
            row.grade, row.score = grade, score
            if executed is not None:
                row.budget_executed = executed
                row.budget_execution_rate = _rate(executed, row.budget)
    # 7. the key evaluations (the accepted one's grade)
    for pid, status, score, grade in session.execute(
        select(KeyEvaluation.project_id, KeyEvaluation.status, KeyEvaluation.score, KeyEvaluation.grade)
        .join(Project, Project.id == KeyEvaluation.project_id)
        .where(scope)
    ).all():
        if status == "accepted":
            projects[pid].key_evaluation_grade, projects[pid].key_evaluation_score = grade, score
    # 8.–9. open corrections and rectification items, counted per project
    for model, attr in ((Correction, "open_corrections"), (RectificationItem, "open_rectifications")):
        for pid, count in session.execute(
            select(model.project_id, func.count())
            .join(Project, Project.id == model.project_id)
            .where(scope, model.status != "closed")
            .group_by(model.project_id)
        ).all():
            setattr(projects[pid], attr, count)
    # 10. the pilot reports
    for tid, rid, status, version in session.execute(
        select(
            PilotReport.tenant_id, PilotReport.id, PilotReport.status, PilotReport.submitted_version
        ).where(PilotReport.program_id == program.id, PilotReport.tenant_id.in_(tenant_ids))
    ).all():
        if tid in tenants:
            tenants[tid].report_id, tenants[tid].report_status, tenants[tid].report_version = (
                rid,
                status,
                version,
            )
    return _assemble(program, root, tenants, projects, owner, filters)


def _assemble(
    program: Program,
    root: Tenant,
    tenants: dict[int, TenantRow],
    projects: dict[int, ProjectRow],
    owner: dict[int, int],
    filters: Filters,
) -> Dashboard:
    for pid, row in projects.items():
        if filters.keeps(row) and owner[pid] in tenants:
            tenants[owner[pid]].projects.append(row)
    by_city: dict[str, list[TenantRow]] = defaultdict(list)
    names: dict[str, str] = {}
    for t in tenants.values():
        city = t.code if t.level in ("city", "province") else (t.parent_code or t.code)
        if t.level != "county":
            names[city] = t.name
        by_city[city].append(t)
    cities = []
    total = Totals()
    for code in sorted(by_city):
        if filters.city is not None and code != filters.city:
            continue
        members = [t for t in by_city[code] if t.projects or not filters.narrows_projects]
        if not members:
            continue
        sums = Totals()
        for t in members:
            sums.add(t, t.projects)
            total.add(t, t.projects)
        cities.append(CityGroup(code, names.get(code, code), members, sums))
    shown = {k: v for k, v in filters.__dict__.items() if v is not None}
    return Dashboard(program, root, cities, total, shown)


def stage_counts(totals: Totals) -> list[tuple[str, int]]:
    """The funnel: projects that reached each stage or beyond (已办结 last)."""
    order = [*(STAGE_NAMES[s] for s in STAGES), "已办结"]
    reached = Counter(totals.stages)
    found = []
    for n, name in enumerate(order):
        found.append((name, sum(reached[later] for later in order[n:])))
    return found
