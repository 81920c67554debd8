"""横向可对比 (issue 15 item 2): one library indicator's targets side by side across tenants — every
visible project whose approved targets (the version in force) use it or an indicator derived from
it, with the target value, the unit, the latest actual value and completion — values normalised
where the units allow, and statistical outliers flagged (modified z-score on the median absolute
deviation, Iglewicz & Hoaglin; |z| > 3.5 by *default*). The province sees every tenant, a city its
branch (the walls), a county none (403). No Flask."""

from __future__ import annotations

import re
import statistics
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import func, or_, select, true
from sqlalchemy.orm import Session

from jixiao.platform.core.actor import Actor
from jixiao.platform.core.authz import authorize, policy
from jixiao.platform.core.errors import Forbidden
from jixiao.services.indicators.models import Indicator
from jixiao.services.indicators.service import get_indicator
from jixiao.services.monitoring.models import MonitoringLine, MonitoringRound
from jixiao.services.projects.models import Project
from jixiao.services.targets.models import TargetLine, TargetSet
from jixiao.tenants.models import Tenant

DEFAULT_THRESHOLD = Decimal("3.5")
METHOD = "modified_z_score_mad"
# unit → (the unit values are compared in, the factor to it). Units not listed are compared only
# with the same unit, raw.
UNITS: dict[str, tuple[str, Decimal]] = {
    "元": ("元", Decimal(1)),
    "万元": ("元", Decimal(10_000)),
    "亿元": ("元", Decimal(100_000_000)),
    "个": ("个", Decimal(1)),
    "万个": ("个", Decimal(10_000)),
    "%": ("%", Decimal(1)),
    "％": ("%", Decimal(1)),
    "天": ("天", Decimal(1)),
    "日": ("天", Decimal(1)),
    "月": ("天", Decimal(30)),
    "个月": ("天", Decimal(30)),
    "年": ("天", Decimal(365)),
}
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


@policy("province.comparison", scope="projects:read")
def _may_compare(actor: Actor) -> None:
    """The province (every tenant) and a city (its branch); a county or an evaluator never."""
    if actor.is_evaluator or actor.tenant_level not in ("province", "city"):
        raise Forbidden("横向对比供省级和市级查看")


def number(text: str | None) -> Decimal | None:
    """The first number of a target or actual value ("≥ 90", "12", "80,100" → 80)."""
    found = _NUMBER.search((text or "").replace(",", " ").replace("，", " "))
    if found is None:
        return None
    try:
        return Decimal(found.group())
    except InvalidOperation:
        return None


def normalise(value: Decimal | None, unit: str) -> tuple[Decimal | None, str]:
    base, factor = UNITS.get(unit.strip(), (unit.strip(), Decimal(1)))
    return (None if value is None else value * factor), base


@dataclass
class Item:
    tenant_code: str
    tenant_name: str
    project_id: int
    project_name: str
    program_id: int
    indicator_id: int
    indicator_code: str
    derived: bool  # the project used an indicator derived from this one
    target_value: str
    unit: str
    direction: str
    normalised_value: Decimal | None
    normalised_unit: str
    actual_value: str | None = None
    completion: Decimal | None = None
    z: Decimal | None = None
    outlier: bool = False


@dataclass
class Comparison:
    indicator: Indicator
    items: list[Item]
    method: dict[str, Any]


def modified_z(values: list[Decimal]) -> tuple[list[Decimal | None], Decimal | None, Decimal | None]:
    """The modified z-scores (0.6745 (x − median) / MAD) of `values`, the median and the MAD; when
    the MAD is 0 the mean absolute deviation stands in (× 1.253314, the usual correction), and when
    that is 0 too every value is the median: no score."""
    if len(values) < 3:
        return [None] * len(values), (statistics.median(values) if values else None), None
    median = statistics.median(values)
    deviations = [abs(v - median) for v in values]
    mad = statistics.median(deviations)
    if mad:
        return [Decimal("0.6745") * (v - median) / mad for v in values], median, mad
    mean_ad = sum(deviations, Decimal(0)) / len(deviations)
    if not mean_ad:
        return [Decimal(0)] * len(values), median, Decimal(0)
    return [(v - median) / (Decimal("1.253314") * mean_ad) for v in values], median, Decimal(0)


def compare(
    session: Session,
    actor: Actor,
    indicator_id: int,
    *,
    threshold: Decimal = DEFAULT_THRESHOLD,
    program_id: int | None = None,
) -> Comparison:
    authorize(actor, "province.comparison")
    indicator = get_indicator(session, actor, indicator_id)
    # the approved version in force of each visible project
    in_force = (
        select(TargetSet.project_id, func.max(TargetSet.number).label("number"))
        .where(TargetSet.status == "approved")
        .group_by(TargetSet.project_id)
        .subquery()
    )
    used = or_(
        Indicator.id == indicator.id,
        Indicator.origin_id == indicator.id,
        Indicator.derived_from_id == indicator.id,
    )
    rows = session.execute(
        select(
            TargetLine,
            Project.id,
            Project.name,
            Project.program_id,
            Tenant.code,
            Tenant.name,
            Indicator.id,
            Indicator.code,
        )
        .join(TargetSet, TargetSet.id == TargetLine.target_set_id)
        .join(
            in_force,
            (in_force.c.project_id == TargetSet.project_id) & (in_force.c.number == TargetSet.number),
        )
        .join(Project, Project.id == TargetSet.project_id)
        .join(Tenant, Tenant.id == Project.tenant_id)
        .join(Indicator, Indicator.id == TargetLine.indicator_id)
        .where(used, true() if program_id is None else Project.program_id == program_id)
        .order_by(Tenant.code, Project.id)
    ).all()
    items: list[Item] = []
    line_ids = []
    for line, pid, pname, program_id, code, tname, iid, icode in rows:
        value, base = normalise(number(line.target_value), line.unit or indicator.unit)
        items.append(
            Item(
                code,
                tname,
                pid,
                pname,
                program_id,
                iid,
                icode,
                iid != indicator.id,
                line.target_value,
                line.unit,
                line.direction,
                value,
                base,
            )
        )
        line_ids.append(line.id)
    # the latest monitoring line of each target line (one statement)
    if line_ids:
        latest = (
            select(MonitoringLine.target_line_id, func.max(MonitoringRound.period).label("period"))
            .join(MonitoringRound, MonitoringRound.id == MonitoringLine.round_id)
            .where(MonitoringLine.target_line_id.in_(line_ids))
            .group_by(MonitoringLine.target_line_id)
            .subquery()
        )
        actual = {
            tid: (value, completion)
            for tid, value, completion in session.execute(
                select(MonitoringLine.target_line_id, MonitoringLine.actual_value, MonitoringLine.completion)
                .join(MonitoringRound, MonitoringRound.id == MonitoringLine.round_id)
                .join(
                    latest,
                    (latest.c.target_line_id == MonitoringLine.target_line_id)
                    & (latest.c.period == MonitoringRound.period),
                )
            ).all()
        }
        for item, line_id in zip(items, line_ids, strict=True):
            if line_id in actual:
                item.actual_value, item.completion = actual[line_id]
    # outliers within the unit most items share (the others are shown raw)
    units = Counter(i.normalised_unit for i in items if i.normalised_value is not None)
    unit = units.most_common(1)[0][0] if units else None
    scored = [i for i in items if i.normalised_value is not None and i.normalised_unit == unit]
    scores, median, mad = modified_z([i.normalised_value for i in scored])  # type: ignore[misc]
    for item, z in zip(scored, scores, strict=True):
        if z is not None:
            item.z = z.quantize(Decimal("0.01"))
            item.outlier = abs(z) > threshold
    return Comparison(
        indicator,
        items,
        {
            "name": METHOD,
            "description": "修正 Z 分数（中位数绝对偏差）：|0.6745 ×（值 − 中位数）/ MAD| 超过阈值为异常值",
            "threshold": threshold,
            "unit": unit,
            "median": median,
            "mad": mad,
            "count": len(scored),
        },
    )
