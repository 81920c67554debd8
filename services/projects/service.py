"""Pilot projects: creation within a program's limits, the stage machine, deadlines (no Flask)."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from jixiao.platform.core.actor import Actor
from jixiao.platform.core.audit import record
from jixiao.platform.core.authz import authorize, policy, require_role
from jixiao.platform.core.db import utcnow
from jixiao.platform.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from jixiao.platform.core.pagination import Page, paginate
from jixiao.services.grants.models import why_not
from jixiao.services.programs.models import STAGE_NAMES, STAGES, Program, ProgramTenant
from jixiao.services.programs.service import has_ended

from .models import FUND_SOURCES, PROJECT_CLASSES, Project, ProjectStage, initial_stages

MONEY_RE = re.compile(r"^\d{1,16}(\.\d{1,2})?$")


# --- policies ---------------------------------------------------------------------------------


@policy("projects.read", scope="projects:read")
def _may_read(actor: Actor) -> None:
    """Anyone with the scope; the walls decide which projects (own tenant and below, read-only)."""


@policy("projects.write", scope="projects:write")
def _may_write(actor: Actor, *, project: Project | None = None) -> None:
    """The project units (填报人) and the bureau admin of the project's own tenant."""
    require_role(
        actor, "project_editor", "bureau_admin", message="只有项目单位填报人或财政局管理员可以填报项目"
    )
    if project is not None and project.tenant_id != actor.tenant_id:
        raise Forbidden("上级单位对下级项目只读")


@policy("projects.finance", scope="reviews:write")
def _may_decide_as_finance(actor: Actor, *, project: Project) -> None:
    """Finance decisions (事前评估结论, 复核) belong to the bureau admin of the project's tenant."""
    require_role(actor, "bureau_admin", message="只有本级财政局管理员可以作出财政审核决定")
    if project.tenant_id != actor.tenant_id:
        raise Forbidden("上级单位对下级项目只读")


# --- reading ----------------------------------------------------------------------------------


def get_project(session: Session, actor: Actor, project_id: int) -> Project:
    """The project, as far as the walls let the actor see it: another tenant's is 404; an
    evaluator's whose grant expired or was revoked is 403 with the reason and the date (it knew of
    it). An evaluator's reach through a grant is noted for the audit of grant uses."""
    authorize(actor, "projects.read")
    project = session.get(Project, project_id)
    if project is None:
        reason = why_not(session, actor, project_id)
        if reason:
            raise Forbidden(reason)
        raise NotFound(f"项目 {project_id} 不存在")
    if actor.is_evaluator:
        session.info.setdefault("grant_uses", set()).add(project.id)
    return project


def list_projects(
    session: Session,
    actor: Actor,
    *,
    program_id: int | None = None,
    stage: str | None = None,
    tenant_code: str | None = None,
    page: int = 1,
    page_size: int = 50,
) -> Page[Project]:
    authorize(actor, "projects.read")
    stmt = select(Project).order_by(Project.id.desc())
    if program_id is not None:
        stmt = stmt.where(Project.program_id == program_id)
    if stage:
        stmt = stmt.where(Project.stage == stage)
    if tenant_code:
        stmt = stmt.where(Project.owner.has(code=tenant_code))
    return paginate(session, stmt, page, page_size)


def stage_deadline(project: Project, stage: str) -> date | None:
    raw = (project.program.deadlines or {}).get(stage)
    return date.fromisoformat(raw) if raw else None


def is_overdue(project: Project, row: ProjectStage, today: date | None = None) -> bool:
    """The current stage past its program deadline and not yet approved is overdue. A later stage
    is never overdue (its deadline is shown, in grey): only the stage being worked on can be late."""
    deadline = stage_deadline(project, row.stage)
    if deadline is None or row.status in ("approved", "closed") or project.status != "active":
        return False
    if row.stage != project.stage:
        return False
    return (today or date.today()) > deadline


# --- writing ----------------------------------------------------------------------------------


def parse_money(value: Any, field: str, errors: dict[str, list[str]]) -> Decimal | None:
    """Yuan as a string with at most two decimals (floats are refused: money is never a float)."""
    if isinstance(value, float):
        errors.setdefault(field, []).append('金额须以字符串给出（如 "1250000.00"），不接受浮点数')
        return None
    text = str(value if value is not None else "").strip().replace(",", "")
    if not MONEY_RE.match(text):
        errors.setdefault(field, []).append(f"金额须为非负数、最多两位小数，「{value}」无效")
        return None
    try:
        return Decimal(text).quantize(Decimal("0.01"))
    except InvalidOperation:
        errors.setdefault(field, []).append(f"金额「{value}」无效")
        return None


def project_problems(
    session: Session, actor: Actor, data: dict[str, Any], program: Program | None
) -> dict[str, list[str]]:
    """Every problem of a new project's fields, by field (the program's own checks — taking
    part, its end, the limit — are the caller's; without a program the years are not checked
    against it)."""
    errors: dict[str, list[str]] = {}
    for field, label, limit in (
        ("name", "项目名称", 200),
        ("department", "主管部门", 100),
        ("implementing_unit", "实施单位", 100),
    ):
        if not str(data.get(field) or "").strip():
            errors.setdefault(field, []).append(f"{label}不能为空")
        elif len(str(data[field]).strip()) > limit:
            errors.setdefault(field, []).append(f"{label}不能超过 {limit} 个字")
    budget = parse_money(data.get("budget_amount"), "budget_amount", errors)
    if budget is not None and budget <= 0:
        errors.setdefault("budget_amount", []).append("预算金额须大于 0")
    if data.get("fund_source") not in FUND_SOURCES:
        errors.setdefault("fund_source", []).append(f"资金来源须为：{'、'.join(FUND_SOURCES)}")
    if data.get("project_class") not in PROJECT_CLASSES:
        errors.setdefault("project_class", []).append(f"项目类别须为：{'、'.join(PROJECT_CLASSES)}")
    years = [int(y) for y in data.get("years") or [] if str(y).isdigit()]
    if not years or len(years) != len(data.get("years") or []):
        errors.setdefault("years", []).append("请填写项目实施年度，如 [2023] 或 [2023, 2024]")
    elif program is not None and not (program.start.year <= min(years) and max(years) <= program.end.year):
        errors.setdefault("years", []).append(
            f"实施年度须在试点期间 {program.start.year}–{program.end.year} 年内"
        )
    name = str(data.get("name") or "").strip()
    if (
        name
        and program is not None
        and session.execute(
            select(Project.id).where(
                Project.program_id == program.id, Project.tenant_id == actor.tenant_id, Project.name == name
            )
        ).first()
    ):
        errors.setdefault("name", []).append(f"本地区在该试点中已有项目「{name}」")
    return errors


def create_project(
    session: Session, actor: Actor, data: dict[str, Any], today: date | None = None
) -> Project:
    """`today`: the province's calendar day (a program past its end accepts no new project)."""
    authorize(actor, "projects.write")
    program = session.get(Program, data.get("program_id"))
    if program is None:
        raise NotFound(f"试点 {data.get('program_id')} 不存在")
    taking_part = session.execute(
        select(ProgramTenant.id).where(
            ProgramTenant.program_id == program.id, ProgramTenant.tenant_id == actor.tenant_id
        )
    ).first()
    if taking_part is None:
        raise Conflict(f"本地区（{actor.tenant_code}）未参与试点「{program.name}」，不能申报项目")
    if has_ended(program, today or date.today()):
        raise Conflict(f"试点「{program.name}」已于 {program.end.isoformat()} 结束，不能再申报项目")
    errors = project_problems(session, actor, data, program)
    if errors:
        raise ValidationFailed(next(iter(errors.values()))[0], errors=errors)
    count = session.execute(
        select(func.count())
        .select_from(Project)
        .where(
            Project.program_id == program.id,
            Project.tenant_id == actor.tenant_id,
            Project.status != "withdrawn",
        )
    ).scalar_one()
    if count >= program.max_projects_per_tenant:
        raise Conflict(
            f"每个地区在该试点中至多申报 {program.max_projects_per_tenant} 个项目，本地区已有 {count} 个"
        )
    project = Project(
        tenant_id=actor.tenant_id,
        program_id=program.id,
        name=str(data["name"]).strip(),
        department=data["department"].strip(),
        implementing_unit=data["implementing_unit"].strip(),
        budget_amount=parse_money(data["budget_amount"], "budget_amount", {}),
        fund_source=data["fund_source"],
        project_class=data["project_class"],
        start_year=min(int(y) for y in data["years"]),
        end_year=max(int(y) for y in data["years"]),
        serves_public=bool(data.get("serves_public", True)),
        created_by=actor.username,
        stages=initial_stages(actor.tenant_id),
    )
    session.add(project)
    session.flush()
    record(session, "project.create", object_type="project", object_id=project.id, after=project.to_audit())
    # (imported here: the notifications read the work queue, which reads this module)
    from jixiao.services.notifications.events import announce

    announce(session, actor, "project.created", project=project)
    return project


def require_stage(project: Project, stage: str, *statuses: str) -> ProjectStage:
    """The stage must be open in one of `statuses`; otherwise a 409 that says why."""
    if project.status != "active":
        raise Conflict(f"项目已终止（{project.closed_reason or ''}），不能继续办理")
    row = project.stage_row(stage)
    if row.status == "locked":
        before = STAGES[STAGES.index(stage) - 1] if STAGES.index(stage) else None
        raise Conflict(
            f"{STAGE_NAMES[stage]}阶段尚未开启：须先通过{STAGE_NAMES[before]}" if before else "阶段尚未开启"
        )
    if statuses and row.status not in statuses:
        names = {
            "draft": "填报中",
            "submitted": "已提交、审核中",
            "returned": "已退回",
            "approved": "已通过",
            "closed": "已终止",
        }
        raise Conflict(f"{STAGE_NAMES[stage]}当前{names.get(row.status, row.status)}，不能进行此操作")
    return row


def set_stage_status(session: Session, project: Project, stage: str, status: str) -> None:
    row = project.stage_row(stage)
    before = row.status
    row.status = status
    if status == "approved":
        row.approved_at = utcnow()
        index = STAGES.index(stage)
        if index + 1 < len(STAGES):
            following = project.stage_row(STAGES[index + 1])
            if following.status == "locked":
                following.status = "draft"
                following.opened_at = utcnow()
            project.stage = STAGES[index + 1]
    record(
        session,
        "project.stage",
        object_type="project",
        object_id=project.id,
        before={"stage": stage, "status": before},
        after={"stage": stage, "status": status, "current_stage": project.stage},
    )


def close_project(session: Session, project: Project, stage: str, reason: str) -> None:
    project.status = "closed"
    project.closed_reason = reason
    set_stage_status(session, project, stage, "closed")


def reopen_stage(session: Session, project: Project, stage: str) -> None:
    """Undo the approval of `stage` (e.g. the last monitoring round returned): it is being filled
    in again, and the stage its approval opened is locked again — 409 once that stage has gone
    beyond draft (submitted, decided …), since its work would rest on what is now reopened."""
    row = project.stage_row(stage)
    index = STAGES.index(stage)
    following = project.stage_row(STAGES[index + 1]) if index + 1 < len(STAGES) else None
    if following is not None and following.status not in ("locked", "draft"):
        raise Conflict(f"{STAGE_NAMES[following.stage]}已在办理中，不能退回{STAGE_NAMES[stage]}")
    before = {"stage": stage, "status": row.status}
    row.status = "draft"
    row.approved_at = None
    if following is not None:
        following.status = "locked"
        following.opened_at = None
    project.stage = stage
    record(
        session,
        "project.stage",
        object_type="project",
        object_id=project.id,
        before=before,
        after={"stage": stage, "status": "draft", "current_stage": project.stage, "reopened": True},
    )
