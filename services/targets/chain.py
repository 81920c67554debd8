"""The review chain of performance targets (初审 → 复核, 联审 hook) and adjustments (no Flask).

Each level approves or returns with comments on 完整性, 相关性, 适当性, 可行性; never one's own
submission, never twice; a return keeps a snapshot of what was returned (the resubmission's diff);
the last approval freezes the set and supersedes the version before. An adjustment is a new draft
version copied from the approved one, through the same chain. Every step is audited and announced
(the work queue's notifications).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from jixiao.platform.core.actor import Actor
from jixiao.platform.core.audit import record
from jixiao.platform.core.authz import authorize, policy
from jixiao.platform.core.db import utcnow
from jixiao.platform.core.errors import Conflict, Forbidden, ValidationFailed
from jixiao.services.notifications.events import announce
from jixiao.services.projects.models import Project
from jixiao.services.projects.service import get_project, require_stage, set_stage_status

from .models import (
    ADJUSTMENT_REASONS,
    CHAIN,
    COMMENT_KEYS,
    EXPLANATION_MIN,
    LINE_FIELDS,
    REVIEW_LEVELS,
    ROLE_OF_LEVEL,
    TargetLine,
    TargetReview,
    TargetSet,
)
from .service import current, sets_of, snapshot_of


@policy("targets.review", scope="reviews:write")
def _may_review(actor: Actor, *, project: Project, level: str) -> None:
    """初审: the department reviewer; 复核: the bureau admin — of the project's own tenant."""
    if project.tenant_id != actor.tenant_id:
        raise Forbidden("上级单位对下级项目只读")
    if not actor.has_role(ROLE_OF_LEVEL[level]):
        if actor.has_role(*(ROLE_OF_LEVEL[lv] for lv in CHAIN)):
            raise Conflict(f"目标当前处于{REVIEW_LEVELS[level]}环节，不是您的审核环节")
        raise Forbidden("只有主管部门审核人（初审）或财政局管理员（复核）可以审核绩效目标")


def review(
    session: Session, actor: Actor, project_id: int, decision: str, comments: dict[str, str]
) -> TargetSet:
    project = get_project(session, actor, project_id)
    if project.tenant_id != actor.tenant_id:
        authorize(actor, "projects.read")
        raise Forbidden("上级单位对下级项目只读")
    target_set = current(session, actor, project_id)
    if target_set.status != "submitted" or target_set.review_level is None:
        raise Conflict("绩效目标当前没有待审核的提交")
    level = target_set.review_level
    authorize(actor, "targets.review", project=project, level=level)
    if target_set.submitted_by == actor.username:
        raise Forbidden("不能审核自己提交的绩效目标")
    if any(
        r.reviewer == actor.username and r.decision == "approve"
        for r in target_set.reviews
        if r.reviewed_at and target_set.submitted_at and r.reviewed_at >= target_set.submitted_at
    ):
        raise Conflict("您已审核过本次提交")
    errors: dict[str, list[str]] = {}
    if decision not in ("approve", "return"):
        errors["decision"] = ["审核结论须为通过或退回"]
    unknown = [k for k in comments if k not in COMMENT_KEYS]
    if unknown:
        errors["comments"] = [
            f"未知的审核要点：{'、'.join(unknown)}，审核要点为{'、'.join(COMMENT_KEYS.values())}"
        ]
    if decision == "return" and not any(str(v or "").strip() for v in comments.values()):
        errors.setdefault("comments", []).append("退回须就完整性、相关性、适当性、可行性至少一项写明意见")
    if errors:
        raise ValidationFailed(next(iter(errors.values()))[0], errors=errors)
    review = TargetReview(
        tenant_id=target_set.tenant_id,
        level=level,
        decision=decision,
        comments={k: str(v or "") for k, v in comments.items()},
        reviewer=actor.username,
        snapshot=snapshot_of(target_set, with_indicators=True) if decision == "return" else None,
    )
    target_set.reviews.append(review)
    if decision == "return":
        target_set.status = "returned"
        target_set.review_level = None
        if target_set.number == 1:
            set_stage_status(session, project, "targets", "returned")
    elif CHAIN.index(level) + 1 < len(CHAIN):
        target_set.review_level = CHAIN[CHAIN.index(level) + 1]
    else:
        target_set.status = "approved"
        target_set.review_level = None
        target_set.approved_at = utcnow()
        for older in sets_of(session, project)[1:]:
            if older.status == "approved":
                older.status = "superseded"
        if target_set.number == 1:
            set_stage_status(session, project, "targets", "approved")
    session.flush()  # a concurrent review of the same submission fails here (lock_version) → 409
    record(
        session,
        "targets.review",
        object_type="project",
        object_id=project.id,
        after={
            "number": target_set.number,
            "level": level,
            "decision": decision,
            "comments": comments,
            "status": target_set.status,
        },
    )
    announce(session, actor, "targets.reviewed", project=project, target_set=target_set, review=review)
    return target_set


def adjust(
    session: Session,
    actor: Actor,
    project_id: int,
    reason: str,
    explanation: str | None,
    *,
    as_finance: bool = False,
) -> TargetSet:
    """调整: after approval, a new draft version (a copy of the approved one) through the same chain.
    It needs a reason and a 调整说明 of at least `EXPLANATION_MIN` characters (both checked at once).
    The editors open one; so may finance (`as_finance`), from a correction request on a round."""
    project = get_project(session, actor, project_id)
    authorize(actor, "projects.finance" if as_finance else "projects.write", project=project)
    require_stage(project, "targets", "approved")
    latest = current(session, actor, project_id)
    if latest.status != "approved":
        raise Conflict("已有进行中的目标调整（或目标尚未审核通过）")
    errors: dict[str, list[str]] = {}
    if reason not in ADJUSTMENT_REASONS:
        errors["reason"] = [f"调整原因须为{'、'.join(ADJUSTMENT_REASONS)}之一"]
    explained = (explanation or "").strip()
    if len(explained) < EXPLANATION_MIN:
        errors["explanation"] = [
            f"请填写调整说明，写明调整的内容和理由（至少 {EXPLANATION_MIN} 个字，当前 {len(explained)} 个字）"
        ]
    if errors:
        raise ValidationFailed("目标调整的申请不完整", errors=errors)
    new = TargetSet(
        tenant_id=project.tenant_id,
        project_id=project.id,
        number=latest.number + 1,
        status="draft",
        overall_goal=latest.overall_goal,
        midterm_goal=latest.midterm_goal,
        adjustment_reason=reason,
        adjustment_explanation=explained,
        lines=[
            TargetLine(
                tenant_id=project.tenant_id,
                position=line.position,
                indicator_id=line.indicator_id,
                **{f: getattr(line, f) for f in LINE_FIELDS},
            )
            for line in latest.lines
        ],
    )
    session.add(new)
    session.flush()
    record(
        session,
        "targets.adjust",
        object_type="project",
        object_id=project.id,
        after={"number": new.number, "reason": reason, "explanation": new.adjustment_explanation},
    )
    announce(session, actor, "targets.adjusted", project=project, target_set=new)
    return new
