"""The workbook layout of the indicator library's Excel files, shared by export and import.

Documented in `docs/indicator-excel.md` (Chinese and English) and defined once here (`COLUMNS`):
one header row in Chinese, one indicator per row, historical values in one column per year
(`2023年历史值`). Each column carries its 填写说明 (help and allowed values), which the import
template prints on its second sheet. Also here: the sheet's name, the row limit, and the label
vocabularies (Chinese label or API code → API code) the import reads and the export writes.

Export and template: `export`; import: `parse` → `plan` → `importing`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from ..models import FRAMEWORK, LEVEL1_OF, VALUE_BASES
from ..rules import DIRECTION_LABELS, KIND_LABELS, SCOPE_LABELS, VALUE_TYPE_LABELS

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_ROWS = 50_000
SHEET_TITLE = "指标"
HELP_SHEET_TITLE = "填写说明"


@dataclass(frozen=True)
class Column:
    header: str
    key: str  # an EDITABLE field, or code / level1 / status / owner
    width: float
    required: bool  # the header must be present on import
    help: str
    allowed: str = ""


def _labels(labels: dict[str, str]) -> str:
    return "、".join(labels.values())


COLUMNS: tuple[Column, ...] = (
    Column(
        "指标编码",
        "code",
        18,
        True,
        "留空：新增指标（编码由系统生成；本单位已有同名指标时改为修改该指标）。"
        "填写：修改本单位该编码的指标；其他单位（如省级共享）的指标原样保留即可，修改会被拒绝。",
        "如 640104-CC-0007",
    ),
    Column("指标名称", "name", 28, True, "必填，同一单位内不能重名，最多 100 字。"),
    Column(
        "一级指标",
        "level1",
        10,
        True,
        "可留空（由二级指标推出）；填写时须与二级指标相符。",
        "、".join(FRAMEWORK),
    ),
    Column("二级指标", "level2", 14, True, "必填，财政部绩效指标框架的二级指标。", "、".join(LEVEL1_OF)),
    Column("行业领域", "category", 12, True, "可留空，如 教育、卫生健康、农业农村，最多 40 字。"),
    Column("共性类别", "common_class", 12, True, "可留空，如 会议、培训、设备购置，最多 40 字。"),
    Column("指标类型", "kind", 10, True, "必填。", _labels(KIND_LABELS)),
    Column("适用范围", "scope", 12, True, "必填：项目支出或部门整体支出。", _labels(SCOPE_LABELS)),
    Column("指标解释", "explanation", 40, True, "指标的含义和计算方法。"),
    Column("指标出处", "source", 30, True, "数据来源或政策依据。"),
    Column("值类型", "value_type", 10, True, "必填。", _labels(VALUE_TYPE_LABELS)),
    Column(
        "指标方向",
        "direction",
        10,
        True,
        "必填；也可填 >=、<=、=、range。定性指标不能用区间。",
        _labels(DIRECTION_LABELS),
    ),
    Column("计量单位", "unit", 10, True, "定量指标必填，如 %、人次、元/人·天，最多 20 字。"),
    Column(
        "标准值",
        "standard_value",
        14,
        True,
        "定量指标须为数字；区间指标填“下限,上限”（如 3500,4200）；定性指标填文字。",
    ),
    Column("标准值依据", "value_basis", 14, True, "必填。", "、".join(VALUE_BASES)),
)
HISTORY_HELP = Column(
    "2023年历史值",
    "history",
    14,
    False,
    "可选，每年一列，列名为“四位年份+年历史值”（如 2022年历史值），可增删年份列。"
    "定量指标须为数字。空单元格表示该年无历史值；文件中没有的年份列保持原值。",
)
TRAILING: tuple[Column, ...] = (
    Column(
        "状态",
        "status",
        10,
        False,
        "导出时填写；导入时不能修改（退出、恢复请在页面上操作）。新增指标须为“在用”或留空。",
        "在用、已退出",
    ),
    Column("所属单位", "owner", 24, False, "仅导出时填写（单位代码 + 名称），导入时忽略。"),
)
HEADER_KEYS = {c.header: c.key for c in (*COLUMNS, *TRAILING)}
KEY_HEADERS = {c.key: c.header for c in (*COLUMNS, *TRAILING)}
REQUIRED_HEADERS = [c.header for c in COLUMNS if c.required]
YEAR_HEADER = re.compile(r"^(\d{4})年历史值$")
STATUS_LABELS = {"active": "在用", "retired": "已退出"}


def year_header(year: str) -> str:
    return f"{year}年历史值"


def _lookup(labels: dict[str, str], *aliases: tuple[str, str]) -> dict[str, str]:
    table = {code: code for code in labels}
    table.update({label: code for code, label in labels.items()})
    table.update({alias: code for alias, code in aliases})
    return table


VOCABULARIES: dict[str, tuple[dict[str, str], dict[str, str]]] = {
    # field: (accepted text → API code, API code → label shown)
    "kind": (_lookup(KIND_LABELS), KIND_LABELS),
    "scope": (_lookup(SCOPE_LABELS), SCOPE_LABELS),
    "value_type": (_lookup(VALUE_TYPE_LABELS), VALUE_TYPE_LABELS),
    "direction": (
        _lookup(DIRECTION_LABELS, ("＝", "="), ("≧", ">="), ("≦", "<="), ("＞＝", ">="), ("＜＝", "<=")),
        DIRECTION_LABELS,
    ),
}
STATUS_LOOKUP = _lookup(STATUS_LABELS)


def sheet_columns(years: Sequence[str]) -> list[Column]:
    """The columns of a sheet with these historical years, in order."""
    history = [
        Column(year_header(y), f"year:{y}", HISTORY_HELP.width, False, HISTORY_HELP.help) for y in years
    ]
    return [*COLUMNS, *history, *TRAILING]
