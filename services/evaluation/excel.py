"""Excel export of a project's self-evaluation in the layout of the Ministry's 项目支出绩效自评表
(FORMS.md, DESIGN.md §6 stage 4), through the shared export flow (`platform/core/exports.py`) and
the shared look (`platform/core/xlsx.py`). No Flask: the job builds it in `jixiao worker` too.

One sheet 「绩效自评表」, A4 landscape, fitted to the page width, the indicator header repeated:

1. title, 自评年度, 填报单位（盖章）, 金额单位：万元;
2. 项目名称, 主管部门 / 实施单位（盖章）, 自评年度 / 状态;
3. 项目年度目标 | 年度目标完成情况 (the summary);
4. 预算执行情况（10 分）: 总额 — 年初预算数, 调整后预算数, 预算执行数, 预算执行率, 分值, 得分, 原因 —
   and the rows 财政资金, 财政专户管理资金, 单位资金, 其他资金 left for the official to fill in;
5. 绩效指标（90 分）, one row per target line grouped by level 1 and level 2: 指标性质, 指标值,
   度量单位, 完成值, 分值, 得分, 未完成原因分析; a note when a level-1 group has no lines and its
   points went to the others;
6. 总分, 自评等级; 评价结论, 存在问题, 改进措施;
7. the signature block: 项目负责人, 财务负责人 (to sign), 填报人 and 提交日期, the 审核意见 of 初审 and
   复核 (as the 申报表: `targets.excel.sheet.review_rows`).

Every point is the one the evaluation service computed (`service.get` / `service.compute`)."""

from __future__ import annotations

from decimal import Decimal
from typing import IO, Any

from openpyxl import Workbook
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
    NOTE_FONT,
    NUMBER_FORMAT,
    cents,
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
from jixiao.services.projects.models import Project
from jixiao.services.projects.service import get_project
from jixiao.services.targets.excel.sheet import review_rows
from jixiao.services.targets.models import TargetSet

from . import scoring, service
from .models import ACHIEVEMENTS, STATUS_NAMES, SelfEvaluation

KIND = "self_evaluation"
EXPORT_JOB = "jixiao.services.evaluation.jobs.export_self_evaluation"
SHEET_TITLE = "绩效自评表"
TITLE = "项目支出绩效自评表"
HEADERS = (
    "一级指标",
    "二级指标",
    "三级指标",
    "指标性质",
    "指标值",
    "度量单位",
    "完成值",
    "分值",
    "得分",
    "未完成原因分析",
)
WIDTHS = (9, 12, 24, 9, 13, 10, 14, 9, 9, 32)
PERCENT_FORMAT = '0.00"%"'
FUNDS = ("财政资金", "财政专户管理资金", "单位资金", "其他资金")


# --- the flow ---------------------------------------------------------------------------------


def evaluation_for(session: Session, actor: Actor, project_id: int) -> tuple[Project, dict[str, Any]]:
    """The project (walls) and its self-evaluation as the service shows it (409 until monitoring
    is complete). Anyone who may read the project may export it."""
    project = get_project(session, actor, project_id)
    return project, service.get(session, actor, project_id)


def start_export(session: Session, actor: Actor, project_id: int) -> str:
    project, _ = evaluation_for(session, actor, project_id)
    return exports.start(actor, EXPORT_JOB, project.id, description=f"导出绩效自评表：{project.name}")


def export_filename(project_name: str) -> str:
    """`绩效自评表_<项目名>.xlsx`."""
    return exports.filename(SHEET_TITLE, project_name)


def redistributed(project: Project, evaluation: SelfEvaluation, target_set: TargetSet) -> str:
    """The note the table carries when a level-1 group has no lines: whose points went where
    (the groups' points as `service.compute` shares them); empty otherwise."""
    result = service.compute(project, evaluation, target_set)
    settings = {**scoring.DEFAULTS, **project.program.effective_settings.get("self_evaluation", {})}
    empty = [name for name in settings["indicator_points"] if name not in result.groups]
    if not empty or not result.groups:
        return ""
    gave = "、".join(
        f"「{name}」{cents(scoring.number(settings['indicator_points'][name]))} 分" for name in empty
    )
    now = "、".join(f"{name} {cents(points)} 分" for name, points in result.groups.items())
    return f"注：本项目无{gave}的指标，其分值按比例分配给其他一级指标（调整后：{now}）。"


def write_export(
    session: Session,
    actor: Actor,
    project_id: int,
    target: IO[bytes],
    progress: exports.ProgressFn = exports.no_progress,
) -> exports.Written:
    project, shown = evaluation_for(session, actor, project_id)
    progress(20, "读取自评与评分")
    evaluation, target_set = service.current(session, project)
    note = redistributed(project, evaluation, target_set)
    people = [shown["submitted_by"], actor.username, *(review.reviewer for review in shown["reviews"])]
    names = display_names(session, people)
    progress(40, "生成自评表")
    wb = build_workbook(
        project,
        shown,
        goal=target_set.overall_goal or "",
        note=note,
        names=names,
        exported_by=person(actor.username, names),
    )
    progress(70, "保存文件")
    wb.save(target)
    return exports.Written(
        tenant_code=project.owner.code,
        filename=export_filename(project.name),
        result={"project_id": project.id, "score": shown["score"], "grade": shown["grade"]},
    )


def download(session: Session, actor: Actor, project_id: int, info: JobInfo) -> exports.Download:
    """The caller's finished export job of this project's self-evaluation (409 while it runs or
    when it failed, 404 when the job is not one)."""
    project = get_project(session, actor, project_id)
    authorize(actor, "projects.read")
    return exports.finished(
        info,
        kind=KIND,
        match={"project_id": project.id},
        tenant_code=project.owner.code,
        fallback_name=export_filename(project.name),
    )


# --- the workbook -----------------------------------------------------------------------------


def _number(text: str | None) -> Decimal | None:
    return None if text in (None, "") else Decimal(str(text))


def _done(line: dict[str, Any]) -> str:
    """完成值: the actual value, or the band (and the rate inside it) of a qualitative line."""
    if line["value_type"] == "qualitative":
        band = ACHIEVEMENTS.get(line["achievement"] or "", "")
        return f"{band}（{line['rate']:.2f}%）" if band and line["rate"] is not None else band
    return line["actual_value"] or ""


def build_workbook(
    project: Project,
    shown: dict[str, Any],
    *,
    goal: str,
    note: str,
    names: dict[str, str],
    exported_by: str = "",
) -> Workbook:
    wb, sheet = new_sheet(SHEET_TITLE, WIDTHS)
    ws, last = sheet.ws, sheet.last
    year = project.end_year

    # 1. title; 2. the project
    row = sheet.title(TITLE, f"（{year} 年度）", f"填报单位（盖章）：{project.owner.name}", "金额单位：万元")
    sheet.label(row, 1, 2, "项目名称")
    sheet.put(row, 3, last, project.name)
    sheet.fit(row, [(project.name, 3, last)])
    row += 1
    sheet.label(row, 1, 2, "主管部门")
    sheet.put(row, 3, 5, project.department)
    sheet.label(row, 6, 7, "实施单位（盖章）")
    sheet.put(row, 8, last, project.implementing_unit)
    sheet.fit(row, [(project.department, 3, 5), (project.implementing_unit, 8, last)])
    row += 1
    sheet.label(row, 1, 2, "自评年度")
    sheet.put(row, 3, 5, f"{year} 年")
    sheet.label(row, 6, 7, "状态")
    sheet.put(
        row,
        8,
        last,
        f"{STATUS_NAMES.get(shown['status'], shown['status'])}（目标第 {shown['target_version']} 版）",
    )
    sheet.fit(row, [])
    row += 1

    # 3. the goal and what became of it
    sheet.label(row, 1, 5, "项目年度目标")
    sheet.label(row, 6, last, "年度目标完成情况")
    sheet.fit(row, [])
    row += 1
    sheet.put(row, 1, 5, goal)
    sheet.put(row, 6, last, shown["summary"])
    sheet.fit(row, [(goal, 1, 5), (shown["summary"], 6, last)], minimum=40)
    row += 1

    # 4. the budget (10 分)
    budget = shown["budget"]
    sheet.label(row, 1, last, f"预算执行情况（{budget['available']} 分）")
    row += 1
    heads = [("年初预算数", 3, 3), ("调整后预算数", 4, 4), ("预算执行数", 5, 5), ("预算执行率", 6, 6)]
    heads += [("分值", 7, 7), ("得分", 8, 8), ("原因", 9, last)]
    sheet.label(row, 1, 2, "")
    for head, first, end in heads:
        sheet.label(row, first, end, head)
    sheet.fit(row, [(head, first, end) for head, first, end in heads])
    row += 1
    sheet.label(row, 1, 2, "总额")
    sheet.put(row, 3, 3, wan(project.budget_amount), align=CENTER, number_format=MONEY_FORMAT)
    sheet.put(row, 4, 4, wan(shown["adjusted_budget"]), align=CENTER, number_format=MONEY_FORMAT)
    sheet.put(row, 5, 5, wan(shown["budget_executed"]), align=CENTER, number_format=MONEY_FORMAT)
    sheet.put(row, 6, 6, _number(budget["rate"]), align=CENTER, number_format=PERCENT_FORMAT)
    sheet.put(row, 7, 7, _number(budget["available"]), align=CENTER, number_format=NUMBER_FORMAT)
    sheet.put(row, 8, 8, _number(budget["earned"]), align=CENTER, number_format=NUMBER_FORMAT)
    sheet.put(row, 9, last, shown["budget_reason"])
    sheet.fit(row, [(shown["budget_reason"], 9, last)])
    row += 1
    for fund in FUNDS:
        sheet.label(row, 1, 2, f"其中：{fund}" if fund == FUNDS[0] else fund)
        for _, first, end in heads:
            sheet.put(row, first, end, None, align=CENTER)
        sheet.fit(row, [])
        row += 1

    # 5. the indicators (90 分)
    sheet.label(row, 1, last, "绩效指标（90 分）")
    row += 1
    header_row = row
    sheet.headers(row, HEADERS)
    row += 1

    def write(at: int, line: dict[str, Any]) -> None:
        qualitative = line["value_type"] == "qualitative"
        nature = "定性" if qualitative else DIRECTION_LABELS.get(line["direction"], line["direction"])
        points = line["points"]
        sheet.put(at, 3, 3, line["name"])
        sheet.put(at, 4, 4, nature, align=CENTER)
        sheet.put(at, 5, 5, line["target_value"] or "", align=CENTER)
        sheet.put(at, 6, 6, line["unit"] or "", align=CENTER)
        sheet.put(at, 7, 7, _done(line), align=CENTER)
        sheet.put(at, 8, 8, _number(points["available"]), align=CENTER, number_format=NUMBER_FORMAT)
        sheet.put(at, 9, 9, _number(points["earned"]), align=CENTER, number_format=NUMBER_FORMAT)
        sheet.put(at, 10, 10, line["shortfall_reason"] or "")
        sheet.fit(at, [(line["name"], 3, 3), (line["shortfall_reason"] or "", 10, 10)])

    row = sheet.grouped_rows(row, grouped(shown["lines"], FRAMEWORK, lambda line: line["level2"]), write)
    if note:
        sheet.put(row, 1, last, note, font=NOTE_FONT)
        sheet.fit(row, [(note, 1, last)])
        row += 1

    # 6. the total, the grade, the conclusions
    sheet.label(row, 1, 2, "总分")
    sheet.put(row, 3, 5, _number(shown["score"]), font=BOLD_FONT, align=CENTER, number_format=NUMBER_FORMAT)
    sheet.label(row, 6, 7, "自评等级")
    sheet.put(row, 8, last, shown["grade"], font=BOLD_FONT, align=CENTER)
    sheet.fit(row, [], minimum=26)
    row += 1
    for name, title in (("conclusion", "评价结论"), ("problems", "存在问题"), ("measures", "改进措施")):
        sheet.label(row, 1, 2, title)
        sheet.put(row, 3, last, shown[name])
        sheet.fit(row, [(shown[name], 3, last)], minimum=30)
        row += 1

    # 7. the signature block
    row += 1
    sheet.label(row, 1, 2, "项目负责人")
    sheet.put(row, 3, 5, "")
    sheet.label(row, 6, 7, "财务负责人")
    sheet.put(row, 8, last, "")
    sheet.fit(row, [], minimum=30)
    row += 1
    sheet.label(row, 1, 2, "填报人")
    sheet.put(row, 3, 5, person(shown["submitted_by"], names))
    sheet.label(row, 6, 7, "提交日期")
    sheet.put(row, 8, last, local(shown["submitted_at"]))
    sheet.fit(row, [])
    row += 1
    row = review_rows(sheet, row, shown["reviews"], shown["submitted_at"], names)
    sheet.footer(row + 1, utcnow(), exported_by)
    print_setup(ws, header_rows=(header_row, header_row), last_column=last, last_row=row + 1)
    return wb
