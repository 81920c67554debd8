"""The sub-report 跟踪监控: each round's budget execution and lines with their warnings (绿/黄/红)
and forecasts, the correction requests (纠偏/约谈/发函) with their answers, and the chart of each
indicator's completion across the rounds (services/monitoring)."""

from __future__ import annotations

from jixiao.platform.core.documents.model import Block, Chart, Facts, Paragraph, Section, Series, Table
from jixiao.services.monitoring import corrections
from jixiao.services.monitoring.excel import annual_value
from jixiao.services.monitoring.models import (
    ACHIEVEMENTS,
    CORRECTION_STATUS_NAMES,
    ROUND_STATUS_NAMES,
    WARNING_NAMES,
    Correction,
    MonitoringLine,
    MonitoringRound,
)
from jixiao.services.monitoring.service import rounds_of
from jixiao.services.projects.models import Project

from .common import Context, money, not_reached, pct, two, when

TITLE = "跟踪监控"
CHART_TITLE = "指标完成率（各监控轮次）"
ENTRY_NAMES = {"request": "下达", "reply": "答复", "again": "再次要求", "close": "关闭"}
LINE_HEADER = [
    "三级指标",
    "年度指标值",
    "期内计划值",
    "实际完成值",
    "完成率",
    "预警",
    "全年预计",
    "偏差原因",
    "纠偏措施",
]


def warning(code: str | None) -> str:
    return WARNING_NAMES.get(code or "", code or "")


def _actual(line: MonitoringLine) -> str:
    if line.achievement:
        band = ACHIEVEMENTS.get(line.achievement, line.achievement)
        return f"{band}（{line.text}）" if (line.text or "").strip() else band
    return line.actual_value or ""


def _forecast(line: MonitoringLine) -> str:
    if line.forecast_value is None and line.forecast_completion is None:
        return line.likelihood or ""
    said = two(line.forecast_value) + (line.target_line.unit or "") if line.forecast_value is not None else ""
    details = [
        d for d in (pct(line.forecast_completion), warning(line.forecast_warning), line.likelihood) if d
    ]
    return f"{said}（{'，'.join(details)}）" if details else said


def _reason(line: MonitoringLine) -> str:
    reason = (line.reason or "").strip()
    if line.reason_category and reason:
        return f"{line.reason_category}：{reason}"
    return line.reason_category or reason


def round_blocks(ctx: Context, project: Project, found: MonitoringRound) -> list[Block]:
    budget_line = (
        f"期内执行 {money(found.budget_executed)}，执行率 {pct(found.execution_rate)}"
        f"（序时进度 {pct(found.time_progress)}，{warning(found.budget_warning)}预警）"
    )
    facts = [
        ("监控期", f"{found.period}（截至 {found.as_of.isoformat()}）"),
        ("状态", ROUND_STATUS_NAMES.get(found.status, found.status)),
        ("目标版本", f"第 {found.target_set.number} 版"),
        ("年初预算数", money(project.budget_amount)),
        ("预算执行", budget_line),
    ]
    if found.forecast_executed is not None:
        facts.append(
            (
                "全年预计执行数",
                f"{money(found.forecast_executed)}（{pct(found.forecast_rate)}，{warning(found.forecast_warning)}）",
            )
        )
    if (found.budget_reason or "").strip():
        facts.append(
            ("执行偏差原因", f"{found.budget_reason.strip()}；纠偏措施：{found.budget_measure or ''}")
        )
    facts.append(("报送", f"{ctx.person(found.reported_by)}，{when(found.reported_at)}"))
    if found.confirmed_by:
        facts.append(("确认", f"{ctx.person(found.confirmed_by)}，{when(found.confirmed_at)}"))
    if found.status == "returned" and found.return_opinion:
        facts.append(("退回意见", found.return_opinion))
    rows = [
        [
            line.target_line.name,
            annual_value(line.target_line),
            line.planned_value or "",
            _actual(line),
            pct(line.completion),
            warning(line.warning),
            _forecast(line),
            _reason(line),
            line.measure or "",
        ]
        for line in found.lines
    ]
    return [
        Paragraph(f"监控期 {found.period}", "emphasis"),
        Facts(facts),
        Table(
            LINE_HEADER,
            rows,
            caption=f"绩效指标执行情况（{found.period}）",
            widths=[2, 1.5, 1.1, 1.3, 1.3, 0.9, 2.2, 1.7, 1.7],
            numeric=[4],
        ),
    ]


def completion_chart(project: Project, rounds: list[MonitoringRound]) -> Chart:
    """Completion (percent) per indicator, a series per round; the green line as a mark."""
    names: list[str] = []
    for found in rounds:
        for line in found.lines:
            if line.target_line.name not in names:
                names.append(line.target_line.name)
    series = []
    for found in rounds:
        by_name = {line.target_line.name: line.completion for line in found.lines}
        values = [None if (value := by_name.get(name)) is None else float(value) for name in names]
        series.append(Series(found.period, values))
    green = project.program.effective_settings["monitoring"].get("completion_green", 90)
    return Chart(CHART_TITLE, "bar", names, series, unit="%", marks=[("绿色预警线", float(green))])


def correction_rows(ctx: Context, found: list[Correction]) -> list[list[str]]:
    rows = []
    for item in sorted(found, key=lambda c: c.id):
        thread = "；".join(
            f"{ENTRY_NAMES.get(e.action, e.action)}（{ctx.person(e.author)}，{when(e.written_at)}）"
            + (f"：{e.text.strip()}" if (e.text or "").strip() else "")
            for e in item.entries
            if e.action != "request"
        )
        rows.append(
            [
                item.monitoring_round.period,
                item.kind,
                item.text,
                item.deadline.isoformat(),
                CORRECTION_STATUS_NAMES.get(item.status, item.status)
                + ("（已逾期）" if item.overdue else ""),
                f"{ctx.person(item.issued_by)}，{when(item.issued_at)}",
                thread or "（尚未答复）",
            ]
        )
    return rows


def build(ctx: Context, project: Project) -> Section:
    missing = not_reached(project, "monitoring")
    if missing is not None:
        return Section(TITLE, 2, [missing])
    rounds = rounds_of(ctx.session, project)
    if not rounds:
        return Section(TITLE, 2, [Paragraph("本阶段已开启，尚未报送监控轮次。", "note")])
    ctx.learn([r.reported_by for r in rounds] + [r.confirmed_by for r in rounds])
    blocks: list[Block] = [
        Paragraph(
            f"共报送监控轮次 {len(rounds)} 个：{'、'.join(r.period for r in rounds)}；"
            f"最近一轮整体预警为{warning(rounds[-1].warning)}。"
        )
    ]
    for found in rounds:
        blocks.extend(round_blocks(ctx, project, found))
    blocks.append(completion_chart(project, rounds))
    found_corrections = corrections.of_project(ctx.session, ctx.actor, project.id, ctx.today)
    blocks.append(Paragraph("纠偏、约谈与发函", "emphasis"))
    blocks.append(
        Table(
            ["监控期", "方式", "要求", "答复期限", "状态", "下达", "答复与处理"],
            correction_rows(ctx, found_corrections),
            widths=[1.3, 0.9, 2.6, 1.5, 1.1, 2, 3.6],
            empty="（未发出纠偏、约谈或发函）",
        )
    )
    return Section(TITLE, 2, blocks)
