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
text (exactly as entered). The look and the writer are shared (`platform/core/xlsx.py`); the review
rows (`review_rows`) serve the 自评表 too, whose reviews go through the same chain.
`__init__.py` (the package `excel`) chooses the version, runs it as a job and serves the file."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Protocol

from openpyxl import Workbook

from jixiao.platform.core import messages  # noqa: F401 - Chinese defaults before any field is built
from jixiao.platform.core.db import utcnow
from jixiao.platform.core.xlsx import (
    BOLD_FONT,
    CENTER,
    LEFT,
    MONEY_FORMAT,
    NUMBER_FORMAT,
    Sheet,
    grouped,
    local,
    new_sheet,
    person,
    print_setup,
    years,
)
from jixiao.services.indicators.models import FRAMEWORK
from jixiao.services.indicators.rules import DIRECTION_LABELS
from jixiao.services.projects.models import Project

from ..models import COMMENT_KEYS, REVIEW_LEVELS, TargetSet

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
STATUS_NAMES = {
    "draft": "填报中",
    "submitted": "审核中",
    "returned": "已退回",
    "approved": "已审核通过",
    "superseded": "已被调整替代",
}
DECISION_NAMES = {"approve": "通过", "return": "退回"}

__all__ = ["SHEET_TITLE", "build_workbook", "person", "review_rows"]


class Review(Protocol):
    """A review of the targets' chain (targets, self-evaluation)."""

    id: Any
    level: str
    decision: str
    comments: dict[str, str]
    reviewer: str
    reviewed_at: datetime


def latest_reviews(reviews: Iterable[Review], since: datetime | None) -> dict[str, Review]:
    """Per level, the review that stands: the newest one of the current submission (`since`)."""
    result: dict[str, Review] = {}
    for review in sorted(reviews, key=lambda item: item.id or 0):
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


def opinion(review: Review) -> str:
    parts = [f"审核结论：{DECISION_NAMES.get(review.decision, review.decision)}"]
    for key, title in COMMENT_KEYS.items():
        content = str((review.comments or {}).get(key) or "").strip()
        if content:
            parts.append(f"{title}：{content}")
    return "；".join(parts)


def review_rows(
    sheet: Sheet, row: int, reviews: Iterable[Review], since: datetime | None, names: Mapping[str, str]
) -> int:
    """The 审核意见 rows of the signature block (label, level, opinion over columns 3–5, 审核人 in
    6, the reviewer over 7–8, the date from 9 to the sheet's last column): 初审, 复核 and 联审 when
    there is one; answers the next row."""
    standing = latest_reviews(reviews, since)
    levels = [level for level in REVIEW_LEVELS if level in standing or level != "joint"]
    sheet.label(row, 1, 1, "审核意见", last_row=row + len(levels) - 1)
    for level in levels:
        review = standing.get(level)
        said = opinion(review) if review else "（未审核）"
        sheet.label(row, 2, 2, REVIEW_LEVELS[level])
        sheet.put(row, 3, 5, said)
        sheet.label(row, 6, 6, "审核人")
        sheet.put(row, 7, 8, person(review.reviewer, names) if review else "")
        sheet.put(row, 9, sheet.last, f"日期：{local(review.reviewed_at)}" if review else "日期：")
        sheet.fit(row, [(said, 3, 5)], minimum=30)
        row += 1
    return row


def build_workbook(
    project: Project, target_set: TargetSet, *, names: dict[str, str], exported_by: str = ""
) -> Workbook:
    wb, sheet = new_sheet(SHEET_TITLE, WIDTHS)
    ws, last = sheet.ws, sheet.last

    # 1. title
    row = sheet.title(
        TITLE, f"（{project.start_year} 年度）", f"填报单位（盖章）：{project.owner.name}", "金额单位：元"
    )

    # 2. the project block
    sheet.label(row, 1, 2, "项目名称")
    sheet.put(row, 3, last, project.name)
    sheet.fit(row, [(project.name, 3, last)])
    row += 1
    sheet.label(row, 1, 2, "主管部门")
    sheet.put(row, 3, 4, project.department)
    sheet.label(row, 5, 6, "实施单位")
    sheet.put(row, 7, last, project.implementing_unit)
    sheet.fit(row, [(project.department, 3, 4), (project.implementing_unit, 7, last)])
    row += 1
    sheet.label(row, 1, 2, "项目类别")
    sheet.put(row, 3, 4, project.project_class)
    sheet.label(row, 5, 6, "实施年度")
    sheet.put(row, 7, last, years(project.start_year, project.end_year))
    sheet.fit(row, [])
    row += 1
    budget = Decimal(project.budget_amount).quantize(Decimal("0.01"))
    sheet.label(row, 1, 2, "项目资金（元）", last_row=row + 1)
    sheet.label(row, 3, 4, "年度资金总额")
    sheet.put(row, 5, last, budget, number_format=MONEY_FORMAT, align=LEFT)
    sheet.fit(row, [])
    sheet.label(row + 1, 3, 4, "其中：财政拨款")
    sheet.put(row + 1, 5, 6, budget, number_format=MONEY_FORMAT, align=LEFT)
    sheet.label(row + 1, 7, 7, "资金来源")
    sheet.put(row + 1, 8, last, project.fund_source)
    sheet.fit(row + 1, [])
    row += 2

    # 3. the overall goal
    goals = [("年度目标", target_set.overall_goal or "")]
    if (target_set.midterm_goal or "").strip():
        goals.append(("中长期目标", target_set.midterm_goal))
    sheet.label(row, 1, 1, "总体目标", last_row=row + len(goals) - 1)
    for n, (title, goal) in enumerate(goals):
        sheet.label(row + n, 2, 2, title)
        sheet.put(row + n, 3, last, goal)
        sheet.fit(row + n, [(goal, 3, last)], minimum=40)
    row += len(goals)

    # 4. the indicator table
    sheet.label(row, 1, last, "绩效指标")
    ws.row_dimensions[row].height = 22
    row += 1
    header_row = row
    sheet.headers(row, HEADERS)
    row += 1
    total = Decimal("0.00")

    def write(at: int, line: Any) -> None:
        nonlocal total
        weight = None if line.weight is None else Decimal(line.weight).quantize(Decimal("0.01"))
        if weight is not None:
            total += weight
        sheet.put(at, 3, 3, line.name)
        sheet.put(at, 4, 4, DIRECTION_LABELS.get(line.direction, line.direction), align=CENTER)
        sheet.put(at, 5, 5, line.target_value or "", align=CENTER)
        sheet.put(at, 6, 6, line.unit or "", align=CENTER)
        sheet.put(at, 7, 7, weight, align=CENTER, number_format=NUMBER_FORMAT)
        sheet.put(at, 8, 8, line.value_basis or "", align=CENTER)
        sheet.put(at, 9, 9, line.note or "")
        sheet.fit(
            at,
            [
                (line.name, 3, 3),
                (line.target_value or "", 5, 5),
                (line.value_basis or "", 8, 8),
                (line.note or "", 9, 9),
            ],
        )

    lines = sorted(target_set.lines, key=lambda item: item.position)
    row = sheet.grouped_rows(row, grouped(lines, FRAMEWORK, lambda line: line.level2), write)
    if row == header_row + 1:
        sheet.put(row, 1, last, "（未填报绩效指标）", align=CENTER)
        row += 1
    sheet.label(row, 1, 6, "合计")
    sheet.put(row, 7, 7, total, font=BOLD_FONT, align=CENTER, number_format=NUMBER_FORMAT)
    sheet.put(row, 8, last, "")
    ws.row_dimensions[row].height = 22
    row += 1

    # 5. the signature block
    row += 1
    sheet.label(row, 1, 1, "填报人")
    sheet.put(row, 2, 4, person(target_set.submitted_by, names))
    sheet.label(row, 5, 6, "提交日期")
    sheet.put(row, 7, last, local(target_set.submitted_at))
    sheet.fit(row, [])
    row += 1
    row = review_rows(sheet, row, target_set.reviews, target_set.submitted_at, names)
    status = STATUS_NAMES.get(target_set.status, target_set.status)
    sheet.label(row, 1, 1, "版本")
    sheet.put(row, 2, 4, f"第 {target_set.number} 版（{status}）")
    sheet.label(row, 5, 6, "审核通过日期")
    sheet.put(row, 7, last, local(target_set.approved_at))
    sheet.fit(row, [])
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
        sheet.fit(row, [(reason, 2, last)])
        row += 1
    sheet.footer(row + 1, utcnow(), exported_by)

    # print setup: A4 landscape, one page wide, the indicator header repeated on every page
    print_setup(ws, header_rows=(header_row, header_row), last_column=last, last_row=row + 1)
    return wb
