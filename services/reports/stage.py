"""The pilot report (试点报告) in the stage registry (`projects.stages`): a track of its own — its
items concern a tenant's program, not a project — in the work queue and the notifications.

To-dos: the report to compile and submit (待填报, the bureau admin, once every active project of
the tenant in the program has an approved self-evaluation; due at the program's report deadline —
`deadlines.pilot_report`, else the program's end — so the generic reminders warn before it); a
returned report to revise (退回修改, the bureau admin); a submitted report to accept (待验收, the
province); a county's submitted report awaiting its city's preliminary opinion (待初审)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from jixiao.platform.core.actor import Actor
from jixiao.services.notifications.service import holders, notify
from jixiao.services.programs.models import Program
from jixiao.services.projects.models import Project, ProjectStage
from jixiao.services.projects.stages import StagePlugin
from jixiao.services.tasks.kinds import Scope, Task
from jixiao.tenants.models import Tenant

from .models import OUTCOMES, REVIEW_KINDS, STATUS_NAMES, TRACK, TRACK_NAME, PilotReport

AUTHOR = "bureau_admin"
ACCEPTOR = "province_admin"


def deadline_of(program: Program) -> date:
    raw = (program.deadlines or {}).get(TRACK)
    return date.fromisoformat(raw) if raw else program.end


def _href(report_id: int | None, program_id: int) -> str:
    return f"/reports/{report_id}" if report_id else f"/reports/new?program_id={program_id}"


def _task(
    kind: str,
    role: str,
    program: Program,
    tenant: Tenant,
    report: PilotReport | None,
    today: date,
    *,
    what: str,
    since: Any = None,
    due: date | None = None,
    detail: str = "",
    submitted_by: str | None = None,
) -> Task:
    return Task(
        kind=kind,
        project_id=None,
        project_name=f"{TRACK_NAME} · {program.name}",
        tenant_id=tenant.id,
        tenant_code=tenant.code,
        tenant_name=tenant.name,
        stage=TRACK,
        role=role,
        since=since,
        deadline=due,
        overdue=due is not None and today > due,
        number=report.submitted_version if report is not None and kind != "fill" else None,
        detail=detail,
        submitted_by=submitted_by,
        what=what,
        href=_href(report.id if report else None, program.id),
        item=f"program-{program.id}",
        program_id=program.id,
    )


def _fill(session: Session, scope: Scope, today: date) -> list[Task]:
    """Tenants whose every active project has an approved self-evaluation and whose report is not
    with the province (nor accepted)."""
    if scope.project_id is not None or scope.project_ids is not None or not scope.acts_as(AUTHOR, "fill"):
        return []
    stmt = (
        select(Project.program_id, Project.tenant_id, ProjectStage.status)
        .join(ProjectStage, ProjectStage.project_id == Project.id)
        .where(Project.status == "active", ProjectStage.stage == "self_evaluation")
    )
    if scope.tenant_id is not None:
        stmt = stmt.where(Project.tenant_id == scope.tenant_id)
    ready: dict[tuple[int, int], bool] = {}
    for program_id, tenant_id, status in session.execute(stmt).all():
        key = (program_id, tenant_id)
        ready[key] = ready.get(key, True) and status == "approved"
    keys = [k for k, ok in ready.items() if ok]
    if not keys:
        return []
    reports = {
        (r.program_id, r.tenant_id): r
        for r in session.execute(
            select(PilotReport).where(PilotReport.tenant_id.in_(sorted({t for _, t in keys})))
        ).scalars()
    }
    programs = {
        p.id: p
        for p in session.execute(
            select(Program).where(Program.id.in_(sorted({p for p, _ in keys})))
        ).scalars()
    }
    tenants = {
        t.id: t
        for t in session.execute(select(Tenant).where(Tenant.id.in_(sorted({t for _, t in keys})))).scalars()
    }
    found = []
    for program_id, tenant_id in keys:
        report = reports.get((program_id, tenant_id))
        if report is not None and report.status != "draft":
            continue
        program = programs[program_id]
        found.append(
            _task(
                "fill",
                AUTHOR,
                program,
                tenants[tenant_id],
                report,
                today,
                what="编制并报送试点报告",
                since=report.created_at if report else None,
                due=deadline_of(program),
            )
        )
    return found


def _reports(session: Session, scope: Scope, status: str, *kinds: tuple[str, str]) -> list[PilotReport]:
    """The reports in `status` for a scope that acts on them as one of `kinds` ((role, kind) pairs) —
    none loaded for whoever acts on none (a province reviewer's queue in a province of thousands)."""
    if scope.project_id is not None or scope.project_ids is not None:  # a project's or an evaluator's
        return []
    if not any(scope.acts_as(role, kind) for role, kind in kinds):
        return []
    stmt = select(PilotReport).where(PilotReport.status == status)
    if status == "returned" and scope.tenant_id is not None:  # a return is its own tenant's to revise
        stmt = stmt.where(PilotReport.tenant_id == scope.tenant_id)
    return list(session.execute(stmt).scalars())


def tasks(session: Session, scope: Scope, today: date) -> list[Task]:
    found = _fill(session, scope, today)
    for r in _reports(session, scope, "returned", (AUTHOR, "revise")):
        last = r.acceptances[-1] if r.acceptances else None
        found.append(
            _task(
                "revise",
                AUTHOR,
                r.program,
                r.owner,
                r,
                today,
                what="修改并重新报送试点报告",
                since=last.written_at if last else None,
                due=deadline_of(r.program),
                detail=f"验收意见：{last.opinion}"[:80] if last else "",
            )
        )
    submitted = _reports(session, scope, "submitted", (ACCEPTOR, "accept"), (AUTHOR, "opinion"))
    if scope.acts_as(ACCEPTOR, "accept"):
        for r in submitted:
            if scope.tenant_id is not None and r.program.tenant_id != scope.tenant_id:
                continue  # the province that owns the program accepts
            found.append(
                _task(
                    "accept",
                    ACCEPTOR,
                    r.program,
                    r.owner,
                    r,
                    today,
                    what=f"验收试点报告（第 {r.submitted_version} 版）",
                    since=r.submitted_at,
                    submitted_by=r.submitted_by,
                    detail="退回后重新报送" if r.acceptances else "",
                )
            )
    if scope.acts_as(AUTHOR, "opinion"):
        for r in submitted:
            city = r.owner.parent_id
            if r.owner.level != "county" or (scope.tenant_id is not None and city != scope.tenant_id):
                continue
            if any(o.version == r.submitted_version and o.author_tenant_id == city for o in r.opinions):
                continue
            found.append(
                _task(
                    "opinion",
                    AUTHOR,
                    r.program,
                    r.owner,
                    r,
                    today,
                    what=f"对{r.owner.name}试点报告提出初审意见（第 {r.submitted_version} 版）",
                    since=r.submitted_at,
                    submitted_by=r.submitted_by,
                )
            )
    return found


# --- notifications -------------------------------------------------------------------------------


def _note(
    session: Session, users: list[Any], report: PilotReport, kind: str, title: str, body: str = ""
) -> None:
    notify(
        session,
        users,
        tenant_id=report.tenant_id,
        kind=kind,
        title=f"{TRACK_NAME} · {report.owner.name} · {title}",
        body=body,
        link=f"/reports/{report.id}",
        stage=TRACK,
    )


def _participants_above(session: Session, report: PilotReport) -> tuple[int, int | None]:
    """(the province that owns the program, the city above a county — None for a city's report)."""
    city = report.owner.parent_id if report.owner.level == "county" else None
    return report.program.tenant_id, city


def _submitted(session: Session, actor: Actor, project: Any, data: dict[str, Any]) -> None:
    report: PilotReport = data["report"]
    province, city = _participants_above(session, report)
    title = f"第 {report.submitted_version} 版已报送，待验收"
    _note(session, holders(session, province, ACCEPTOR), report, "task", title)
    if city is not None:
        _note(
            session,
            holders(session, city, AUTHOR),
            report,
            "task",
            f"第 {report.submitted_version} 版已报送，待初审",
        )


def _accepted(session: Session, actor: Actor, project: Any, data: dict[str, Any]) -> None:
    report: PilotReport = data["report"]
    review = data["review"]
    outcome = OUTCOMES[review.outcome]
    title = f"第 {review.version} 版验收{outcome}（{review.total} 分）"
    users = holders(session, report.tenant_id, AUTHOR)
    _note(
        session,
        users,
        report,
        "returned" if review.outcome == "return" else "approved",
        title,
        review.opinion,
    )
    _, city = _participants_above(session, report)
    if city is not None:
        _note(session, holders(session, city, AUTHOR), report, "decided", title, review.opinion)


def _opinion(session: Session, actor: Actor, project: Any, data: dict[str, Any]) -> None:
    report: PilotReport = data["report"]
    review = data["review"]
    province, _ = _participants_above(session, report)
    users = holders(session, report.tenant_id, AUTHOR) + holders(session, province, ACCEPTOR)
    _note(session, users, report, "decided", f"第 {review.version} 版收到市级初审意见", review.opinion)


PLUGINS = (
    StagePlugin(
        stage=TRACK,
        page="reports_pages.index",
        name=TRACK_NAME,
        tasks=(tasks,),
        labels={"report_status": STATUS_NAMES, "report_review": REVIEW_KINDS, "report_outcome": OUTCOMES},
        done={
            "pilot_report.generate": "生成试点报告",
            "pilot_report.submit": "报送试点报告",
            "pilot_report.accept": "试点报告验收通过",
            "pilot_report.return": "退回试点报告",
            "pilot_report.opinion": "提出初审意见",
        },
        events={
            "pilot_report.submitted": _submitted,
            "pilot_report.accepted": _accepted,
            "pilot_report.opinion": _opinion,
        },
    ),
)
