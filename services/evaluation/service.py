"""The self-evaluation (自评): reading with every point explained, the draft, the live preview and
the submit (no Flask). Its review goes through the targets' chain (`review.py`).

It opens once monitoring is complete (the project's `self_evaluation` stage is no longer locked) and
is measured against the latest approved target version at that time. Scores follow DESIGN.md §6
with the program's `self_evaluation` settings (`scoring.score`)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from jixiao.platform.core.actor import Actor
from jixiao.platform.core.audit import record
from jixiao.platform.core.authz import authorize
from jixiao.platform.core.db import utcnow
from jixiao.platform.core.errors import Conflict, StaleVersion, ValidationFailed
from jixiao.services.evidence.service import missing_purposes
from jixiao.services.notifications.events import announce
from jixiao.services.projects.models import Project
from jixiao.services.projects.service import get_project, require_stage, set_stage_status
from jixiao.services.targets.models import CHAIN, TargetSet

from . import form, scoring
from .models import TEXTS, SelfEvaluation, SelfEvaluationLine

CENT = Decimal("0.01")
NOT_OPEN = "跟踪监控尚未完成，不能填报自评"
FROZEN = {"submitted": "自评已提交、审核中，不能修改", "approved": "自评已审核通过并冻结，不能修改"}


def money(value: Decimal | None) -> str | None:
    return None if value is None else f"{value.quantize(CENT, rounding=ROUND_HALF_UP)}"


def percent(share: Decimal | None) -> str | None:
    return None if share is None else money(share * scoring.HUNDRED)


# --- reading ----------------------------------------------------------------------------------


def require_open(project: Project) -> None:
    """409 until monitoring is complete (the stage opens), and once the project has ended."""
    if project.stage_row("self_evaluation").status == "locked":
        raise Conflict(NOT_OPEN)
    require_stage(project, "self_evaluation")


def find(session: Session, project: Project) -> SelfEvaluation | None:
    return session.execute(
        select(SelfEvaluation).where(SelfEvaluation.project_id == project.id)
    ).scalar_one_or_none()


def target_set_of(session: Session, project: Project, evaluation: SelfEvaluation | None) -> TargetSet:
    """The target version measured against: the latest approved one while the self-evaluation is
    being filled in (an adjustment approved meanwhile applies; the next save moves its lines over),
    the one it was submitted on after that."""
    if evaluation is not None and evaluation.target_set_id is not None:
        found = session.get(TargetSet, evaluation.target_set_id)
        if found is not None and (evaluation.status in FROZEN or found.status == "approved"):
            return found
    approved = session.execute(
        select(TargetSet)
        .where(TargetSet.project_id == project.id, TargetSet.status == "approved")
        .order_by(TargetSet.number.desc())
    ).scalars()
    latest = next(iter(approved), None)
    if latest is None:
        raise Conflict("没有已审核通过的绩效目标，不能填报自评")
    return latest


def current(session: Session, project: Project) -> tuple[SelfEvaluation, TargetSet]:
    """The project's self-evaluation (an unsaved, empty draft before the first save)."""
    evaluation = find(session, project)
    target_set = target_set_of(session, project, evaluation)
    if evaluation is None:
        evaluation = SelfEvaluation(
            tenant_id=project.tenant_id,
            project_id=project.id,
            target_set_id=target_set.id,
            status="draft",
            lines=[],
            reviews=[],
            **{name: "" for name in TEXTS},
        )
    return evaluation, target_set


def entered(evaluation: SelfEvaluation) -> dict[int, form.LineInput]:
    return {
        line.target_line_id: form.LineInput(
            line.actual_value, line.achievement, line.rate, line.shortfall_reason or ""
        )
        for line in evaluation.lines
    }


def compute(project: Project, evaluation: SelfEvaluation, target_set: TargetSet) -> scoring.Score:
    """The score as DESIGN.md §6 gives it, lines not filled in yet earning nothing."""
    values = entered(evaluation)
    lines = []
    for target in target_set.lines:
        got = values.get(target.id) or form.LineInput()
        qualitative = target.value_type == "qualitative"
        lines.append(
            scoring.Line(
                key=target.id,
                level1=form.level1(target),
                weight=target.weight or scoring.ZERO,
                value_type=target.value_type,
                direction=target.direction,
                target=target.target_value,
                actual=None if qualitative or got.actual_value is None else scoring.number(got.actual_value),
                achievement=got.achievement if qualitative else None,
                rate=got.rate if qualitative else None,
            )
        )
    return scoring.score(
        lines,
        budget=budget_of(project, evaluation),
        executed=evaluation.budget_executed,
        settings=project.program.effective_settings.get("self_evaluation"),
        partial=True,
    )


def budget_of(project: Project, evaluation: SelfEvaluation) -> Decimal:
    """The budget the execution is measured against: the adjusted one when given (调整后预算数)."""
    return evaluation.adjusted_budget or project.budget_amount


def view(project: Project, evaluation: SelfEvaluation, target_set: TargetSet) -> dict[str, Any]:
    """The self-evaluation as the API returns it: every point explained per line and for the budget."""
    from .review import resubmission  # the chain binding reads this module

    result = compute(project, evaluation, target_set)
    points = {s.key: s for s in result.lines}
    values = entered(evaluation)
    settings = {**scoring.DEFAULTS, **project.program.effective_settings.get("self_evaluation", {})}
    missing = {line.id for _, line in form.missing(list(target_set.lines), values)}
    lines = []
    for target in target_set.lines:
        got, line_score = values.get(target.id) or form.LineInput(), points[target.id]
        lines.append(
            {
                "target_indicator_id": target.id,
                "name": target.name,
                "level1": form.level1(target),
                "level2": target.level2,
                "value_type": target.value_type,
                "direction": target.direction,
                "target_value": target.target_value,
                "unit": target.unit,
                "weight": target.weight,
                "actual_value": got.actual_value,
                "achievement": got.achievement,
                "rate": got.rate,
                "shortfall_reason": got.shortfall_reason,
                "missing": target.id in missing,
                "points": {
                    "completion": percent(line_score.completion),
                    "available": money(line_score.available),
                    "earned": money(line_score.earned),
                },
            }
        )
    return {
        "project_id": project.id,
        "target_version": target_set.number,
        "status": evaluation.status,
        "review_level": evaluation.review_level,
        "lock_version": evaluation.lock_version if evaluation.id else None,
        "budget_executed": money(evaluation.budget_executed),
        "adjusted_budget": money(evaluation.adjusted_budget),
        **{name: getattr(evaluation, name) or "" for name in TEXTS},
        "score": money(result.total),
        "grade": result.grade,
        "budget": {
            "budget": money(budget_of(project, evaluation)),
            "executed": money(evaluation.budget_executed),
            "rate": percent(result.budget_rate),
            "available": money(scoring.number(settings["budget_points"])),
            "earned": money(result.budget_points),
        },
        "lines": lines,
        "missing": [line["name"] for line in lines if line["missing"]],
        "submitted_by": evaluation.submitted_by,
        "submitted_at": evaluation.submitted_at,
        "approved_at": evaluation.approved_at,
        "reviews": list(evaluation.reviews),
        "resubmission": resubmission(evaluation),
    }


def get(session: Session, actor: Actor, project_id: int) -> dict[str, Any]:
    project = get_project(session, actor, project_id)
    authorize(actor, "projects.read")
    if project.stage_row("self_evaluation").status == "locked":
        raise Conflict(NOT_OPEN)
    return view(project, *current(session, project))


def snapshot(evaluation: SelfEvaluation) -> dict[str, Any]:
    """What the self-evaluation says (the audit's `after`, a return's snapshot for the diff)."""
    return {
        "status": evaluation.status,
        "budget_executed": money(evaluation.budget_executed) or "",
        "adjusted_budget": money(evaluation.adjusted_budget) or "",
        **{name: getattr(evaluation, name) or "" for name in TEXTS},
        "score": money(evaluation.score) or "",
        "grade": evaluation.grade or "",
        "lines": [
            {
                "target_indicator_id": line.target_line_id,
                "name": line.target_line.name if line.target_line is not None else "",
                "actual_value": line.actual_value or "",
                "achievement": line.achievement or "",
                "rate": money(line.rate) or "",
                "shortfall_reason": line.shortfall_reason or "",
            }
            for line in evaluation.lines
        ],
    }


# --- the draft, the preview, the submit --------------------------------------------------------


def _editable(session: Session, actor: Actor, project_id: int) -> tuple[Project, SelfEvaluation, TargetSet]:
    project = get_project(session, actor, project_id)
    authorize(actor, "projects.write", project=project)
    require_open(project)
    evaluation, target_set = current(session, project)
    if evaluation.status in FROZEN:
        raise Conflict(FROZEN[evaluation.status])
    if evaluation not in session:
        session.add(evaluation)
    if evaluation.status == "returned":
        evaluation.status = "draft"
        if project.stage_row("self_evaluation").status == "returned":
            set_stage_status(session, project, "self_evaluation", "draft")
    return project, evaluation, target_set


def _fill(evaluation: SelfEvaluation, target_set: TargetSet, parsed: form.Parsed) -> None:
    if evaluation.target_set_id != target_set.id:  # a target adjustment approved meanwhile
        evaluation.target_set_id = target_set.id
        kept = {line.id for line in target_set.lines}
        for old in [row for row in evaluation.lines if row.target_line_id not in kept]:
            evaluation.lines.remove(old)
    evaluation.budget_executed = parsed.budget_executed
    evaluation.adjusted_budget = parsed.adjusted_budget
    for name, text in parsed.texts.items():
        setattr(evaluation, name, text)
    rows = {line.target_line_id: line for line in evaluation.lines}
    for position, target in enumerate(target_set.lines, start=1):
        got = parsed.lines.get(target.id) or form.LineInput()
        row = rows.get(target.id)
        if row is None:
            row = SelfEvaluationLine(tenant_id=evaluation.tenant_id, target_line_id=target.id)
            evaluation.lines.append(row)
        row.position = position
        row.actual_value, row.achievement, row.rate = got.actual_value, got.achievement, got.rate
        row.shortfall_reason = got.shortfall_reason


def _store_points(project: Project, evaluation: SelfEvaluation, target_set: TargetSet) -> None:
    result = compute(project, evaluation, target_set)
    evaluation.score, evaluation.grade = result.total, result.grade
    points = {s.key: s for s in result.lines}
    for row in evaluation.lines:
        line_score = points.get(row.target_line_id)
        if line_score is None:
            continue
        row.completion = (
            None
            if line_score.completion is None
            else (line_score.completion * scoring.HUNDRED).quantize(CENT, rounding=ROUND_HALF_UP)
        )
        row.available = line_score.available.quantize(CENT, rounding=ROUND_HALF_UP)
        row.earned = line_score.earned.quantize(CENT, rounding=ROUND_HALF_UP)


def save_draft(session: Session, actor: Actor, project_id: int, data: dict[str, Any]) -> dict[str, Any]:
    """Save what the editors entered (a partial draft is fine: lines not filled in earn nothing)."""
    project, evaluation, target_set = _editable(session, actor, project_id)
    if (
        data.get("lock_version") is not None
        and evaluation.id is not None
        and data["lock_version"] != evaluation.lock_version
    ):
        raise StaleVersion(f"自评已被修改（当前 lock_version {evaluation.lock_version}），请刷新后重试")
    parsed = form.parse(data, list(target_set.lines), target_set.number)
    _fill(evaluation, target_set, parsed)
    _store_points(project, evaluation, target_set)
    evaluation.updated_at = utcnow()  # new line values alone are a new lock_version too
    session.flush()
    record(
        session,
        "self_evaluation.save",
        object_type="project",
        object_id=project.id,
        after=snapshot(evaluation),
    )
    return view(project, evaluation, target_set)


def preview(session: Session, actor: Actor, project_id: int, data: dict[str, Any]) -> dict[str, Any]:
    """The score of what the form holds now, nothing saved (the page's live score)."""
    project = get_project(session, actor, project_id)
    authorize(actor, "projects.read")
    require_open(project)
    saved, target_set = current(session, project)
    parsed = form.parse(data, list(target_set.lines), target_set.number)
    unsaved = SelfEvaluation(
        tenant_id=project.tenant_id,
        project_id=project.id,
        target_set_id=target_set.id,
        status=saved.status,
        review_level=saved.review_level,
        lines=[],
        reviews=[],
    )
    _fill(unsaved, target_set, parsed)
    return view(project, unsaved, target_set)


def submit(
    session: Session, actor: Actor, project_id: int, data: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Submit to 初审: every line filled in, the budget executed and the summary given (one 422
    naming every gap). With a body it is saved first, as PUT would."""
    if data:
        save_draft(session, actor, project_id, data)
    project, evaluation, target_set = _editable(session, actor, project_id)
    problems = form.submit_problems(
        list(target_set.lines),
        entered(evaluation),
        budget_executed=evaluation.budget_executed,
        budget=budget_of(project, evaluation),
        texts={name: getattr(evaluation, name) or "" for name in TEXTS},
    )
    missing_evidence = missing_purposes(session, project, "self_evaluation")
    if missing_evidence:
        problems["evidence"] = [
            f"缺少必备的佐证材料：{'、'.join(missing_evidence)}（请在佐证材料栏目的“自评”阶段上传）"
        ]
    if problems:
        names = [line.name for _, line in form.missing(list(target_set.lines), entered(evaluation))]
        message = f"自评尚不能提交：共 {len(problems)} 处问题" + (
            f"，未填写完成情况的指标：{'、'.join(names)}" if names else ""
        )
        raise ValidationFailed(message, errors=problems)
    evaluation.status = "submitted"
    evaluation.review_level = CHAIN[0]
    evaluation.submitted_by = actor.username
    evaluation.submitted_at = utcnow()
    set_stage_status(session, project, "self_evaluation", "submitted")
    session.flush()
    record(
        session,
        "self_evaluation.submit",
        object_type="project",
        object_id=project.id,
        after=snapshot(evaluation),
    )
    announce(session, actor, "self_evaluation.submitted", project=project, evaluation=evaluation)
    return view(project, evaluation, target_set)
