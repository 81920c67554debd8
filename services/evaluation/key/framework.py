"""The key evaluation's framework and scores (重点评价, FORMS.md; DESIGN.md §6 stage 4), as pure
functions over Decimals (no database, no Flask).

The Ministry's common framework of project-expenditure evaluation has four dimensions (一级指标):
决策, 过程, 产出, 效益. The program settings (`key_evaluation.framework`) give the items the form
starts from — *default* 决策 15, 过程 15, 产出 35, 效益 35 with the Ministry's second-level items;
the evaluator may adapt items and weights to the project, as evaluators do, provided

* all four dimensions are present,
* the weights sum to 100,
* every weight is above 0 and every score between 0 and its weight (2 decimals at most),

each broken rule named at once (`problems`). The total is the sum of the scores, rounded half-up to
2 decimals, graded by the §6 bands (`scoring.grade`: 优 ≥ 90, 良 80–<90, 中 60–<80, 差 < 60).

The comparison with the self-evaluation (`compare`) sets each dimension beside its counterpart: the
key framework's 产出 (数量, 质量, 时效, 成本) is the self-evaluation's 产出 group with its 成本
lines, its 效益 (including 满意度) the self-evaluation's 效益 and 满意度 groups. The scales differ
(产出 is 35 points here and 50 there), so the dimensions are compared as rates — points earned over
points available, in percent — and the difference is in percentage points; 决策 and 过程 have no
counterpart in the self-evaluation (it scores budget execution and the target indicators only), and
the comparison says so. A difference of at least `gap_warning` (*default* 10) points is flagged:
a large gap is what a reviewer looks for.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from jixiao.services.evaluation.scoring import grade

ZERO, HUNDRED, CENT = Decimal(0), Decimal(100), Decimal("0.01")
DIMENSIONS = ("决策", "过程", "产出", "效益")
TOTAL_WEIGHT = HUNDRED
ITEM_MAX = 100  # characters of an item's name
GROUP_MAX = 40
MAX_ITEMS = 60
GAP_WARNING = Decimal(10)

# The self-evaluation's level-1 groups behind each key dimension (None: no counterpart).
COUNTERPARTS: dict[str, tuple[str, ...] | None] = {
    "决策": None,
    "过程": None,
    "产出": ("产出", "成本"),
    "效益": ("效益", "满意度"),
}
NO_COUNTERPART = "自评不含此项（自评只评预算执行和绩效指标），无可比数据"


@dataclass(frozen=True)
class Item:
    """One scored item (三级): its dimension (一级), optional group (二级 — 项目立项, 资金管理 …),
    name, weight, score (None: not scored yet) and basis (评分依据)."""

    dimension: str
    item: str
    weight: Decimal
    score: Decimal | None = None
    basis: str = ""
    group: str = ""


# --- reading numbers ---------------------------------------------------------------------------


def decimal(value: Any) -> Decimal | None:
    """A finite number with at most 2 decimals (strings or ints; floats are refused like money);
    None when it is not one."""
    if value is None or isinstance(value, bool | float):
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    if not number.is_finite() or number != number.quantize(CENT, rounding=ROUND_HALF_UP):
        return None
    return number


def two(value: Decimal | None) -> str | None:
    return None if value is None else f"{value.quantize(CENT, rounding=ROUND_HALF_UP)}"


# --- the framework the form starts from -----------------------------------------------------------


def starting_items(framework: Iterable[Mapping[str, Any]]) -> list[Item]:
    """The program's framework (settings `key_evaluation.framework`) as unscored items."""
    return [
        Item(
            dimension=str(row["dimension"]),
            item=str(row["item"]),
            weight=decimal(row["weight"]) or ZERO,
            group=str(row.get("group") or ""),
        )
        for row in framework
    ]


def settings_problems(conf: Any) -> list[str]:
    """The program setting `key_evaluation` ({framework: [{dimension, group?, item, weight}],
    gap_warning}): the framework follows the same rules as an evaluator's adapted one."""
    if conf is None:
        return []
    if not isinstance(conf, dict):
        return ["设置项 key_evaluation 须为对象"]
    problems = []
    unknown = sorted(set(conf) - {"framework", "gap_warning"})
    if unknown:
        problems.append(f"设置项 key_evaluation 中未知的项：{'、'.join(unknown)}")
    gap = conf.get("gap_warning")
    if gap is not None and (decimal(gap) is None or (decimal(gap) or ZERO) < 0):
        problems.append("设置项 key_evaluation.gap_warning 须为非负数")
    framework = conf.get("framework")
    if framework is None:
        return problems
    if not isinstance(framework, list) or not all(isinstance(row, dict) for row in framework):
        return [*problems, "设置项 key_evaluation.framework 须为 [{dimension, group, item, weight}] 的列表"]
    rows = [{"score": None, **row} for row in framework]
    found = problems_of(rows)
    return problems + [f"设置项 key_evaluation.framework：{m}" for msgs in found.values() for m in msgs]


# --- an evaluator's items ------------------------------------------------------------------------


def problems_of(rows: Sequence[Mapping[str, Any]]) -> dict[str, list[str]]:
    """Every problem of the items as sent (`scores`: [{dimension, group?, item, weight, score,
    basis}]) by field — `scores.N.field` for a line (N from 1), `scores` for the whole."""
    errors: dict[str, list[str]] = {}

    def add(key: str, message: str) -> None:
        errors.setdefault(key, []).append(message)

    if len(rows) > MAX_ITEMS:
        add("scores", f"评价指标至多 {MAX_ITEMS} 项，现有 {len(rows)} 项")
    total, seen, present = ZERO, set(), set()
    for n, row in enumerate(rows, start=1):
        name = str(row.get("item") or "").strip()
        label = f"第 {n} 项「{name}」" if name else f"第 {n} 项"
        dimension = row.get("dimension")
        if dimension not in DIMENSIONS:
            add(f"scores.{n}.dimension", f"{label}：一级指标须为 {'、'.join(DIMENSIONS)} 之一")
        else:
            present.add(dimension)
        if not name:
            add(f"scores.{n}.item", f"{label}：请填写评价指标名称")
        elif len(name) > ITEM_MAX:
            add(f"scores.{n}.item", f"{label}：指标名称不能超过 {ITEM_MAX} 个字")
        elif (dimension, name) in seen:
            add(f"scores.{n}.item", f"{label}：与同一一级指标下的另一项重名")
        seen.add((dimension, name))
        if len(str(row.get("group") or "").strip()) > GROUP_MAX:
            add(f"scores.{n}.group", f"{label}：二级指标不能超过 {GROUP_MAX} 个字")
        weight = decimal(row.get("weight"))
        if weight is None or weight <= 0 or weight > TOTAL_WEIGHT:
            add(f"scores.{n}.weight", f"{label}：权重（分值）须为 0–100 之间、最多两位小数的正数")
            weight = None
        else:
            total += weight
        raw = row.get("score")
        if raw is None or str(raw).strip() == "":
            continue
        score = decimal(raw)
        if score is None:
            add(f"scores.{n}.score", f"{label}：得分须为最多两位小数的数字，「{raw}」无效")
        elif score < 0:
            add(f"scores.{n}.score", f"{label}：得分不能为负数")
        elif weight is not None and score > weight:
            add(f"scores.{n}.score", f"{label}：得分 {score} 超过其权重 {weight}")
    missing = [d for d in DIMENSIONS if d not in present]
    if missing:
        add("scores", f"缺少一级指标：{'、'.join(missing)}（决策、过程、产出、效益四项须齐全）")
    if not any(k.endswith(".weight") for k in errors) and total != TOTAL_WEIGHT:
        add("scores", f"各项权重合计须为 100，现为 {two(total)}")
    return errors


def parse(rows: Sequence[Mapping[str, Any]]) -> list[Item]:
    """The items as sent, already checked by `problems_of`."""
    return [
        Item(
            dimension=str(row["dimension"]),
            item=str(row["item"]).strip(),
            weight=decimal(row["weight"]) or ZERO,
            score=None if row.get("score") in (None, "") else decimal(row["score"]),
            basis=str(row.get("basis") or "").strip(),
            group=str(row.get("group") or "").strip(),
        )
        for row in rows
    ]


def unscored(items: Sequence[Item]) -> list[int]:
    """The positions (from 1) of items without a score."""
    return [n for n, item in enumerate(items, start=1) if item.score is None]


# --- totals --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Totals:
    total: Decimal  # rounded half-up to 2 decimals
    grade: str
    complete: bool  # every item scored (the grade is final only then)
    dimensions: dict[str, dict[str, Decimal]]  # dimension → {weight, score}


def totals(items: Sequence[Item]) -> Totals:
    dims = {d: {"weight": ZERO, "score": ZERO} for d in DIMENSIONS}
    for item in items:
        row = dims.setdefault(item.dimension, {"weight": ZERO, "score": ZERO})
        row["weight"] += item.weight
        row["score"] += item.score or ZERO
    total = sum((item.score or ZERO for item in items), ZERO).quantize(CENT, rounding=ROUND_HALF_UP)
    return Totals(total, grade(total), not unscored(items), dims)


# --- beside the self-evaluation ---------------------------------------------------------------------


def _rate(earned: Decimal, available: Decimal) -> Decimal | None:
    return None if available <= 0 else earned / available * HUNDRED


def compare(
    key: Totals,
    self_groups: Mapping[str, tuple[Decimal, Decimal]] | None,
    self_total: Decimal | None,
    self_grade: str | None,
    gap_warning: Decimal = GAP_WARNING,
) -> dict[str, Any]:
    """The key evaluation beside the self-evaluation, per dimension and in total (see the module).
    `self_groups`: the self-evaluation's points per level-1 group, (available, earned) unrounded;
    None when there is no self-evaluation to compare with."""
    groups = {name: {"available": got[0], "earned": got[1]} for name, got in (self_groups or {}).items()}
    rows = []
    for dimension in DIMENSIONS:
        mine = key.dimensions[dimension]
        key_rate = _rate(mine["score"], mine["weight"])
        row: dict[str, Any] = {
            "dimension": dimension,
            "key_weight": two(mine["weight"]),
            "key_score": two(mine["score"]),
            "key_rate": two(key_rate),
            "self_groups": list(COUNTERPARTS[dimension] or ()),
            "self_available": None,
            "self_earned": None,
            "self_rate": None,
            "difference": None,
            "large_gap": False,
            "note": "",
        }
        names = COUNTERPARTS[dimension]
        if names is None:
            row["note"] = NO_COUNTERPART
        elif self_groups is None:
            row["note"] = "尚无自评"
        else:
            available = sum((groups.get(n, {}).get("available", ZERO) for n in names), ZERO)
            earned = sum((groups.get(n, {}).get("earned", ZERO) for n in names), ZERO)
            self_rate = _rate(earned, available)
            row.update(self_available=two(available), self_earned=two(earned), self_rate=two(self_rate))
            if self_rate is None:
                row["note"] = f"自评中没有{'、'.join(names)}类指标"
            elif key_rate is not None:
                gap = (key_rate - self_rate).quantize(CENT, rounding=ROUND_HALF_UP)
                row.update(difference=two(gap), large_gap=abs(gap) >= gap_warning)
        rows.append(row)
    difference = None if self_total is None else key.total - self_total
    return {
        "self_score": two(self_total),
        "self_grade": self_grade,
        "key_score": two(key.total),
        "key_grade": key.grade,
        "difference": two(difference),
        "large_gap": difference is not None and abs(difference) >= gap_warning,
        "gap_warning": two(gap_warning),
        "dimensions": rows,
        "basis": "各一级指标按得分率（得分 ÷ 分值）比较，差值为百分点；总分均为百分制，差值为分",
    }
