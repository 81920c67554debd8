"""A project of the finished program from its creation to an approved self-evaluation, each step by
the user who does it in practice: the editor writes, the department (初审) and the bureau (复核)
review, finance decides and corrects. Dates are the program's (last year): the services take the
day they act on where it matters (a project's creation, a correction's deadline)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select

from jixiao.services.assessment import service as assessment
from jixiao.services.assessment.schemas import AssessmentSubmitSchema
from jixiao.services.evaluation import review as self_review
from jixiao.services.evaluation import service as self_evaluation
from jixiao.services.evaluation.schemas import SelfEvaluationSubmitSchema
from jixiao.services.indicators.models import Indicator
from jixiao.services.monitoring import corrections
from jixiao.services.monitoring import service as monitoring
from jixiao.services.monitoring.schemas import (
    CorrectionCloseSchema,
    CorrectionIssueSchema,
    CorrectionReplySchema,
    RoundReportSchema,
)
from jixiao.services.projects import service as projects
from jixiao.services.projects.schemas import ProjectCreateSchema
from jixiao.services.targets import chain
from jixiao.services.targets import service as targets
from jixiao.services.targets.schemas import ReviewSchema, TargetsWriteSchema
from jixiao.tenants.models import Tenant

from .actors import Cast, loaded
from .data import Line, Showcase

CRITERIA = {
    "necessity": ("92", "项目符合本地区民生规划，群众需求迫切"),
    "economy": ("86", "投入规模与同类项目相当，测算依据充分"),
    "target_reasonableness": ("88", "产出与效益目标明确、可衡量"),
    "plan_effectiveness": ("85", "实施方案分期清晰，责任落实到位"),
    "funding_compliance": ("90", "资金来源为一般公共预算，符合规定"),
    "fiscal_affordability": ("84", "在本级财政承受能力范围内"),
}
APPROVE = {"decision": "approve", "comments": {}}


def _library_ids(cast: Cast, names: list[str]) -> dict[str, int]:
    """The province's shared starter indicators by name."""
    with cast.db.transaction(system="demo showcase: library") as s:
        province = s.execute(select(Tenant.id).where(Tenant.level == "province").order_by(Tenant.id)).scalar()
        rows = s.execute(
            select(Indicator.name, Indicator.id).where(
                Indicator.tenant_id == province, Indicator.shared.is_(True), Indicator.name.in_(names)
            )
        ).all()
    return {name: ident for name, ident in rows}


def create_project(cast: Cast, show: Showcase, program_id: int, year: int) -> int:
    data = loaded(ProjectCreateSchema, {**show.project, "program_id": program_id, "years": [year]})
    with cast.acting(f"{show.prefix}.editor") as (s, actor):
        return projects.create_project(s, actor, data, date(year, 1, 10)).id


def assess(cast: Cast, show: Showcase, pid: int) -> None:
    form = {
        "criteria": {key: {"score": score, "opinion": text} for key, (score, text) in CRITERIA.items()},
        "summary": "项目立项必要、投入经济、目标合理，建议予以支持",
    }
    with cast.acting(f"{show.prefix}.editor") as (s, actor):
        assessment.submit(s, actor, pid, loaded(AssessmentSubmitSchema, form))
    with cast.acting(f"{show.prefix}.admin") as (s, actor):
        assessment.decide(s, actor, pid, "support", "同意立项，纳入年度预算")


def set_targets(cast: Cast, show: Showcase, pid: int) -> dict[str, dict[str, Any]]:
    """Targets from the library (and the project's own lines), 初审 and 复核; the approved lines by name."""
    library = _library_ids(cast, [line.name for line in show.lines if line.custom is None])
    rows = []
    for line in show.lines:
        row: dict[str, Any] = {"target_value": line.target, "weight": str(line.weight), "note": line.note}
        if line.custom is None:
            row["indicator_id"] = library[line.name]
        else:
            row.update({"name": line.name, **line.custom})
        rows.append(row)
    with cast.acting(f"{show.prefix}.editor") as (s, actor):
        targets.save_draft(
            s, actor, pid, loaded(TargetsWriteSchema, {"overall_goal": show.overall_goal, "indicators": rows})
        )
        targets.submit(s, actor, pid)
    for level in ("dept", "admin"):
        with cast.acting(f"{show.prefix}.{level}") as (s, actor):
            chain.review(s, actor, pid, "approve", loaded(ReviewSchema, APPROVE)["comments"])
    with cast.acting(f"{show.prefix}.editor") as (s, actor):
        approved = targets.current(s, actor, pid)
        return {line.name: {"id": line.id, "value_type": line.value_type} for line in approved.lines}


def _progress(
    line: Line, ids: dict[str, dict[str, Any]], values: tuple[str, str], why: Any
) -> dict[str, Any]:
    found = ids[line.name]
    row: dict[str, Any] = {"target_indicator_id": found["id"]}
    planned, actual = values
    if found["value_type"] == "qualitative":
        row.update(
            {"achievement": actual, "text": "按计划推进" if actual == "achieved" else "部分达成，持续推进"}
        )
    else:
        row.update({"planned_value": planned, "actual_value": actual})
    if why is not None:
        reason, measure, category, likelihood = why
        row.update(
            {"reason": reason, "measure": measure, "reason_category": category, "likelihood": likelihood}
        )
    return row


def monitor(cast: Cast, show: Showcase, pid: int, ids: dict[str, dict[str, Any]], year: int) -> None:
    """March with a red line (its reason and measure), finance's correction answered and closed,
    then September, which completes the stage; finance confirms both rounds."""
    editor, admin = f"{show.prefix}.editor", f"{show.prefix}.admin"
    rounds = []
    for month, day, executed in ((3, 31, show.budget_executed[0]), (9, 30, show.budget_executed[1])):
        progress = [
            _progress(
                line,
                ids,
                line.march if month == 3 else line.september,
                line.march_reason if month == 3 else line.september_reason,
            )
            for line in show.lines
        ]
        body = {
            "period": f"{year}-{month:02d}",
            "as_of": date(year, month, day).isoformat(),
            "budget_executed": executed,
            "progress": progress,
        }
        with cast.acting(editor) as (s, actor):
            rounds.append(monitoring.report(s, actor, pid, loaded(RoundReportSchema, body)).id)
        if month == 3:
            _correct(cast, show, pid, rounds[0], year)
    for round_id in rounds:
        with cast.acting(admin) as (s, actor):
            monitoring.confirm(s, actor, pid, round_id)


def _correct(cast: Cast, show: Showcase, pid: int, round_id: int, year: int) -> None:
    text = show.correction
    issued_on, answered_on = date(year, 4, 8), date(year, 4, 20)
    with cast.acting(f"{show.prefix}.admin") as (s, actor):
        issue = {"kind": text["kind"], "text": text["text"], "deadline": date(year, 4, 30).isoformat()}
        cid = corrections.issue(s, actor, pid, round_id, loaded(CorrectionIssueSchema, issue), issued_on).id
    with cast.acting(f"{show.prefix}.editor") as (s, actor):
        reply = loaded(CorrectionReplySchema, {"text": text["reply"]})
        corrections.reply(s, actor, pid, round_id, cid, reply, answered_on)
    with cast.acting(f"{show.prefix}.admin") as (s, actor):
        opinion = loaded(CorrectionCloseSchema, {"opinion": text["close"]})["opinion"]
        corrections.close(s, actor, pid, round_id, cid, opinion, answered_on)


def self_evaluate(cast: Cast, show: Showcase, pid: int, ids: dict[str, dict[str, Any]]) -> None:
    lines = []
    for line in show.lines:
        found = ids[line.name]
        row: dict[str, Any] = {"target_indicator_id": found["id"], "shortfall_reason": line.shortfall}
        row["achievement" if found["value_type"] == "qualitative" else "actual_value"] = line.final
        lines.append(row)
    body = {"budget_executed": show.budget_executed[2], "lines": lines, **show.self_texts}
    with cast.acting(f"{show.prefix}.editor") as (s, actor):
        given = {k: v for k, v in loaded(SelfEvaluationSubmitSchema, body).items() if v is not None}
        self_evaluation.submit(s, actor, pid, given)
    for level in ("dept", "admin"):
        with cast.acting(f"{show.prefix}.{level}") as (s, actor):
            self_review.review(s, actor, pid, "approve", {})
