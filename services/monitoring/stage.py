"""跟踪监控 in the stage registry (`projects.stages`): its page, tabs, to-dos and notifications.

To-dos: a round to fill (待填报, from the first day of its period's month until it is reported; due
at the month's end — the last period at the program's monitoring deadline), a returned round
(退回修改), a reported round to confirm (待确认, finance), an open correction request to answer
(待答复, the editors, due at its deadline) and an answered one to close or ask again (待跟进,
finance)."""

from __future__ import annotations

import calendar
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from jixiao.platform.core.actor import Actor
from jixiao.services.notifications.events import returned_to_editors, to_holders, to_user
from jixiao.services.projects.models import Project
from jixiao.services.projects.service import stage_deadline
from jixiao.services.projects.stages import StagePlugin, Tab
from jixiao.services.tasks.kinds import ROLE_OF, Scope, Task, active, make_task, open_stages

from .models import (
    ACHIEVEMENTS,
    CORRECTION_STATUS_NAMES,
    ROUND_STATUS_NAMES,
    WARNING_NAMES,
    Correction,
    MonitoringRound,
)
from .service import allowed_periods, final_period

STAGE = "monitoring"


def _href(project_id: int) -> str:
    return f"/projects/{project_id}/monitoring"


def _round_href(project_id: int, period: str) -> str:
    return f"/projects/{project_id}/monitoring/{period}"


def _corrections_href(project_id: int) -> str:
    return f"/projects/{project_id}/monitoring/corrections"


def period_start(period: str) -> date:
    year, month = (int(part) for part in period.split("-"))
    return date(year, month, 1)


def period_deadline(project: Project, period: str) -> date:
    """A round is due at the end of its period's month; the last one at the program's deadline."""
    start = period_start(period)
    month_end = date(start.year, start.month, calendar.monthrange(start.year, start.month)[1])
    if period == final_period(project):
        return stage_deadline(project, STAGE) or month_end
    return month_end


def _due_rounds(session: Session, scope: Scope, today: date) -> list[Task]:
    tasks = []
    drafts = open_stages(session, scope, STAGE, "draft")
    done: dict[int, set[str]] = {project.id: set() for project, _ in drafts}
    if done:  # the periods already reported, of every project at once
        for project_id, period in session.execute(
            select(MonitoringRound.project_id, MonitoringRound.period).where(
                MonitoringRound.project_id.in_(list(done))
            )
        ):
            done[project_id].add(period)
    for project, row in drafts:
        for period in allowed_periods(project):
            if period in done[project.id] or period_start(period) > today:
                continue
            tasks.append(
                make_task(
                    "fill",
                    project,
                    STAGE,
                    ROLE_OF["fill"],
                    row.opened_at,
                    today,
                    deadline=period_deadline(project, period),
                    what=f"填报 {period} 监控",
                    href=_href(project.id),
                    item=period,
                )
            )
    return tasks


def tasks(session: Session, scope: Scope, today: date) -> list[Task]:
    found: list[Task] = []
    if scope.acts_as(ROLE_OF["fill"], "fill"):
        found += _due_rounds(session, scope, today)
    rounds = active(scope, Project, MonitoringRound).join(
        MonitoringRound, MonitoringRound.project_id == Project.id
    )
    if scope.acts_as(ROLE_OF["revise"], "revise"):
        found += [
            make_task(
                "revise",
                p,
                STAGE,
                ROLE_OF["revise"],
                r.returned_at,
                today,
                deadline=period_deadline(p, r.period),
                what=f"修改退回的 {r.period} 监控",
                detail=r.return_opinion or "",
                href=_round_href(p.id, r.period),
                item=r.period,
            )
            for p, r in session.execute(rounds.where(MonitoringRound.status == "returned")).all()
        ]
    if scope.acts_as(ROLE_OF["confirm"], "confirm"):
        found += [
            make_task(
                "confirm",
                p,
                STAGE,
                ROLE_OF["confirm"],
                r.reported_at,
                today,
                deadline=None,
                what=f"确认 {r.period} 监控",
                submitted_by=r.reported_by,
                excluded=(r.reported_by,),
                href=_round_href(p.id, r.period),
                item=r.period,
            )
            for p, r in session.execute(rounds.where(MonitoringRound.status == "reported")).all()
        ]
    corrections = (
        active(scope, Project, Correction)
        .join(Correction, Correction.project_id == Project.id)
        .where(Correction.round_id.is_not(None))  # a spot check's findings: services/spotchecks
    )
    if scope.acts_as(ROLE_OF["answer"], "answer"):
        found += [
            make_task(
                "answer",
                p,
                STAGE,
                ROLE_OF["answer"],
                c.entries[-1].written_at if c.entries else c.issued_at,
                today,
                deadline=c.deadline,
                what=f"答复{c.kind}（{c.monitoring_round.period} 监控）",
                detail=(c.entries[-1].text if c.entries else c.text)[:80],
                href=_corrections_href(p.id),
                item=str(c.id),
            )
            for p, c in session.execute(corrections.where(Correction.status == "open")).all()
        ]
    if scope.acts_as(ROLE_OF["follow_up"], "follow_up"):
        found += [
            make_task(
                "follow_up",
                p,
                STAGE,
                ROLE_OF["follow_up"],
                c.entries[-1].written_at if c.entries else c.issued_at,
                today,
                deadline=None,
                what=f"处理{c.kind}的答复（{c.monitoring_round.period} 监控）",
                submitted_by=c.entries[-1].author if c.entries else None,
                href=_corrections_href(p.id),
                item=str(c.id),
            )
            for p, c in session.execute(corrections.where(Correction.status == "answered")).all()
        ]
    return found


def _reported(session: Session, actor: Actor, project: Project, data: dict[str, Any]) -> None:
    to_holders(session, project, "confirm", STAGE, exclude=actor.username, item=data["round"].period)


def _confirmed(session: Session, actor: Actor, project: Project, data: dict[str, Any]) -> None:
    found = data["round"]
    to_user(
        session,
        project,
        found.reported_by,
        kind="approved",
        title=f"{found.period} 监控已确认",
        link=_round_href(project.id, found.period),
        stage=STAGE,
    )


def _returned(session: Session, actor: Actor, project: Project, data: dict[str, Any]) -> None:
    found = data["round"]
    returned_to_editors(
        session,
        project,
        found.reported_by,
        title=f"{found.period} 监控被财政退回",
        reasons=found.return_opinion or "",
        link=_round_href(project.id, found.period),
        stage=STAGE,
    )


def _to_answer(session: Session, actor: Actor, project: Project, data: dict[str, Any]) -> None:
    to_holders(session, project, "answer", STAGE, exclude=actor.username, item=str(data["correction"].id))


def _replied(session: Session, actor: Actor, project: Project, data: dict[str, Any]) -> None:
    to_holders(session, project, "follow_up", STAGE, exclude=actor.username, item=str(data["correction"].id))


def _closed(session: Session, actor: Actor, project: Project, data: dict[str, Any]) -> None:
    found = data["correction"]
    repliers = {e.author for e in found.entries if e.action == "reply"}
    for username in sorted(repliers):
        to_user(
            session,
            project,
            username,
            kind="approved",
            title=f"{found.kind}（{found.monitoring_round.period} 监控）已关闭",
            link=_corrections_href(project.id),
            stage=STAGE,
        )


PLUGINS = (
    StagePlugin(
        stage=STAGE,
        page="monitoring_pages.rounds",
        tabs=(
            Tab("monitoring", "跟踪监控", "monitoring_pages.rounds", "bi-activity", STAGE),
            Tab("corrections", "纠偏/约谈/发函", "monitoring_pages.corrections", "bi-megaphone", STAGE),
        ),
        panel="monitoring/_panel.html",
        panel_context="jixiao.services.monitoring.views.common:panel_context",
        tasks=(tasks,),
        labels={
            "round_status": ROUND_STATUS_NAMES,
            "warning": WARNING_NAMES,
            "achievement": ACHIEVEMENTS,
            "correction_status": CORRECTION_STATUS_NAMES,
        },
        done={
            "monitoring.report": "报送监控",
            "monitoring.rereport": "重新报送监控",
            "monitoring.confirm": "确认监控",
            "monitoring.return": "退回监控",
            "monitoring.correction_issue": "下发纠偏/约谈/发函",
            "monitoring.correction_reply": "答复纠偏/约谈/发函",
            "monitoring.correction_close": "关闭纠偏/约谈/发函",
            "monitoring.correction_again": "要求再次答复",
            "monitoring.correction_adjustment": "由纠偏发起目标调整",
        },
        events={
            "monitoring.reported": _reported,
            "monitoring.confirmed": _confirmed,
            "monitoring.returned": _returned,
            "correction.issued": _to_answer,
            "correction.again": _to_answer,
            "correction.replied": _replied,
            "correction.closed": _closed,
        },
    ),
)
