"""The result application (结果应用): the budget recommendation suggested from the grade, the
decision, disclosure, and when the project's lifecycle is complete (no Flask).

The suggestion follows the grade of the accepted key evaluation where there is one, else the
approved self-evaluation's, through the program's `result_application.recommendations` (*default*
优 → prioritise 优先保障, 良 → improve 督促改进, 中 → reduce 削减, 差 → cancel 取消). Finance (the
bureau admin of the project's tenant) may choose another recommendation only with a reason.

The stage is complete — `result_application` approved, every stage done on the stepper, the project
still `active` — once the recommendation is set and every item of every notice is closed (a project
without any notice needs only the recommendation). A notice issued after that opens the stage again.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from jixiao.platform.core.actor import Actor
from jixiao.platform.core.audit import record
from jixiao.platform.core.authz import authorize
from jixiao.platform.core.db import utcnow
from jixiao.platform.core.errors import Conflict, StaleVersion, ValidationFailed
from jixiao.services.evaluation import service as self_evaluation
from jixiao.services.evaluation.key import decision as key_decision
from jixiao.services.evaluation.key import service as key_service
from jixiao.services.notifications.events import announce
from jixiao.services.projects.models import Project
from jixiao.services.projects.service import get_project, require_stage, set_stage_status

from .models import (
    DEFAULT_RECOMMENDATIONS,
    RECOMMENDATION_NAMES,
    STAGE,
    RectificationItem,
    ResultApplication,
)

NOT_OPEN = "重点评价尚未通过，结果应用阶段尚未开启"


@dataclass(frozen=True)
class Grade:
    """The grade a suggestion rests on, where it came from, and the figures the public page shows."""

    grade: str | None
    source: str | None  # key_evaluation / self_evaluation
    self_score: str | None
    self_grade: str | None
    key_grade: str | None
    findings: str


def require_open(project: Project) -> None:
    if project.stage_row(STAGE).status == "locked":
        raise Conflict(NOT_OPEN)
    require_stage(project, STAGE)


def key_evaluation(session: Session, project: Project) -> tuple[str, str] | None:
    """The accepted key evaluation's (grade, findings); None where there is none (skipped)."""
    grade = key_decision.accepted_grade(session, project)
    found = key_service.find(session, project) if grade else None
    return (grade, found.findings if found else "") if grade else None


def grade_of(session: Session, actor: Actor, project: Project) -> Grade:
    """The grade that drives the suggestion (the key evaluation's, else the self-evaluation's)."""
    own = self_evaluation.get(session, actor, project.id)
    self_score, self_grade = own.get("score"), own.get("grade")
    findings = "\n".join(filter(None, (own.get("conclusion"), own.get("problems"))))
    key = key_evaluation(session, project)
    if key is not None:
        return Grade(key[0], "key_evaluation", self_score, self_grade, key[0], key[1] or findings)
    return Grade(
        self_grade, "self_evaluation" if self_grade else None, self_score, self_grade, None, findings
    )


def recommendations_of(project: Project) -> dict[str, str]:
    settings = project.program.effective_settings.get("result_application") or {}
    return {**DEFAULT_RECOMMENDATIONS, **(settings.get("recommendations") or {})}


def suggestion(project: Project, grade: Grade) -> str | None:
    return recommendations_of(project).get(grade.grade or "")


def find(session: Session, project: Project) -> ResultApplication | None:
    return session.execute(
        select(ResultApplication).where(ResultApplication.project_id == project.id)
    ).scalar_one_or_none()


def items_of(session: Session, project: Project) -> list[RectificationItem]:
    return list(
        session.execute(select(RectificationItem).where(RectificationItem.project_id == project.id)).scalars()
    )


def is_complete(session: Session, project: Project) -> bool:
    found = find(session, project)
    return found is not None and all(i.status == "closed" for i in items_of(session, project))


def settle(session: Session, actor: Actor, project: Project) -> None:
    """Approve the stage once complete; open it again when it no longer is (a new notice)."""
    row = project.stage_row(STAGE)
    if row.status in ("locked", "closed"):
        return
    session.flush()
    complete = is_complete(session, project)
    if complete and row.status != "approved":
        set_stage_status(session, project, STAGE, "approved")
        announce(session, actor, "result_application.completed", project=project)
    elif not complete and row.status == "approved":
        set_stage_status(session, project, STAGE, "draft")


# --- reading ----------------------------------------------------------------------------------


def view(session: Session, actor: Actor, project: Project) -> dict[str, Any]:
    found = find(session, project)
    grade = grade_of(session, actor, project)
    items = items_of(session, project)
    return {
        "project_id": project.id,
        "grade": grade.grade,
        "grade_source": grade.source,
        "self_evaluation_score": grade.self_score,
        "self_evaluation_grade": grade.self_grade,
        "key_evaluation_grade": grade.key_grade,
        "suggested_recommendation": suggestion(project, grade),
        "budget_recommendation": found.budget_recommendation if found else None,
        "recommendation_reason": found.recommendation_reason if found else "",
        "findings": (found.public_findings if found and found.disclosed else "") or grade.findings,
        "disclosed": bool(found and found.disclosed),
        "disclosed_at": found.disclosed_at if found else None,
        "decided_by": found.decided_by if found else None,
        "decided_at": found.decided_at if found else None,
        "lock_version": found.lock_version if found else None,
        "rectification": {
            "items": len(items),
            "closed": sum(1 for i in items if i.status == "closed"),
        },
        "complete": project.stage_row(STAGE).status == "approved",
    }


def get(session: Session, actor: Actor, project_id: int) -> dict[str, Any]:
    project = get_project(session, actor, project_id)
    if project.stage_row(STAGE).status == "locked":
        raise Conflict(NOT_OPEN)
    return view(session, actor, project)


# --- finance ----------------------------------------------------------------------------------


def decide(session: Session, actor: Actor, project_id: int, data: dict[str, Any]) -> dict[str, Any]:
    """Set the budget recommendation and whether the results are disclosed (again at any time: a
    later PUT changes the recommendation or withdraws the disclosure)."""
    project = get_project(session, actor, project_id)
    authorize(actor, "projects.finance", project=project)
    require_open(project)
    found = find(session, project)
    if (
        data.get("lock_version") is not None
        and found is not None
        and found.lock_version != data["lock_version"]
    ):
        raise StaleVersion("结果应用已被他人修改，请刷新后重试")
    grade = grade_of(session, actor, project)
    suggested = suggestion(project, grade)
    chosen = data["budget_recommendation"]
    reason = (data.get("recommendation_reason") or "").strip()
    if chosen != suggested and not reason:
        basis = (
            f"按{'重点评价' if grade.source == 'key_evaluation' else '自评'}等级「{grade.grade}」建议"
            f"「{RECOMMENDATION_NAMES[suggested]}」"
            if suggested
            else "没有可据以建议的评价等级"
        )
        message = f"预算安排建议「{RECOMMENDATION_NAMES[chosen]}」与{basis}不同，须填写理由"
        raise ValidationFailed(message, errors={"recommendation_reason": [message]})
    before = found.to_audit() if found else None
    if found is None:
        found = ResultApplication(tenant_id=project.tenant_id, project_id=project.id, disclosed=False)
        session.add(found)
    found.budget_recommendation = chosen
    found.suggested_recommendation = suggested
    found.recommendation_reason = reason if chosen != suggested else ""
    found.grade, found.grade_source = grade.grade, grade.source
    found.decided_by, found.decided_at = actor.username, utcnow()
    disclose = bool(data.get("disclose"))
    was_disclosed = bool(before and before["disclosed"])
    if disclose:
        # what the public sees is what was decided now (the figures are copied, not read live)
        findings = (data.get("findings") or "").strip() or grade.findings
        found.public_self_score = None if grade.self_score is None else Decimal(grade.self_score)
        found.public_self_grade, found.public_key_grade = grade.self_grade, grade.key_grade
        found.public_findings = findings
        if not was_disclosed:
            found.disclosed_by, found.disclosed_at = actor.username, utcnow()
    else:
        found.disclosed_by, found.disclosed_at = None, None
    found.disclosed = disclose
    session.flush()
    record(
        session,
        "result_application.decide",
        object_type="project",
        object_id=project.id,
        before=before,
        after=found.to_audit(),
    )
    if disclose != was_disclosed:
        record(
            session,
            "result_application.disclose" if disclose else "result_application.withdraw",
            object_type="project",
            object_id=project.id,
            after={"disclosed": disclose},
        )
    announce(session, actor, "result_application.decided", project=project, application=found)
    settle(session, actor, project)
    return view(session, actor, project)
