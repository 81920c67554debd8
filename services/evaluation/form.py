"""The self-evaluation's form as the editors send it: parsed and checked against the target lines it
is measured on, every problem named at once (field, line and indicator), and what a submit still
misses (no Flask)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from jixiao.platform.core.errors import ValidationFailed
from jixiao.platform.core.schema import text_problem
from jixiao.services.indicators.models import LEVEL1_OF
from jixiao.services.projects.service import parse_money
from jixiao.services.targets.models import TargetLine

from . import scoring
from .models import ACHIEVEMENTS, TEXTS

ACTUAL_MAX = 100  # characters of a 完成值
MONEY_FIELDS = {"budget_executed": "预算执行数", "adjusted_budget": "调整后预算数"}


@dataclass
class LineInput:
    actual_value: str | None = None
    achievement: str | None = None
    rate: Decimal | None = None
    shortfall_reason: str = ""


@dataclass
class Parsed:
    budget_executed: Decimal | None = None
    adjusted_budget: Decimal | None = None
    texts: dict[str, str] = field(default_factory=dict)
    lines: dict[int, LineInput] = field(default_factory=dict)  # target line id → what was entered


def label(n: int, line: TargetLine) -> str:
    return f"第 {n} 行「{line.name}」"


def level1(line: TargetLine) -> str:
    return LEVEL1_OF.get(line.level2, "产出")


def _text(value: Any) -> str | None:
    """A value typed into a cell: text or a number (never a float's binary noise), stripped."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float, Decimal)):
        raise ValueError("须为文字或数字")
    text = repr(value) if isinstance(value, float) else str(value)
    return text.strip() or None


def parse(data: dict[str, Any], target_lines: list[TargetLine], version: int) -> Parsed:
    """The body of PUT / preview / submit → what it says; ValidationFailed-style errors collected in
    one dict (`errors`), raised by the caller."""
    errors: dict[str, list[str]] = {}
    parsed = Parsed()
    for name, title in MONEY_FIELDS.items():
        value = data.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        problems: dict[str, list[str]] = {}
        money = parse_money(value, name, problems)
        if problems:
            errors[name] = [f"{title}：{m}" for m in problems[name]]
        elif name == "adjusted_budget" and money is not None and money <= 0:
            errors[name] = [f"{title}须大于 0"]
        setattr(parsed, name, money)
    parsed.texts = {name: str(data.get(name) or "") for name in TEXTS}
    by_id = {line.id: (n, line) for n, line in enumerate(target_lines, start=1)}
    for item in data.get("lines") or []:
        raw_id = item.get("target_indicator_id")
        if raw_id not in by_id:
            errors.setdefault("lines", []).append(
                f"指标 {raw_id} 不在本项目据以自评的绩效目标（第 {version} 版）中"
            )
            continue
        if raw_id in parsed.lines:
            errors.setdefault("lines", []).append(f"{label(*by_id[raw_id])}填写了两次")
            continue
        n, line = by_id[raw_id]
        parsed.lines[raw_id] = _parse_line(item, n, line, errors)
    if errors:
        raise ValidationFailed(next(iter(errors.values()))[0], errors=errors)
    return parsed


def _parse_line(item: dict[str, Any], n: int, line: TargetLine, errors: dict[str, list[str]]) -> LineInput:
    where, key = label(n, line), f"lines.{n}"

    def problem(name: str, message: str) -> None:
        errors.setdefault(f"{key}.{name}", []).append(f"{where}：{message}")

    entered = LineInput(shortfall_reason=str(item.get("shortfall_reason") or ""))
    try:
        entered.actual_value = _text(item.get("actual_value"))
    except ValueError as exc:
        problem("actual_value", f"完成值{exc}")
    if entered.actual_value is not None:
        trouble = text_problem(entered.actual_value, multiline=False, limit=ACTUAL_MAX)
        if trouble:
            problem("actual_value", f"完成值{trouble}")
            entered.actual_value = None
    achievement, raw_rate = item.get("achievement"), item.get("rate")
    if line.value_type != "qualitative":
        if achievement is not None or raw_rate not in (None, ""):
            problem("achievement", "定量指标按实际完成值计分，不选择达成档次和得分率")
        if entered.actual_value is not None:
            try:
                actual = scoring.number(entered.actual_value)
                scoring.completion(line.direction, line.target_value, actual)
            except scoring.ScoringError as exc:
                problem("actual_value", f"定量指标的实际完成值须为数字：{exc}")
            except ArithmeticError:
                problem("actual_value", f"实际完成值「{entered.actual_value}」超出可计算的范围")
        return entered
    if achievement is not None and achievement not in ACHIEVEMENTS:
        problem("achievement", f"达成情况须为{'、'.join(ACHIEVEMENTS.values())}之一")
    else:
        entered.achievement = achievement
    if raw_rate is None or (isinstance(raw_rate, str) and not raw_rate.strip()):
        return entered
    try:
        rate = scoring.number(_text(raw_rate) or "")
    except (ValueError, scoring.ScoringError):
        problem("rate", f"得分率须为 0–100 之间的数，「{raw_rate}」无效")
        return entered
    if entered.achievement is None:
        problem("rate", "给出得分率时须同时选择达成情况")
        return entered
    low, high = scoring.BANDS[entered.achievement]
    if not low <= rate <= high:
        problem(
            "rate",
            f"{ACHIEVEMENTS[entered.achievement]}的得分率须在 {low}–{high}% 之间，而不是 {rate}%",
        )
        return entered
    entered.rate = rate.quantize(Decimal("0.01"))
    return entered


def missing(target_lines: list[TargetLine], entered: dict[int, LineInput]) -> list[tuple[int, TargetLine]]:
    """The lines not filled in yet: no actual (quantitative) or no achievement (qualitative)."""
    result = []
    for n, line in enumerate(target_lines, start=1):
        got = entered.get(line.id)
        if line.value_type == "qualitative":
            empty = got is None or got.achievement is None
        else:
            empty = got is None or got.actual_value is None
        if empty:
            result.append((n, line))
    return result


def submit_problems(
    target_lines: list[TargetLine],
    entered: dict[int, LineInput],
    *,
    budget_executed: Decimal | None,
    budget: Decimal,
    texts: dict[str, str],
) -> dict[str, list[str]]:
    """What a submit still misses, every item at once."""
    errors: dict[str, list[str]] = {}
    if budget_executed is None:
        errors["budget_executed"] = ["请填写预算执行数"]
    elif budget_executed > budget and not texts.get("budget_reason", "").strip():
        errors["budget_reason"] = [
            f"预算执行数（{budget_executed}）超过预算数（{budget}），请在「原因」中说明"
        ]
    if not texts.get("summary", "").strip():
        errors["summary"] = ["请填写年度目标完成情况"]
    for n, line in missing(target_lines, entered):
        what = "达成情况" if line.value_type == "qualitative" else "实际完成值"
        name = "achievement" if line.value_type == "qualitative" else "actual_value"
        errors[f"lines.{n}.{name}"] = [f"{label(n, line)}：请填写{what}"]
    return errors
