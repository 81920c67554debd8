"""The briefing (专报) on a program for the people's congress and the government: over the tenants
under `root` (the province: every participant; a city: the city and its counties) — participation,
stage completion, the grades, budget execution, key findings and the best cases, with a chart of
the grades. Short (2–4 pages); read as the caller in its walled session (no Flask)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from jixiao.platform.core.actor import Actor
from jixiao.platform.core.documents.model import (
    Block,
    Chart,
    Document,
    Facts,
    Paragraph,
    Section,
    Series,
    Table,
)
from jixiao.services.indicators.models import Case
from jixiao.services.programs.models import Program
from jixiao.services.projects.models import Project
from jixiao.tenants.models import Tenant

from .common import GRADES, Summary, day_text, full_name, money, ordered_stages, pct, rate, summarise, two

CHART_TITLE = "绩效评价等级分布"
FINDINGS_MAX = 6  # lines of 主要发现
CASES_MAX = 3  # the best projects by score
EXCERPT = 120  # characters of one finding
# the parts are sub-headings (no chapter page breaks): the briefing stays a few pages
LEVEL = 2


def under(root: Tenant, tenant: Tenant) -> bool:
    return tenant.id == root.id or tenant.path.startswith(root.path + "/")


def participants(program: Program, root: Tenant) -> list[Tenant]:
    found = [row.tenant for row in program.participants if under(root, row.tenant)]
    return sorted(found, key=lambda t: t.code)


def projects_under(session: Session, program: Program, tenant_ids: list[int]) -> list[Project]:
    if not tenant_ids:
        return []
    stmt = (
        select(Project)
        .where(Project.program_id == program.id, Project.tenant_id.in_(tenant_ids))
        .order_by(Project.tenant_id, Project.id)
    )
    return list(session.execute(stmt).scalars())


def excerpt(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= EXCERPT else flat[: EXCERPT - 1] + "…"


def participation(tenants: list[Tenant], summaries: list[Summary]) -> Section:
    with_projects = {s.project.tenant_id for s in summaries}
    budget = sum((s.project.budget_amount for s in summaries), Decimal(0))
    rows = []
    for tenant in tenants:
        mine = [s for s in summaries if s.project.tenant_id == tenant.id]
        rows.append(
            [
                f"{tenant.name}（{tenant.code}）",
                str(len(mine)),
                money(sum((s.project.budget_amount for s in mine), Decimal(0))),
                str(sum(1 for s in mine if all(r.status == "approved" for r in s.project.stages))),
            ]
        )
    return Section(
        "一、参与情况",
        LEVEL,
        [
            Paragraph(
                f"参与试点的地区 {len(tenants)} 个，其中已申报试点项目的 {len(with_projects)} 个；"
                f"试点项目 {len(summaries)} 个，预算总额 {money(budget)}。"
            ),
            Table(
                ["地区", "项目数", "预算总额", "完成全流程"], rows, widths=[3, 1, 2, 1.4], numeric=[1, 2, 3]
            ),
        ],
    )


def stage_completion(summaries: list[Summary]) -> Section:
    rows = [
        [
            name,
            str(sum(1 for s in summaries if s.stage_reached(stage))),
            str(sum(1 for s in summaries if s.stage_done(stage))),
        ]
        for stage, name in ordered_stages()
    ]
    closed = sum(1 for s in summaries if s.project.status == "closed")
    blocks: list[Block] = [Table(["阶段", "已开展（个）", "已完成（个）"], rows, numeric=[1, 2])]
    if closed:
        blocks.append(Paragraph(f"经事前评估等环节终止的项目 {closed} 个。", "note"))
    return Section("二、各阶段完成情况", LEVEL, blocks)


def grades(summaries: list[Summary]) -> Section:
    own = [s.final_self_grade for s in summaries if s.final_self_grade]
    key = [s.final_key_grade for s in summaries if s.final_key_grade]
    own_counts = [own.count(g) for g in GRADES]
    key_counts = [key.count(g) for g in GRADES]
    scores = [s.self_score for s in summaries if s.final_self_grade and s.self_score is not None]
    blocks: list[Block] = [
        Paragraph(
            f"自评审核通过的项目 {len(own)} 个"
            + (f"，平均得分 {two(sum(scores, Decimal(0)) / len(scores))} 分" if scores else "")
            + f"；重点评价审定的项目 {len(key)} 个。"
        ),
        Table(
            ["等级", "自评（个）", "重点评价（个）"],
            [[g, str(a), str(b)] for g, a, b in zip(GRADES, own_counts, key_counts, strict=True)],
            numeric=[1, 2],
        ),
        Chart(
            CHART_TITLE,
            "bar",
            list(GRADES),
            [
                Series("自评", [float(n) for n in own_counts]),
                Series("重点评价", [float(n) for n in key_counts]),
            ],
            unit="个",
        ),
    ]
    return Section("三、绩效评价等级分布", LEVEL, blocks)


def execution(summaries: list[Summary]) -> Section:
    budget = sum((s.project.budget_amount for s in summaries), Decimal(0))
    measured = [s for s in summaries if s.executed is not None]
    spent = sum((s.executed or Decimal(0) for s in measured), Decimal(0))
    base = sum((s.budget for s in measured), Decimal(0))
    facts = [
        ("预算总额", money(budget)),
        ("已报告执行的项目", f"{len(measured)} 个，预算 {money(base)}"),
        ("预算执行数", money(spent) if measured else "—"),
        ("预算执行率", pct(rate(spent, base)) or "—"),
    ]
    low = [s for s in measured if (s.execution_rate or Decimal(0)) < 90]
    blocks: list[Block] = [Facts(facts)]
    if low:
        named = "、".join(f"{s.project.name}（{pct(s.execution_rate)}）" for s in low[:5])
        blocks.append(Paragraph(f"执行率低于 90% 的项目 {len(low)} 个：{named}。"))
    return Section("四、预算执行情况", LEVEL, blocks)


def findings(summaries: list[Summary]) -> Section:
    lines = []
    for s in summaries:
        where = f"{s.project.owner.name}「{s.project.name}」"
        if s.key_findings:
            lines.append(f"{where}（重点评价）：{excerpt(s.key_findings)}")
        elif s.self_problems:
            lines.append(f"{where}（自评）：{excerpt(s.self_problems)}")
    blocks: list[Block] = [Paragraph(f"{n}. {line}") for n, line in enumerate(lines[:FINDINGS_MAX], start=1)]
    if len(lines) > FINDINGS_MAX:
        blocks.append(
            Paragraph(f"另有 {len(lines) - FINDINGS_MAX} 个项目的评价发现，详见各地试点报告。", "note")
        )
    return Section("五、主要发现", LEVEL, blocks or [Paragraph("尚无审定的评价发现。", "note")])


def best_cases(session: Session, summaries: list[Summary]) -> Section:
    def best(s: Summary) -> tuple[Decimal, str] | None:
        if s.final_key_grade and s.key_score is not None:
            return s.key_score, "重点评价"
        if s.final_self_grade and s.self_score is not None:
            return s.self_score, "自评"
        return None

    scored = [(found, s) for s in summaries if (found := best(s)) is not None]
    scored.sort(key=lambda pair: pair[0][0], reverse=True)
    blocks: list[Block] = [
        Paragraph(
            f"{n}. {s.project.owner.name}「{s.project.name}」：{kind} {two(score)} 分（{s.final_key_grade if kind == '重点评价' else s.final_self_grade}）。"
        )
        for n, ((score, kind), s) in enumerate(scored[:CASES_MAX], start=1)
    ]
    ids = [s.project.id for s in summaries]
    cases = (
        list(session.execute(select(Case).where(Case.source_project_id.in_(ids)).order_by(Case.id)).scalars())
        if ids
        else []
    )
    names = {s.project.id: s.project.name for s in summaries}
    if cases:
        blocks.append(Paragraph("已发布到案例库的项目：", "emphasis"))
        blocks.extend(
            Paragraph(f"「{case.title}」（来源项目：{names.get(case.source_project_id or 0, '')}）")
            for case in cases
        )
    return Section("六、典型案例", LEVEL, blocks or [Paragraph("尚无评价完成的项目。", "note")])


def build_briefing(
    session: Session, actor: Actor, program: Program, root: Tenant, *, generated_at: datetime
) -> Document:
    """The 专报 on `program` over the tenants under `root`, read as `actor` in its walled `session`."""
    tenants = participants(program, root)
    projects = projects_under(session, program, [t.id for t in tenants])
    summaries = [summarise(session, project) for project in projects]
    title = f"{full_name(root)} {program.name} 试点工作专报"
    return Document(
        title=title,
        subtitle=f"截至 {day_text(generated_at)}",
        cover=[
            ("地区", f"{root.name}（{root.code}）"),
            ("试点", program.name),
            ("试点期间", f"{program.start.isoformat()} 至 {program.end.isoformat()}"),
            ("生成日期", day_text(generated_at)),
        ],
        sections=[
            participation(tenants, summaries),
            stage_completion(summaries),
            grades(summaries),
            execution(summaries),
            findings(summaries),
            best_cases(session, summaries),
        ],
        footer=f"{root.name} · {program.name} · 试点工作专报",
        meta={"author": root.name, "subject": f"{program.name} 试点工作专报", "title": title},
    )
