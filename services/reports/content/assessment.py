"""The sub-report 事前评估: the six criteria with their scores and opinions, the summary and
finance's conclusion (services/assessment)."""

from __future__ import annotations

from jixiao.platform.core.documents.model import Block, Facts, Paragraph, Section, Table
from jixiao.services.assessment.models import CONCLUSIONS, CRITERIA, Assessment
from jixiao.services.assessment.service import get_assessment
from jixiao.services.projects.models import Project

from .common import Context, not_reached, text_or, two, when

TITLE = "事前评估"
STATUS_NAMES = {"draft": "填报中", "submitted": "已提交，待财政作出结论", "decided": "已作出结论"}


def build(ctx: Context, project: Project) -> Section:
    missing = not_reached(project, "assessment")
    if missing is not None:
        return Section(TITLE, 2, [missing])
    found: Assessment = get_assessment(ctx.session, ctx.actor, project.id)
    if found.id is None:
        return Section(TITLE, 2, [Paragraph("本阶段已开启，尚未填写事前评估。", "note")])
    blocks: list[Block] = [
        Facts(
            [
                ("评估状态", STATUS_NAMES.get(found.status, found.status)),
                ("提交人", ctx.person(found.submitted_by)),
                ("提交时间", when(found.submitted_at)),
            ]
        )
    ]
    criteria = found.criteria or {}
    rows = [
        [
            label,
            two((criteria.get(key) or {}).get("score")),
            str((criteria.get(key) or {}).get("opinion") or ""),
        ]
        for key, label in CRITERIA.items()
    ]
    blocks.append(
        Table(
            ["评估要点", "评分", "评估意见"], rows, caption="事前绩效评估要点", widths=[2, 1, 6], numeric=[1]
        )
    )
    blocks.append(Paragraph(f"评估结论摘要：{text_or(found.summary)}"))
    if found.status == "decided" and found.conclusion:
        blocks.append(
            Facts(
                [
                    ("财政评估结论", CONCLUSIONS.get(found.conclusion, found.conclusion)),
                    ("财政审核意见", text_or(found.opinion)),
                    ("作出结论", f"{ctx.person(found.decided_by)}，{when(found.decided_at)}"),
                ]
            )
        )
        if found.conclusion == "reject":
            blocks.append(Paragraph("事前评估结论为不予支持，项目就此终止。", "emphasis"))
    else:
        blocks.append(Paragraph("财政尚未作出评估结论。", "note"))
    return Section(TITLE, 2, blocks)
