"""The public disclosures (结果公开): what tenants chose to disclose, for anyone, without a login.

This is the one place the public side crosses the tenant walls, on purpose: `PUBLIC_CROSSING` opens
a system session, and every query in it starts from `ResultApplication.disclosed IS TRUE` — a
project whose results were not disclosed (or were withdrawn) is never selected, so nothing of it
can be shown. The figures shown are those copied onto the result application when it was
disclosed; only the rectification status (items closed / total) is read live, for the disclosed
projects' ids only. Plain values leave this module, never ORM rows (no lazy load can reach past it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, case, func, select

from jixiao.platform.core.db import Database
from jixiao.platform.core.pagination import Page, clamp
from jixiao.services.projects.models import Project
from jixiao.tenants.models import Tenant

from .models import RECOMMENDATION_NAMES, RectificationItem, ResultApplication

PUBLIC_CROSSING = "public disclosures: results their tenant disclosed (ResultApplication.disclosed) only"


@dataclass(frozen=True)
class Disclosure:
    project_id: int
    project_name: str
    tenant_code: str
    tenant_name: str
    department: str
    start_year: int
    end_year: int
    budget_amount: Decimal
    self_evaluation_score: Decimal | None
    self_evaluation_grade: str | None
    key_evaluation_grade: str | None
    findings: str
    budget_recommendation: str
    items_total: int
    items_closed: int
    disclosed_at: datetime | None

    @property
    def years(self) -> str:
        same = self.start_year == self.end_year
        return f"{self.start_year}" if same else f"{self.start_year}–{self.end_year}"

    @property
    def recommendation_name(self) -> str:
        return RECOMMENDATION_NAMES.get(self.budget_recommendation, "")


def _disclosed() -> Select[Any]:
    """The disclosed result applications with their project and tenant — the only rows read here."""
    return (
        select(ResultApplication, Project, Tenant)
        .join(Project, Project.id == ResultApplication.project_id)
        .join(Tenant, Tenant.id == Project.tenant_id)
        .where(ResultApplication.disclosed.is_(True))
    )


def disclosures(
    database: Database,
    *,
    tenant_code: str | None = None,
    year: int | None = None,
    page: int = 1,
    page_size: int = 50,
) -> Page[Disclosure]:
    """The disclosed results, newest disclosure first; filtered by tenant code and project year."""
    page, page_size = clamp(page, page_size)
    stmt = _disclosed()
    if tenant_code:
        stmt = stmt.where(Tenant.code == tenant_code)
    if year is not None:
        stmt = stmt.where(Project.start_year <= year, Project.end_year >= year)
    session = database.system_session(PUBLIC_CROSSING)
    try:
        total = session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
        rows = session.execute(
            stmt.order_by(ResultApplication.disclosed_at.desc(), ResultApplication.id.desc())
            .limit(page_size)
            .offset((page - 1) * page_size)
        ).all()
        ids = [project.id for _, project, _ in rows]
        counts = {
            pid: (int(total_items), int(closed or 0))
            for pid, total_items, closed in session.execute(
                select(
                    RectificationItem.project_id,
                    func.count(RectificationItem.id),
                    func.sum(case((RectificationItem.status == "closed", 1), else_=0)),
                )
                .where(RectificationItem.project_id.in_(ids))
                .group_by(RectificationItem.project_id)
            ).all()
        }
        items = [
            Disclosure(
                project_id=project.id,
                project_name=project.name,
                tenant_code=tenant.code,
                tenant_name=tenant.name,
                department=project.department,
                start_year=project.start_year,
                end_year=project.end_year,
                budget_amount=project.budget_amount,
                self_evaluation_score=app.public_self_score,
                self_evaluation_grade=app.public_self_grade,
                key_evaluation_grade=app.public_key_grade,
                findings=app.public_findings or "",
                budget_recommendation=app.budget_recommendation,
                items_total=counts.get(project.id, (0, 0))[0],
                items_closed=counts.get(project.id, (0, 0))[1],
                disclosed_at=app.disclosed_at,
            )
            for app, project, tenant in rows
        ]
    finally:
        session.rollback()
        session.close()
    return Page(items, total, page, page_size)


def filters(database: Database) -> dict[str, list[Any]]:
    """The tenants and years that have disclosed results (the public page's filter choices)."""
    session = database.system_session(PUBLIC_CROSSING)
    try:
        rows = session.execute(
            _disclosed().with_only_columns(Tenant.code, Tenant.name, Project.start_year, Project.end_year)
        ).all()
    finally:
        session.rollback()
        session.close()
    tenants = sorted({(code, name) for code, name, _, _ in rows})
    years = sorted({y for _, _, start, end in rows for y in range(start, end + 1)}, reverse=True)
    return {"tenants": [{"code": c, "name": n} for c, n in tenants], "years": years}
