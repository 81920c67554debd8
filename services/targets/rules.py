"""Quality rules of performance targets, as data (DESIGN.md §6): one registry, each rule with a
code and a Chinese message, run on submit; every violation is returned at once, naming its line.
`GET /api/v1/target-rules` shows them, so a province can see (and later configure) them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from jixiao.services.indicators.models import LEVEL1_OF
from jixiao.services.indicators.rules import number, range_bounds
from jixiao.services.projects.models import COST_REQUIRED_CLASSES


@dataclass(frozen=True)
class Violation:
    rule: str
    message: str
    line: int | None = None  # 1-based position of the line, None for the whole set
    indicator: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "message": self.message, "line": self.line, "indicator": self.indicator}


@dataclass(frozen=True)
class Context:
    """What the rules look at: the set's lines and goals, the project, the program's settings."""

    lines: list[Any]
    overall_goal: str
    midterm_goal: str
    project_class: str
    serves_public: bool
    multi_year: bool
    weights_total: Decimal
    retired_indicator_ids: frozenset[int]


@dataclass(frozen=True)
class Rule:
    code: str
    title: str
    check: Callable[[Context], Iterator[Violation]]


def _level1s(ctx: Context) -> set[str]:
    return {LEVEL1_OF.get(line.level2, "") for line in ctx.lines}


def _goal(ctx: Context) -> Iterator[Violation]:
    if not ctx.overall_goal.strip():
        yield Violation("T01", "请填写年度总体目标")
    if ctx.multi_year and not ctx.midterm_goal.strip():
        yield Violation("T01", "跨年度项目须填写中长期总体目标")


def _output(ctx: Context) -> Iterator[Violation]:
    if "产出" not in _level1s(ctx):
        yield Violation("T02", "至少设置一个产出指标")


def _benefit(ctx: Context) -> Iterator[Violation]:
    if "效益" not in _level1s(ctx):
        yield Violation("T03", "至少设置一个效益指标")


def _satisfaction(ctx: Context) -> Iterator[Violation]:
    if ctx.serves_public and "满意度" not in _level1s(ctx):
        yield Violation("T04", "项目面向社会公众，须设置满意度指标")


def _cost(ctx: Context) -> Iterator[Violation]:
    if ctx.project_class in COST_REQUIRED_CLASSES and "成本" not in _level1s(ctx):
        yield Violation("T05", f"{ctx.project_class}类项目须设置成本指标")


def _values(ctx: Context) -> Iterator[Violation]:
    for n, line in enumerate(ctx.lines, start=1):
        if not line.level2:
            yield Violation("T06", "请选择一级/二级指标", n, line.name)
        elif line.level2 not in LEVEL1_OF:
            yield Violation("T06", f"二级指标「{line.level2}」不在指标体系中", n, line.name)
        if line.value_type == "quantitative":
            if not str(line.target_value or "").strip():
                yield Violation("T06", "定量指标须填写指标值", n, line.name)
            elif line.direction == "range":
                if range_bounds(line.target_value) is None:
                    yield Violation("T07", "区间指标的指标值须为下限,上限（下限小于上限）", n, line.name)
            elif number(line.target_value) is None:
                yield Violation(
                    "T07", f"定量指标的指标值须为数字，「{line.target_value}」不是数字", n, line.name
                )
            if not str(line.unit or "").strip():
                yield Violation("T06", "定量指标须填写计量单位", n, line.name)
        elif line.direction == "range":
            yield Violation("T07", "定性指标不能使用区间方向", n, line.name)
        elif not str(line.target_value or "").strip():
            yield Violation("T06", "定性指标须写明指标值（预期达到的状态）", n, line.name)


def _weights(ctx: Context) -> Iterator[Violation]:
    total = Decimal(0)
    for n, line in enumerate(ctx.lines, start=1):
        if line.weight is None or Decimal(line.weight) <= 0:
            yield Violation("T08", "权重须为大于 0 的数", n, line.name)
        else:
            total += Decimal(line.weight)
    if ctx.lines and total != ctx.weights_total:
        yield Violation("T08", f"各指标权重之和须为 {ctx.weights_total:g}，当前为 {total.normalize():f}")


def even_weights(count: int, total: Decimal) -> list[Decimal]:
    """平均分配权重: `total` over `count` lines so that the weights sum to exactly `total` and each
    is > 0 — whole numbers when that is possible (100 over 3: 34, 33, 33), else hundredths (the
    column's precision); the first lines take the remainder."""
    if count <= 0:
        return []
    step = Decimal(1) if total == total.to_integral() and total >= count else Decimal("0.01")
    units = int((total / step).to_integral_value(rounding="ROUND_FLOOR"))
    base, extra = divmod(units, count)
    return [(base + (1 if n < extra else 0)) * step for n in range(count)]


def _retired(ctx: Context) -> Iterator[Violation]:
    for n, line in enumerate(ctx.lines, start=1):
        if line.indicator_id is not None and line.indicator_id in ctx.retired_indicator_ids:
            yield Violation("T09", "引用的库指标已退出，不能使用", n, line.name)


def _nonempty(ctx: Context) -> Iterator[Violation]:
    if not ctx.lines:
        yield Violation("T10", "请至少设置一个绩效指标")
    seen: set[str] = set()
    for n, line in enumerate(ctx.lines, start=1):
        if line.name in seen:
            yield Violation("T10", "指标名称重复", n, line.name)
        seen.add(line.name)


RULES: list[Rule] = [
    Rule("T01", "总体目标：年度目标必填；跨年度项目须有中长期目标", _goal),
    Rule("T02", "至少一个产出指标", _output),
    Rule("T03", "至少一个效益指标", _benefit),
    Rule("T04", "面向公众的项目须有满意度指标", _satisfaction),
    Rule("T05", "工程基建、大型修缮及购置类项目须有成本指标", _cost),
    Rule("T06", "定量指标须有指标值和计量单位；定性指标须写明指标值", _values),
    Rule("T07", "指标值须与指标方向一致（区间为下限,上限）", lambda ctx: iter(())),
    Rule("T08", "权重为正数且合计为试点规定的总数（默认 100）", _weights),
    Rule("T09", "不得使用已退出的库指标", _retired),
    Rule("T10", "至少一个指标，指标名称不重复", _nonempty),
]


def run(ctx: Context) -> list[Violation]:
    """Every violation of every rule (T07's checks run inside T06's pass over the values)."""
    return [v for rule in RULES for v in rule.check(ctx)]
