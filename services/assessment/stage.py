"""事前评估 in the stage registry (`projects.stages`): its page, its to-dos, its notifications."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import func
from sqlalchemy.orm import Session

from jixiao.platform.core.actor import Actor
from jixiao.services.notifications.events import to_holders, to_user
from jixiao.services.projects.models import Project
from jixiao.services.projects.stages import StagePlugin, Tab
from jixiao.services.tasks.kinds import ROLE_OF, Scope, Task, active, make_task, open_stages

from .models import CONCLUSIONS, CRITERIA, Assessment

STAGE = "assessment"


def _href(project_id: int) -> str:
    return f"/projects/{project_id}/assessment"


def tasks(session: Session, scope: Scope, today: date) -> list[Task]:
    """待填报: the assessment open as a draft; 待决策: a submitted one awaiting finance (never the
    submitter)."""
    found = []
    if scope.acts_as(ROLE_OF["fill"], "fill"):
        found += [
            make_task(
                "fill", p, STAGE, ROLE_OF["fill"], row.opened_at, today, what="填报事前评估", href=_href(p.id)
            )
            for p, row in open_stages(session, scope, STAGE, "draft")
        ]
    if scope.acts_as(ROLE_OF["decide"], "decide"):
        stmt = active(scope, Project, Assessment).join(Assessment, Assessment.project_id == Project.id)
        stmt = stmt.where(Assessment.status == "submitted")
        if scope.username:
            stmt = stmt.where(func.coalesce(Assessment.submitted_by, "") != scope.username)
        found += [
            make_task(
                "decide",
                project,
                STAGE,
                ROLE_OF["decide"],
                a.submitted_at,
                today,
                excluded=(a.submitted_by,) if a.submitted_by else (),
                submitted_by=a.submitted_by,
                what="对事前评估作出结论",
                href=_href(project.id),
            )
            for project, a in session.execute(stmt).all()
        ]
    return found


def _created(session: Session, actor: Actor, project: Project, data: dict[str, Any]) -> None:
    # the assessment now awaits the tenant's other editors
    to_holders(session, project, "fill", STAGE, exclude=actor.username)


def _submitted(session: Session, actor: Actor, project: Project, data: dict[str, Any]) -> None:
    to_holders(session, project, "decide", STAGE, exclude=actor.username)


def _decided(session: Session, actor: Actor, project: Project, data: dict[str, Any]) -> None:
    assessment = data["assessment"]
    conclusion = CONCLUSIONS.get(assessment.conclusion or "", "")
    to_user(
        session,
        project,
        assessment.submitted_by,
        kind="decided" if assessment.conclusion != "reject" else "returned",
        title=f"事前评估结论：{conclusion}",
        body=assessment.opinion or "",
        link=_href(project.id),
        stage=STAGE,
    )
    if assessment.conclusion != "reject":
        to_holders(session, project, "fill", "targets")


PLUGINS = (
    StagePlugin(
        stage=STAGE,
        page="assessment_pages.assessment",
        tabs=(Tab("assessment", "事前评估", "assessment_pages.assessment", "bi-clipboard-check", STAGE),),
        panel="assessment/_panel.html",
        panel_context="jixiao.services.assessment.views:panel_context",
        tasks=(tasks,),
        labels={"criteria": CRITERIA, "conclusion": CONCLUSIONS},
        done={"assessment.submit": "提交事前评估", "assessment.decide": "作出事前评估结论"},
        events={
            "project.created": _created,
            "assessment.submitted": _submitted,
            "assessment.decided": _decided,
        },
    ),
)
