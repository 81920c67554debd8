"""Pilot program rules and transactions (no Flask). The HTTP side arrives with its issue;
the demo program is loaded from here."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from jixiao.platform.core.audit import record
from jixiao.tenants.models import Tenant

from .models import Program, ProgramTenant

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
