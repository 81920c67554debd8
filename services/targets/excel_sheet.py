"""The workbook of the performance targets' export, in the layout of the Ministry's 项目支出绩效目标申报表
(DESIGN.md §6 stage 2). No Flask: the job builds it in `jixiao worker` too.

One sheet 「绩效目标申报表」, A4 landscape, fitted to the page width:

1. title 「项目支出绩效目标申报表」 and the year (merged over the nine columns);
2. the project block: 项目名称, 主管部门 / 实施单位, 项目类别 / 实施年度, 项目资金（元）
   (年度资金总额, 其中：财政拨款 with the fund source);
3. 总体目标: 年度目标 and, when present, 中长期目标 (merged cells, wrapped);
4. the indicator table 一级指标 | 二级指标 | 三级指标 | 指标方向 | 指标值 | 计量单位 | 权重 |
   指标值确定依据 | 指标值说明, grouped by level 1 in the Ministry's order (产出, 成本, 效益, 满意度)
   and then by level 2 in the framework's order, the level-1 and level-2 cells merged vertically
   over their lines, then a 合计 row of the weights;
5. the signature block: 填报人, 审核意见 (初审, 复核 and 联审 when there is one: conclusion,
   comments, reviewer and date), 版本 n（状态）, and for an adjustment its reason.

Weights are numbers with two decimals, the budget a number shown as 1,250,000.00, target values
text (exactly as entered). `excel.py` chooses the version, runs it as a job and serves the file."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from jixiao.platform.core import messages  # noqa: F401 - Chinese defaults before any field is built
from jixiao.platform.core.db import utcnow
from jixiao.platform.core.runtime import current_runtime
from jixiao.services.indicators.models import FRAMEWORK
from jixiao.services.indicators.rules import DIRECTION_LABELS
from jixiao.services.projects.models import Project

from .models import COMMENT_KEYS, REVIEW_LEVELS, TargetReview, TargetSet

SHEET_TITLE = "绩效目标申报表"
TITLE = "项目支出绩效目标申报表"
HEADERS = (
    "一级指标",
    "二级指标",
    "三级指标",
    "指标方向",
    "指标值",
    "计量单位",
    "权重",
    "指标值确定依据",
    "指标值说明",
)
WIDTHS = (10, 13, 28, 9, 14, 10, 9, 15, 32)  # characters; the sheet is fitted to the page width
OTHER_LEVEL1 = "其他"
STATUS_NAMES = {
    "draft": "填报中",
    "submitted": "审核中",
    "returned": "已退回",
    "approved": "已审核通过",
    "superseded": "已被调整替代",
}
DECISION_NAMES = {"approve": "通过", "return": "退回"}
FONT_NAME = "宋体"  # what the official tables use; LibreOffice substitutes a CJK font when absent

_THIN = Side(style="thin", color="000000")
BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
BODY_FONT = Font(name=FONT_NAME, size=10)
BOLD_FONT = Font(name=FONT_NAME, size=10, bold=True)
TITLE_FONT = Font(name=FONT_NAME, size=18, bold=True)
SUBTITLE_FONT = Font(name=FONT_NAME, size=11)
NOTE_FONT = Font(name=FONT_NAME, size=9, color="555555")
LABEL_FILL = PatternFill("solid", fgColor="F2F2F2")
CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
LEFT = Alignment(horizontal="left", vertical="center", wrap_text=True)
RIGHT = Alignment(horizontal="right", vertical="center", wrap_text=True)
MONEY_FORMAT = "#,##0.00"
WEIGHT_FORMAT = "0.00"


def person(username: str | None, names: dict[str, str]) -> str:
    if not username:
        return ""
    display = names.get(username)
    return f"{display}（{username}）" if display and display != username else username


def _local(moment: datetime | None, fmt: str = "%Y-%m-%d") -> str:
    if moment is None:
        return ""
    if moment.tzinfo is None:  # stored as UTC without a zone (SQLite, timestamp columns)
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(ZoneInfo(current_runtime().settings.timezone)).strftime(fmt)


def _text(value: Any) -> str:
    return ILLEGAL_CHARACTERS_RE.sub("", "" if value is None else str(value))


@dataclass
class _Sheet:
    """A small writer over a normal (not write-only) sheet: merged, bordered blocks by rows."""

    ws: Worksheet
    row: int = 0

    def put(
        self,
        row: int,
        first: int,
        last: int,
        value: Any,
        *,
        font: Font = BODY_FONT,
        align: Alignment = LEFT,
        fill: PatternFill | None = None,
        number_format: str | None = None,
        border: bool = True,
        last_row: int | None = None,
    ) -> None:
        """Write `value` into columns first..last of `row` (to `last_row`), merged when wider."""
        bottom = last_row or row
        cell = self.ws.cell(row=row, column=first)
        if isinstance(value, str):
            cell.value = _text(value)
            cell.data_type = "s"  # text, never a formula (a value starting with = stays text)
        else:
            cell.value = value
        if number_format:
            cell.number_format = number_format
        if last > first or bottom > row:
            self.ws.merge_cells(start_row=row, start_column=first, end_row=bottom, end_column=last)
        for r in range(row, bottom + 1):
            for c in range(first, last + 1):
                target = self.ws.cell(row=r, column=c)
                target.font = font
                target.alignment = align
                if fill is not None:
                    target.fill = fill
                if border:
                    target.border = BORDER

    def label(self, row: int, first: int, last: int, value: str, *, last_row: int | None = None) -> None:
        self.put(row, first, last, value, font=BOLD_FONT, align=CENTER, fill=LABEL_FILL, last_row=last_row)

    def height(self, row: int, texts: Iterable[tuple[str, float]], minimum: float = 22) -> None:
        """Row height for wrapped text: (text, width in characters of its merged cells)."""
        lines = 1
        for text, width in texts:
            per_line = max(1, int(width / 2.0))  # CJK characters are about two widths wide
            count = sum(max(1, math.ceil(len(part) / per_line)) for part in (text or "").split("\n"))
            lines = max(lines, count)
        self.ws.row_dimensions[row].height = max(minimum, 15 * lines + 6)


def _width(first: int, last: int) -> float:
    return float(sum(WIDTHS[first - 1 : last]))


def _ordered_groups(target_set: TargetSet) -> list[tuple[str, list[tuple[str, list[Any]]]]]:
    """Lines grouped by level 1 (产出, 成本, 效益, 满意度) then level 2, each in the framework's
    order; lines keep their own order inside a level 2. Unknown level 2s come last under 其他."""
    order = [level2 for children in FRAMEWORK.values() for level2 in children]
    by_level2: dict[str, list[Any]] = {}
    for line in sorted(target_set.lines, key=lambda item: item.position):
        by_level2.setdefault(line.level2, []).append(line)
    groups: list[tuple[str, list[tuple[str, list[Any]]]]] = []
    for level1, children in FRAMEWORK.items():
        present = [(level2, by_level2[level2]) for level2 in children if level2 in by_level2]
        if present:
            groups.append((level1, present))
    unknown = [(level2, lines) for level2, lines in by_level2.items() if level2 not in order]
    if unknown:
        groups.append((OTHER_LEVEL1, unknown))
    return groups


def _latest_reviews(target_set: TargetSet) -> dict[str, TargetReview]:
    """Per level, the review that stands: the newest one of the current submission."""
    since = target_set.submitted_at
    result: dict[str, TargetReview] = {}
    for review in sorted(target_set.reviews, key=lambda item: item.id or 0):
        if (
            since is not None
            and review.reviewed_at is not None
            and _naive(review.reviewed_at) < _naive(since)
        ):
            continue
        result[review.level] = review
    return result


def _naive(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def _opinion(review: TargetReview) -> str:
    parts = [f"审核结论：{DECISION_NAMES.get(review.decision, review.decision)}"]
    for key, title in COMMENT_KEYS.items():
        text = str((review.comments or {}).get(key) or "").strip()
        if text:
            parts.append(f"{title}：{text}")
    return "；".join(parts)


def _years(project: Project) -> str:
    if project.end_year > project.start_year:
        return f"{project.start_year}—{project.end_year} 年"
    return f"{project.start_year} 年"


def build_workbook(
    project: Project, target_set: TargetSet, *, names: dict[str, str], exported_by: str = ""
) -> Workbook:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = SHEET_TITLE
    sheet = _Sheet(ws)
    last = len(HEADERS)
    for index, width in enumerate(WIDTHS, start=1):
        ws.column_dimensions[get_column_letter(index)].width = width

    # 1. title
    sheet.put(1, 1, last, TITLE, font=TITLE_FONT, align=CENTER, border=False)
    ws.row_dimensions[1].height = 34
    sheet.put(2, 1, last, f"（{project.start_year} 年度）", font=SUBTITLE_FONT, align=CENTER, border=False)
    sheet.put(3, 1, 6, f"填报单位（盖章）：{project.owner.name}", align=LEFT, border=False)
    sheet.put(3, 7, last, "金额单位：元", align=RIGHT, border=False)
    ws.row_dimensions[3].height = 20

    # 2. the project block
    row = 4
    sheet.label(row, 1, 2, "项目名称")
    sheet.put(row, 3, last, project.name)
    sheet.height(row, [(project.name, _width(3, last))])
    row += 1
    sheet.label(row, 1, 2, "主管部门")
    sheet.put(row, 3, 4, project.department)
    sheet.label(row, 5, 6, "实施单位")
    sheet.put(row, 7, last, project.implementing_unit)
    sheet.height(row, [(project.department, _width(3, 4)), (project.implementing_unit, _width(7, last))])
    row += 1
    sheet.label(row, 1, 2, "项目类别")
    sheet.put(row, 3, 4, project.project_class)
    sheet.label(row, 5, 6, "实施年度")
    sheet.put(row, 7, last, _years(project))
    sheet.height(row, [])
    row += 1
    budget = Decimal(project.budget_amount).quantize(Decimal("0.01"))
    sheet.label(row, 1, 2, "项目资金（元）", last_row=row + 1)
    sheet.label(row, 3, 4, "年度资金总额")
    sheet.put(row, 5, last, budget, number_format=MONEY_FORMAT, align=LEFT)
    sheet.height(row, [])
    sheet.label(row + 1, 3, 4, "其中：财政拨款")
    sheet.put(row + 1, 5, 6, budget, number_format=MONEY_FORMAT, align=LEFT)
    sheet.label(row + 1, 7, 7, "资金来源")
    sheet.put(row + 1, 8, last, project.fund_source)
    sheet.height(row + 1, [])
    row += 2

    # 3. the overall goal
    goals = [("年度目标", target_set.overall_goal or "")]
    if (target_set.midterm_goal or "").strip():
        goals.append(("中长期目标", target_set.midterm_goal))
    sheet.label(row, 1, 1, "总体目标", last_row=row + len(goals) - 1)
    for n, (title, text) in enumerate(goals):
        sheet.label(row + n, 2, 2, title)
        sheet.put(row + n, 3, last, text)
        sheet.height(row + n, [(text, _width(3, last))], minimum=40)
    row += len(goals)

    # 4. the indicator table
    sheet.label(row, 1, last, "绩效指标")
    ws.row_dimensions[row].height = 22
    row += 1
    header_row = row
    for column, header in enumerate(HEADERS, start=1):
        sheet.label(row, column, column, header)
    ws.row_dimensions[row].height = 24
    row += 1
    total = Decimal("0.00")
    for level1, children in _ordered_groups(target_set):
        level1_top = row
        for level2, lines in children:
            level2_top = row
            for line in lines:
                weight = None if line.weight is None else Decimal(line.weight).quantize(Decimal("0.01"))
                if weight is not None:
                    total += weight
                sheet.put(row, 3, 3, line.name)
                sheet.put(row, 4, 4, DIRECTION_LABELS.get(line.direction, line.direction), align=CENTER)
                sheet.put(row, 5, 5, line.target_value or "", align=CENTER)
                sheet.put(row, 6, 6, line.unit or "", align=CENTER)
                sheet.put(row, 7, 7, weight, align=CENTER, number_format=WEIGHT_FORMAT)
                sheet.put(row, 8, 8, line.value_basis or "", align=CENTER)
                sheet.put(row, 9, 9, line.note or "")
                sheet.height(
                    row,
                    [
                        (line.name, WIDTHS[2]),
                        (line.target_value or "", WIDTHS[4]),
                        (line.value_basis or "", WIDTHS[7]),
                        (line.note or "", WIDTHS[8]),
                    ],
                )
                row += 1
            sheet.put(level2_top, 2, 2, level2, align=CENTER, last_row=row - 1)
        sheet.put(level1_top, 1, 1, level1, align=CENTER, font=BOLD_FONT, last_row=row - 1)
    if row == header_row + 1:
        sheet.put(row, 1, last, "（未填报绩效指标）", align=CENTER)
        row += 1
    sheet.label(row, 1, 6, "合计")
    sheet.put(row, 7, 7, total, font=BOLD_FONT, align=CENTER, number_format=WEIGHT_FORMAT)
    sheet.put(row, 8, last, "")
    ws.row_dimensions[row].height = 22
    row += 1

    # 5. the signature block
    row += 1
    sheet.label(row, 1, 1, "填报人")
    sheet.put(row, 2, 4, person(target_set.submitted_by, names))
    sheet.label(row, 5, 6, "提交日期")
    sheet.put(row, 7, last, _local(target_set.submitted_at))
    sheet.height(row, [])
    row += 1
    reviews = _latest_reviews(target_set)
    levels = [level for level in REVIEW_LEVELS if level in reviews or level != "joint"]
    sheet.label(row, 1, 1, "审核意见", last_row=row + len(levels) - 1)
    for level in levels:
        review = reviews.get(level)
        opinion = _opinion(review) if review else "（未审核）"
        sheet.label(row, 2, 2, REVIEW_LEVELS[level])
        sheet.put(row, 3, 5, opinion)
        sheet.label(row, 6, 6, "审核人")
        sheet.put(row, 7, 8, person(review.reviewer, names) if review else "")
        sheet.put(row, 9, 9, f"日期：{_local(review.reviewed_at)}" if review else "日期：")
        sheet.height(row, [(opinion, _width(3, 5))], minimum=30)
        row += 1
    status = STATUS_NAMES.get(target_set.status, target_set.status)
    sheet.label(row, 1, 1, "版本")
    sheet.put(row, 2, 4, f"第 {target_set.number} 版（{status}）")
    sheet.label(row, 5, 6, "审核通过日期")
    sheet.put(row, 7, last, _local(target_set.approved_at))
    sheet.height(row, [])
    row += 1
    if target_set.adjustment_reason or target_set.number > 1:
        reason = target_set.adjustment_reason or ""
        if target_set.adjustment_explanation:
            reason = (
                f"{reason}：{target_set.adjustment_explanation}"
                if reason
                else target_set.adjustment_explanation
            )
        sheet.label(row, 1, 1, "调整原因")
        sheet.put(row, 2, last, reason)
        sheet.height(row, [(reason, _width(2, last))])
        row += 1
    footer = f"导出时间：{_local(utcnow(), '%Y-%m-%d %H:%M')}"
    if exported_by:
        footer += f"　导出人：{exported_by}"
    sheet.put(row + 1, 1, last, footer, font=NOTE_FONT, align=RIGHT, border=False)

    # print setup: A4 landscape, one page wide, the indicator header repeated on every page
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.5
    ws.print_title_rows = f"{header_row}:{header_row}"
    ws.print_area = f"A1:{get_column_letter(last)}{row + 1}"
    ws.oddFooter.center.text = "第 &P 页，共 &N 页"
    return wb
