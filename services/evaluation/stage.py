"""自评 in the stage registry (`projects.stages`): its page, tabs, to-dos and notifications.

To-dos: the self-evaluation to fill (待填报, from the day monitoring completes; due at the program's
self-evaluation deadline), a returned one (退回修改, with the reasons), one awaiting 初审 or 复核
(待审核) — the latter two through the queue's shared chain queries, as for the targets."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from jixiao.platform.core.actor import Actor
from jixiao.services.notifications.events import reviewed, to_holders
from jixiao.services.projects.models import Project, ProjectStage
from jixiao.services.projects.stages import StagePlugin, Tab
from jixiao.services.tasks.kinds import (
    ROLE_OF,
    Scope,
    Task,
    active,
    make_task,
    review_tasks,
    revise_tasks,
)

from .key.stage import PLUGIN as KEY_EVALUATION
from .models import ACHIEVEMENTS, STATUS_NAMES, SelfEvaluation

STAGE = "self_evaluation"


def _href(project_id: int) -> str:
    return f"/projects/{project_id}/self-evaluation"


def _review_href(project_id: int) -> str:
    return f"/projects/{project_id}/self-evaluation/review"


def tasks(session: Session, scope: Scope, today: date) -> list[Task]:
    found: list[Task] = []
    if scope.acts_as(ROLE_OF["fill"], "fill"):
        returned = select(SelfEvaluation.id).where(
            SelfEvaluation.project_id == Project.id,
            SelfEvaluation.status.in_(("submitted", "returned", "approved")),
        )
        stmt = (
            active(scope, Project, ProjectStage)
            .join(ProjectStage, ProjectStage.project_id == Project.id)
            .where(ProjectStage.stage == STAGE, ProjectStage.status == "draft", ~returned.exists())
        )
        found += [
            make_task(
                "fill", p, STAGE, ROLE_OF["fill"], row.opened_at, today, what="填报自评", href=_href(p.id)
            )
            for p, row in session.execute(stmt).all()
        ]
    found += revise_tasks(session, scope, today, SelfEvaluation, STAGE, "修改退回的自评", _href)
    found += review_tasks(session, scope, today, SelfEvaluation, STAGE, "自评", _review_href)
    return found


def _submitted(session: Session, actor: Actor, project: Project, data: dict[str, Any]) -> None:
    to_holders(session, project, "review", STAGE, exclude=actor.username)


def _reviewed(session: Session, actor: Actor, project: Project, data: dict[str, Any]) -> None:
    if data["evaluation"].status == "approved":  # the key evaluation now awaits the granted evaluators
        to_holders(session, project, "fill", "evaluation")
    reviewed(
        session,
        actor,
        project,
        data["evaluation"],
        data["review"],
        noun="自评",
        stage=STAGE,
        link=_href(project.id),
    )


PLUGINS = (
    StagePlugin(
        stage=STAGE,
        page="evaluation_pages.self_evaluation",
        tabs=(
            Tab("self_evaluation", "自评", "evaluation_pages.self_evaluation", "bi-clipboard-data", STAGE),
            Tab("self_evaluation_review", "自评审核", "evaluation_pages.review", "bi-patch-check", STAGE),
        ),
        prints=(Tab("self_evaluation_print", "自评表", "evaluation_pages.print", "bi-printer", STAGE),),
        panel="evaluation/_panel.html",
        panel_context="jixiao.services.evaluation.views.common:panel_context",
        tasks=(tasks,),
        labels={"evaluation_status": STATUS_NAMES, "achievement": ACHIEVEMENTS},
        done={
            "self_evaluation.submit": "提交自评",
            "self_evaluation.review": "审核自评",
        },
        events={"self_evaluation.submitted": _submitted, "self_evaluation.reviewed": _reviewed},
    ),
    KEY_EVALUATION,  # 重点评价 (key/stage.py)
)
