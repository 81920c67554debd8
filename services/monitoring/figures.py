"""A round's figures from what the editors report (no Flask, no database): per line the completion
against the planned stage value and its warning, the budget's execution rate against time progress
and its warning, the year-end forecast of each, and every problem of the input at once.

* Quantitative lines: `evaluation.scoring.completion(direction, planned, actual)`, uncapped.
* Qualitative lines: the band's midpoint (program setting `self_evaluation.qualitative_midpoints`,
  *default* 达成 90, 部分达成 70, 未达成 30) is their completion, and gives their warning.
* Forecast (预警): linear on time progress from this round (`rules.year_end_forecast`) — except
  lines measured in percent (a rate such as 满意度 is a level, not a running total: it is
  forecast to stay where it is) — and measured against the line's annual target value.
* Budget: execution rate = executed / the project's budget; its forecast is executed / time
  progress, whose rate at 31 December (time progress 100 %) gives the forecast warning.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from jixiao.services.evaluation import scoring
from jixiao.services.evaluation.scoring import ScoringError
from jixiao.services.targets.models import TargetLine

from . import rules
from .models import ACHIEVEMENTS, WARNING_NAMES

CENT = Decimal("0.01")
HUNDRED = Decimal(100)
LIMIT = Decimal(10) ** 18  # beyond any real figure; keeps a hostile one inside the columns
VALUE_LIMIT = Decimal(10) ** 15
PERCENT_UNITS = ("%", "％")


def percent(share: Decimal) -> Decimal:
    """A share (1 = 100 %) as a percent with 2 decimals, rounded half-up."""
    return bounded(share * HUNDRED)


def bounded(value: Decimal) -> Decimal:
    return max(min(value, LIMIT), -LIMIT).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass
class LineFigures:
    target_line: TargetLine
    position: int
    planned_value: str
    actual_value: str
    achievement: str | None
    text: str
    reason: str
    measure: str
    reason_category: str | None
    likelihood: str | None
    completion: Decimal | None = None  # percent
    warning: str = "green"
    forecast_value: Decimal | None = None
    forecast_completion: Decimal | None = None  # percent
    forecast_warning: str | None = None


@dataclass
class RoundFigures:
    budget_executed: Decimal
    budget_explanation: str
    budget_reason: str
    budget_measure: str
    execution_rate: Decimal  # percent
    time_progress: Decimal  # percent
    budget_warning: str
    forecast_executed: Decimal | None
    forecast_rate: Decimal | None
    forecast_warning: str | None
    lines: list[LineFigures] = field(default_factory=list)

    @property
    def has_red(self) -> bool:
        return self.budget_warning == "red" or any(line.warning == "red" for line in self.lines)


def _text(item: dict[str, Any], key: str) -> str:
    return str(item.get(key) or "").strip()


def _number(raw: str) -> Decimal:
    value = scoring.number(raw)
    if abs(value) >= VALUE_LIMIT:
        raise ScoringError(f"「{raw}」超出可填报的范围")
    return value


def _money(raw: Any, errors: dict[str, list[str]]) -> Decimal | None:
    if isinstance(raw, float) or raw is None or str(raw).strip() == "":
        errors["budget_executed"] = ['请填写预算执行数（元，字符串，如 "450000.00"）']
        return None
    try:
        value = Decimal(str(raw).strip().replace(",", ""))
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite():
        errors["budget_executed"] = [f"预算执行数「{raw}」不是金额（元，最多两位小数）"]
        return None
    if value < 0:
        errors["budget_executed"] = [f"预算执行数不能为负数（{raw}）"]
        return None
    if value != value.quantize(CENT) or value >= Decimal(10) ** 16:
        errors["budget_executed"] = [f"预算执行数「{raw}」须为最多 16 位整数、两位小数的金额"]
        return None
    return value.quantize(CENT)


def _line(
    n: int, line: TargetLine, item: dict[str, Any], conf: dict[str, Any], errors: dict[str, list[str]]
) -> LineFigures:
    found = LineFigures(
        target_line=line,
        position=line.position,
        planned_value=_text(item, "planned_value"),
        actual_value=_text(item, "actual_value"),
        achievement=item.get("achievement") or None,
        text=_text(item, "text"),
        reason=_text(item, "reason"),
        measure=_text(item, "measure"),
        reason_category=item.get("reason_category") or None,
        likelihood=item.get("likelihood") or None,
    )
    key, name = f"progress.{n}", line.name
    if line.value_type == "qualitative":
        if found.achievement not in ACHIEVEMENTS:
            errors.setdefault(f"{key}.achievement", []).append(
                f"「{name}」为定性指标，请选择完成情况（{'、'.join(ACHIEVEMENTS.values())}）"
            )
            return found
        midpoint = scoring.number(conf["qualitative_midpoints"][found.achievement])
        found.completion = bounded(midpoint)
        found.warning = rules.completion_warning(midpoint / HUNDRED, conf["monitoring"])
        return found
    planned = actual = None
    if not found.planned_value:
        errors.setdefault(f"{key}.planned_value", []).append(f"「{name}」：请填写计划阶段值")
    elif line.direction != "range":
        try:
            planned = _number(found.planned_value)
        except ScoringError:
            errors.setdefault(f"{key}.planned_value", []).append(
                f"「{name}」的计划阶段值「{found.planned_value}」不是数字"
            )
    if not found.actual_value:
        errors.setdefault(f"{key}.actual_value", []).append(f"「{name}」：请填写实际完成值")
    else:
        try:
            actual = _number(found.actual_value)
        except ScoringError:
            errors.setdefault(f"{key}.actual_value", []).append(
                f"「{name}」的实际完成值「{found.actual_value}」不是数字"
            )
    if actual is None or (planned is None and line.direction != "range") or not found.planned_value:
        return found
    try:
        share = scoring.completion(line.direction, found.planned_value, actual)
    except ScoringError as exc:
        errors.setdefault(f"{key}.planned_value", []).append(f"「{name}」的计划阶段值：{exc}")
        return found
    found.completion = percent(share)
    found.warning = rules.completion_warning(share, conf["monitoring"])
    progress = conf["_progress"]
    value = actual if line.unit.strip() in PERCENT_UNITS else rules.year_end_forecast(actual, progress)
    if value is not None:
        found.forecast_value = bounded(value)
        try:
            yearly = scoring.completion(line.direction, line.target_value, value)
        except ScoringError:
            return found  # an approved line always has a numeric target; nothing to forecast against
        found.forecast_completion = percent(yearly)
        found.forecast_warning = rules.completion_warning(yearly, conf["monitoring"])
    return found


def measure(
    lines: list[TargetLine],
    data: dict[str, Any],
    *,
    budget: Decimal,
    year: int,
    settings: dict[str, Any],
) -> RoundFigures:
    """The figures of a round reported against `lines` (the target version in force) at
    `data["as_of"]` of budget year `year`; ValidationFailed-ready errors in `.errors` on the
    exception `Problems`."""
    errors: dict[str, list[str]] = {}
    progress = rules.time_progress(data["as_of"], year)
    conf = {
        "monitoring": settings.get("monitoring") or {},
        "qualitative_midpoints": (settings.get("self_evaluation") or {}).get(
            "qualitative_midpoints", scoring.DEFAULTS["qualitative_midpoints"]
        ),
        "_progress": progress,
    }
    by_id = {line.id: line for line in lines}
    seen: dict[int, int] = {}
    measured: list[LineFigures] = []
    for n, item in enumerate(data.get("progress") or [], start=1):
        tid = item.get("target_indicator_id")
        line = by_id.get(tid) if isinstance(tid, int) else None
        if line is None:
            errors.setdefault(f"progress.{n}.target_indicator_id", []).append(
                f"第 {n} 行：目标指标 {tid} 不属于本轮监控所依据的绩效目标"
            )
            continue
        if line.id in seen:
            errors.setdefault(f"progress.{n}.target_indicator_id", []).append(
                f"第 {n} 行：指标「{line.name}」重复填报（第 {seen[line.id]} 行已填）"
            )
            continue
        seen[line.id] = n
        measured.append(_line(n, line, item, conf, errors))
    missing = [line.name for line in lines if line.id not in seen]
    if missing:
        errors.setdefault("progress", []).append(f"缺少以下指标的监控情况：{'、'.join(missing)}")
    for found in measured:
        if found.warning in ("yellow", "red"):
            message = (
                f"「{found.target_line.name}」为{WARNING_NAMES[found.warning]}预警"
                f"（完成率 {found.completion:.2f}%），须填写偏差原因和纠偏措施"
            )
            n = seen[found.target_line.id]
            for part in ("reason", "measure"):
                if not getattr(found, part):
                    errors.setdefault(f"progress.{n}.{part}", []).append(message)
    measured.sort(key=lambda f: f.position)

    executed = _money(data.get("budget_executed"), errors)
    explanation = _text(data, "budget_explanation")
    figures = RoundFigures(
        budget_executed=executed if executed is not None else Decimal(0),
        budget_explanation=explanation,
        budget_reason=_text(data, "budget_reason"),
        budget_measure=_text(data, "budget_measure"),
        execution_rate=Decimal(0),
        time_progress=percent(progress),
        budget_warning="green",
        forecast_executed=None,
        forecast_rate=None,
        forecast_warning=None,
        lines=measured,
    )
    if executed is not None:
        share = executed / budget
        figures.execution_rate = percent(share)
        figures.budget_warning = rules.budget_warning(share, progress, conf["monitoring"])
        if executed > budget and not explanation:
            errors.setdefault("budget_explanation", []).append(
                f"预算执行数 {executed:.2f} 元超过预算 {budget:.2f} 元，须说明原因"
            )
        if figures.budget_warning in ("yellow", "red"):
            message = (
                f"预算执行为{WARNING_NAMES[figures.budget_warning]}预警（执行率 {figures.execution_rate:.2f}%，"
                f"序时进度 {figures.time_progress:.2f}%），须填写偏差原因和纠偏措施"
            )
            for part in ("reason", "measure"):
                if not getattr(figures, f"budget_{part}"):
                    errors.setdefault(f"budget_{part}", []).append(message)
        forecast = rules.year_end_forecast(executed, progress)
        if forecast is not None:
            figures.forecast_executed = bounded(forecast)
            figures.forecast_rate = percent(forecast / budget)
            figures.forecast_warning = rules.budget_warning(forecast / budget, Decimal(1), conf["monitoring"])
    if errors:
        raise Problems(errors)
    return figures


class Problems(Exception):
    """Every problem of a reported round, by field (the service raises them as one 422)."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__(next(iter(errors.values()))[0])
        self.errors = errors
