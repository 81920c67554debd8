"""The dashboard's statements — two, whatever the number of tenants and projects — and their
assembly into city groups and totals; see the package's docstring for the walls.

1. the program (through its own wall rule) and the caller's tenant, in one row;
2. every participating tenant under the caller, each with its pilot report and its projects in the
   program, each project with every fact the dashboard shows: one row per project (or per tenant
   without one), the facts joined in by project — the current stage's row, an approved 结果应用,
   the latest monitoring round with its lines counted by colour, the approved self-evaluation, the
   accepted key evaluation, open corrections and rectification items counted, the latest spot
   check with its finding's status. Aggregated in the database, in grouped subqueries scoped to the
   program's projects under the caller; Python only reads the rows in order and adds up totals."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import Row, Select, case, func, select
from sqlalchemy.orm import Session, aliased, join

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


def _rate(part: Decimal | None, whole: Decimal | None) -> Decimal | None:
    if part is None or not whole:
        return None
    return (Decimal(part) / Decimal(whole) * 100).quantize(CENT, ROUND_HALF_UP)


def _scoped(statement: Select[Any]) -> Select[Any]:
    """A statement that scopes itself to the caller's subtree (`_facts`): past the walls
    explicitly, since they would only repeat that scope for every walled class it reads. (The
    facts statement must be: the walls' criteria for an aliased class in its outer joins come out
    against the table's own name — invalid SQL, SQLAlchemy 2.1.)"""
    return statement.execution_options(all_tenants=True)


def _program_and_root(
    session: Session, actor: Actor, program_id: int, city_code: str | None
) -> tuple[Program, Tenant, Tenant | None]:
    """The program as its own wall lets the caller read it (that one class's rule, not every walled
    class's), without its participants (one row each: thousands in a big province); the caller's
    tenant and the filter's city (tenants are public data, never walled) in the same row. The
    service's look-up then finds the program in the session (held here: the identity map keeps
    weak references), or asks behind the walls and answers 404."""
    city = aliased(Tenant)
    source = join(Program, Tenant, Tenant.id == actor.tenant_id)
    entities: list[Any] = [Program, Tenant]
    if city_code is not None:
        source = source.outerjoin(city, city.code == city_code)
        entities.append(city)
    statement = (
        select(*entities)
        .select_from(source)
        .where(Program.id == program_id, Program.wall_read_criteria(actor))
    )
    seen = session.execute(_scoped(statement)).first()
    program = get_program(session, actor, program_id)
    assert seen is None or seen[0] is program
    root = seen[1] if seen is not None else None
    if root is None:  # not reached: the walls let nobody read a program its own rule hides
        root = session.get(Tenant, actor.tenant_id, execution_options={"all_tenants": True})
    assert root is not None
    return program, root, seen[2] if seen is not None and city_code is not None else None


def _facts(program: Program, root: Tenant, city: Tenant | None) -> Select[Any]:
    """Statement 2 (see the module's docstring): ordered by tenant code, then project id."""
    parent = aliased(Tenant)
    # a city filter narrows the statement to that city's subtree (a superset of what `_assemble`
    # keeps, which applies the filter exactly) — as a subtree, which the planner estimates from
    # the paths' statistics (an OR of two codes it takes for a row or two, and loops)
    narrower = [] if city is None else [within(Tenant.id, Tenant.path, city.id, city.path)]
    scope = (
        select(
            Tenant.id,
            Tenant.code,
            Tenant.name,
            Tenant.level,
            parent.code.label("parent_code"),
        )
        .join(
            ProgramTenant,
            (ProgramTenant.tenant_id == Tenant.id) & (ProgramTenant.program_id == program.id),
        )
        .outerjoin(parent, parent.id == Tenant.parent_id)
        .where(within(Tenant.id, Tenant.path, root.id, root.path), *narrower)
        .cte("scope")
    )
    projects = (
        select(
            Project.id,
            Project.tenant_id,
            Project.name,
            Project.stage,
            Project.status,
            Project.budget_amount,
        )
        .where(Project.program_id == program.id, Project.tenant_id.in_(select(scope.c.id)))
        .cte("scoped_projects")
    )
    in_scope = select(projects.c.id)
    # the latest round of each project (one per project and period)
    latest = (
        select(MonitoringRound.project_id, func.max(MonitoringRound.period).label("period"))
        .where(MonitoringRound.project_id.in_(in_scope))
        .group_by(MonitoringRound.project_id)
        .subquery("latest")
    )
    rounds = (
        select(
            MonitoringRound.id,
            MonitoringRound.project_id,
            MonitoringRound.period,
            MonitoringRound.budget_executed,
            MonitoringRound.execution_rate,
            MonitoringRound.time_progress,
        )
        .join(
            latest,
            (MonitoringRound.project_id == latest.c.project_id) & (MonitoringRound.period == latest.c.period),
        )
        .cte("latest_rounds")
    )
    # its lines counted by warning and by forecast warning
    colours = (
        select(
            MonitoringLine.round_id,
            *(
                func.sum(case((column == colour, 1), else_=0)).label(f"{prefix}_{colour}")
                for prefix, column in (("w", MonitoringLine.warning), ("f", MonitoringLine.forecast_warning))
                for colour in COLOURS
            ),
        )
        .where(MonitoringLine.round_id.in_(select(rounds.c.id)))
        .group_by(MonitoringLine.round_id)
        .subquery("colours")
    )

    def open_count(model: Any, name: str) -> Any:
        return (
            select(model.project_id, func.count().label("n"))
            .where(model.project_id.in_(in_scope), model.status != "closed")
            .group_by(model.project_id)
            .subquery(name)
        )

    corrections = open_count(Correction, "open_corrections")
    rectifications = open_count(RectificationItem, "open_rectifications")
    # the latest spot check of each project, and the finding it opened (its latest, if several)
    last_check = (
        select(SpotCheckItem.project_id, func.max(SpotCheckItem.id).label("id"))
        .where(SpotCheckItem.project_id.in_(in_scope))
        .group_by(SpotCheckItem.project_id)
        .cte("last_checks")
    )
    check = aliased(SpotCheckItem)
    findings = (
        select(Correction.spot_check_item_id, func.max(Correction.id).label("id"))
        .where(Correction.spot_check_item_id.in_(select(last_check.c.id)))
        .group_by(Correction.spot_check_item_id)
        .subquery("findings")
    )
    finding = aliased(Correction)
    current = aliased(ProjectStage)  # the row of the project's current stage
    applied = aliased(ProjectStage)  # its 结果应用 row, once approved (every stage done)
    return (
        select(
            scope.c.id,
            scope.c.code,
            scope.c.name,
            scope.c.level,
            scope.c.parent_code,
            PilotReport.id,
            PilotReport.status,
            PilotReport.submitted_version,
            projects.c.id,
            projects.c.name,
            projects.c.stage,
            projects.c.status,
            projects.c.budget_amount,
            current.status,
            applied.id,
            rounds.c.period,
            rounds.c.budget_executed,
            rounds.c.execution_rate,
            rounds.c.time_progress,
            *(colours.c[f"{p}_{colour}"] for p in ("w", "f") for colour in COLOURS),
            SelfEvaluation.id,
            SelfEvaluation.score,
            SelfEvaluation.grade,
            SelfEvaluation.budget_executed,
            KeyEvaluation.score,
            KeyEvaluation.grade,
            corrections.c.n,
            rectifications.c.n,
            check.status,
            finding.status,
        )
        .select_from(scope)
        .outerjoin(
            PilotReport, (PilotReport.program_id == program.id) & (PilotReport.tenant_id == scope.c.id)
        )
        .outerjoin(projects, projects.c.tenant_id == scope.c.id)
        .outerjoin(current, (current.project_id == projects.c.id) & (current.stage == projects.c.stage))
        .outerjoin(
            applied,
            (applied.project_id == projects.c.id)
            & (applied.stage == "result_application")
            & (applied.status == "approved"),
        )
        .outerjoin(rounds, rounds.c.project_id == projects.c.id)
        .outerjoin(colours, colours.c.round_id == rounds.c.id)
        .outerjoin(
            SelfEvaluation,
            (SelfEvaluation.project_id == projects.c.id) & (SelfEvaluation.status == "approved"),
        )
        .outerjoin(
            KeyEvaluation,
            (KeyEvaluation.project_id == projects.c.id) & (KeyEvaluation.status == "accepted"),
        )
        .outerjoin(corrections, corrections.c.project_id == projects.c.id)
        .outerjoin(rectifications, rectifications.c.project_id == projects.c.id)
        .outerjoin(last_check, last_check.c.project_id == projects.c.id)
        .outerjoin(check, check.id == last_check.c.id)
        .outerjoin(findings, findings.c.spot_check_item_id == check.id)
        .outerjoin(finding, finding.id == findings.c.id)
        .order_by(scope.c.code, projects.c.id)
    )


def build(session: Session, actor: Actor, program_id: int, filters: Filters, today: date) -> Dashboard:
    authorize(actor, "province.dashboard")
    filters.check()
    program, root, city = _program_and_root(session, actor, program_id, filters.city)
    deadlines = {k: date.fromisoformat(v) for k, v in (program.deadlines or {}).items()}
    readable = actor.readable_tenant_ids
    keeps = filters.keeps
    tenants: dict[int, TenantRow] = {}
    if filters.city is not None and city is None:  # no such tenant: nothing to show
        return _assemble(program, root, tenants, filters)
    for (
        tid,
        code,
        name,
        level,
        parent_code,
        report_id,
        report_status,
        report_version,
        pid,
        project_name,
        stage,
        status,
        budget,
        stage_status,
        applied,
        period,
        executed,
        rate,
        progress,
        w_green,
        w_yellow,
        w_red,
        f_green,
        f_yellow,
        f_red,
        evaluation,
        score,
        grade,
        evaluated,
        key_score,
        key_grade,
        open_corrections,
        open_rectifications,
        spot_check,
        finding,
    ) in session.execute(_scoped(_facts(program, root, city))).all():
        if tid not in readable:  # the walls' own answer, row by row
            continue
        tenant = tenants.get(tid)
        if tenant is None:
            tenant = tenants[tid] = TenantRow(
                tid, code, name, level, parent_code, [], report_id, report_status, report_version
            )
        if pid is None:
            continue
        due = deadlines.get(stage)
        overdue = (
            [stage]
            if status == "active"
            and stage_status is not None
            and stage_status not in ("approved", "closed")
            and due is not None
            and today > due
            else []
        )
        budget = Decimal(budget)
        if evaluation is not None and evaluated is not None:  # the approved self-evaluation's
            executed, rate = evaluated, _rate(evaluated, budget)
        row = ProjectRow(
            pid,
            project_name,
            stage,
            status,
            budget,
            overdue,
            {"green": int(w_green or 0), "yellow": int(w_yellow or 0), "red": int(w_red or 0)},
            {"green": int(f_green or 0), "yellow": int(f_yellow or 0), "red": int(f_red or 0)},
            period,
            executed,
            rate,
            progress,
            grade,
            score,
            key_grade,
            key_score,
            open_corrections or 0,
            open_rectifications or 0,
            "rectified" if spot_check == "rectify" and finding == "closed" else spot_check,
            applied is not None,
        )
        if keeps(row):
            tenant.projects.append(row)
    return _assemble(program, root, tenants, filters)


def _assemble(program: Program, root: Tenant, tenants: dict[int, TenantRow], filters: Filters) -> Dashboard:
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
