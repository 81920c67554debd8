"""What the dashboard page draws beside the table (Flask-free): the four charts' data from a built
`Dashboard` (nothing queried again), and the cities a caller may filter by."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from jixiao.tenants.models import Tenant

from .dashboard import COLOURS, GRADES, CityGroup, Dashboard, stage_counts


def _number(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def time_progress(city: CityGroup) -> Decimal | None:
    """The average 序时进度 of the city's projects that have one (their latest round's)."""
    found = [p.time_progress for t in city.tenants for p in t.projects if p.time_progress is not None]
    if not found:
        return None
    return (sum(found, Decimal(0)) / len(found)).quantize(Decimal("0.01"))


def chart_data(found: Dashboard) -> dict[str, Any]:
    """阶段漏斗, 评价等级分布 (self vs key), 预算执行率与序时进度 per city, 各市预警数 (stacked)."""
    cities = [c.name for c in found.cities]
    return {
        "funnel": [{"name": name, "value": count} for name, count in stage_counts(found.totals)],
        "grades": {
            "labels": list(GRADES),
            "self": [found.totals.grades[g] for g in GRADES],
            "key": [found.totals.key_evaluation_grades[g] for g in GRADES],
        },
        "execution": {
            "cities": cities,
            "rate": [_number(c.totals.budget_execution_rate) for c in found.cities],
            "progress": [_number(time_progress(c)) for c in found.cities],
        },
        "warnings": {
            "cities": cities,
            **{colour: [c.totals.warnings[colour] for c in found.cities] for colour in COLOURS},
        },
    }


def cities_of(session: Session, root: Tenant) -> list[tuple[str, str]]:
    """(code, name) of the cities the caller may filter by: a province's cities, a city itself."""
    if root.level == "city":
        return [(root.code, root.name)]
    rows = session.execute(
        select(Tenant.code, Tenant.name)
        .where(Tenant.level == "city", Tenant.path.startswith(root.path + "/"))
        .order_by(Tenant.code)
    ).all()
    return [(code, name) for code, name in rows]
