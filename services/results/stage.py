"""结果应用 in the stage registry (`projects.stages`): its page, tabs, to-dos and notifications.

To-dos: a rectification item to answer (待答复, the editors, due at the item's deadline; again after
finance returned the reply), an answered item awaiting finance (待跟进: close it or return it), and
the result application to decide (待决策, finance: the budget recommendation and disclosure, due at
the program's deadline of the stage)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from jixiao.platform.core.actor import Actor
from jixiao.services.notifications.events import returned_to_editors, to_holders, to_user
from jixiao.services.notifications.service import holders, notify
from jixiao.services.projects.models import Project, ProjectStage
from jixiao.services.projects.stages import StagePlugin, Tab
from jixiao.services.tasks.kinds import ROLE_OF, Scope, Task, active, make_task

from .models import (
    ENTRY_ACTION_NAMES,
    ITEM_STATUS_NAMES,
    RECOMMENDATION_NAMES,
    STAGE,
    RectificationItem,
    ResultApplication,
)

DECIDER = "bureau_admin"  # who decides the result application (finance)


def _href(project_id: int) -> str:
    return f"/projects/{project_id}/results"


def _decide_href(project_id: int) -> str:
    return f"/projects/{project_id}/results/application"


def _item_key(item: RectificationItem) -> str:
    return f"item-{item.id}"


def _last(item: RectificationItem) -> Any:
    return item.entries[-1] if item.entries else None


def tasks(session: Session, scope: Scope, today: date) -> list[Task]:
    found: list[Task] = []
    if scope.acts_as(DECIDER, "decide"):
        decided = select(ResultApplication.id).where(ResultApplication.project_id == Project.id)
        stmt = (
            active(scope, Project, ProjectStage)
            .join(ProjectStage, ProjectStage.project_id == Project.id)
            .where(ProjectStage.stage == STAGE, ProjectStage.status == "draft", ~decided.exists())
        )
        found += [
            make_task(
                "decide",
                p,
                STAGE,
                DECIDER,
                row.opened_at,
                today,
                what="作出结果应用决定（预算安排建议、是否公开）",
                href=_decide_href(p.id),
            )
            for p, row in session.execute(stmt).all()
        ]
    items = active(scope, Project, RectificationItem).join(
        RectificationItem, RectificationItem.project_id == Project.id
    )
    if scope.acts_as(ROLE_OF["answer"], "answer"):
        for p, item in session.execute(items.where(RectificationItem.status == "open")).all():
            last = _last(item)
            returned = last is not None and last.action == "return"
            found.append(
                make_task(
                    "answer",
                    p,
                    STAGE,
                    ROLE_OF["answer"],
                    last.written_at if last else item.notice.issued_at,
                    today,
                    deadline=item.deadline,
                    what=f"答复整改事项：{item.text[:30]}",
                    detail=f"退回意见：{last.text}"[:80] if returned else "",
                    href=_href(p.id) + f"#item-{item.id}",
                    item=_item_key(item),
                )
            )
    if scope.acts_as(ROLE_OF["follow_up"], "follow_up"):
        for p, item in session.execute(items.where(RectificationItem.status == "answered")).all():
            last = _last(item)
            found.append(
                make_task(
                    "follow_up",
                    p,
                    STAGE,
                    ROLE_OF["follow_up"],
                    last.written_at if last else None,
                    today,
                    deadline=None,
                    what=f"审核整改答复（销号或退回）：{item.text[:30]}",
                    submitted_by=last.author if last else None,
                    href=_href(p.id) + f"#item-{item.id}",
                    item=_item_key(item),
                )
            )
    return found


def _issued(session: Session, actor: Actor, project: Project, data: dict[str, Any]) -> None:
    for item in data["notice"].items:
        to_holders(session, project, "answer", STAGE, exclude=actor.username, item=_item_key(item))


def _replied(session: Session, actor: Actor, project: Project, data: dict[str, Any]) -> None:
    to_holders(session, project, "follow_up", STAGE, exclude=actor.username, item=_item_key(data["item"]))


def _returned(session: Session, actor: Actor, project: Project, data: dict[str, Any]) -> None:
    item = data["item"]
    last = _last(item)
    repliers = [e.author for e in item.entries if e.action == "reply"]
    returned_to_editors(
        session,
        project,
        repliers[-1] if repliers else None,
        title=f"整改答复被退回：{item.text[:30]}",
        reasons=last.text if last else "",
        link=_href(project.id) + f"#item-{item.id}",
        stage=STAGE,
    )


def _closed(session: Session, actor: Actor, project: Project, data: dict[str, Any]) -> None:
    item = data["item"]
    for username in sorted({e.author for e in item.entries if e.action == "reply"}):
        to_user(
            session,
            project,
            username,
            kind="approved",
            title=f"整改事项已销号：{item.text[:30]}",
            link=_href(project.id) + f"#item-{item.id}",
            stage=STAGE,
        )


def _decided(session: Session, actor: Actor, project: Project, data: dict[str, Any]) -> None:
    found = data["application"]
    notify(
        session,
        holders(session, project.tenant_id, "project_editor", exclude=(actor.username,)),
        tenant_id=project.tenant_id,
        kind="decided",
        title=f"{project.name} · 结果应用：预算安排建议「{RECOMMENDATION_NAMES[found.budget_recommendation]}」"
        + ("，结果已公开" if found.disclosed else ""),
        link=_decide_href(project.id),
        project_id=project.id,
        stage=STAGE,
    )


def _completed(session: Session, actor: Actor, project: Project, data: dict[str, Any]) -> None:
    notify(
        session,
        holders(session, project.tenant_id, "project_editor", exclude=(actor.username,)),
        tenant_id=project.tenant_id,
        kind="approved",
        title=f"{project.name} · 全流程已完成：整改事项全部销号，结果应用已办结",
        link=f"/projects/{project.id}",
        project_id=project.id,
        stage=STAGE,
    )


PLUGINS = (
    StagePlugin(
        stage=STAGE,
        page="results_pages.tracker",
        tabs=(
            Tab("rectification", "整改跟踪", "results_pages.tracker", "bi-list-check", STAGE),
            Tab("result_application", "结果应用", "results_pages.application", "bi-signpost-split", STAGE),
        ),
        panel="results/_panel.html",
        panel_context="jixiao.services.results.views.common:panel_context",
        tasks=(tasks,),
        labels={
            "rectification_status": ITEM_STATUS_NAMES,
            "rectification_entry": ENTRY_ACTION_NAMES,
            "recommendation": RECOMMENDATION_NAMES,
        },
        done={
            "result_application.notice_issue": "下发整改通知",
            "result_application.item_reply": "答复整改事项",
            "result_application.item_close": "整改事项销号",
            "result_application.item_return": "退回整改答复",
            "result_application.decide": "作出结果应用决定",
            "result_application.disclose": "公开评价结果",
            "result_application.withdraw": "撤回公开",
        },
        events={
            "rectification.issued": _issued,
            "rectification.replied": _replied,
            "rectification.returned": _returned,
            "rectification.closed": _closed,
            "result_application.decided": _decided,
            "result_application.completed": _completed,
        },
    ),
)
