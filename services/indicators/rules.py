"""Field rules of a level-3 indicator, as pure functions: the API, the pages and the Excel import
all run the same checks and get the same Chinese messages (DESIGN.md §5)."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from .models import DIRECTIONS, KINDS, LEVEL1_OF, SCOPES, VALUE_BASES, VALUE_TYPES

FIELD_LABELS = {
    "name": "指标名称",
    "level2": "二级指标",
    "category": "行业领域",
    "common_class": "共性类别",
    "kind": "指标类型",
    "scope": "适用范围",
    "explanation": "指标解释",
    "source": "指标出处",
    "value_type": "值类型",
    "direction": "指标方向",
    "unit": "计量单位",
    "standard_value": "标准值",
    "value_basis": "标准值依据",
    "historical_values": "历史值",
}
KIND_LABELS = {"common": "共性", "individual": "个性"}
SCOPE_LABELS = {"project": "项目", "department": "部门整体"}
VALUE_TYPE_LABELS = {"quantitative": "定量", "qualitative": "定性"}
DIRECTION_LABELS = {">=": "≥", "<=": "≤", "=": "=", "range": "区间"}
YEAR_RE = re.compile(r"^(19|20|21)\d\d$")
MAX_LENGTHS = {"name": 100, "category": 40, "common_class": 40, "unit": 20, "standard_value": 100}


def number(value: Any) -> Decimal | None:
    """A finite decimal, or None when the text is not a number."""
    try:
        parsed = Decimal(str(value).strip().replace(",", "")) if str(value).strip() else None
    except InvalidOperation:
        return None
    return parsed if parsed is not None and parsed.is_finite() else None


def range_bounds(value: str) -> tuple[Decimal, Decimal] | None:
    """`"low,high"` (also with a Chinese comma or a tilde) → the two bounds, low < high."""
    parts = re.split(r"[,，~～]", str(value or ""))
    if len(parts) != 2:
        return None
    low, high = number(parts[0]), number(parts[1])
    if low is None or high is None or low >= high:
        return None
    return low, high


def _vocab(
    errors: dict[str, list[str]],
    data: dict[str, Any],
    field: str,
    allowed: tuple[str, ...],
    labels: dict[str, str] | None = None,
) -> None:
    value = data.get(field)
    if value not in allowed:
        shown = "、".join(f"{a}（{labels[a]}）" if labels else a for a in allowed)
        errors.setdefault(field, []).append(f"{FIELD_LABELS[field]}须为：{shown}")


def validate_fields(data: dict[str, Any]) -> dict[str, list[str]]:
    """Every broken rule of one indicator's fields (already merged with what it had), by field."""
    errors: dict[str, list[str]] = {}
    name = str(data.get("name") or "").strip()
    if not name:
        errors.setdefault("name", []).append("指标名称不能为空")
    for field, limit in MAX_LENGTHS.items():
        if len(str(data.get(field) or "")) > limit:
            errors.setdefault(field, []).append(f"{FIELD_LABELS[field]}不能超过 {limit} 个字")
    if data.get("level2") not in LEVEL1_OF:
        errors.setdefault("level2", []).append(
            f"未知的二级指标「{data.get('level2') or ''}」，应为：{'、'.join(LEVEL1_OF)}"
        )
    _vocab(errors, data, "kind", KINDS, KIND_LABELS)
    _vocab(errors, data, "scope", SCOPES, SCOPE_LABELS)
    _vocab(errors, data, "value_type", VALUE_TYPES, VALUE_TYPE_LABELS)
    _vocab(errors, data, "direction", DIRECTIONS, DIRECTION_LABELS)
    _vocab(errors, data, "value_basis", VALUE_BASES)
    quantitative = data.get("value_type") == "quantitative"
    direction = data.get("direction")
    standard = str(data.get("standard_value") or "").strip()
    if quantitative:
        if not str(data.get("unit") or "").strip():
            errors.setdefault("unit", []).append("定量指标须填写计量单位")
        if direction == "range":
            if range_bounds(standard) is None:
                errors.setdefault("standard_value", []).append(
                    "区间指标的标准值须为上下限两个数，下限小于上限，如 3500,4200"
                )
        elif standard and number(standard) is None:
            errors.setdefault("standard_value", []).append(
                f"定量指标的标准值须为数字，「{standard}」不是数字"
            )
    elif direction == "range":
        errors.setdefault("direction", []).append("定性指标不能使用区间方向")
    history = data.get("historical_values") or {}
    if not isinstance(history, dict):
        errors.setdefault("historical_values", []).append("历史值须为 {年份: 值}")
    else:
        for year, value in history.items():
            if not YEAR_RE.match(str(year)):
                errors.setdefault("historical_values", []).append(f"历史值的年份「{year}」须为四位年份")
            elif quantitative and number(value) is None and str(value or "").strip():
                errors.setdefault("historical_values", []).append(f"{year} 年的历史值「{value}」不是数字")
    return errors
