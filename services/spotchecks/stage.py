"""抽查 in the stage registry (`projects.stages`): a track of its own — drawn by a tenant above the
projects it checks — in the work queue, the notifications, and a card on the project's overview.

To-dos: a drawn project awaiting review (待抽查, whoever drew it: the province's reviewer, a city's
bureau admin); a finding to answer (待答复, the project's editors, due at its deadline — the same
kind as a monitoring correction request's, for it is the same request); an answered finding to
close or ask again (待跟进, whoever drew it)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, contains_eager, defer, selectinload

from jixiao.platform.core.actor import Actor
from jixiao.services.monitoring.models import Correction
from jixiao.services.notifications.service import holders, notify
from jixiao.services.programs.models import Program
from jixiao.services.projects.models import Project
from jixiao.services.projects.stages import StagePlugin
from jixiao.services.tasks.kinds import ROLE_OF, Scope, Task, active, make_task
from jixiao.tenants.models import Tenant

from .models import ASPECTS, RESULT_NAMES, TRACK, TRACK_NAME, SpotCheck, SpotCheckItem
from .service import CHECKERS


def checker_role(level: str | None) -> str:
    """Who reviews a check drawn at this level (the work queue's role)."""
    return ROLE_OF["check"] if level == "province" else CHECKERS["city"][0]


def item_href(item: SpotCheckItem) -> str:
    return f"/spot-checks/{item.spot_check_id}/items/{item.id}"


def _drawer_items(session: Session, scope: Scope) -> list[tuple[SpotCheckItem, str]]:
    """Items awaiting whoever drew their check — to review (pending), or an answered finding to
    follow up — of the checks the scope's tenant drew (everyone's, for the reminders), with the role
    that acts on them. One statement for both: their project from the join it makes anyway (its
    stage rows unread), the finding with its entries."""
    if scope.project_ids is not None:  # an evaluator
        return []
    drawers = (checker_role("province"), checker_role("city"))
    if not any(scope.acts_as(role, kind) for role in drawers for kind in ("check", "follow_up")):
        return []  # acts on none of them (an editor)
    project = contains_eager(SpotCheckItem.project)
    finding = selectinload(SpotCheckItem.finding)  # not its monitoring round nor adjustment: it has neither
    answered = select(Correction.spot_check_item_id).where(Correction.status == "answered")
    stmt = (
        select(SpotCheckItem, Tenant.level)
        .join(SpotCheckItem.project)
        .join(Tenant, Tenant.id == SpotCheckItem.checked_by_tenant_id)
        .where(
            Project.status == "active",
            or_(SpotCheckItem.status == "pending", SpotCheckItem.id.in_(answered)),
        )
        .options(
            project,
            project.lazyload(Project.stages),
            project.defaultload(Project.program).defer(Program.settings),  # its deadlines, in each row
            defer(SpotCheckItem.comments),
            finding.lazyload(Correction.monitoring_round),
            finding.lazyload(Correction.adjustment),
        )
        .order_by(SpotCheckItem.id)
    )
    if scope.tenant_id is not None and scope.project_id is None:
        stmt = stmt.where(SpotCheckItem.checked_by_tenant_id == scope.tenant_id)
    if scope.project_id is not None:
        stmt = stmt.where(SpotCheckItem.project_id == scope.project_id)
    return [(item, checker_role(level)) for item, level in session.execute(stmt).all()]


def tasks(session: Session, scope: Scope, today: date) -> list[Task]:
    found = []
    for item, role in _drawer_items(session, scope):
        if item.status == "pending" and scope.acts_as(role, "check"):
            found.append(
                make_task(
                    "check",
                    item.project,
                    TRACK,
                    role,
                    None,
                    today,
                    deadline=None,
                    what="审查抽中项目的绩效目标（完整性、相关性、适当性、可行性）",
                    href=item_href(item),
                    item=str(item.id),
                )
            )
        finding = item.finding
        if finding is None or finding.status != "answered" or not scope.acts_as(role, "follow_up"):
            continue
        last = finding.entries[-1] if finding.entries else None
        found.append(
            make_task(
                "follow_up",
                item.project,
                TRACK,
                role,
                last.written_at if last else finding.issued_at,
                today,
                deadline=None,
                what="处理抽查问题的整改答复（关闭或要求再次答复）",
                submitted_by=last.author if last else None,
                href=item_href(item),
                item=str(item.id),
            )
        )
    if scope.project_ids is None and scope.acts_as(ROLE_OF["answer"], "answer"):
        stmt = (
            active(scope, Project, Correction, SpotCheckItem)
            .join(Correction, Correction.project_id == Project.id)
            .join(SpotCheckItem, SpotCheckItem.id == Correction.spot_check_item_id)
            .where(Correction.status == "open")
        )
        for project, finding, item in session.execute(stmt).all():
            last = finding.entries[-1] if finding.entries else None
            found.append(
                make_task(
                    "answer",
                    project,
                    TRACK,
                    ROLE_OF["answer"],
                    last.written_at if last else finding.issued_at,
                    today,
                    deadline=finding.deadline,
                    what="答复抽查发现的问题",
                    detail=(last.text if last else finding.text)[:80],
                    href=item_href(item),
                    item=str(item.id),
                )
            )
    return found


# --- notifications -------------------------------------------------------------------------------


def _to_editors(session: Session, item: SpotCheckItem, kind: str, title: str, body: str = "") -> None:
    project = item.project
    users = holders(session, project.tenant_id, "project_editor") + holders(
        session, project.tenant_id, "bureau_admin"
    )
    notify(
        session,
        users,
        tenant_id=project.tenant_id,
        kind=kind,
        title=f"{TRACK_NAME} · {project.name} · {title}",
        body=body,
        link=item_href(item),
        project_id=project.id,
        stage=TRACK,
    )


def _checkers(session: Session, tenant_id: int, actor: Actor) -> list[Any]:
    """Who reviews and follows up the checks a tenant draws (its checker role), the actor left out."""
    checker = session.get(Tenant, tenant_id)
    return holders(
        session, tenant_id, checker_role(checker.level if checker else None), exclude=(actor.username,)
    )


def _to_checkers(session: Session, actor: Actor, item: SpotCheckItem, title: str, body: str = "") -> None:
    notify(
        session,
        _checkers(session, item.checked_by_tenant_id, actor),
        tenant_id=item.tenant_id,
        kind="task",
        title=f"待办：{TRACK_NAME} · {item.project.owner.name} · {item.project.name} · {title}",
        body=body,
        link=item_href(item),
        project_id=item.project_id,
        stage=TRACK,
    )


def _drawn(session: Session, actor: Actor, project: Any, data: dict[str, Any]) -> None:
    check: SpotCheck = data["check"]
    checker = session.get(Tenant, check.tenant_id)
    notify(
        session,
        _checkers(session, check.tenant_id, actor),
        tenant_id=check.tenant_id,
        kind="task",
        title=f"待办：{TRACK_NAME} · {check.program.name} 第 {check.round} 轮抽中 {len(check.items)} 个项目，待审查",
        link=f"/spot-checks/{check.id}",
        stage=TRACK,
    )
    who = checker.name if checker else "上级财政部门"
    for item in check.items:
        _to_editors(session, item, "task", f"被{who}抽查，待审查绩效目标")


def _reviewed(session: Session, actor: Actor, project: Project, data: dict[str, Any]) -> None:
    item: SpotCheckItem = data["item"]
    body = "；".join(f"{name}：{item.comments.get(key, '')}" for key, name in ASPECTS.items())
    if item.status == "rectify":
        due = item.finding.deadline.isoformat() if item.finding else ""
        _to_editors(session, item, "returned", f"抽查结论：须整改，请于 {due} 前答复", item.findings or body)
    else:
        _to_editors(session, item, "approved", f"抽查结论：{RESULT_NAMES[item.status]}", body)


def _replied(session: Session, actor: Actor, project: Project, data: dict[str, Any]) -> None:
    item: SpotCheckItem = data["item"]
    last = item.finding.entries[-1] if item.finding and item.finding.entries else None
    _to_checkers(session, actor, item, "整改答复待跟进", last.text[:200] if last else "")


def _again(session: Session, actor: Actor, project: Project, data: dict[str, Any]) -> None:
    item: SpotCheckItem = data["item"]
    due = item.finding.deadline.isoformat() if item.finding else ""
    _to_editors(session, item, "returned", f"抽查问题须再次答复（{due} 前）")


def _closed(session: Session, actor: Actor, project: Project, data: dict[str, Any]) -> None:
    _to_editors(session, data["item"], "approved", "抽查问题已整改完成")


PLUGINS = (
    StagePlugin(
        stage=TRACK,
        page="spotchecks_pages.index",
        name=TRACK_NAME,
        aside="spotchecks/_aside.html",
        aside_context="jixiao.services.spotchecks.views:aside_context",
        tasks=(tasks,),
        labels={"spot_check_result": RESULT_NAMES, "spot_check_aspect": ASPECTS},
        done={
            "spot_check.draw": "开展抽查",
            "spot_check.review": "作出抽查结论",
            "spot_check.finding_reply": "答复抽查问题",
            "spot_check.finding_again": "要求再次答复抽查问题",
            "spot_check.finding_close": "抽查问题整改完成",
        },
        events={
            "spot_check.drawn": _drawn,
            "spot_check.reviewed": _reviewed,
            "spot_check.replied": _replied,
            "spot_check.again": _again,
            "spot_check.closed": _closed,
        },
    ),
)
