"""The sub-report 结果应用: the rectification notices and their items with each item's status and
thread, the budget recommendation and the disclosure (services/results)."""

from __future__ import annotations

from jixiao.platform.core.documents.model import Block, Facts, Paragraph, Section, Table
from jixiao.services.projects.models import Project
from jixiao.services.results import notices
from jixiao.services.results import service as results_service
from jixiao.services.results.models import (
    ENTRY_ACTION_NAMES,
    GRADE_SOURCES,
    ITEM_STATUS_NAMES,
    RECOMMENDATION_NAMES,
    RectificationNotice,
)

from .common import Context, not_reached, text_or, when

TITLE = "结果应用"


def item_rows(ctx: Context, found: list[RectificationNotice]) -> list[list[str]]:
    rows = []
    for number, notice in enumerate(sorted(found, key=lambda n: n.id), start=1):
        for item in notice.items:
            thread = "；".join(
                f"{ENTRY_ACTION_NAMES.get(e.action, e.action)}（{ctx.person(e.author)}，{when(e.written_at)}）"
                + (f"：{e.text.strip()}" if (e.text or "").strip() else "")
                + (f"（佐证材料 {len(e.evidence_ids)} 份）" if e.evidence_ids else "")
                for e in item.entries
            )
            rows.append(
                [
                    f"第 {number} 号（{when(notice.issued_at)[:10]}）",
                    item.text,
                    item.deadline.isoformat(),
                    ITEM_STATUS_NAMES.get(item.status, item.status) + ("（已逾期）" if item.overdue else ""),
                    thread or "（尚未答复）",
                ]
            )
    return rows


def build(ctx: Context, project: Project) -> Section:
    missing = not_reached(project, "result_application")
    if missing is not None:
        return Section(TITLE, 2, [missing])
    found_notices = notices.of_project(ctx.session, ctx.actor, project.id, ctx.today)
    shown = results_service.view(ctx.session, ctx.actor, project)
    decided = results_service.find(ctx.session, project)
    grade = shown["grade"]
    source = GRADE_SOURCES.get(shown["grade_source"] or "", "")
    suggested = RECOMMENDATION_NAMES.get(shown["suggested_recommendation"] or "", "—")
    facts = [
        ("评价等级", f"{grade}（{source}）" if grade else "—"),
        ("建议的预算安排", suggested),
    ]
    if decided is not None:
        facts += [
            (
                "预算安排建议",
                RECOMMENDATION_NAMES.get(decided.budget_recommendation, decided.budget_recommendation),
            ),
            ("理由", text_or(decided.recommendation_reason, "—")),
            ("决定", f"{ctx.person(decided.decided_by)}，{when(decided.decided_at)}"),
            (
                "结果公开",
                f"已公开（{ctx.person(decided.disclosed_by)}，{when(decided.disclosed_at)}）"
                if decided.disclosed
                else "未公开",
            ),
        ]
    else:
        facts.append(("预算安排建议", "财政尚未作出预算安排建议"))
    rectification = shown["rectification"]
    facts.append(("整改事项", f"共 {rectification['items']} 项，已销号 {rectification['closed']} 项"))
    facts.append(("阶段状态", "已完成" if shown["complete"] else "进行中"))
    blocks: list[Block] = [
        Facts(facts),
        Paragraph("整改通知与整改事项", "emphasis"),
        Table(
            ["整改通知", "整改事项", "整改期限", "状态", "答复与处理"],
            item_rows(ctx, found_notices),
            widths=[1.6, 3, 1.2, 1.2, 4],
            empty="（未下发整改通知）",
        ),
    ]
    preambles = [n.text.strip() for n in sorted(found_notices, key=lambda n: n.id) if (n.text or "").strip()]
    if preambles:
        blocks.append(Paragraph(f"整改要求：{'；'.join(preambles)}", "note"))
    return Section(TITLE, 2, blocks)
