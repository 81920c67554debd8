"""The province dashboard (DESIGN.md §6, API.md `province/dashboard`): per participating tenant of a
program — grouped by city — each project's stage, overdue stages, the latest round's warnings and
forecast warnings, the self-evaluation's and the key evaluation's grades, budget execution against
time progress, open corrections and rectification items, and the pilot report's state; totals per
city and for the province; filters. A city sees its branch; a county never (403).

Aggregated in the database: a fixed set of statements whatever the number of tenants and projects
(one per kind of fact, each grouped or keyed by project) — no relationship is loaded lazily (column
selects only), so the count cannot grow with the data.

The walls, crossed on purpose (`_scoped`): the program is read through its own wall rule
(`Program.wall_read_criteria`; 404 when out of sight), and the fact statements carry `all_tenants`
and scope themselves to the participants in the caller's subtree — the very set the walls allow a
province or a city (`subtree_ids`), checked again against `actor.readable_tenant_ids` row by row.
The walls would add every readable tenant's id as a bound literal for every walled class to every
statement: at 3,000 tenants that alone took seconds a request (benchmarks/dashboard.py)."""

from __future__ import annotations

from .build import build, programs, stage_counts
from .rows import (
    CENT,
    COLOURS,
    GRADES,
    CityGroup,
    Dashboard,
    Filters,
    ProjectRow,
    TenantRow,
    Totals,
)

__all__ = [
    "CENT",
    "COLOURS",
    "GRADES",
    "CityGroup",
    "Dashboard",
    "Filters",
    "ProjectRow",
    "TenantRow",
    "Totals",
    "build",
    "programs",
    "stage_counts",
]
