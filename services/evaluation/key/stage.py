"""重点评价 in the stage registry (`projects.stages`): its page, tabs, to-dos and notifications
(listed in `evaluation/stage.py`'s PLUGINS, after the self-evaluation).

To-dos:
- `fill` 待填报 — the key evaluation to write, for the evaluator (role `evaluator`, scope
  `evaluations:write`), from the day the self-evaluation is approved;
- `revise` 退回修改 — returned by the bureau admin, with the opinion (the evaluator);
- `decide` 待决策 — a submitted key evaluation awaiting the bureau admin's 审定.

The evaluator's items need the work queue to run for evaluators on their granted projects (the
walls let through only those; the grant's `key_evaluation` action is checked here when the scope
says which projects carry it)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from jixiao.platform.core.actor import Actor
from jixiao.services.grants.models import grantees
from jixiao.services.notifications.events import to_holders
from jixiao.services.notifications.service import notify
from jixiao.services.projects.models import Project, ProjectStage
from jixiao.services.projects.stages import StagePlugin, Tab
from jixiao.services.tasks.kinds import ROLE_OF, Scope, Task, active, make_task

from .models import DECISIONS, STATUS_NAMES, KeyEvaluation

STAGE = "evaluation"
EVALUATOR, EVALUATOR_SCOPE = "evaluator", "evaluations:write"


def _href(project_id: int) -> str:
    return f"/projects/{project_id}/evaluation"


def _decide_href(project_id: int) -> str:
    return f"/projects/{project_id}/evaluation/decision"


def _evaluator(scope: Scope) -> bool:
    return scope.everyone or (EVALUATOR in scope.roles and EVALUATOR_SCOPE in scope.scopes)


def _granted(scope: Scope, project: Project) -> bool:
    """The scope's grants carry `key_evaluation` on the project (a scope that lists no grants — the
    reminder job's — counts every project)."""
    grants = getattr(scope, "grants", None)
    return grants is None or scope.everyone or (project.id, "key_evaluation") in grants


def tasks(session: Session, scope: Scope, today: date) -> list[Task]:
    found: list[Task] = []
    open_stage = (
        active(scope, Project, ProjectStage, KeyEvaluation)
        .join(ProjectStage, ProjectStage.project_id == Project.id)
        .outerjoin(KeyEvaluation, KeyEvaluation.project_id == Project.id)
        .where(ProjectStage.stage == STAGE, ProjectStage.status.not_in(("locked", "approved", "closed")))
    )
    rows = (
        session.execute(open_stage).all()
        if _evaluator(scope) or scope.acts_as(ROLE_OF["decide"], "decide")
        else []
    )
    for project, row, evaluation in rows:
        status = evaluation.status if evaluation is not None else "draft"
        if _evaluator(scope) and _granted(scope, project) and status in ("draft", "returned"):
            returned = (
                bool(evaluation and evaluation.decisions) and evaluation.decisions[-1].decision == "return"
            )
            if returned:
                last = evaluation.decisions[-1]
                found.append(
                    make_task(
                        "revise", project, STAGE, EVALUATOR, last.decided_at, today,
                        detail=f"退回意见：{last.opinion}", what="修改退回的重点评价", href=_href(project.id),
                    )
                )  # fmt: skip
            else:
                found.append(
                    make_task("fill", project, STAGE, EVALUATOR, row.opened_at, today, what="撰写重点评价", href=_href(project.id))
                )  # fmt: skip
        if status == "submitted" and scope.acts_as(ROLE_OF["decide"], "decide"):
            found.append(
                make_task(
                    "decide", project, STAGE, ROLE_OF["decide"], evaluation.submitted_at, today,
                    submitted_by=evaluation.submitted_by, what="审定重点评价", href=_decide_href(project.id),
                )
            )  # fmt: skip
    return found


def _submitted(session: Session, actor: Actor, project: Project, data: dict[str, Any]) -> None:
    to_holders(session, project, "decide", STAGE, exclude=actor.username)


def _decided(session: Session, actor: Actor, project: Project, data: dict[str, Any]) -> None:
    """Returned: the granted evaluators have it to revise again (with the opinion); accepted: they
    hear that it is final."""
    last = data["evaluation"].decisions[-1]
    if last.decision == "return":
        to_holders(session, project, "revise", STAGE, exclude=actor.username)
        return
    notify(
        session,
        grantees(session, project.id, "key_evaluation"),
        tenant_id=project.tenant_id,
        kind="approved",
        title=f"{project.name} · 重点评价已审定通过",
        body=last.opinion or "",
        link=_href(project.id),
        project_id=project.id,
        stage=STAGE,
    )


def _skipped(session: Session, actor: Actor, project: Project, data: dict[str, Any]) -> None:
    """The bureau decided against a key evaluation: nothing awaits anyone (the stage is approved)."""


PLUGIN = StagePlugin(
    stage=STAGE,
    page="evaluation_pages.key_evaluation",
    tabs=(
        Tab("key_evaluation", "重点评价", "evaluation_pages.key_evaluation", "bi-clipboard-check", STAGE),
        Tab(
            "key_evaluation_compare",
            "与自评比较",
            "evaluation_pages.key_compare",
            "bi-bar-chart-steps",
            STAGE,
        ),
        Tab("key_evaluation_decision", "审定", "evaluation_pages.key_decision", "bi-patch-check", STAGE),
    ),
    prints=(Tab("key_evaluation_print", "重点评价表", "evaluation_pages.key_print", "bi-printer", STAGE),),
    panel="evaluation/key_panel.html",
    panel_context="jixiao.services.evaluation.key.views:panel_context",
    tasks=(tasks,),
    labels={"key_evaluation_status": STATUS_NAMES, "key_decision": DECISIONS},
    done={
        "key_evaluation.submit": "提交重点评价",
        "key_evaluation.decide": "审定重点评价",
        "key_evaluation.skip": "决定不开展重点评价",
    },
    events={
        "key_evaluation.submitted": _submitted,
        "key_evaluation.decided": _decided,
        "key_evaluation.skipped": _skipped,
    },
)
