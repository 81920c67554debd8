"""绩效目标 in the stage registry (`projects.stages`): its page, tabs, to-dos and notifications."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from jixiao.platform.core.actor import Actor
from jixiao.services.indicators.rules import DIRECTION_LABELS, VALUE_TYPE_LABELS
from jixiao.services.notifications.events import reviewed, to_holders
from jixiao.services.projects.models import Project, ProjectStage
from jixiao.services.projects.stages import StagePlugin, Tab
from jixiao.services.tasks.kinds import (
    ROLE_OF,
    Scope,
    Task,
    active,
    held_by_editors,
    make_task,
    review_tasks,
    revise_tasks,
)

from .models import COMMENT_KEYS, REVIEW_LEVELS, TargetSet

STAGE = "targets"
SET_STATUS_NAMES = {
    "draft": "填报中",
    "submitted": "审核中",
    "returned": "已退回",
    "approved": "已审核通过",
    "superseded": "已被调整替代",
}
DECISION_NAMES = {"approve": "通过", "return": "退回"}
GOAL_LABELS = {"overall_goal": "年度总体目标", "midterm_goal": "中长期目标"}
FIELD_LABELS = {
    "name": "指标名称",
    "level2": "二级指标",
    "value_type": "指标类型",
    "direction": "方向",
    "target_value": "指标值",
    "unit": "单位",
    "weight": "权重",
    "value_basis": "标准值依据",
    "note": "指标值说明",
}


def _href(project_id: int) -> str:
    return f"/projects/{project_id}/targets"


def _review_href(project_id: int) -> str:
    return f"/projects/{project_id}/targets/review"


def _fill_what(number: int) -> str:
    return "填报绩效目标" if number == 1 else f"填报目标调整（第 {number} 版）"


def tasks(session: Session, scope: Scope, today: date) -> list[Task]:
    """待填报 (the first targets, started or not; an adjustment — without the program's deadline),
    退回修改, 待审核 (初审 / 复核)."""
    found: list[Task] = []
    if scope.acts_as(ROLE_OF["fill"], "fill"):
        started = select(TargetSet.id).where(TargetSet.project_id == Project.id).exists()
        not_started = (
            active(scope, Project, ProjectStage)
            .join(ProjectStage, ProjectStage.project_id == Project.id)
            .where(ProjectStage.stage == STAGE, ProjectStage.status == "draft", ~started)
        )
        found += [
            make_task(
                "fill",
                p,
                STAGE,
                ROLE_OF["fill"],
                row.opened_at,
                today,
                number=1,
                what=_fill_what(1),
                href=_href(p.id),
            )
            for p, row in session.execute(not_started).all()
        ]
        found += [
            make_task(
                "fill",
                p,
                STAGE,
                ROLE_OF["fill"],
                ts.created_at,
                today,
                deadline=ts.number == 1 or None,
                number=ts.number,
                what=_fill_what(ts.number),
                href=_href(p.id),
            )
            for p, ts, returned in held_by_editors(session, scope, TargetSet)
            if not returned
        ]
    found += revise_tasks(session, scope, today, TargetSet, STAGE, "修改退回的绩效目标", _href)
    found += review_tasks(session, scope, today, TargetSet, STAGE, "绩效目标", _review_href)
    return found


def _submitted(session: Session, actor: Actor, project: Project, data: dict[str, Any]) -> None:
    to_holders(session, project, "review", STAGE, exclude=actor.username)


def _adjusted(session: Session, actor: Actor, project: Project, data: dict[str, Any]) -> None:
    # the adjustment draft awaits the other editors too
    to_holders(session, project, "fill", STAGE, exclude=actor.username)


def _reviewed(session: Session, actor: Actor, project: Project, data: dict[str, Any]) -> None:
    reviewed(
        session,
        actor,
        project,
        data["target_set"],
        data["review"],
        noun="绩效目标",
        stage=STAGE,
        link=_href(project.id),
    )


PLUGINS = (
    StagePlugin(
        stage=STAGE,
        page="targets_pages.targets",
        tabs=(
            Tab("targets", "绩效目标", "targets_pages.targets", "bi-bullseye", STAGE),
            Tab("review", "目标审核", "targets_pages.review", "bi-patch-check", STAGE),
            Tab("versions", "版本历史", "targets_pages.versions", "bi-clock-history", STAGE),
        ),
        prints=(Tab("print", "绩效目标申报表", "targets_pages.targets_print", "bi-printer", STAGE),),
        panel="targets/_panel.html",
        panel_context="jixiao.services.targets.views.common:panel_context",
        tasks=(tasks,),
        labels={
            "set_status": SET_STATUS_NAMES,
            "review_level": REVIEW_LEVELS,
            "decision": DECISION_NAMES,
            "comment": COMMENT_KEYS,
            "direction": DIRECTION_LABELS,
            "value_type": VALUE_TYPE_LABELS,
            "field": FIELD_LABELS,
            "goal": GOAL_LABELS,
        },
        done={
            "targets.submit": "提交绩效目标",
            "targets.review": "审核绩效目标",
            "targets.adjust": "发起目标调整",
        },
        events={
            "targets.submitted": _submitted,
            "targets.reviewed": _reviewed,
            "targets.adjusted": _adjusted,
        },
    ),
)
