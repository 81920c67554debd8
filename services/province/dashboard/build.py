"""The dashboard's statements (a fixed set whatever the number of tenants and projects) and their
assembly into city groups and totals; see the package's docstring for the walls."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, case, func, or_, select
from sqlalchemy.orm import Session, aliased, lazyload

from jixiao.platform.core.actor import Actor
from jixiao.platform.core.authz import authorize
from jixiao.platform.core.pagination import MAX_PAGE_SIZE
from jixiao.platform.core.tenancy import within
from jixiao.services.evaluation.key.models import KeyEvaluation
from jixiao.services.evaluation.models import SelfEvaluation
from jixiao.services.monitoring.models import Correction, MonitoringLine, MonitoringRound
from jixiao.services.programs.models import STAGE_NAMES, STAGES, Program, ProgramTenant
from jixiao.services.programs.service import get_program
from jixiao.services.projects.models import Project, ProjectStage
from jixiao.services.reports.models import PilotReport
from jixiao.services.results.models import RectificationItem
from jixiao.services.spotchecks.models import SpotCheckItem
from jixiao.tenants.models import Tenant

from .rows import (
    CENT,
    COLOURS,
    CityGroup,
    Dashboard,
    Filters,
    ProjectRow,
    TenantRow,
    Totals,
)

# --- the statements -------------------------------------------------------------------------------


def _in_scope(program_id: int, tenant_ids: Select[Any]) -> ColumnElement[bool]:
    return (Project.program_id == program_id) & Project.tenant_id.in_(tenant_ids)


def _rate(part: Decimal | None, whole: Decimal | None) -> Decimal | None:
    if part is None or not whole:
        return None
    return (Decimal(part) / Decimal(whole) * 100).quantize(CENT, ROUND_HALF_UP)


def _scoped(statement: Select[Any]) -> Select[Any]:
    """A fact statement that scopes itself to the caller's subtree (`_in_scope`, `tenant_ids`): past
    the walls explicitly, since they would only repeat that scope as thousands of bound ids."""
    return statement.execution_options(all_tenants=True)


def build(session: Session, actor: Actor, program_id: int, filters: Filters, today: date) -> Dashboard:
    authorize(actor, "province.dashboard")
    filters.check()
    # the program as its own wall lets the caller read it (that one class's rule, not every walled
    # class's), without its participants (one row each: thousands in a big province); the service's
    # look-up then finds it in the session (held here: the identity map keeps weak references), or
    # asks behind the walls and answers 404
    seen = session.execute(
        select(Program)
        .where(Program.id == program_id, Program.wall_read_criteria(actor))
        .options(lazyload(Program.participants))
        .execution_options(all_tenants=True)
    ).scalar_one_or_none()
    program = get_program(session, actor, program_id)
    assert seen is None or seen is program
    # the tenants are public data, never walled: the option only spares the walls' work
    root = session.get(Tenant, actor.tenant_id, execution_options={"all_tenants": True})
    assert root is not None
    parent = aliased(Tenant)
    subtree = within(Tenant.id, Tenant.path, root.id, root.path)
    # a city filter narrows the statements to that city and its counties (a superset of what
    # `_assemble` keeps, which applies the filter exactly)
    city = [or_(Tenant.code == filters.city, parent.code == filters.city)] if filters.city else []
    tenant_ids = (
        select(Tenant.id)
        .join(ProgramTenant, ProgramTenant.tenant_id == Tenant.id)
        .outerjoin(parent, parent.id == Tenant.parent_id)
        .where(ProgramTenant.program_id == program.id, subtree, *city)
    )
    # 1. the participating tenants under the caller, with their parents' codes
    readable = actor.readable_tenant_ids
    tenants = {
        tid: TenantRow(tid, code, name, level, parent_code)
        for tid, code, name, level, parent_code in session.execute(
            _scoped(
                select(Tenant.id, Tenant.code, Tenant.name, Tenant.level, parent.code)
                .join(ProgramTenant, ProgramTenant.tenant_id == Tenant.id)
                .outerjoin(parent, parent.id == Tenant.parent_id)
                .where(ProgramTenant.program_id == program.id, subtree, *city)
                .order_by(Tenant.code)
            )
        ).all()
        if tid in readable
    }
    scope = _in_scope(program.id, tenant_ids)
    # 2. the projects (columns only: nothing lazy)
    projects: dict[int, ProjectRow] = {}
    owner: dict[int, int] = {}
    for pid, tid, name, stage, status, budget in session.execute(
        _scoped(
            select(
                Project.id,
                Project.tenant_id,
                Project.name,
                Project.stage,
                Project.status,
                Project.budget_amount,
            )
            .where(scope)
            .order_by(Project.id)
        )
    ).all():
        if tid in tenants:
            projects[pid] = ProjectRow(pid, name, stage, status, Decimal(budget))
            owner[pid] = tid
    # 3. stage rows: overdue stages (the current one past its deadline, not approved) and completion
    # — only the rows these can come from: each project's current stage, and an approved 结果应用
    deadlines = {k: date.fromisoformat(v) for k, v in (program.deadlines or {}).items()}
    for pid, stage, status in session.execute(
        _scoped(
            select(ProjectStage.project_id, ProjectStage.stage, ProjectStage.status)
            .join(Project, Project.id == ProjectStage.project_id)
            .where(
                scope,
                or_(
                    ProjectStage.stage == Project.stage,
                    (ProjectStage.stage == "result_application") & (ProjectStage.status == "approved"),
                ),
            )
        )
    ).all():
        if pid not in projects:
            continue
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
        _scoped(
            select(
                MonitoringRound.project_id,
                MonitoringRound.period,
                MonitoringRound.budget_executed,
                MonitoringRound.execution_rate,
                MonitoringRound.time_progress,
            ).join(latest, on_latest)
        )
    ).all():
        if pid not in projects:
            continue
        row = projects[pid]
        row.latest_period, row.budget_executed = period, executed
        row.budget_execution_rate, row.time_progress = rate, progress
    # 5. the latest round's lines counted by warning and by forecast warning (a row per project)
    counts = [
        func.sum(case((column == colour, 1), else_=0))
        for column in (MonitoringLine.warning, MonitoringLine.forecast_warning)
        for colour in COLOURS
    ]
    for pid, *found in session.execute(
        _scoped(
            select(MonitoringRound.project_id, *counts)
            .join(MonitoringLine, MonitoringLine.round_id == MonitoringRound.id)
            .join(latest, on_latest)
            .group_by(MonitoringRound.project_id)
        )
    ).all():
        if pid not in projects:
            continue
        row = projects[pid]
        for n, colour in enumerate(COLOURS):
            row.warnings[colour] += int(found[n] or 0)
            row.forecast_warnings[colour] += int(found[len(COLOURS) + n] or 0)
    # 6. the self-evaluations (the approved one's grade; its execution replaces the round's)
    for pid, status, score, grade, executed in session.execute(
        _scoped(
            select(
                SelfEvaluation.project_id,
                SelfEvaluation.status,
                SelfEvaluation.score,
                SelfEvaluation.grade,
                SelfEvaluation.budget_executed,
            )
            .join(Project, Project.id == SelfEvaluation.project_id)
            .where(scope)
        )
    ).all():
        if status == "approved" and pid in projects:
            row = projects[pid]
            row.grade, row.score = grade, score
            if executed is not None:
                row.budget_executed = executed
                row.budget_execution_rate = _rate(executed, row.budget)
    # 7. the key evaluations (the accepted one's grade)
    for pid, status, score, grade in session.execute(
        _scoped(
            select(KeyEvaluation.project_id, KeyEvaluation.status, KeyEvaluation.score, KeyEvaluation.grade)
            .join(Project, Project.id == KeyEvaluation.project_id)
            .where(scope)
        )
    ).all():
        if status == "accepted" and pid in projects:
            projects[pid].key_evaluation_grade, projects[pid].key_evaluation_score = grade, score
    # 8.–9. open corrections and rectification items, counted per project
    for model, attr in ((Correction, "open_corrections"), (RectificationItem, "open_rectifications")):
        for pid, count in session.execute(
            _scoped(
                select(model.project_id, func.count())
                .join(Project, Project.id == model.project_id)
                .where(scope, model.status != "closed")
                .group_by(model.project_id)
            )
        ).all():
            if pid in projects:
                setattr(projects[pid], attr, count)
    # 10. the latest spot check of each project (抽查: its result, 整改完成 once its finding closed)
    for pid, status, finding in session.execute(
        _scoped(
            select(SpotCheckItem.project_id, SpotCheckItem.status, Correction.status)
            .join(Project, Project.id == SpotCheckItem.project_id)
            .outerjoin(Correction, Correction.spot_check_item_id == SpotCheckItem.id)
            .where(scope)
            .order_by(SpotCheckItem.id)
        )
    ).all():
        if pid in projects:
            projects[pid].spot_check = "rectified" if status == "rectify" and finding == "closed" else status
    # 11. the pilot reports
    for tid, rid, status, version in session.execute(
        _scoped(
            select(
                PilotReport.tenant_id, PilotReport.id, PilotReport.status, PilotReport.submitted_version
            ).where(PilotReport.program_id == program.id, PilotReport.tenant_id.in_(tenant_ids))
        )
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
        total.merge(sums)
        cities.append(CityGroup(code, names.get(code, code), members, sums))
    shown = {k: v for k, v in filters.__dict__.items() if v is not None}
    return Dashboard(program, root, cities, total, shown)


def programs(session: Session, actor: Actor) -> list[Row[Any]]:
    """The page's program picker (id, name), newest first: what `list_programs` lists, without
    loading every participant of every program (thousands in a big province), and read through
    the program's own wall (`Program.wall_read_criteria`, explicitly) rather than every walled
    class's criteria built for a statement that touches one."""
    authorize(actor, "programs.read")
    found = (
        select(Program.id, Program.name)
        .where(Program.wall_read_criteria(actor))
        .order_by(Program.start.desc(), Program.id.desc())
        .limit(MAX_PAGE_SIZE)
        .execution_options(all_tenants=True)
    )
    return list(session.execute(found).all())


def stage_counts(totals: Totals) -> list[tuple[str, int]]:
    """The funnel: projects that reached each stage or beyond (已办结 last)."""
    order = [*(STAGE_NAMES[s] for s in STAGES), "已办结"]
    reached = Counter(totals.stages)
    found = []
    for n, name in enumerate(order):
        found.append((name, sum(reached[later] for later in order[n:])))
    return found
