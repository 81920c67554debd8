"""The self-evaluation's score (自评评分), DESIGN.md §6 "Evaluation": one pure function over Decimals.

* Budget execution: `budget_points` (*default* 10) × min(executed / budget, 1).
* Indicators: 90 points split by level 1 (*default* 产出 50, 效益 30, 满意度 10; 成本 lines count
  inside `cost_counts_in`, *default* 产出). A group with no lines gives its points to the others in
  proportion to their shares, so the indicator part always totals 90. Inside a group the points are
  shared among its lines in proportion to their weights (equally when every weight is zero).
* A quantitative line earns its points × completion, capped at 100 % (`completion`).
* A qualitative line earns its points × a rate inside its band: 达成 80–100 %, 部分达成 60–80 %,
  未达成 0–60 %; the reviewer may give the rate, otherwise the band's midpoint (*default* 90/70/30).
* Nothing is rounded until the end: the total is rounded half-up to 2 decimals, then graded
  优 ≥ 90, 良 80–<90, 中 60–<80, 差 < 60.

The monitoring rounds use the same `completion` (uncapped there: a line may run ahead of plan).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

ZERO, ONE, HUNDRED = Decimal(0), Decimal(1), Decimal(100)
CENT = Decimal("0.01")

# 达成 / 部分达成 / 未达成: the band of rates (percent) each allows
# The qualitative achievement (API vocabulary), as the pages show it.
ACHIEVEMENTS = {"achieved": "达成", "partly": "部分达成", "not_achieved": "未达成"}
BANDS: dict[str, tuple[Decimal, Decimal]] = {
    "achieved": (Decimal(80), Decimal(100)),
    "partly": (Decimal(60), Decimal(80)),
    "not_achieved": (Decimal(0), Decimal(60)),
}
GRADES: tuple[tuple[Decimal, str], ...] = ((Decimal(90), "优"), (Decimal(80), "良"), (Decimal(60), "中"))
DEFAULTS: dict[str, Any] = {
    "budget_points": 10,
    "indicator_points": {"产出": 50, "效益": 30, "满意度": 10},
    "cost_counts_in": "产出",
    "qualitative_midpoints": {"achieved": 90, "partly": 70, "not_achieved": 30},
}


class ScoringError(ValueError):
    """A line that cannot be scored as given (the caller names the line)."""


@dataclass(frozen=True)
class Line:
    """One target line as the self-evaluation scores it. `target` is the line's target value as
    written (`"90"`, or `"low,high"` for `range`); `actual` for quantitative lines, `achievement`
    (and optionally `rate`, percent) for qualitative ones."""

    key: Any
    level1: str  # 产出 / 成本 / 效益 / 满意度
    weight: Decimal
    value_type: str  # quantitative / qualitative
    direction: str = ">="
    target: str = ""
    actual: Decimal | None = None
    achievement: str | None = None
    rate: Decimal | None = None


@dataclass(frozen=True)
class LineScore:
    key: Any
    group: str  # the level-1 group whose points it shares (成本 lines: `cost_counts_in`)
    completion: Decimal | None  # quantitative: actual against target, capped at 1
    rate: Decimal  # the share of its points it earns (0–1)
    available: Decimal  # points available (分值)
    earned: Decimal  # points earned (得分), unrounded


@dataclass(frozen=True)
class Score:
    budget_rate: Decimal | None  # executed / budget, uncapped (None without a budget)
    budget_points: Decimal  # unrounded
    lines: tuple[LineScore, ...]
    groups: dict[str, Decimal]  # points available per group after redistribution
    total: Decimal  # rounded half-up to 2 decimals
    grade: str


def number(text: str | Decimal | int) -> Decimal:
    try:
        value = Decimal(str(text).strip().replace(",", ""))
    except InvalidOperation:
        raise ScoringError(f"「{text}」不是数字") from None
    if not value.is_finite():
        raise ScoringError(f"「{text}」不是有限的数字")
    return value


def completion(direction: str, target: str, actual: Decimal) -> Decimal:
    """How far `actual` meets `target`, direction-aware and uncapped (1 = met), never below 0:
    `>=` actual / target (a target of 0 is met by any actual ≥ 0); `<=` 1 when actual ≤ target,
    else target / actual; `=` 1 − |actual − target| / |target|; `range` 1 inside the bounds, else
    the nearer bound / actual above them or actual / bound below them."""
    if direction == "range":
        parts = [p for p in str(target).split(",") if p.strip()]
        if len(parts) != 2:
            raise ScoringError(f"区间指标的目标值须为「下限,上限」，而不是「{target}」")
        low, high = sorted((number(parts[0]), number(parts[1])))
        if low <= actual <= high:
            return ONE
        if actual > high:
            return _ratio(high, actual)
        return _ratio(actual, low)
    goal = number(target)
    if direction == ">=":
        if goal <= 0:
            return ONE if actual >= goal else ZERO
        return max(actual / goal, ZERO)
    if direction == "<=":
        if actual <= goal:
            return ONE
        return _ratio(goal, actual)
    if direction == "=":
        if goal == 0:
            return ONE if actual == 0 else ZERO
        return max(ONE - abs(actual - goal) / abs(goal), ZERO)
    raise ScoringError(f"未知的指标方向「{direction}」")


def _ratio(numerator: Decimal, denominator: Decimal) -> Decimal:
    if denominator <= 0:
        return ZERO
    return max(numerator / denominator, ZERO)


def qualitative_rate(achievement: str | None, rate: Decimal | None, midpoints: dict[str, Any]) -> Decimal:
    """The share (0–1) a qualitative line earns: the given rate (percent) inside its band, else the
    band's midpoint."""
    if achievement not in BANDS:
        raise ScoringError("定性指标须选择 达成、部分达成 或 未达成")
    low, high = BANDS[achievement]
    if rate is None:
        return number(midpoints[achievement]) / HUNDRED
    if not low <= rate <= high:
        raise ScoringError(f"得分率须在该档次的 {low}–{high}% 之间，而不是 {rate}%")
    return rate / HUNDRED


def group_points(lines: Sequence[Line], settings: dict[str, Any]) -> dict[str, Decimal]:
    """The indicator points of each level-1 group that has lines; the shares of empty groups go
    to the others in proportion to theirs (the total stays the same)."""
    shares = {name: number(points) for name, points in settings["indicator_points"].items()}
    present = {_group(line, settings) for line in lines}
    kept = {name: share for name, share in shares.items() if name in present}
    total, kept_total = sum(shares.values(), ZERO), sum(kept.values(), ZERO)
    if kept_total == 0:
        return {}
    return {name: share * total / kept_total for name, share in kept.items()}


def _group(line: Line, settings: dict[str, Any]) -> str:
    if line.level1 == "成本":
        return str(settings.get("cost_counts_in") or "产出")
    return line.level1


def score(
    lines: Sequence[Line],
    *,
    budget: Decimal | None,
    executed: Decimal | None,
    settings: dict[str, Any] | None = None,
    partial: bool = False,
) -> Score:
    """The self-evaluation's score from its lines and budget execution (see the module). With
    `partial` (a draft), a line not filled in yet (no actual, no achievement) earns nothing instead
    of being refused; its points stay available."""
    conf = {**DEFAULTS, **(settings or {})}
    budget_rate: Decimal | None = None
    budget_points = ZERO
    if budget is not None and budget > 0 and executed is not None:
        rate = executed / budget
        budget_rate, budget_points = rate, number(conf["budget_points"]) * min(max(rate, ZERO), ONE)
    groups = group_points(lines, conf)
    weights: dict[str, Decimal] = {}
    counts: dict[str, int] = {}
    for line in lines:
        name = _group(line, conf)
        weights[name] = weights.get(name, ZERO) + max(line.weight, ZERO)
        counts[name] = counts.get(name, 0) + 1
    scored = []
    for line in lines:
        name = _group(line, conf)
        share = max(line.weight, ZERO) / weights[name] if weights[name] > 0 else ONE / counts[name]
        available = groups.get(name, ZERO) * share
        done: Decimal | None = None
        if partial and not filled(line):
            scored.append(LineScore(line.key, name, None, ZERO, available, ZERO))
            continue
        if line.value_type == "qualitative":
            rate = qualitative_rate(line.achievement, line.rate, conf["qualitative_midpoints"])
        else:
            if line.actual is None:
                raise ScoringError("定量指标须填写实际完成值")
            done = min(completion(line.direction, line.target, line.actual), ONE)
            rate = done
        scored.append(LineScore(line.key, name, done, rate, available, available * rate))
    total = (budget_points + sum((s.earned for s in scored), ZERO)).quantize(CENT, rounding=ROUND_HALF_UP)
    return Score(budget_rate, budget_points, tuple(scored), groups, total, grade(total))


def filled(line: Line) -> bool:
    """Whether the line has what it is scored on: an actual (quantitative) or an achievement."""
    return line.achievement is not None if line.value_type == "qualitative" else line.actual is not None


def grade(total: Decimal) -> str:
    for floor, name in GRADES:
        if total >= floor:
            return name
    return "差"
