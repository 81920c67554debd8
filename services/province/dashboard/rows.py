"""The dashboard's rows, totals and filters (what `build` fills and the API, the page and the Excel
export read), and who may see it."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from jixiao.platform.core.actor import Actor
from jixiao.platform.core.authz import policy
from jixiao.platform.core.errors import Forbidden, ValidationFailed
from jixiao.services.programs.models import STAGE_NAMES, STAGES, Program
from jixiao.services.reports.models import STATUS_NAMES as REPORT_STATUS_NAMES
from jixiao.tenants.models import Tenant

GRADES = ("优", "良", "中", "差")
COLOURS = ("green", "yellow", "red")
CENT = Decimal("0.01")


@policy("province.dashboard", scope="projects:read")
def _may_see(actor: Actor) -> None:
    """The province (every participant) and a city (its branch); a county or an evaluator never."""
    if actor.is_evaluator or actor.tenant_level not in ("province", "city"):
        raise Forbidden("汇总看板供省级和市级查看（县区请查看本地区的项目）")


@dataclass(slots=True)  # thousands a request: no __dict__ each
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
    spot_check: str | None = None  # the latest spot check's result (pending/pass/rectify/rectified)

    @property
    def stage_name(self) -> str:
        return (
            "已办结" if self.status == "active" and self.complete else STAGE_NAMES.get(self.stage, self.stage)
        )

    complete: bool = False


@dataclass(slots=True)
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
    spot_checks: dict[str, int] = field(default_factory=dict)  # latest result → projects

    @property
    def budget_execution_rate(self) -> Decimal | None:
        return (
            (self.budget_executed / self.budget * 100).quantize(CENT, ROUND_HALF_UP) if self.budget else None
        )

    def add(self, tenant: TenantRow, projects: list[ProjectRow]) -> None:
        self.tenants += 1
        key = tenant.report_status or "none"
        self.reports[key] = self.reports.get(key, 0) + 1
        # (thousands of projects a request: the totals' parts as locals, added in the same order)
        stages, warnings, forecasts = self.stages, self.warnings, self.forecast_warnings
        grades, key_grades, spot_checks = self.grades, self.key_evaluation_grades, self.spot_checks
        budget, executed = self.budget, self.budget_executed
        overdue = corrections = rectifications = 0
        for p in projects:
            stage = p.stage_name
            stages[stage] = stages.get(stage, 0) + 1
            if p.overdue:
                overdue += 1
            for colour, count in p.warnings.items():
                warnings[colour] += count
            for colour, count in p.forecast_warnings.items():
                forecasts[colour] += count
            if p.grade:
                grades[p.grade] += 1
            if p.key_evaluation_grade:
                key_grades[p.key_evaluation_grade] += 1
            budget += p.budget
            executed += p.budget_executed or 0
            corrections += p.open_corrections
            rectifications += p.open_rectifications
            if p.spot_check:
                spot_checks[p.spot_check] = spot_checks.get(p.spot_check, 0) + 1
        self.projects += len(projects)
        self.overdue += overdue
        self.budget, self.budget_executed = budget, executed
        self.open_corrections += corrections
        self.open_rectifications += rectifications

    def merge(self, other: Totals) -> None:
        """Another view's totals added in (a city's into the province's): the same sums, and the
        same order of keys, as adding its tenants one by one."""
        self.tenants += other.tenants
        self.projects += other.projects
        self.overdue += other.overdue
        for mine, theirs in (
            (self.stages, other.stages),
            (self.warnings, other.warnings),
            (self.forecast_warnings, other.forecast_warnings),
            (self.grades, other.grades),
            (self.key_evaluation_grades, other.key_evaluation_grades),
            (self.reports, other.reports),
            (self.spot_checks, other.spot_checks),
        ):
            for key, count in theirs.items():
                mine[key] = mine.get(key, 0) + count
        self.budget += other.budget
        self.budget_executed += other.budget_executed
        self.open_corrections += other.open_corrections
        self.open_rectifications += other.open_rectifications


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
