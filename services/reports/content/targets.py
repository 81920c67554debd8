"""The sub-report 目标管理: the targets in force (the indicator table of the 申报表), the review trail
of every version (submissions, 初审 / 复核 / 联审 with who, when and the opinion) and the adjustments
(services/targets)."""

from __future__ import annotations

from datetime import UTC, datetime

from jixiao.platform.core.documents.model import Block, Facts, Paragraph, Section, Table
from jixiao.platform.core.xlsx import grouped
from jixiao.services.indicators.models import FRAMEWORK
from jixiao.services.indicators.rules import DIRECTION_LABELS
from jixiao.services.projects.models import Project
from jixiao.services.targets.excel.sheet import DECISION_NAMES, STATUS_NAMES, opinion
from jixiao.services.targets.models import REVIEW_LEVELS, TargetLine, TargetSet
from jixiao.services.targets.service import sets_of

from .common import Context, not_reached, text_or, two, when

TITLE = "目标管理"
INDICATOR_HEADER = [
    "一级指标",
    "二级指标",
    "三级指标",
    "指标方向",
    "指标值",
    "计量单位",
    "权重",
    "指标值确定依据",
]


def in_force(sets: list[TargetSet]) -> TargetSet | None:
    """The approved version in force (the newest approved one), else None."""
    return next((s for s in sets if s.status == "approved"), None)


def indicator_rows(target_set: TargetSet) -> list[list[str]]:
    rows = []
    for level1, children in grouped(target_set.lines, FRAMEWORK, lambda line: line.level2):
        for level2, lines in children:
            for line in lines:
                rows.append(_row(level1, level2, line))
    return rows


def _row(level1: str, level2: str, line: TargetLine) -> list[str]:
    qualitative = line.value_type == "qualitative"
    return [
        level1,
        level2,
        line.name,
        "定性" if qualitative else DIRECTION_LABELS.get(line.direction, line.direction),
        (line.target_value or "").replace(",", "—") if line.direction == "range" else line.target_value or "",
        line.unit or "",
        two(line.weight),
        line.value_basis or "",
    ]


def indicator_table(target_set: TargetSet, caption: str) -> Table:
    return Table(
        INDICATOR_HEADER,
        indicator_rows(target_set),
        caption=caption,
        widths=[1.2, 1.4, 3, 1, 1.4, 1, 1, 1.6],
        numeric=[6],
    )


def _moment(value: datetime | None) -> datetime:
    if value is None:
        return datetime.min.replace(tzinfo=UTC)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def trail_rows(ctx: Context, sets: list[TargetSet]) -> list[list[str]]:
    """提交 and every review of every version, oldest first."""
    found: list[tuple[datetime, int, list[str]]] = []
    for target_set in sets:
        version = f"第 {target_set.number} 版"
        if target_set.submitted_by:
            found.append(
                (
                    _moment(target_set.submitted_at),
                    0,
                    [
                        version,
                        "提交",
                        "—",
                        ctx.person(target_set.submitted_by),
                        when(target_set.submitted_at),
                        "",
                    ],
                )
            )
        for review in target_set.reviews:
            comments = "；".join(opinion(review).split("；")[1:])
            found.append(
                (
                    _moment(review.reviewed_at),
                    1,
                    [
                        version,
                        REVIEW_LEVELS.get(review.level, review.level),
                        DECISION_NAMES.get(review.decision, review.decision),
                        ctx.person(review.reviewer),
                        when(review.reviewed_at),
                        comments,
                    ],
                )
            )
    found.sort(key=lambda item: (item[0], item[1]))
    return [row for _, _, row in found]


def build(ctx: Context, project: Project) -> Section:
    missing = not_reached(project, "targets")
    if missing is not None:
        return Section(TITLE, 2, [missing])
    sets = sets_of(ctx.session, project)  # newest first
    if not sets:
        return Section(TITLE, 2, [Paragraph("本阶段已开启，尚未填报绩效目标。", "note")])
    ctx.learn([s.submitted_by for s in sets] + [r.reviewer for s in sets for r in s.reviews])
    shown = in_force(sets)
    blocks: list[Block] = []
    if shown is None:
        shown = sets[0]
        blocks.append(
            Paragraph(
                f"绩效目标尚未审核通过（第 {shown.number} 版{STATUS_NAMES.get(shown.status, shown.status)}），"
                "以下为当前填报内容。",
                "note",
            )
        )
    blocks.append(
        Facts(
            [
                ("目标版本", f"第 {shown.number} 版（{STATUS_NAMES.get(shown.status, shown.status)}）"),
                ("审核通过时间", when(shown.approved_at) or "—"),
                ("年度目标", text_or(shown.overall_goal)),
                *([("中长期目标", shown.midterm_goal.strip())] if (shown.midterm_goal or "").strip() else []),
            ]
        )
    )
    blocks.append(indicator_table(shown, f"绩效指标（第 {shown.number} 版）"))
    blocks.append(Paragraph("审核过程", "emphasis"))
    blocks.append(
        Table(
            ["版本", "环节", "结论", "人员", "时间", "意见"],
            trail_rows(ctx, sets),
            widths=[1, 1, 1, 2, 1.8, 4],
            empty="（尚未提交审核）",
        )
    )
    adjustments = [s for s in reversed(sets) if s.number > 1]
    blocks.append(Paragraph("目标调整", "emphasis"))
    blocks.append(
        Table(
            ["版本", "调整原因", "调整说明", "状态", "通过时间"],
            [
                [
                    f"第 {s.number} 版",
                    s.adjustment_reason or "",
                    s.adjustment_explanation or "",
                    STATUS_NAMES.get(s.status, s.status),
                    when(s.approved_at),
                ]
                for s in adjustments
            ],
            widths=[1, 1.2, 5, 1.4, 1.8],
            empty="（未调整绩效目标）",
        )
    )
    return Section(TITLE, 2, blocks)
