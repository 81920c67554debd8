"""The bureau admin's decisions on the key evaluation (no Flask): accept (审定通过 — frozen, the
stage approved, which opens 结果应用) or return with an opinion; or, before anything is submitted,
the decision that the project has no key evaluation (`skip`, with the reason). Audited in the
project's tenant and announced."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from jixiao.platform.core.actor import Actor
from jixiao.platform.core.authz import authorize
from jixiao.platform.core.db import utcnow
from jixiao.platform.core.errors import Conflict, ValidationFailed
from jixiao.services.notifications.events import announce
from jixiao.services.projects.models import Project
from jixiao.services.projects.service import get_project, set_stage_status

from .models import DECISIONS, KeyEvaluation, KeyEvaluationDecision
from .service import FROZEN, STAGE, audit, current, find, require_open, snapshot, view


def _finance(session: Session, actor: Actor, project_id: int) -> tuple[Project, KeyEvaluation]:
    project = get_project(session, actor, project_id)
    authorize(actor, "projects.finance", project=project)
    require_open(project)
    return project, current(session, project)


def decide(session: Session, actor: Actor, project_id: int, decision: str, opinion: str) -> dict[str, Any]:
    """Accept (审定通过: frozen, the stage approved) or return with the opinion."""
    project, evaluation = _finance(session, actor, project_id)
    if evaluation.status == "accepted":
        raise Conflict("重点评价已审定通过，不能重复审定")
    if evaluation.status == "skipped":
        raise Conflict(FROZEN["skipped"])
    if evaluation.status != "submitted":
        raise Conflict("重点评价尚未提交，没有待审定的评价")
    opinion = (opinion or "").strip()
    errors: dict[str, list[str]] = {}
    if decision not in DECISIONS:
        errors["decision"] = ["审定结论须为 accept（审定通过）或 return（退回修改）"]
    if decision == "return" and not opinion:
        errors["opinion"] = ["退回须写明意见，说明需要修改之处"]
    if errors:
        raise ValidationFailed(next(iter(errors.values()))[0], errors=errors)
    now = utcnow()
    evaluation.decisions.append(
        KeyEvaluationDecision(
            tenant_id=project.tenant_id,
            project_id=project.id,
            decision=decision,
            opinion=opinion,
            decided_by=actor.username,
            decided_at=now,
            snapshot=snapshot(evaluation),
        )
    )
    if decision == "accept":
        evaluation.status = "accepted"
        evaluation.decided_by, evaluation.decided_at = actor.username, now
        set_stage_status(session, project, STAGE, "approved")  # opens 结果应用
    else:
        evaluation.status = "returned"
    session.flush()
    audit(session, "key_evaluation.decide", project, evaluation, decision=decision, opinion=opinion)
    announce(
        session, actor, "key_evaluation.decided", project=project, evaluation=evaluation, decision=decision
    )
    return view(session, project, evaluation)


def skip(session: Session, actor: Actor, project_id: int, reason: str) -> dict[str, Any]:
    """No key evaluation for this project (财政局决定不开展): the stage approved without one."""
    project, evaluation = _finance(session, actor, project_id)
    if evaluation.status in ("submitted", "accepted", "skipped"):
        raise Conflict(
            {
                "submitted": "重点评价已提交，请先审定或退回",
                "accepted": "重点评价已审定通过，不能再决定不开展",
                "skipped": "已决定本项目不开展重点评价",
            }[evaluation.status]
        )
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(
            "请写明不开展重点评价的理由", errors={"reason": ["请写明不开展重点评价的理由"]}
        )
    if evaluation not in session:
        session.add(evaluation)
    evaluation.status = "skipped"
    evaluation.skip_reason = reason
    evaluation.decided_by, evaluation.decided_at = actor.username, utcnow()
    session.flush()
    set_stage_status(session, project, STAGE, "approved")
    audit(session, "key_evaluation.skip", project, evaluation, reason=reason)
    announce(session, actor, "key_evaluation.skipped", project=project, evaluation=evaluation)
    return view(session, project, evaluation)


def accepted_grade(session: Session, project: Project) -> str | None:
    """The accepted key evaluation's grade (None: none accepted — skipped, or not yet) — what the
    result application suggests its recommendation from where there is one."""
    found = find(session, project)
    return found.grade if found is not None and found.status == "accepted" else None
