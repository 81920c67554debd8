"""目标值参考 (issue 15 item 3, DESIGN.md §4.6): what a project editor may learn from the approved
targets of other tenants while filling their own — and nothing more.

- `target_statistics`: for one library indicator, the distribution (count, median, quartiles, in
  the indicator's unit) of the approved target values (the version in force of each project) of
  projects of one class across the province, for the lines using it or an indicator derived from it;
- `starting_set`: for a project, the library indicators approved projects of its class used most
  (by how many projects), and the published 规范管理蓝本 of that class.

Sibling data never leaks. Only other tenants' projects count (the caller's own tenant — and the
project's — are left out, so that a county cannot subtract itself from an aggregate it is part of),
and a figure is shown only when it comes from at least *k* distinct tenants (`min_tenants`, the
program setting `suggestions.min_tenants`, *default* 5). Below *k* the answer is `available: false`
and every figure — the number of tenants and of values included — is null: "4 peers" and "no peer
at all" answer the same.

The crossing of the walls is ONE function, `_across_the_walls`, which opens the only system session
of this module (`SUGGESTION_CROSSING`, greppable: `system_session(`). What it runs returns numbers
only — a count, quartiles, the use counts of indicators the caller may read itself — never a name,
a tenant, a project id or a single tenant's value. The values are parsed and normalised as the
province's comparison does (`province.comparison.number`, `normalise`, `UNITS`). No Flask.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import distinct, func, or_, select
from sqlalchemy.orm import Session, aliased

from jixiao.platform.core.actor import Actor
from jixiao.platform.core.authz import authorize, policy
from jixiao.platform.core.errors import Forbidden
from jixiao.platform.core.runtime import current_runtime
from jixiao.services.indicators import library
from jixiao.services.indicators.models import BLUEPRINT_CATEGORY, Case, Indicator
from jixiao.services.indicators.service import get_indicator
from jixiao.services.programs.models import DEFAULT_SETTINGS
from jixiao.services.projects.models import Project
from jixiao.services.projects.service import get_project
from jixiao.services.province.comparison import UNITS, normalise, number

from .models import TargetLine, TargetSet

SUGGESTION_CROSSING = "target suggestions: aggregates over ≥ k tenants (DESIGN.md §4.6)"
DEFAULT_MIN_TENANTS: int = DEFAULT_SETTINGS["suggestions"]["min_tenants"]
STARTING_SET_SIZE = 30  # the most used indicators listed

T = TypeVar("T")


@policy("targets.suggestions", scope="projects:read")
def _may_see_suggestions(actor: Actor) -> None:
    """Any tenant user who may read projects (province, city, county); an evaluator never — it
    fills no targets and belongs to no tenant whose own values could be left out."""
    if actor.is_evaluator or actor.tenant_id is None:
        raise Forbidden("目标值参考供各地区填报绩效目标时查看，第三方机构不可查看")


@dataclass(frozen=True)
class Distribution:
    """The approved target values of other tenants' projects of one class, or nothing below k."""

    available: bool
    min_tenants: int
    unit: str
    tenants: int | None = None
    count: int | None = None
    median: Decimal | None = None
    p25: Decimal | None = None
    p75: Decimal | None = None


@dataclass(frozen=True)
class Suggested:
    indicator: Indicator
    uses: int  # approved projects of the class (other tenants) whose targets use it
    tenants: int  # … in that many distinct tenants (always ≥ k)


@dataclass
class StartingSet:
    project: Project
    min_tenants: int
    indicators: list[Suggested] = field(default_factory=list)
    cases: list[Case] = field(default_factory=list)


# --- the one crossing of the walls ------------------------------------------------------------


def _across_the_walls(compute: Callable[[Session], T]) -> T:
    """THE crossing (DESIGN.md §4.6): a system session that reads every tenant's approved targets,
    given to `_distributions_in` or `_usage_in` only, which return aggregates over ≥ k tenants (or
    nothing); plain numbers leave, never rows (no lazy load can reach past this function)."""
    session = current_runtime().db.system_session(SUGGESTION_CROSSING)
    try:
        return compute(session)
    finally:
        session.close()


def _in_force() -> Any:
    """The approved version in force of each project (as the province's comparison selects it)."""
    return (
        select(TargetSet.project_id, func.max(TargetSet.number).label("number"))
        .where(TargetSet.status == "approved")
        .group_by(TargetSet.project_id)
        .subquery()
    )


def _approved_lines(line_indicator: Any) -> Any:
    """TargetLine ⋈ its set in force ⋈ project ⋈ the line's indicator (`line_indicator`)."""
    in_force = _in_force()
    return (
        select()
        .select_from(TargetLine)
        .join(TargetSet, TargetSet.id == TargetLine.target_set_id)
        .join(
            in_force,
            (in_force.c.project_id == TargetSet.project_id) & (in_force.c.number == TargetSet.number),
        )
        .join(Project, Project.id == TargetSet.project_id)
        .join(line_indicator, line_indicator.id == TargetLine.indicator_id)
    )


def _distributions_in(
    session: Session,
    indicators: list[Indicator],
    project_class: str,
    excluded: frozenset[int],
    k: int,
) -> dict[int, Distribution]:
    """Each indicator's distribution (one statement for all): the lines using it or an indicator
    derived from it, in the indicator's unit — or `available: false`."""
    ids = [i.id for i in indicators]
    rows = session.execute(
        _approved_lines(Indicator)
        .add_columns(
            Indicator.id,
            Indicator.origin_id,
            Indicator.derived_from_id,
            Project.tenant_id,
            TargetLine.target_value,
            TargetLine.unit,
        )
        .where(
            or_(Indicator.id.in_(ids), Indicator.origin_id.in_(ids), Indicator.derived_from_id.in_(ids)),
            Project.project_class == project_class,
            Project.tenant_id.not_in(excluded),
        )
    ).all()
    return {
        indicator.id: _distribution(
            [
                (tenant, text, unit)
                for iid, origin, parent, tenant, text, unit in rows
                if indicator.id in (iid, origin, parent)
            ],
            indicator.unit or "",
            k,
        )
        for indicator in indicators
    }


def _distribution(rows: list[tuple[int, str, str]], unit: str, k: int) -> Distribution:
    """The aggregate of (tenant, target value, unit) rows in `unit`: values whose unit cannot be
    converted to it are left out, and so is a tenant none of whose values could be used."""
    unit = unit.strip()
    base, factor = UNITS.get(unit, (unit, Decimal(1)))
    values: list[Decimal] = []
    tenants: set[int] = set()
    for tenant_id, text, line_unit in rows:
        value, line_base = normalise(number(text), line_unit or unit)
        if value is None or line_base != base:
            continue
        values.append(value / factor)
        tenants.add(tenant_id)
    if len(tenants) < k:
        return Distribution(available=False, min_tenants=k, unit=unit)
    values.sort()
    return Distribution(
        available=True,
        min_tenants=k,
        unit=unit,
        tenants=len(tenants),
        count=len(values),
        median=_tidy(quantile(values, Decimal("0.5"))),
        p25=_tidy(quantile(values, Decimal("0.25"))),
        p75=_tidy(quantile(values, Decimal("0.75"))),
    )


def _usage_in(
    session: Session, actor: Actor, project_class: str, excluded: frozenset[int], k: int
) -> list[tuple[int, int, int]]:
    """(indicator id, projects, tenants) of the library indicators the approved projects of the
    class used — a derived indicator counts for its origin — that ≥ k tenants used and that the
    caller may read itself (its own walls, as a SQL condition): the most used first."""
    line_indicator = aliased(Indicator)
    root = func.coalesce(line_indicator.origin_id, line_indicator.id)
    readable = (
        select(Indicator.id)
        .where(Indicator.wall_read_criteria(actor), Indicator.status == "active")
        .correlate(None)
    )
    tenants = func.count(distinct(Project.tenant_id))
    uses = func.count(distinct(Project.id))
    rows = session.execute(
        _approved_lines(line_indicator)
        .add_columns(root.label("root"), uses.label("uses"), tenants.label("tenants"))
        .where(
            Project.project_class == project_class,
            Project.tenant_id.not_in(excluded),
            root.in_(readable),
        )
        .group_by(root)
        .having(tenants >= k)
        .order_by(uses.desc(), tenants.desc(), root)
        .limit(STARTING_SET_SIZE)
    ).all()
    return [(int(r), int(u), int(t)) for r, u, t in rows]


# --- statistics -----------------------------------------------------------------------------------


def quantile(values: list[Decimal], q: Decimal) -> Decimal:
    """The q-quantile of sorted `values` by linear interpolation between the closest ranks (the
    "inclusive" method: numpy's default, Excel's QUARTILE.INC)."""
    position = (len(values) - 1) * q
    low = int(position)
    fraction = position - low
    if not fraction or low + 1 >= len(values):
        return values[low]
    return values[low] + (values[low + 1] - values[low]) * fraction


def _tidy(value: Decimal) -> Decimal:
    """At most 4 decimals, no trailing zeros, never an exponent ("100.5", "98000")."""
    text = format(value.quantize(Decimal("0.0001")), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return Decimal(text)


def min_tenants(project: Project | None) -> int:
    """k: the program's `suggestions.min_tenants` for a project, else the default (5)."""
    if project is None:
        return DEFAULT_MIN_TENANTS
    found = (project.program.effective_settings.get("suggestions") or {}).get("min_tenants")
    return int(found) if isinstance(found, int) and found >= 2 else DEFAULT_MIN_TENANTS


def _excluded(actor: Actor, project: Project | None) -> frozenset[int]:
    """The caller's own tenant and the project's: never part of what they are shown."""
    own = {actor.tenant_id} | ({project.tenant_id} if project is not None else set())
    return frozenset(t for t in own if t is not None)


# --- the service ----------------------------------------------------------------------------------


def target_statistics(
    session: Session,
    actor: Actor,
    indicator_id: int,
    project_class: str,
    project_id: int | None = None,
) -> Distribution:
    """The distribution of other tenants' approved target values of the indicator (404 when the
    caller cannot see it) for projects of `project_class`; k from `project_id`'s program if given."""
    authorize(actor, "targets.suggestions")
    indicator = get_indicator(session, actor, indicator_id)
    project = get_project(session, actor, project_id) if project_id is not None else None
    k = min_tenants(project)
    excluded = _excluded(actor, project)
    found = _across_the_walls(lambda s: _distributions_in(s, [indicator], project_class, excluded, k))
    return found[indicator.id]


def line_statistics(
    session: Session, actor: Actor, project: Project, indicator_ids: list[int]
) -> dict[int, Distribution]:
    """The editor's: `target_statistics` of each library indicator of a project's lines that the
    caller may see (the others are left out), in one crossing."""
    authorize(actor, "targets.suggestions")
    authorize(actor, "indicators.read")
    wanted = sorted(set(indicator_ids))
    if not wanted:
        return {}
    indicators = list(session.execute(select(Indicator).where(Indicator.id.in_(wanted))).scalars())
    if not indicators:
        return {}
    k = min_tenants(project)
    excluded = _excluded(actor, project)
    return _across_the_walls(lambda s: _distributions_in(s, indicators, project.project_class, excluded, k))


def starting_set(session: Session, actor: Actor, project_id: int) -> StartingSet:
    """For a project: the indicators most used by approved projects of its class in other tenants
    (those used in ≥ k tenants, that the caller may read), and the 规范管理蓝本 of its class."""
    authorize(actor, "targets.suggestions")
    project = get_project(session, actor, project_id)
    k = min_tenants(project)
    excluded = _excluded(actor, project)
    usage = _across_the_walls(lambda s: _usage_in(s, actor, project.project_class, excluded, k))
    ids = [indicator_id for indicator_id, _, _ in usage]
    # read back in the caller's own session: the walls decide a second time
    seen = {i.id: i for i in session.execute(select(Indicator).where(Indicator.id.in_(ids))).scalars()}
    suggested = [
        Suggested(seen[indicator_id], uses, tenants)
        for indicator_id, uses, tenants in usage
        if indicator_id in seen
    ]
    cases = library.list_cases(
        session, actor, project_class=project.project_class, category=BLUEPRINT_CATEGORY, page_size=50
    ).items
    return StartingSet(project, k, suggested, list(cases))
