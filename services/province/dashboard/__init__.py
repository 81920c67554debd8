"""The province dashboard (DESIGN.md §6, API.md `province/dashboard`): per participating tenant of a
program — grouped by city — each project's stage, overdue stages, the latest round's warnings and
forecast warnings, the self-evaluation's and the key evaluation's grades, budget execution against
time progress, open corrections and rectification items, and the pilot report's state; totals per
city and for the province; filters. A city sees its branch; a county never (403).

Aggregated in the database: two statements whatever the number of tenants and projects (`build`:
the program with the caller's tenant, then one row per project with every fact joined in by
project, the counts grouped in the database) — column selects only, no relationship loaded, so the
count cannot grow with the data (tests/api/test_province_dashboard_statements.py). At 3,000
counties × 2 projects that is 12 SQL statements for the API — 6 of them the row-level security's
`set_config` around each statement that crosses the walls — where one statement per kind of fact
(and each its two `set_config`) made 45.

The walls, crossed on purpose (`_scoped`): the program is read through its own wall rule
(`Program.wall_read_criteria`; 404 when out of sight), and the facts statement carries
`all_tenants` and scopes itself to the participants in the caller's subtree (`within`, the walls'
own spelling of a subtree), checked again against `actor.readable_tenant_ids` row by row. Through
the walls instead, each walled class of the statement would get the subtree's criteria again, and
row-level security its per-row policy: the statement took twice as long (benchmarks/dashboard.py).

The page and the API build and write the answer with the cyclic collector paused (`collector`):
tens of thousands of short-lived containers a request, which set it off ~130 times."""

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
