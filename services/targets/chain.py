"""The review chain (初审 → 复核, 联审 hook): one engine for every submission that is reviewed —
the performance targets and the self-evaluation (自评) — and, bound to it, the targets' review and
adjustments (no Flask).

Each level approves or returns with comments on 完整性, 相关性, 适当性, 可行性; never one's own
submission, never twice in one submission; a return needs at least one comment and keeps a snapshot
of what was returned (the resubmission's diff); the last approval freezes the submission. Two
reviews of the same submission at once: one wins, the other gets 409 (the subject's lock_version).
A kind of submission takes part by describing itself as a `Chain` (its noun, policy, audit action,
event, review row, snapshot and what a return and the last approval do to the project); every step
is audited and announced (the work queue's notifications). An adjustment of the targets is a new
draft version copied from the approved one, through the same chain.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.orm import Session

from jixiao.platform.core.actor import Actor
from jixiao.platform.core.audit import record
from jixiao.platform.core.authz import authorize, policy
from jixiao.platform.core.db import utcnow
from jixiao.platform.core.errors import Conflict, Forbidden, ValidationFailed
from jixiao.services.notifications.events import announce
from jixiao.services.projects.models import Project
from jixiao.services.projects.service import get_project, require_stage, set_stage_status

from .diffs import diff_snapshots
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

# --- the engine -------------------------------------------------------------------------------


def _nothing(session: Session, project: Project, subject: Any) -> None:
    return None


@dataclass(frozen=True)
class Chain:
    """One kind of reviewed submission, as the engine sees it. The submission (`subject`) has
    `tenant_id`, `status` (draft → submitted → returned / approved), `review_level`, `submitted_by`,
    `submitted_at`, `approved_at` and `reviews` — rows with `level`, `decision`, `comments`,
    `reviewer`, `reviewed_at` and `snapshot`, made by `review_row(**columns)`."""

    noun: str  # 绩效目标 / 自评: what the messages call it
    stage: str  # its lifecycle stage: the program's `joint_review.stages` may add 联审 after 复核
    policy: str  # who may review at a level (`review_policy`)
    audit_action: str  # e.g. "targets.review"
    event: str  # announced after each decision, e.g. "targets.reviewed"
    subject_name: str  # the submission's keyword in the announcement, e.g. "target_set"
    review_row: Callable[..., Any]  # the review model
    load: Callable[[Session, Actor, Project], Any]  # the current submission (None: nothing yet)
    snapshot: Callable[[Any], dict[str, Any]]  # what a return keeps for the resubmission's diff
    on_return: Callable[[Session, Project, Any], None] = _nothing  # after status → returned
    on_approve: Callable[[Session, Project, Any], None] = _nothing  # after the last level approved
    audit_of: Callable[[Any], dict[str, Any]] = field(default=lambda subject: {})  # extra audit fields


def levels(project: Project, chain: Chain) -> tuple[str, ...]:
    """The chain's levels for this project: 初审 → 复核, then 联审 by a granted third-party evaluator
    where the program's `joint_review.stages` names the chain's stage."""
    joint = project.program.effective_settings.get("joint_review", {}).get("stages") or []
    return (*CHAIN, "joint") if chain.stage in joint else CHAIN


def review_policy(noun: str) -> Callable[..., None]:
    """The rule of every chain: 初审 by the department reviewer, 复核 by the bureau admin — of the
    project's own tenant; 联审 by an evaluator holding a live `joint_review` grant on the project;
    a reviewer of the other level is told whose turn it is."""

    def check(actor: Actor, *, project: Project, level: str) -> None:
        if level == "joint" or actor.is_evaluator:
            if level != "joint":
                raise Conflict(f"{noun}当前处于{REVIEW_LEVELS[level]}环节，第三方机构只参与联审")
            if not (actor.is_evaluator and actor.granted(project.id, "joint_review")):
                raise Forbidden(f"{noun}的联审由获授权「联审」(joint_review) 的第三方机构进行")
            return
        if project.tenant_id != actor.tenant_id:
            raise Forbidden("上级单位对下级项目只读")
        if not actor.has_role(ROLE_OF_LEVEL[level]):
            if actor.has_role(*(ROLE_OF_LEVEL[lv] for lv in CHAIN)):
                raise Conflict(f"{noun}当前处于{REVIEW_LEVELS[level]}环节，不是您的审核环节")
            raise Forbidden(f"只有主管部门审核人（初审）或财政局管理员（复核）可以审核{noun}")

    check.__doc__ = f"审核{noun}: 初审 by the department reviewer, 复核 by the bureau admin — of the project's own tenant."
    return check


def decide(
    session: Session, actor: Actor, chain: Chain, project_id: int, decision: str, comments: dict[str, str]
) -> tuple[Project, Any]:
    """Approve or return the submission of `chain` at the level it awaits; returns the project and
    the submission (its new review last in `reviews`)."""
    project = get_project(session, actor, project_id)
    authorize(actor, "projects.read")
    if project.tenant_id != actor.tenant_id and not actor.is_evaluator:
        raise Forbidden("上级单位对下级项目只读")
    subject = chain.load(session, actor, project)
    if subject is not None and inspect(subject).persistent:
        # Reviews of one submission take turns on its row, first thing: a decision's writes touch the
        # project's stages too, and two reviewers locking them in different orders deadlocked (500).
        # The row is read again once held: the later reviewer sees the decision made before it (409).
        session.refresh(subject, with_for_update={"key_share": True})
    if subject is None or subject.status != "submitted" or subject.review_level is None:
        raise Conflict(f"{chain.noun}当前没有待审核的提交")
    level = subject.review_level
    authorize(actor, chain.policy, project=project, level=level)
    if subject.submitted_by == actor.username:
        raise Forbidden(f"不能审核自己提交的{chain.noun}")
    if any(
        r.reviewer == actor.username and r.decision == "approve"
        for r in subject.reviews
        if r.reviewed_at and subject.submitted_at and r.reviewed_at >= subject.submitted_at
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
    row = chain.review_row(
        tenant_id=subject.tenant_id,
        level=level,
        decision=decision,
        comments={k: str(v or "") for k, v in comments.items()},
        reviewer=actor.username,
        snapshot=chain.snapshot(subject) if decision == "return" else None,
    )
    subject.reviews.append(row)
    if decision == "return":
        subject.status = "returned"
        subject.review_level = None
        chain.on_return(session, project, subject)
    elif (chain_levels := levels(project, chain)).index(level) + 1 < len(chain_levels):
        subject.review_level = chain_levels[chain_levels.index(level) + 1]
    else:
        subject.status = "approved"
        subject.review_level = None
        subject.approved_at = utcnow()
        chain.on_approve(session, project, subject)
    session.flush()  # a concurrent review of the same submission fails here (lock_version) → 409
    record(
        session,
        chain.audit_action,
        object_type="project",
        object_id=project.id,
        after={
            **chain.audit_of(subject),
            "level": level,
            "decision": decision,
            "comments": comments,
            "status": subject.status,
        },
    )
    announce(session, actor, chain.event, project=project, **{chain.subject_name: subject}, review=row)
    return project, subject


def since_return(subject: Any, now: dict[str, Any], diff: Callable[[Any, Any], Any]) -> dict[str, Any] | None:
    """重新提交: what changed in a resubmitted submission since its reviewer returned it (the snapshot
    kept with the last return against `now`, compared by `diff`); None when it was never returned
    or is not submitted again."""
    returns = [r for r in subject.reviews if r.decision == "return" and r.snapshot is not None]
    if subject.status != "submitted" or not returns:
        return None
    last = returns[-1]
    return {
        "returned_by": last.reviewer,
        "returned_at": last.reviewed_at,
        "level": last.level,
        "comments": last.comments,
        "diff": diff(last.snapshot, now),
    }


# --- the targets' chain -----------------------------------------------------------------------

policy("targets.review", scope="reviews:write")(review_policy("绩效目标"))


def _target_set(session: Session, actor: Actor, project: Project) -> TargetSet:
    return current(session, actor, project.id)


def _targets_returned(session: Session, project: Project, target_set: TargetSet) -> None:
    if target_set.number == 1:
        set_stage_status(session, project, "targets", "returned")


def _targets_approved(session: Session, project: Project, target_set: TargetSet) -> None:
    for older in sets_of(session, project)[1:]:
        if older.status == "approved":
            older.status = "superseded"
    if target_set.number == 1:
        set_stage_status(session, project, "targets", "approved")


TARGETS = Chain(
    noun="绩效目标",
    stage="targets",
    policy="targets.review",
    audit_action="targets.review",
    event="targets.reviewed",
    subject_name="target_set",
    review_row=TargetReview,
    load=_target_set,
    snapshot=lambda target_set: snapshot_of(target_set, with_indicators=True),
    on_return=_targets_returned,
    on_approve=_targets_approved,
    audit_of=lambda target_set: {"number": target_set.number},
)


def resubmission(session: Session, actor: Actor, project_id: int) -> dict[str, Any] | None:
    """重新提交: what changed in the resubmitted target set since its reviewer returned it."""
    target_set = current(session, actor, project_id)
    return since_return(target_set, snapshot_of(target_set, with_indicators=True), diff_snapshots)


def review(
    session: Session, actor: Actor, project_id: int, decision: str, comments: dict[str, str]
) -> TargetSet:
    target_set: TargetSet = decide(session, actor, TARGETS, project_id, decision, comments)[1]
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
