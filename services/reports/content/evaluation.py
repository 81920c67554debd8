"""The sub-report 绩效评价: the self-evaluation (自评) with the points of each line, its total and grade
and the chart of the points per level-1 indicator (services/evaluation), then the key evaluation
(重点评价) with its scores per item and dimension and its findings (services/evaluation/key)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from jixiao.platform.core.documents.model import Block, Chart, Facts, Paragraph, Section, Series, Table
from jixiao.platform.core.errors import DomainError
from jixiao.platform.core.xlsx import grouped
from jixiao.services.evaluation import service as self_evaluation
from jixiao.services.evaluation.excel import redistributed
from jixiao.services.evaluation.key import service as key_service
from jixiao.services.evaluation.key.models import DECISIONS
from jixiao.services.evaluation.key.models import STATUS_NAMES as KEY_STATUS_NAMES
from jixiao.services.evaluation.models import ACHIEVEMENTS, STATUS_NAMES, TEXTS, SelfEvaluation
from jixiao.services.evaluation.scoring import ScoringError
from jixiao.services.indicators.models import FRAMEWORK
from jixiao.services.projects.models import Project
from jixiao.services.targets.excel.sheet import DECISION_NAMES
from jixiao.services.targets.models import COMMENT_KEYS, REVIEW_LEVELS

from .common import Context, money, not_reached, pct, stage_status, text_or, two, when

TITLE = "绩效评价"
CHART_TITLE = "各一级指标得分"
BUDGET_GROUP = "预算执行"
LINE_HEADER = [
    "一级指标",
    "二级指标",
    "三级指标",
    "指标值",
    "完成值",
    "完成率",
    "分值",
    "得分",
    "未完成原因分析",
]


def _done(line: dict[str, Any]) -> str:
    if line["value_type"] == "qualitative":
        band = ACHIEVEMENTS.get(line["achievement"] or "", "")
        return f"{band}（{two(line['rate'])}%）" if band and line["rate"] is not None else band
    return line["actual_value"] or ""


def _target(line: dict[str, Any]) -> str:
    value = (line["target_value"] or "").replace(",", "—")
    if line["value_type"] == "qualitative":
        return value
    sign = {">=": "≥", "<=": "≤", "=": "="}.get(line["direction"], "")
    return f"{sign}{value}{line['unit'] or ''}"


def score_chart(project: Project, found: SelfEvaluation, shown: dict[str, Any], target_set: Any) -> Chart:
    """Points earned beside points available: 预算执行, then each level-1 group."""
    result = self_evaluation.compute(project, found, target_set)
    earned: dict[str, Decimal] = {}
    for line in result.lines:
        earned[line.group] = earned.get(line.group, Decimal(0)) + line.earned
    categories = [BUDGET_GROUP, *result.groups]
    available = [float(Decimal(shown["budget"]["available"]))] + [float(v) for v in result.groups.values()]
    got = [float(result.budget_points)] + [float(earned.get(name, Decimal(0))) for name in result.groups]
    rounded = [round(v, 2) for v in got]
    return Chart(
        CHART_TITLE,
        "bar",
        categories,
        [Series("得分", rounded), Series("分值", [round(v, 2) for v in available])],
        unit="分",
    )


def review_rows(ctx: Context, reviews: list[Any]) -> list[list[str]]:
    rows = []
    for review in reviews:
        comments = "；".join(
            f"{label}：{str(review.comments.get(key)).strip()}"
            for key, label in COMMENT_KEYS.items()
            if str((review.comments or {}).get(key) or "").strip()
        )
        rows.append(
            [
                REVIEW_LEVELS.get(review.level, review.level),
                DECISION_NAMES.get(review.decision, review.decision),
                ctx.person(review.reviewer),
                when(review.reviewed_at),
                comments,
            ]
        )
    return rows


def self_blocks(ctx: Context, project: Project) -> list[Block]:
    heading = Paragraph("（一）自评", "emphasis")
    if stage_status(project, "self_evaluation") == "locked":
        return [heading, Paragraph("自评尚未开展（跟踪监控完成后开启）。", "note")]
    found = self_evaluation.find(ctx.session, project)
    if found is None:
        return [heading, Paragraph("自评已开启，尚未填写。", "note")]
    try:
        target_set = self_evaluation.target_set_of(ctx.session, project, found)
        shown = self_evaluation.view(project, found, target_set)
        chart = score_chart(project, found, shown, target_set)
    except (DomainError, ScoringError) as exc:  # a draft's value the scoring cannot read
        return [heading, Paragraph(f"自评无法计分：{exc}", "note")]
    final = found.status == "approved"
    budget = shown["budget"]
    blocks: list[Block] = [
        heading,
        Facts(
            [
                ("自评状态", STATUS_NAMES.get(found.status, found.status)),
                ("目标版本", f"第 {shown['target_version']} 版"),
                ("自评总分", shown["score"] or ""),
                ("自评等级", (shown["grade"] or "") + ("" if final else "（尚未审核通过）")),
                (
                    "提交",
                    f"{ctx.person(found.submitted_by)}，{when(found.submitted_at)}"
                    if found.submitted_by
                    else "—",
                ),
                ("审核通过时间", when(found.approved_at) or "—"),
            ]
        ),
        Table(
            ["预算数", "预算执行数", "预算执行率", "分值", "得分"],
            [
                [
                    money(budget["budget"]),
                    money(budget["executed"]),
                    pct(budget["rate"]),
                    budget["available"] or "",
                    budget["earned"] or "",
                ]
            ],
            caption="预算执行情况",
            numeric=[0, 1, 2, 3, 4],
        ),
    ]
    rows = []
    for level1, children in grouped(shown["lines"], FRAMEWORK, lambda line: line["level2"]):
        for level2, lines in children:
            for line in lines:
                points = line["points"]
                rows.append(
                    [
                        level1,
                        level2,
                        line["name"],
                        _target(line),
                        _done(line),
                        pct(points["completion"]),
                        points["available"] or "",
                        points["earned"] or "",
                        line["shortfall_reason"] or "",
                    ]
                )
    rows.append(
        ["合计", "", "", "", "", "", "100.00", shown["score"] or "", f"自评等级：{shown['grade'] or ''}"]
    )
    blocks.append(
        Table(
            LINE_HEADER,
            rows,
            caption="绩效指标完成情况",
            widths=[0.9, 1.1, 2.2, 1.4, 1.2, 1.2, 1.1, 1.1, 2],
            numeric=[5, 6, 7],
        )
    )
    note = redistributed(project, found, target_set)
    if note:
        blocks.append(Paragraph(note, "note"))
    blocks.append(
        Facts([(label, text_or(shown[name])) for name, label in TEXTS.items() if name != "budget_reason"])
    )
    blocks.append(chart)
    if found.reviews:
        blocks.append(
            Table(
                ["审核环节", "结论", "审核人", "时间", "意见"],
                review_rows(ctx, list(found.reviews)),
                caption="自评审核",
            )
        )
    return blocks


def key_blocks(ctx: Context, project: Project) -> list[Block]:
    heading = Paragraph("（二）重点评价", "emphasis")
    status = stage_status(project, "evaluation")
    if status == "locked":
        return [heading, Paragraph("重点评价尚未开展（自评审核通过后开启）。", "note")]
    found = key_service.find(ctx.session, project)
    if found is None:
        said = "本项目未开展重点评价。" if status == "approved" else "重点评价已开启，第三方机构尚未填写。"
        return [heading, Paragraph(said, "note")]
    if found.status == "skipped":
        return [
            heading,
            Paragraph(
                f"财政决定不开展重点评价：{text_or(found.skip_reason)}（{ctx.person(found.decided_by)}，{when(found.decided_at)}）"
            ),
        ]
    shown = key_service.view(ctx.session, project, found)
    final = found.status == "accepted"
    blocks: list[Block] = [
        heading,
        Facts(
            [
                ("评价状态", KEY_STATUS_NAMES.get(found.status, found.status)),
                ("重点评价总分", shown["score"] or ""),
                ("重点评价等级", (shown["grade"] or "") + ("" if final else "（尚未审定）")),
                ("审定", f"{ctx.person(found.decided_by)}，{when(found.decided_at)}" if final else "—"),
            ]
        ),
        Table(
            ["一级指标", "二级指标", "三级指标", "分值", "得分", "评分依据"],
            [
                [s["dimension"], s["group"], s["item"], s["weight"] or "", s["score"] or "", s["basis"]]
                for s in shown["scores"]
            ],
            caption="重点评价评分表",
            widths=[1, 1.3, 2.2, 1, 1, 3.5],
            numeric=[3, 4],
        ),
        Table(
            ["一级指标", "分值", "得分"],
            [[d["dimension"], d["weight"] or "", d["score"] or ""] for d in shown["dimensions"]]
            + [["合计", "100.00", shown["score"] or ""]],
            caption="各维度得分",
            numeric=[1, 2],
        ),
        Facts(
            [
                ("评价发现（主要问题）", text_or(shown["findings"])),
                ("评价建议", text_or(shown["recommendations"])),
            ]
        ),
    ]
    comparison = shown["comparison"]
    if comparison.get("self_score") is not None:
        blocks.append(
            Paragraph(
                f"与自评比较：重点评价 {comparison['key_score']} 分（{comparison['key_grade']}），"
                f"自评 {comparison['self_score']} 分（{comparison['self_grade']}），相差 {comparison['difference']} 分"
                + ("，差异较大。" if comparison.get("large_gap") else "。")
            )
        )
    if shown["decisions"]:
        blocks.append(
            Table(
                ["决定", "意见", "决定人", "时间"],
                [
                    [
                        DECISIONS.get(d["decision"], d["decision"]),
                        d["opinion"],
                        ctx.person(d["decided_by"]),
                        when(d["decided_at"]),
                    ]
                    for d in shown["decisions"]
                ],
                caption="财政审定",
            )
        )
    return blocks


def build(ctx: Context, project: Project) -> Section:
    missing = not_reached(project, "self_evaluation", "evaluation")
    if missing is not None:
        return Section(TITLE, 2, [missing])
    return Section(TITLE, 2, [*self_blocks(ctx, project), *key_blocks(ctx, project)])
