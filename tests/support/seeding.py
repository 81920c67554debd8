"""What tests seed across tenants: a program with participants (through the API), projects at their
first stage, and approved targets — projects whose target version 1 is approved with one line using
a library indicator (or, in one tenant, an indicator derived from it), written as rows the way the
project's creation and the chain leave them — for the dashboard, the comparison, the target
suggestions and the spot checks."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import select

from jixiao.services.indicators.models import Indicator
from jixiao.services.programs.models import ProgramTenant
from jixiao.services.projects.models import Project, initial_stages
from jixiao.services.targets.models import TargetLine, TargetSet
from jixiao.tenants.models import Tenant


def new_project(
    s: Any, tenant: Tenant, program_id: int, name: str, project_class: str = "工程基建"
) -> Project:
    """A project at its first stage (the rows a project's creation makes), its tenant made a
    participant of the program first if it was not (a project is only ever made in one)."""
    taking_part = s.execute(
        select(ProgramTenant.id).where(
            ProgramTenant.program_id == program_id, ProgramTenant.tenant_id == tenant.id
        )
    ).first()
    if taking_part is None:
        s.add(ProgramTenant(program_id=program_id, tenant_id=tenant.id))
        s.flush()
    project = Project(
        tenant_id=tenant.id,
        program_id=program_id,
        name=name,
        department="财政局",
        implementing_unit="实施单位",
        budget_amount=Decimal("500000.00"),
        fund_source="一般公共预算",
        project_class=project_class,
        start_year=2023,
        end_year=2023,
        created_by="test",
        stages=initial_stages(tenant.id),
    )
    s.add(project)
    s.flush()
    return project


def program_with(api, runtime, unique: str, codes: list[str]) -> int:
    made = api.as_user("nx.admin").post(
        "/api/v1/programs",
        json={
            "name": f"看板试点{unique}",
            "start": "2022-08-01",
            "end": "2099-12-31",
            "tenant_codes": codes,
            "max_projects_per_tenant": 5,
            "deadlines": {"assessment": "2022-10-31"},
        },
    )
    assert made.status_code == 201, made.get_json()
    return made.get_json()["id"]


def add_projects(runtime, program_id: int, codes: list[str], unique: str) -> None:
    """A project at its first stage in each tenant (rows as a project's creation makes them)."""
    with runtime.db.transaction(system="test: dashboard data") as s:
        for n, code in enumerate(codes):
            tenant = s.execute(select(Tenant).where(Tenant.code == code)).scalar_one()
            new_project(s, tenant, program_id, f"看板项目{code}{unique}{n}")


def _first_shared(s: Any) -> Indicator:
    shared = (
        s.execute(
            select(Indicator)
            .where(Indicator.shared.is_(True), Indicator.status == "active")
            .order_by(Indicator.id)
        )
        .scalars()
        .first()
    )
    assert shared is not None
    return shared


def library_indicator(runtime: Any, unique: str, *, unit: str = "个", tag: str = "") -> int:
    """A new shared indicator of the province library (like the first one, in `unit`), so that a
    test counts exactly the approved targets it seeds."""
    with runtime.db.transaction(system="test: a fresh library indicator") as s:
        like = _first_shared(s)
        province = s.execute(select(Tenant).where(Tenant.code == "640000")).scalar_one()
        fresh = Indicator(
            tenant_id=province.id,
            code=f"640000-IN-S{unique}{tag}",
            name=f"参考值测试指标{unique}{tag}",
            shared=True,
            level2_id=like.level2_id,
            kind=like.kind,
            value_type="quantitative",
            direction=">=",
            unit=unit,
        )
        s.add(fresh)
        s.flush()
        return fresh.id


def approved_targets(
    runtime: Any,
    program_id: int,
    unique: str,
    rows: list[tuple[str, str, str]],
    *,
    indicator_id: int | None = None,
    derived_in: str | None = None,
    project_class: str = "工程基建",
    prefix: str = "对比项目",
) -> tuple[int, int | None]:
    """One project per (tenant code, target value, unit) of `rows`, named f"{prefix}{n}{unique}",
    in `program_id`, with approved targets (version 1) of one line using `indicator_id` (*default*
    the first shared indicator) — in `derived_in`'s rows an indicator that tenant derived from it.
    Returns (the indicator's id, the derived indicator's id or None)."""
    with runtime.db.transaction(system="test: approved targets across tenants") as s:
        shared = s.get(Indicator, indicator_id) if indicator_id is not None else _first_shared(s)
        assert shared is not None
        derived = None
        if derived_in is not None:
            county = s.execute(select(Tenant).where(Tenant.code == derived_in)).scalar_one()
            derived = Indicator(
                tenant_id=county.id,
                code=f"{derived_in}-IN-T{unique}{shared.id}",
                name=f"{shared.name}（派生）{unique}",
                level2_id=shared.level2_id,
                kind=shared.kind,
                value_type=shared.value_type,
                direction=shared.direction,
                unit=shared.unit,
                origin_id=shared.origin_id or shared.id,
                derived_from_id=shared.id,
            )
            s.add(derived)
            s.flush()
        for n, (code, value, unit) in enumerate(rows):
            tenant = s.execute(select(Tenant).where(Tenant.code == code)).scalar_one()
            project = new_project(s, tenant, program_id, f"{prefix}{n}{unique}", project_class)
            target_set = TargetSet(tenant_id=tenant.id, project_id=project.id, number=1, status="approved")
            s.add(target_set)
            s.flush()
            s.add(
                TargetLine(
                    tenant_id=tenant.id,
                    target_set_id=target_set.id,
                    position=1,
                    indicator_id=derived.id if derived is not None and code == derived_in else shared.id,
                    name=shared.name,
                    level2="数量",
                    value_type="quantitative",
                    direction=">=",
                    target_value=value,
                    unit=unit,
                    weight=Decimal(100),
                )
            )
        return shared.id, (derived.id if derived is not None else None)
