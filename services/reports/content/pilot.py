"""The pilot report (试点报告) of one tenant in one program: the cover, 一、总体情况, a chapter per
project with its five sub-reports (分阶段分报告: 事前评估, 目标管理, 跟踪监控, 绩效评价, 结果应用)
and the list of evidence (佐证材料清单) — as the content model both renderers read (no Flask).

Everything is read in the caller's walled session, as the caller: the tenant's bureau admin, or
anyone who may read the tenant (the city above it, the province)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from jixiao.platform.core.actor import Actor
from jixiao.platform.core.documents.model import Block, Document, Facts, Paragraph, Section, Table
from jixiao.platform.core.xlsx import years
from jixiao.services.evidence.models import Evidence
from jixiao.services.evidence.service import list_evidence
from jixiao.services.programs.models import STAGE_NAMES, Program
from jixiao.services.projects.models import Project
from jixiao.tenants.models import Tenant

from . import assessment, evaluation, monitoring, results, targets
from .common import (
    GRADES,
    Context,
    Summary,
    day_text,
    full_name,
    local_day,
    money,
    pct,
    rate,
    size_text,
    summarise,
    two,
)

Progress = Callable[[int, str], None]
STAGE_BUILDERS = (assessment.build, targets.build, monitoring.build, evaluation.build, results.build)
STAGE_TITLES = (assessment.TITLE, targets.TITLE, monitoring.TITLE, evaluation.TITLE, results.TITLE)
EVIDENCE_TITLE = "佐证材料清单"
_DIGITS = "零一二三四五六七八九"


@dataclass(frozen=True)
class Built:
    document: Document
    project_names: list[str]
    evidence_count: int
    figures: dict[str, Any]  # headline figures, JSON-serialisable


def numeral(n: int) -> str:
    """1 → 一, 10 → 十, 12 → 十二, 20 → 二十, 35 → 三十五 (chapters and projects, below 100)."""
    if n < 10:
        return _DIGITS[n]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else _DIGITS[tens]) + "十" + (_DIGITS[ones] if ones else "")


def projects_of(session: Session, program: Program, tenant: Tenant) -> list[Project]:
    stmt = (
        select(Project)
        .where(Project.program_id == program.id, Project.tenant_id == tenant.id)
        .order_by(Project.id)
    )
    return list(session.execute(stmt).scalars())


def grade_text(score: Decimal | None, grade: str | None, final: bool, pending: str) -> str:
    if score is None and not grade:
        return "—"
    said = f"{two(score)} 分，{grade or ''}"
    return said if final else f"{said}（{pending}）"


def overview(tenant: Tenant, program: Program, summaries: list[Summary]) -> Section:
    if not summaries:
        return Section(
            "一、总体情况",
            1,
            [Paragraph(f"{tenant.name}参加「{program.name}」试点，尚未申报试点项目。")],
        )
    budget = sum((s.project.budget_amount for s in summaries), Decimal(0))
    executed = [s for s in summaries if s.executed is not None]
    done = sum(1 for s in summaries if all(row.status == "approved" for row in s.project.stages))
    blocks: list[Block] = [
        Paragraph(
            f"{tenant.name}（{tenant.code}）参加「{program.name}」试点（{program.start.isoformat()} 至 "
            f"{program.end.isoformat()}），按事前评估、绩效目标、跟踪监控、绩效评价、结果应用全流程开展预算绩效"
            f"一体化管理。共有试点项目 {len(summaries)} 个，预算总额 {money(budget)}，其中完成全流程的 {done} 个。"
        ),
        Table(
            ["序号", "项目名称", "主管部门", "项目类别", "实施年度", "预算金额", "当前阶段"],
            [
                [
                    str(n),
                    s.project.name,
                    s.project.department,
                    s.project.project_class,
                    years(s.project.start_year, s.project.end_year),
                    money(s.project.budget_amount),
                    s.reached,
                ]
                for n, s in enumerate(summaries, start=1)
            ],
            caption="试点项目",
            widths=[0.6, 3, 2, 1.4, 1.2, 1.6, 2],
            numeric=[5],
        ),
        Table(
            ["项目名称", "自评", "重点评价", "预算执行数", "预算执行率"],
            [
                [
                    s.project.name,
                    grade_text(s.self_score, s.self_grade, s.self_status == "approved", "尚未审核通过"),
                    grade_text(s.key_score, s.key_grade, s.key_status == "accepted", "尚未审定"),
                    money(s.executed) or "—",
                    pct(s.execution_rate) or "—",
                ]
                for s in summaries
            ],
            caption="主要绩效指标",
            widths=[3, 2, 2, 1.6, 1.2],
            numeric=[3, 4],
        ),
    ]
    if executed:
        spent = sum((s.executed or Decimal(0) for s in executed), Decimal(0))
        measured = sum((s.budget for s in executed), Decimal(0))
        blocks.append(
            Paragraph(
                f"已报告预算执行的项目 {len(executed)} 个，预算 {money(measured)}，执行 {money(spent)}，"
                f"执行率 {pct(rate(spent, measured))}。"
            )
        )
    graded = [s for s in summaries if s.final_self_grade]
    if graded:
        counts = "，".join(f"{g} {sum(1 for s in graded if s.final_self_grade == g)} 个" for g in GRADES)
        blocks.append(Paragraph(f"自评审核通过的项目 {len(graded)} 个：{counts}。"))
    return Section("一、总体情况", 1, blocks)


def project_chapter(ctx: Context, number: int, summary: Summary) -> Section:
    project = summary.project
    facts = Facts(
        [
            ("项目名称", project.name),
            ("主管部门", project.department),
            ("实施单位", project.implementing_unit),
            ("项目类别", project.project_class),
            ("资金来源", project.fund_source),
            ("实施年度", years(project.start_year, project.end_year)),
            ("预算金额", money(project.budget_amount)),
            ("当前阶段", summary.reached),
            *(
                [("终止原因", project.closed_reason)]
                if project.status == "closed" and project.closed_reason
                else []
            ),
        ]
    )
    children = [build(ctx, project) for build in STAGE_BUILDERS]
    return Section(f"{numeral(number + 1)}、项目{numeral(number)}：{project.name}", 1, [facts], children)


def evidence_chapter(number: int, found: list[tuple[Project, Evidence]]) -> Section:
    rows = [
        [
            str(n),
            item.filename,
            project.name,
            STAGE_NAMES.get(item.stage, item.stage),
            item.purpose,
            size_text(item.size),
            item.sha256,
        ]
        for n, (project, item) in enumerate(found, start=1)
    ]
    return Section(
        f"{numeral(number)}、{EVIDENCE_TITLE}",
        1,
        [
            Paragraph(f"共 {len(rows)} 份佐证材料（现行版本），SHA-256 为文件的校验值，可用于核对原件。"),
            Table(
                ["序号", "文件名", "项目", "阶段", "用途", "大小", "SHA-256"],
                rows,
                widths=[0.6, 2.4, 2, 1.1, 1.2, 1, 4.4],
                numeric=[5],
                empty="（无佐证材料）",
            ),
        ],
    )


def figures_of(summaries: list[Summary], evidence_count: int) -> dict[str, Any]:
    budget = sum((s.project.budget_amount for s in summaries), Decimal(0))
    executed = [s for s in summaries if s.executed is not None]
    spent = sum((s.executed or Decimal(0) for s in executed), Decimal(0))
    measured = sum((s.budget for s in executed), Decimal(0))
    return {
        "projects": len(summaries),
        "budget_total": two(budget),
        "budget_measured": two(measured) if executed else None,
        "budget_executed": two(spent) if executed else None,
        "execution_rate": two(rate(spent, measured)) if executed and measured > 0 else None,
        "completed": sum(1 for s in summaries if all(row.status == "approved" for row in s.project.stages)),
        "grades": {
            "self_evaluation": {g: sum(1 for s in summaries if s.final_self_grade == g) for g in GRADES},
            "key_evaluation": {g: sum(1 for s in summaries if s.final_key_grade == g) for g in GRADES},
        },
        "evidence": evidence_count,
        "per_project": [
            {
                "id": s.project.id,
                "name": s.project.name,
                "budget": two(s.project.budget_amount),
                "stage": s.project.stage,
                "status": s.project.status,
                "reached": s.reached,
                "self_evaluation": {
                    "status": s.self_status,
                    "score": two(s.self_score) or None,
                    "grade": s.self_grade,
                },
                "key_evaluation": {
                    "status": s.key_status,
                    "score": two(s.key_score) or None,
                    "grade": s.key_grade,
                },
                "budget_executed": two(s.executed) or None,
                "execution_rate": two(s.execution_rate) or None,
            }
            for s in summaries
        ],
    }


def build_pilot_report(
    session: Session,
    actor: Actor,
    program: Program,
    tenant: Tenant,
    *,
    version: int,
    generated_at: datetime,
    progress: Progress | None = None,
) -> Built:
    """The pilot report of `tenant` in `program`, read as `actor` in its walled `session`;
    `progress(percent, message)` is called between projects (10–70 %)."""
    ctx = Context(session, actor, local_day(generated_at))
    projects = projects_of(session, program, tenant)
    summaries = [summarise(session, project) for project in projects]
    if progress is not None:
        progress(10, f"读取试点项目（{len(projects)} 个）")
    chapters = [overview(tenant, program, summaries)]
    evidence: list[tuple[Project, Evidence]] = []
    for n, summary in enumerate(summaries, start=1):
        chapters.append(project_chapter(ctx, n, summary))
        evidence.extend((summary.project, item) for item in list_evidence(session, actor, summary.project.id))
        if progress is not None:
            progress(10 + 60 * n // len(summaries), f"已生成项目「{summary.project.name}」的分阶段报告")
    chapters.append(evidence_chapter(len(chapters) + 1, evidence))
    title = f"{full_name(tenant)} {program.name} 试点报告"
    document = Document(
        title=title,
        subtitle=f"第 {version} 版",
        cover=[
            ("地区", f"{tenant.name}（{tenant.code}）"),
            ("试点", program.name),
            ("试点期间", f"{program.start.isoformat()} 至 {program.end.isoformat()}"),
            ("生成日期", day_text(generated_at)),
            ("版本", f"第 {version} 版"),
        ],
        sections=chapters,
        footer=f"{tenant.name} · {program.name} · 试点报告第 {version} 版",
        meta={"author": tenant.name, "subject": f"{program.name} 试点报告", "title": title},
    )
    return Built(
        document=document,
        project_names=[p.name for p in projects],
        evidence_count=len(evidence),
        figures=figures_of(summaries, len(evidence)),
    )
