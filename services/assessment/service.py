"""Ex-ante assessment: draft, submit (every criterion scored and explained), finance decision.
不予支持 ends the project; 予以支持/部分支持 approve the stage and open the targets (no Flask)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from jixiao.platform.core.actor import Actor
from jixiao.platform.core.audit import record
from jixiao.platform.core.authz import authorize
from jixiao.platform.core.db import utcnow
from jixiao.platform.core.errors import Forbidden, StaleVersion, ValidationFailed
from jixiao.platform.core.schema import text_problem
from jixiao.services.evidence.service import missing_purposes
from jixiao.services.notifications.events import announce
from jixiao.services.projects.service import close_project, get_project, require_stage, set_stage_status

from .models import CONCLUSIONS, CRITERIA, Assessment


def get_assessment(session: Session, actor: Actor, project_id: int) -> Assessment:
    project = get_project(session, actor, project_id)
    found = session.execute(
        select(Assessment).where(Assessment.project_id == project.id)
    ).scalar_one_or_none()
    return found or Assessment(
        project_id=project.id, tenant_id=project.tenant_id, criteria={}, summary="", status="draft", version=0
    )


def _criteria_problems(criteria: dict[str, Any], *, complete: bool) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for key in criteria:
        if key not in CRITERIA:
            errors.setdefault(f"criteria.{key}", []).append(
                f"未知的评估要点，应为：{'、'.join(CRITERIA.values())}"
            )
    for key, label in CRITERIA.items():
        item = criteria.get(key)
        if item is None:
            if complete:
                errors.setdefault(f"criteria.{key}", []).append(f"请对「{label}」评分并填写意见")
            continue
        if not isinstance(item, dict):
            errors.setdefault(f"criteria.{key}", []).append(f"「{label}」须为 {{score, opinion}}")
            continue
        score = item.get("score")
        try:
            value = Decimal(str(score)) if score is not None and str(score).strip() != "" else None
        except InvalidOperation:
            value = None
            errors.setdefault(f"criteria.{key}.score", []).append(f"「{label}」的评分须为数字")
        if value is not None and not value.is_finite():
            value = None
            errors.setdefault(f"criteria.{key}.score", []).append(f"「{label}」的评分须为数字")
        if value is not None and not (0 <= value <= 100):
            errors.setdefault(f"criteria.{key}.score", []).append(f"「{label}」的评分须在 0–100 之间")
        if complete and value is None and f"criteria.{key}.score" not in errors:
            errors.setdefault(f"criteria.{key}.score", []).append(f"请对「{label}」评分")
        opinion = item.get("opinion")
        if opinion is not None and not isinstance(opinion, str):
            errors.setdefault(f"criteria.{key}.opinion", []).append(f"「{label}」的评估意见须为文字")
        elif opinion and (problem := text_problem(opinion, multiline=True)):
            errors.setdefault(f"criteria.{key}.opinion", []).append(f"「{label}」的评估意见{problem}")
        if complete and not str(item.get("opinion") or "").strip():
            errors.setdefault(f"criteria.{key}.opinion", []).append(f"请填写「{label}」的评估意见")
    return errors


def save_draft(session: Session, actor: Actor, project_id: int, data: dict[str, Any]) -> Assessment:
    project = get_project(session, actor, project_id)
    authorize(actor, "projects.write", project=project)
    require_stage(project, "assessment", "draft", "returned")
    assessment = get_assessment(session, actor, project_id)
    saved = assessment in session
    if data.get("version") is not None and saved and data["version"] != assessment.version:
        raise StaleVersion(f"事前评估已被修改（当前版本 {assessment.version}），请刷新后重试")
    criteria = data.get("criteria") or {}
    errors = _criteria_problems(criteria, complete=False)
    if errors:
        raise ValidationFailed(next(iter(errors.values()))[0], errors=errors)
    before = {"criteria": assessment.criteria, "summary": assessment.summary}
    assessment.criteria = {
        k: {"score": str(v.get("score", "")), "opinion": str(v.get("opinion") or "")}
        for k, v in criteria.items()
    }
    assessment.summary = str(data.get("summary") or "")
    if not saved:
        session.add(assessment)
    session.flush()
    record(
        session,
        "assessment.save",
        object_type="project",
        object_id=project.id,
        before=before,
        after={"criteria": assessment.criteria, "summary": assessment.summary},
    )
    return assessment


def submission_problems(
    session: Session, project: Any, criteria: dict[str, Any], summary: str | None
) -> dict[str, list[str]]:
    """Every problem that stops a submission, in one answer: each criterion's score (missing, not a
    number, out of 0–100) and opinion, the summary, the required evidence."""
    errors = _criteria_problems(criteria or {}, complete=True)
    if not (summary or "").strip():
        errors.setdefault("summary", []).append("请填写评估结论摘要")
    missing = missing_purposes(session, project, "assessment")
    if missing:
        errors["evidence"] = [f"缺少必备的佐证材料：{'、'.join(missing)}"]
    return errors


def submit(session: Session, actor: Actor, project_id: int, data: dict[str, Any] | None = None) -> Assessment:
    """Submit to finance. With `data` (criteria, summary) the form is saved and submitted at once:
    nothing is saved unless all of it can be submitted, and every problem is named together."""
    project = get_project(session, actor, project_id)
    authorize(actor, "projects.write", project=project)
    require_stage(project, "assessment", "draft", "returned")
    if data is not None and data.get("criteria") is not None:
        errors = submission_problems(session, project, data["criteria"], data.get("summary"))
        if errors:
            raise ValidationFailed(f"事前评估尚不完整：共 {sum(map(len, errors.values()))} 处", errors=errors)
        save_draft(session, actor, project_id, data)
    assessment = get_assessment(session, actor, project_id)
    errors = submission_problems(session, project, assessment.criteria or {}, assessment.summary)
    if errors:
        raise ValidationFailed(f"事前评估尚不完整：共 {sum(map(len, errors.values()))} 处", errors=errors)
    assessment.status = "submitted"
    assessment.submitted_by = actor.username
    assessment.submitted_at = utcnow()
    set_stage_status(session, project, "assessment", "submitted")
    session.flush()
    record(
        session,
        "assessment.submit",
        object_type="project",
        object_id=project.id,
        after={"criteria": assessment.criteria, "summary": assessment.summary},
    )
    announce(session, actor, "assessment.submitted", project=project, assessment=assessment)
    return assessment


def decide(session: Session, actor: Actor, project_id: int, conclusion: str, opinion: str) -> Assessment:
    """Finance's conclusion on a submitted assessment (not by whoever submitted it)."""
    project = get_project(session, actor, project_id)
    authorize(actor, "projects.finance", project=project)
    require_stage(project, "assessment", "submitted")
    assessment = get_assessment(session, actor, project_id)
    if assessment.submitted_by == actor.username:
        raise Forbidden("不能对自己提交的事前评估作出结论")
    errors: dict[str, list[str]] = {}
    if conclusion not in CONCLUSIONS:
        errors["conclusion"] = [f"请选择评估结论：{'、'.join(CONCLUSIONS.values())}"]
    if not (opinion or "").strip():
        errors["opinion"] = ["请填写财政审核意见"]
    if errors:
        raise ValidationFailed(next(iter(errors.values()))[0], errors=errors)
    assessment.status = "decided"
    assessment.conclusion = conclusion
    assessment.opinion = opinion.strip()
    assessment.decided_by = actor.username
    assessment.decided_at = utcnow()
    if conclusion == "reject":
        close_project(session, project, "assessment", f"事前评估结论：不予支持（{assessment.opinion}）")
    else:
        set_stage_status(session, project, "assessment", "approved")
    session.flush()
    record(
        session,
        "assessment.decide",
        object_type="project",
        object_id=project.id,
        after={"conclusion": conclusion, "opinion": assessment.opinion},
    )
    announce(session, actor, "assessment.decided", project=project, assessment=assessment)
    return assessment
