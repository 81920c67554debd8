"""The self-evaluation's review: the targets' chain (初审 → 复核, comments on 完整性, 相关性, 适当性,
可行性; never one's own submission, never twice; a return keeps a snapshot for the resubmission's
diff) bound to the self-evaluation, and what changed since a return (no Flask)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from jixiao.platform.core.actor import Actor
from jixiao.platform.core.authz import policy
from jixiao.services.projects.models import Project
from jixiao.services.projects.service import set_stage_status
from jixiao.services.targets import chain

from . import service
from .models import LINE_INPUTS, SelfEvaluation, SelfEvaluationReview

policy("self_evaluation.review", scope="reviews:write")(chain.review_policy("自评"))

# The form's own fields compared by the diff (the lines' inputs are compared line by line).
FIELDS = (
    "budget_executed",
    "adjusted_budget",
    "budget_reason",
    "summary",
    "conclusion",
    "problems",
    "measures",
)


def _load(session: Session, actor: Actor, project: Project) -> SelfEvaluation | None:
    return service.find(session, project)


def _returned(session: Session, project: Project, evaluation: SelfEvaluation) -> None:
    set_stage_status(session, project, "self_evaluation", "returned")


def _approved(session: Session, project: Project, evaluation: SelfEvaluation) -> None:
    set_stage_status(session, project, "self_evaluation", "approved")  # opens the key evaluation


SELF_EVALUATION = chain.Chain(
    noun="自评",
    stage="self_evaluation",
    policy="self_evaluation.review",
    audit_action="self_evaluation.review",
    event="self_evaluation.reviewed",
    subject_name="evaluation",
    review_row=SelfEvaluationReview,
    load=_load,
    snapshot=service.snapshot,
    on_return=_returned,
    on_approve=_approved,
    audit_of=lambda evaluation: {"score": service.money(evaluation.score), "grade": evaluation.grade},
)


def review(
    session: Session, actor: Actor, project_id: int, decision: str, comments: dict[str, str]
) -> dict[str, Any]:
    """Approve or return at the level the chain is at (初审 → 复核); the last approval freezes it
    and approves the stage."""
    project, evaluation = chain.decide(session, actor, SELF_EVALUATION, project_id, decision, comments)
    return service.view(project, evaluation, service.target_set_of(session, project, evaluation))


def diff(old: dict[str, Any] | None, new: dict[str, Any]) -> dict[str, Any]:
    """What changed between two snapshots: `fields` (field: [before, after]) and `changed` lines
    (`{target_indicator_id, name, fields}`)."""
    before = old or {}
    changes: dict[str, Any] = {"fields": {}, "changed": []}
    for name in FIELDS:
        if before.get(name, "") != new.get(name, ""):
            changes["fields"][name] = [before.get(name, ""), new.get(name, "")]
    old_lines = {line["target_indicator_id"]: line for line in before.get("lines", [])}
    for line in new.get("lines", []):
        was = old_lines.get(line["target_indicator_id"], {})
        fields = {f: [was.get(f, ""), line[f]] for f in LINE_INPUTS if was.get(f, "") != line[f]}
        if fields:
            changes["changed"].append(
                {"target_indicator_id": line["target_indicator_id"], "name": line["name"], "fields": fields}
            )
    return changes


def resubmission(evaluation: SelfEvaluation) -> dict[str, Any] | None:
    """重新提交: what changed since the reviewer returned it (None unless submitted again after a return)."""
    if evaluation.id is None or evaluation.status != "submitted":
        return None
    return chain.since_return(evaluation, service.snapshot(evaluation), diff)
