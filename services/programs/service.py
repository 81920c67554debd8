"""Pilot program rules and transactions (no Flask). The HTTP side arrives with its issue;
the demo program is loaded from here."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from jixiao.platform.core.actor import Actor
from jixiao.platform.core.audit import record
from jixiao.platform.core.authz import authorize, policy, require_role
from jixiao.platform.core.errors import NotFound, ValidationFailed
from jixiao.platform.core.pagination import Page, paginate
from jixiao.tenants.models import Tenant

from .models import STAGE_NAMES, STAGES, Program, ProgramTenant, merged_settings


@policy("programs.read", scope="projects:read")
def _may_read_programs(actor: Actor) -> None:
    """Anyone with the scope: the province's own programs and those the caller's branch takes part in."""


@policy("programs.write", scope="admin")
def _may_write_programs(actor: Actor) -> None:
    """The province runs pilot programs."""
    require_role(actor, "province_admin", message="试点由省财政厅管理员设立")


def list_programs(session: Session, actor: Actor, *, page: int = 1, page_size: int = 50) -> Page[Program]:
    authorize(actor, "programs.read")
    return paginate(
        session, select(Program).order_by(Program.start.desc(), Program.id.desc()), page, page_size
    )


def get_program(session: Session, actor: Actor, program_id: int) -> Program:
    authorize(actor, "programs.read")
    program = session.get(Program, program_id)
    if program is None:
        raise NotFound(f"试点 {program_id} 不存在")
    return program


def create_program(session: Session, actor: Actor, data: dict[str, Any]) -> Program:
    """A pilot program owned by the province: period, participants, project limit, deadlines, settings."""
    authorize(actor, "programs.write")
    errors: dict[str, list[str]] = {}
    name = (data.get("name") or "").strip()
    if not name:
        errors["name"] = ["试点名称不能为空"]
    elif len(name) > 200:
        errors["name"] = ["试点名称不能超过 200 个字"]
    elif session.execute(
        select(Program.id).where(Program.tenant_id == actor.tenant_id, Program.name == name)
    ).first():
        errors["name"] = [f"已有名为「{name}」的试点"]
    start, end = data.get("start"), data.get("end")
    if start and end and start > end:
        errors["end"] = ["结束日期不能早于开始日期"]
    limit = data.get("max_projects_per_tenant", 2)
    if not isinstance(limit, int) or limit < 1:
        errors["max_projects_per_tenant"] = ["每地区项目数上限须为正整数"]
    codes = list(dict.fromkeys(data.get("tenant_codes") or []))
    tenants = {t.code: t for t in session.execute(select(Tenant).where(Tenant.code.in_(codes))).scalars()}
    province_path = session.get(Tenant, actor.tenant_id).path  # type: ignore[union-attr]
    for code in codes:
        tenant = tenants.get(code)
        if tenant is None:
            errors.setdefault("tenant_codes", []).append(f"行政区划 {code} 不存在")
        elif tenant.level == "province" or not tenant.path.startswith(province_path + "/"):
            errors.setdefault("tenant_codes", []).append(f"{code} 不是本省的市、县")
    if not codes:
        errors.setdefault("tenant_codes", []).append("至少选择一个参与地区")
    deadlines: dict[str, str] = {}
    for stage, value in (data.get("deadlines") or {}).items():
        if stage not in STAGES:
            errors.setdefault("deadlines", []).append(f"未知阶段 {stage}，应为 {'、'.join(STAGES)}")
            continue
        if not isinstance(value, date):
            errors.setdefault("deadlines", []).append(f"{STAGE_NAMES[stage]}的截止日期无效")
            continue
        if start and end and not (start <= value <= end):
            errors.setdefault("deadlines", []).append(f"{STAGE_NAMES[stage]}的截止日期须在试点期间内")
        deadlines[stage] = value.isoformat()
    settings = data.get("settings") or {}
    if not isinstance(settings, dict):
        errors["settings"] = ["settings 须为对象"]
    if errors:
        raise ValidationFailed(next(iter(errors.values()))[0], errors=errors)
    program = Program(
        tenant_id=actor.tenant_id,
        name=name,
        start=start,
        end=end,
        max_projects_per_tenant=limit,
        deadlines=deadlines,
        settings=settings,
        participants=[ProgramTenant(tenant_id=tenants[c].id) for c in codes],
    )
    session.add(program)
    session.flush()
    record(
        session,
        "program.create",
        object_type="program",
        object_id=program.id,
        after={
            "name": name,
            "start": start,
            "end": end,
            "tenant_codes": codes,
            "max_projects_per_tenant": limit,
            "deadlines": deadlines,
            "settings": merged_settings(settings),
        },
    )
    return program


DEMO_PROGRAM = "市县预算绩效一体化管理试点"


def load_demo(session: Session) -> dict[str, int]:
    """DEMO.md's program: 2022-08-01 … 2024-06-30, every city and county, ≤ 2 projects each;
    targets require the evidence purposes 立项依据 and 实施方案 (the evidence issue)."""
    province = (
        session.execute(select(Tenant).where(Tenant.level == "province").order_by(Tenant.id))
        .scalars()
        .first()
    )
    if province is None:
        return {"programs": 0}
    exists = session.execute(
        select(Program.id)
        .where(Program.tenant_id == province.id, Program.name == DEMO_PROGRAM)
        .execution_options(all_tenants=True)
    ).scalar_one_or_none()
    if exists is not None:
        return {"programs": 0}
    participants = (
        session.execute(
            select(Tenant).where(Tenant.path.startswith(province.path + "/")).order_by(Tenant.code)
        )
        .scalars()
        .all()
    )
    program = Program(
        tenant_id=province.id,
        name=DEMO_PROGRAM,
        start=date(2022, 8, 1),
        end=date(2024, 6, 30),
        max_projects_per_tenant=2,
        deadlines={
            "assessment": "2022-10-31",
            "targets": "2022-12-31",
            "monitoring": "2023-09-30",
            "self_evaluation": "2024-02-29",
            "evaluation": "2024-04-30",
            "result_application": "2024-06-30",
        },
        settings={"evidence": {"required_purposes": {"targets": ["立项依据", "实施方案"]}}},
        participants=[ProgramTenant(tenant_id=t.id) for t in participants],
    )
    session.add(program)
    session.flush()
    record(
        session,
        "program.create",
        object_type="program",
        object_id=program.id,
        tenant_id=province.id,
        after={
            "name": program.name,
            "start": program.start,
            "end": program.end,
            "tenant_codes": [t.code for t in participants],
            "max_projects_per_tenant": 2,
        },
    )
    return {"programs": 1}
