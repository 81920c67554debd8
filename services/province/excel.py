"""Excel export of the province dashboard (汇总看板) through the shared export flow
(`platform/core/exports.py`) and the shared look (`platform/core/xlsx.py`). No Flask: the job builds it
in `jixiao worker` too.

One sheet 「汇总」, A4 landscape, fitted to the page width, the header repeated: the title, the program
and the filters; then per city a header row, its tenants' projects (the tenant's code and name merged
over its projects, its pilot report's state beside them) and the city's 小计 row; at the end the
合计 row of the whole view. The same columns and figures as the page (`dashboard.build`)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.styles import PatternFill
from sqlalchemy.orm import Session

from jixiao.platform.core import exports
from jixiao.platform.core.actor import Actor
from jixiao.platform.core.authz import authorize
from jixiao.platform.core.db import utcnow
from jixiao.platform.core.errors import NotFound
from jixiao.platform.core.jobs import JobInfo
from jixiao.platform.core.xlsx import (
    BOLD_FONT,
    CENTER,
    LABEL_FILL,
    MONEY_FORMAT,
    Sheet,
    new_sheet,
    person,
    print_setup,
    wan,
)
from jixiao.services.notifications.service import display_names
from jixiao.services.programs.models import STAGE_NAMES
from jixiao.services.programs.service import get_program
from jixiao.tenants.models import Tenant

from . import dashboard
from .dashboard import GRADES, Dashboard, Filters, ProjectRow, TenantRow, Totals

KIND = "province_dashboard"
EXPORT_JOB = "jixiao.services.province.jobs.export_dashboard"
SHEET_TITLE = "汇总"
TITLE = "预算绩效一体化管理试点汇总表"
HEADERS = (
    "地区代码",
    "地区",
    "项目",
    "阶段",
    "逾期",
    "绿色预警",
    "黄色预警",
    "红色预警",
    "预测预警（黄/红）",
    "自评等级",
    "重点评价等级",
    "预算（万元）",
    "预算执行率",
    "序时进度",
    "未关闭纠偏",
    "未销号整改",
    "试点报告",
)
WIDTHS = (9, 12, 26, 9, 11, 7, 7, 7, 9, 11, 11, 11, 9, 9, 7, 7, 11)
PERCENT_FORMAT = '0.00"%"'
CITY_FILL = PatternFill("solid", fgColor="DCE6F1")
TOTAL_FILL = PatternFill("solid", fgColor="FFF2CC")
WARNING_FILLS = {
    "green": PatternFill("solid", fgColor="C6EFCE"),
    "yellow": PatternFill("solid", fgColor="FFEB9C"),
    "red": PatternFill("solid", fgColor="FFC7CE"),
}
FILTER_NAMES = {"city": "地区", "stage": "阶段", "grade": "等级", "overdue": "逾期", "warning": "预警"}
COLOUR_NAMES = {"green": "绿色", "yellow": "黄色", "red": "红色"}


# --- the flow ---------------------------------------------------------------------------------


def filters_of(raw: dict[str, Any]) -> Filters:
    return Filters(
        city=raw.get("city"),
        stage=raw.get("stage"),
        grade=raw.get("grade"),
        overdue=raw.get("overdue"),
        warning=raw.get("warning"),
    )


def root_code(session: Session, actor: Actor) -> str:
    """The caller's tenant: the file is stored under its prefix."""
    root = session.get(Tenant, actor.tenant_id) if actor.tenant_id else None
    if root is None:
        raise NotFound("没有本单位")
    return root.code


def start_export(session: Session, actor: Actor, program_id: int, filters: Filters) -> str:
    """Checks what the page checks (403 for a county, 404 for a program out of sight, 422 for a bad
    filter) before the job exists, then enqueues it."""
    authorize(actor, "province.dashboard")
    filters.check()
    program = get_program(session, actor, program_id)
    root_code(session, actor)
    raw = {k: v for k, v in filters.__dict__.items() if v is not None}
    return exports.start(actor, EXPORT_JOB, program.id, raw, description=f"导出试点汇总表：{program.name}")


def export_filename(program_name: str, root_name: str) -> str:
    """`试点汇总表_<试点名>_<地区>.xlsx`."""
    return exports.filename("试点汇总表", program_name, root_name)


def write_export(
    session: Session,
    actor: Actor,
    program_id: int,
    raw: dict[str, Any],
    today: date,
    target: IO[bytes],
    progress: exports.ProgressFn = exports.no_progress,
) -> exports.Written:
    found = dashboard.build(session, actor, program_id, filters_of(raw), today)
    progress(40, "生成汇总表")
    names = display_names(session, [actor.username])
    wb = build_workbook(found, today, exported_by=person(actor.username, names))
    progress(70, "保存文件")
    wb.save(target)
    return exports.Written(
        tenant_code=found.root.code,
        filename=export_filename(found.program.name, found.root.name),
        result={"program_id": found.program.id, "filters": raw},
    )


def download(session: Session, actor: Actor, info: JobInfo) -> exports.Download:
    """The caller's finished export job of the dashboard (409 while it runs or when it failed, 404
    when the job is not one)."""
    authorize(actor, "province.dashboard")
    return exports.finished(
        info,
        kind=KIND,
        match={},
        tenant_code=root_code(session, actor),
        fallback_name="试点汇总表.xlsx",
    )


# --- the workbook -----------------------------------------------------------------------------


def _percent(value: Decimal | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def grade_counts(counts: dict[str, int]) -> str:
    """`优1 良2` (the grades with a count), or — ."""
    said = " ".join(f"{g}{counts.get(g, 0)}" for g in GRADES if counts.get(g))
    return said or "—"


def report_counts(totals: Totals) -> str:
    accepted = totals.reports.get("accepted", 0)
    return f"已验收 {accepted}/{totals.tenants}"


def filters_said(found: Dashboard) -> str:
    parts = []
    for name, value in found.filters.items():
        if name == "stage":
            value = "已办结" if value == "done" else STAGE_NAMES.get(value, value)
        elif name == "overdue":
            value = "是" if value else "否"
        elif name == "warning":
            value = COLOUR_NAMES.get(value, value)
        parts.append(f"{FILTER_NAMES.get(name, name)}：{value}")
    return "，".join(parts)


def _project(sheet: Sheet, row: int, p: ProjectRow) -> None:
    overdue = "、".join(STAGE_NAMES.get(s, s) for s in p.overdue)
    sheet.put(row, 3, 3, p.name)
    sheet.put(row, 4, 4, p.stage_name, align=CENTER)
    sheet.put(row, 5, 5, overdue, align=CENTER, fill=WARNING_FILLS["red"] if overdue else None)
    for column, colour in ((6, "green"), (7, "yellow"), (8, "red")):
        count = p.warnings[colour]
        sheet.put(row, column, column, count, align=CENTER, fill=WARNING_FILLS[colour] if count else None)
    forecast = p.forecast_warnings
    sheet.put(row, 9, 9, f"{forecast['yellow']}/{forecast['red']}", align=CENTER)
    sheet.put(row, 10, 10, p.grade or "", align=CENTER)
    sheet.put(row, 11, 11, p.key_evaluation_grade or "", align=CENTER)
    sheet.put(row, 12, 12, wan(p.budget), align=CENTER, number_format=MONEY_FORMAT)
    sheet.put(row, 13, 13, _percent(p.budget_execution_rate), align=CENTER, number_format=PERCENT_FORMAT)
    sheet.put(row, 14, 14, _percent(p.time_progress), align=CENTER, number_format=PERCENT_FORMAT)
    sheet.put(row, 15, 15, p.open_corrections, align=CENTER)
    sheet.put(row, 16, 16, p.open_rectifications, align=CENTER)
    sheet.fit(row, [(p.name, 3, 3), (overdue, 5, 5)])


def _tenant(sheet: Sheet, row: int, t: TenantRow) -> int:
    top = row
    if not t.projects:
        sheet.put(row, 3, 16, "（无项目）", align=CENTER)
        sheet.fit(row, [])
        row += 1
    for p in t.projects:
        _project(sheet, row, p)
        row += 1
    sheet.put(top, 1, 1, t.code, align=CENTER, last_row=row - 1)
    sheet.put(top, 2, 2, t.name, align=CENTER, last_row=row - 1)
    report = t.report_status_name + (f"（第 {t.report_version} 版）" if t.report_version else "")
    sheet.put(top, 17, 17, report, align=CENTER, last_row=row - 1)
    return row


def _totals(sheet: Sheet, row: int, label: str, totals: Totals, fill: PatternFill) -> None:
    def put(first: int, last: int, value: Any, number_format: str | None = None) -> None:
        sheet.put(
            row, first, last, value, font=BOLD_FONT, align=CENTER, fill=fill, number_format=number_format
        )

    put(1, 2, label)
    put(3, 3, f"{totals.tenants} 个地区 · {totals.projects} 个项目")
    put(4, 4, "")
    put(5, 5, f"逾期 {totals.overdue}")
    put(6, 6, totals.warnings["green"])
    put(7, 7, totals.warnings["yellow"])
    put(8, 8, totals.warnings["red"])
    put(9, 9, f"{totals.forecast_warnings['yellow']}/{totals.forecast_warnings['red']}")
    put(10, 10, grade_counts(totals.grades))
    put(11, 11, grade_counts(totals.key_evaluation_grades))
    put(12, 12, wan(totals.budget), MONEY_FORMAT)
    put(13, 13, _percent(totals.budget_execution_rate), PERCENT_FORMAT)
    put(14, 14, "")
    put(15, 15, totals.open_corrections)
    put(16, 16, totals.open_rectifications)
    put(17, 17, report_counts(totals))
    sheet.fit(row, [(label, 1, 2)], minimum=24)


def build_workbook(found: Dashboard, today: date, exported_by: str = "") -> Workbook:
    wb, sheet = new_sheet(SHEET_TITLE, WIDTHS)
    ws, last = sheet.ws, sheet.last
    said = filters_said(found)
    row = sheet.title(
        TITLE,
        f"（试点：{found.program.name}，截至 {today.isoformat()}{'；筛选 ' + said if said else ''}）",
        f"汇总单位：{found.root.name}（{found.root.code}）",
        "金额单位：万元",
    )
    header_row = row
    sheet.headers(row, HEADERS, minimum=30)
    row += 1
    for city in found.cities:
        sheet.put(row, 1, last, f"{city.name}（{city.code}）", font=BOLD_FONT, fill=LABEL_FILL)
        sheet.fit(row, [])
        row += 1
        for t in city.tenants:
            row = _tenant(sheet, row, t)
        _totals(sheet, row, f"小计：{city.name}", city.totals, CITY_FILL)
        row += 1
    if not found.cities:
        sheet.put(row, 1, last, "（没有符合条件的地区）", align=CENTER)
        row += 1
    _totals(sheet, row, f"合计：{found.root.name}", found.totals, TOTAL_FILL)
    row += 1
    sheet.footer(row + 1, utcnow(), exported_by)
    ws.freeze_panes = f"D{header_row + 1}"
    print_setup(ws, header_rows=(header_row, header_row), last_column=last, last_row=row + 1)
    return wb
