"""Excel export of one monitoring round in the layout of the Ministry's 项目支出绩效目标执行监控表
(FORMS.md, DESIGN.md §6 stage 3), through the shared export flow (`platform/core/exports.py`) and
the shared look (`platform/core/xlsx.py`). No Flask: the job builds it in `jixiao worker` too.

One sheet 「绩效监控表」, A4 landscape, fitted to the page width, the indicator header repeated:

1. title, the round's period and as_of, 填报单位（盖章） and 金额单位：万元;
2. 项目名称, 主管部门 / 实施单位, 监控期 / 目标版本;
3. 项目资金（万元）: 年初预算数, 调整后预算数 (blank: the round knows no adjusted budget), 期内执行数,
   执行率, 全年预计执行数, 序时进度, 预算预警 (绿色/黄色/红色, also as the cell's fill); for a
   yellow/red budget its 偏差原因 and 纠偏措施, and the explanation of an execution above the budget;
4. 年度总体目标 | 期内执行情况 (the round's figures in words: budget, time progress, warnings);
5. the indicator table, one row per target line grouped by level 1 and level 2 as the 申报表:
   年度指标值 (direction + value + unit), 期内计划值, 期内实际完成值, 完成率, 预警 (with its fill),
   全年预计完成值 (the forecast, its completion and warning), 偏差原因分析 (category + text),
   完成目标可能性, 纠偏措施, 备注 (a qualitative line's progress in words);
6. the signature block: 填报人 and 报送时间, 财政确认 (who and when) or the 退回意见, the status.

Every figure is the one the monitoring service stored for the round (nothing recomputed here)."""

from __future__ import annotations

from decimal import Decimal
from typing import IO

from openpyxl import Workbook
from openpyxl.styles import PatternFill
from sqlalchemy.orm import Session

from jixiao.platform.core import exports
from jixiao.platform.core.actor import Actor
from jixiao.platform.core.authz import authorize
from jixiao.platform.core.db import utcnow
from jixiao.platform.core.jobs import JobInfo
from jixiao.platform.core.xlsx import (
    BOLD_FONT,
    CENTER,
    MONEY_FORMAT,
    Sheet,
    grouped,
    local,
    new_sheet,
    person,
    print_setup,
    wan,
)
from jixiao.services.indicators.models import FRAMEWORK
from jixiao.services.indicators.rules import DIRECTION_LABELS
from jixiao.services.notifications.service import display_names
from jixiao.services.projects.service import get_project
from jixiao.services.targets.models import TargetLine

from . import service
from .models import ACHIEVEMENTS, ROUND_STATUS_NAMES, WARNING_NAMES, MonitoringLine, MonitoringRound

KIND = "monitoring"
EXPORT_JOB = "jixiao.services.monitoring.jobs.export_round"
SHEET_TITLE = "绩效监控表"
TITLE = "项目支出绩效目标执行监控表"
HEADERS = (
    "一级指标",
    "二级指标",
    "三级指标",
    "年度指标值",
    "期内计划值",
    "期内实际完成值",
    "完成率",
    "预警",
    "全年预计完成值",
    "偏差原因分析",
    "完成目标可能性",
    "纠偏措施",
    "备注",
)
WIDTHS = (8, 11, 20, 12, 10, 12, 9, 7, 16, 24, 10, 22, 14)
PERCENT_FORMAT = '0.00"%"'
WARNING_FILLS = {
    "green": PatternFill("solid", fgColor="C6EFCE"),
    "yellow": PatternFill("solid", fgColor="FFEB9C"),
    "red": PatternFill("solid", fgColor="FFC7CE"),
}


# --- the flow ---------------------------------------------------------------------------------


def round_for(session: Session, actor: Actor, project_id: int, round_id: int) -> MonitoringRound:
    """The round (walls: another tenant's project is 404, another project's round 404). Anyone who
    may read the project may export it — the tenants above read upward."""
    found = service.get_round(session, actor, project_id, round_id)
    authorize(actor, "projects.read")
    return found


def start_export(session: Session, actor: Actor, project_id: int, round_id: int) -> str:
    found = round_for(session, actor, project_id, round_id)
    return exports.start(
        actor,
        EXPORT_JOB,
        found.project_id,
        found.id,
        description=f"导出绩效监控表：{found.project.name} {found.period}",
    )


def export_filename(project_name: str, period: str) -> str:
    """`绩效监控表_<项目名>_<期间>.xlsx`."""
    return exports.filename(SHEET_TITLE, project_name, period)


def write_export(
    session: Session,
    actor: Actor,
    project_id: int,
    round_id: int,
    target: IO[bytes],
    progress: exports.ProgressFn = exports.no_progress,
) -> exports.Written:
    found = round_for(session, actor, project_id, round_id)
    progress(20, "读取监控轮次")
    names = display_names(session, [found.reported_by, found.confirmed_by, found.returned_by, actor.username])
    progress(40, "生成监控表")
    wb = build_workbook(found, names=names, exported_by=person(actor.username, names))
    progress(70, "保存文件")
    wb.save(target)
    return exports.Written(
        tenant_code=found.project.owner.code,
        filename=export_filename(found.project.name, found.period),
        result={"project_id": found.project_id, "round_id": found.id, "period": found.period},
    )


def download(
    session: Session, actor: Actor, project_id: int, round_id: int, info: JobInfo
) -> exports.Download:
    """The caller's finished export job of this round (409 while it runs or when it failed, 404
    when the job is not one)."""
    project = get_project(session, actor, project_id)
    authorize(actor, "projects.read")
    result = info.result if isinstance(info.result, dict) else {}
    return exports.finished(
        info,
        kind=KIND,
        match={"project_id": project.id, "round_id": round_id},
        tenant_code=project.owner.code,
        fallback_name=export_filename(project.name, str(result.get("period") or round_id)),
    )


# --- the workbook -----------------------------------------------------------------------------


def annual_value(line: TargetLine) -> str:
    """年度指标值: direction + value + unit (`≥12个`, `3500—4200元/户`); a qualitative value as written."""
    value, unit = (line.target_value or "").strip(), line.unit or ""
    if line.value_type == "qualitative":
        return value
    if line.direction == "range":
        return f"{value.replace(',', '—')}{unit}"
    return f"{DIRECTION_LABELS.get(line.direction, line.direction)}{value}{unit}"


def _percent(value: Decimal | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def _forecast(line: MonitoringLine) -> str:
    if line.forecast_value is None:
        return ""
    said = f"{line.forecast_value:.2f}{line.target_line.unit or ''}"
    details = []
    if line.forecast_completion is not None:
        details.append(f"{line.forecast_completion:.2f}%")
    if line.forecast_warning:
        details.append(WARNING_NAMES.get(line.forecast_warning, line.forecast_warning))
    return f"{said}（{'，'.join(details)}）" if details else said


def _reason(category: str | None, reason: str) -> str:
    reason = (reason or "").strip()
    if category and reason:
        return f"{category}：{reason}"
    return category or reason


def _warning(sheet: Sheet, row: int, first: int, last: int, warning: str | None) -> None:
    sheet.put(
        row,
        first,
        last,
        WARNING_NAMES.get(warning or "", warning or ""),
        align=CENTER,
        fill=WARNING_FILLS.get(warning or ""),
    )


def _situation(found: MonitoringRound) -> str:
    """期内执行情况: the round's stored figures in words."""
    counts = {name: 0 for name in WARNING_NAMES}
    for line in found.lines:
        counts[line.warning] = counts.get(line.warning, 0) + 1
    said = (
        f"截至 {found.as_of.isoformat()}，预算执行 {wan(found.budget_executed)} 万元，执行率 "
        f"{found.execution_rate:.2f}%（序时进度 {found.time_progress:.2f}%，"
        f"{WARNING_NAMES.get(found.budget_warning, found.budget_warning)}预警）；"
        f"绩效指标 {len(found.lines)} 项，其中绿色 {counts['green']} 项、黄色 {counts['yellow']} 项、"
        f"红色 {counts['red']} 项"
    )
    doubtful = [line.target_line.name for line in found.lines if line.forecast_warning in ("yellow", "red")]
    if doubtful:
        said += f"；预计年末未达预警线的指标：{'、'.join(doubtful)}"
    return said + "。"


def build_workbook(found: MonitoringRound, *, names: dict[str, str], exported_by: str = "") -> Workbook:
    project = found.project
    wb, sheet = new_sheet(SHEET_TITLE, WIDTHS)
    ws, last = sheet.ws, sheet.last

    # 1. title; 2. the project
    row = sheet.title(
        TITLE,
        f"（监控期：{found.period}，截至 {found.as_of.isoformat()}）",
        f"填报单位（盖章）：{project.owner.name}",
        "金额单位：万元",
    )
    sheet.label(row, 1, 2, "项目名称")
    sheet.put(row, 3, last, project.name)
    sheet.fit(row, [(project.name, 3, last)])
    row += 1
    sheet.label(row, 1, 2, "主管部门")
    sheet.put(row, 3, 6, project.department)
    sheet.label(row, 7, 8, "实施单位")
    sheet.put(row, 9, last, project.implementing_unit)
    sheet.fit(row, [(project.department, 3, 6), (project.implementing_unit, 9, last)])
    row += 1
    sheet.label(row, 1, 2, "监控期")
    sheet.put(row, 3, 6, f"{found.period}（截至 {found.as_of.isoformat()}）")
    sheet.label(row, 7, 8, "目标版本")
    sheet.put(row, 9, last, f"第 {found.target_set.number} 版")
    sheet.fit(row, [])
    row += 1

    # 3. the budget
    budget_heads = [
        ("年初预算数", 3, 4),
        ("调整后预算数", 5, 6),
        ("期内执行数", 7, 7),
        ("执行率", 8, 9),
        ("全年预计执行数", 10, 10),
        ("序时进度", 11, 12),
        ("预算预警", 13, 13),
    ]
    sheet.label(row, 1, 2, "项目资金（万元）", last_row=row + 1)
    for head, first, end in budget_heads:
        sheet.label(row, first, end, head)
    sheet.fit(row, [(head, first, end) for head, first, end in budget_heads])
    row += 1
    sheet.put(row, 3, 4, wan(project.budget_amount), align=CENTER, number_format=MONEY_FORMAT)
    sheet.put(row, 5, 6, None, align=CENTER)
    sheet.put(row, 7, 7, wan(found.budget_executed), align=CENTER, number_format=MONEY_FORMAT)
    sheet.put(row, 8, 9, _percent(found.execution_rate), align=CENTER, number_format=PERCENT_FORMAT)
    sheet.put(row, 10, 10, wan(found.forecast_executed), align=CENTER, number_format=MONEY_FORMAT)
    sheet.put(row, 11, 12, _percent(found.time_progress), align=CENTER, number_format=PERCENT_FORMAT)
    _warning(sheet, row, 13, 13, found.budget_warning)
    sheet.fit(row, [])
    row += 1
    if found.budget_warning in ("yellow", "red") or found.budget_reason or found.budget_measure:
        sheet.label(row, 1, 2, "预算执行偏差原因")
        sheet.put(row, 3, 7, found.budget_reason)
        sheet.label(row, 8, 9, "纠偏措施")
        sheet.put(row, 10, last, found.budget_measure)
        sheet.fit(row, [(found.budget_reason, 3, 7), (found.budget_measure, 10, last)])
        row += 1
    if (found.budget_explanation or "").strip():
        sheet.label(row, 1, 2, "超预算执行说明")
        sheet.put(row, 3, last, found.budget_explanation)
        sheet.fit(row, [(found.budget_explanation, 3, last)])
        row += 1

    # 4. the goal and the period's execution
    goal, situation = found.target_set.overall_goal or "", _situation(found)
    sheet.label(row, 1, 6, "年度总体目标")
    sheet.label(row, 7, last, "期内执行情况")
    sheet.fit(row, [])
    row += 1
    sheet.put(row, 1, 6, goal)
    sheet.put(row, 7, last, situation)
    sheet.fit(row, [(goal, 1, 6), (situation, 7, last)], minimum=40)
    row += 1

    # 5. the indicator table
    sheet.label(row, 1, last, "绩效指标")
    ws.row_dimensions[row].height = 22
    row += 1
    header_row = row
    sheet.headers(row, HEADERS, minimum=30)
    row += 1

    def write(at: int, line: MonitoringLine) -> None:
        target = line.target_line
        qualitative = target.value_type == "qualitative"
        actual = ACHIEVEMENTS.get(line.achievement or "", "") if qualitative else line.actual_value
        reason = _reason(line.reason_category, line.reason)
        forecast = _forecast(line)
        note = line.text if qualitative else ""
        sheet.put(at, 3, 3, target.name)
        sheet.put(at, 4, 4, annual_value(target), align=CENTER)
        sheet.put(at, 5, 5, "" if qualitative else line.planned_value, align=CENTER)
        sheet.put(at, 6, 6, actual or "", align=CENTER)
        sheet.put(at, 7, 7, _percent(line.completion), align=CENTER, number_format=PERCENT_FORMAT)
        _warning(sheet, at, 8, 8, line.warning)
        sheet.put(at, 9, 9, forecast, align=CENTER)
        sheet.put(at, 10, 10, reason)
        sheet.put(at, 11, 11, line.likelihood or "", align=CENTER)
        sheet.put(at, 12, 12, line.measure or "")
        sheet.put(at, 13, 13, note)
        sheet.fit(
            at,
            [(target.name, 3, 3), (forecast, 9, 9), (reason, 10, 10), (line.measure, 12, 12), (note, 13, 13)],
        )

    row = sheet.grouped_rows(
        row, grouped(found.lines, FRAMEWORK, lambda line: line.target_line.level2), write
    )
    if row == header_row + 1:
        sheet.put(row, 1, last, "（本轮无绩效指标）", align=CENTER)
        row += 1

    # 6. the signature block
    row += 1
    sheet.label(row, 1, 2, "填报人")
    sheet.put(row, 3, 6, person(found.reported_by, names))
    sheet.label(row, 7, 8, "报送时间")
    sheet.put(row, 9, last, local(found.reported_at, "%Y-%m-%d %H:%M"))
    sheet.fit(row, [])
    row += 1
    if found.status == "returned":
        opinion = found.return_opinion or ""
        sheet.label(row, 1, 2, "退回意见")
        sheet.put(row, 3, 6, opinion)
        sheet.label(row, 7, 8, "财政退回")
        sheet.put(row, 9, last, f"{person(found.returned_by, names)}　{local(found.returned_at)}")
        sheet.fit(row, [(opinion, 3, 6)], minimum=30)
    else:
        sheet.label(row, 1, 2, "财政确认")
        sheet.put(row, 3, 6, person(found.confirmed_by, names) if found.confirmed_by else "（待确认）")
        sheet.label(row, 7, 8, "确认时间")
        sheet.put(row, 9, last, local(found.confirmed_at, "%Y-%m-%d %H:%M"))
        sheet.fit(row, [], minimum=30)
    row += 1
    sheet.label(row, 1, 2, "状态")
    sheet.put(row, 3, last, ROUND_STATUS_NAMES.get(found.status, found.status), font=BOLD_FONT)
    sheet.fit(row, [])
    row += 1
    sheet.footer(row + 1, utcnow(), exported_by)
    print_setup(ws, header_rows=(header_row, header_row), last_column=last, last_row=row + 1)
    return wb
