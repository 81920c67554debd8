"""The administration lists with their filters and counts: users of a tenant and the tenants below
it, the tenant hierarchy, the evaluator organisations.

Every count is one GROUP BY query (never a query per row), run in the caller's walled session, so a
count holds only what the caller may read."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from jixiao.platform.core.actor import Actor
from jixiao.platform.core.authz import authorize
from jixiao.platform.core.pagination import Page, paginate
from jixiao.platform.core.tenancy import within

from . import policies  # noqa: F401 - registers users.* and evaluator_orgs.*
from .models import ROLES, EvaluatorOrg, Tenant, User, UserRole
from .service import get_tenant, visible_tenants_stmt

STATUSES = {"active": "启用", "inactive": "停用"}


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


# --- users ------------------------------------------------------------------------------------


@dataclass
class UserFilters:
    """What the users page narrows to; an empty value (or an unknown one) means any."""

    role: str = ""
    status: str = ""
    unit: str = ""  # a tenant code in the subtree
    q: str = ""  # part of the login name, the display name or the e-mail address

    def __post_init__(self) -> None:
        self.role = self.role if self.role in ROLES else ""
        self.status = self.status if self.status in STATUSES else ""
        self.unit = (self.unit or "").strip()
        self.q = (self.q or "").strip()[:100]

    @property
    def active(self) -> dict[str, str]:
        return {k: v for k, v in vars(self).items() if v}


@dataclass
class UserDirectory:
    tenant: Tenant
    units: list[Tenant]  # the tenant and the tenants below it (the 所属单位 filter)
    page: Page[User]
    total: int  # every user of the subtree, before the filters
    by_role: dict[str, int] = field(default_factory=dict)
    by_status: dict[str, int] = field(default_factory=dict)


def _subtree(tenant: Tenant) -> Select[Any]:
    return select(Tenant.id).where(within(Tenant.id, Tenant.path, tenant.id, tenant.path))


def user_directory(
    session: Session, actor: Actor, code: str, filters: UserFilters, *, page: int = 1, page_size: int = 50
) -> UserDirectory:
    """The users of a tenant and of the tenants below it (as far as the caller reads), filtered,
    with the counts per role and status of the whole subtree."""
    tenant = get_tenant(session, actor, code)
    authorize(actor, "users.read", tenant=tenant)
    units = list(
        session.execute(select(Tenant).where(Tenant.id.in_(_subtree(tenant))).order_by(Tenant.path)).scalars()
    )
    scope = select(User.id).where(User.tenant_id.in_(_subtree(tenant)))
    stmt = (
        select(User)
        .join(Tenant, Tenant.id == User.tenant_id)
        .where(User.id.in_(scope))
        .order_by(Tenant.path, User.username)
    )
    if filters.unit:
        stmt = stmt.where(Tenant.code == filters.unit)
    if filters.status:
        stmt = stmt.where(User.is_active.is_(filters.status == "active"))
    if filters.role:
        stmt = stmt.where(User.id.in_(select(UserRole.user_id).where(UserRole.role == filters.role)))
    if filters.q:
        pattern = _like(filters.q.lower())
        stmt = stmt.where(
            or_(
                func.lower(User.username).like(pattern, escape="\\"),
                User.display_name.like(_like(filters.q), escape="\\"),
                func.lower(func.coalesce(User.email, "")).like(pattern, escape="\\"),
            )
        )
    by_status = {
        ("active" if active else "inactive"): int(n)
        for active, n in session.execute(
            select(User.is_active, func.count()).where(User.id.in_(scope)).group_by(User.is_active)
        ).all()
    }
    by_role = {
        str(role): int(n)
        for role, n in session.execute(
            select(UserRole.role, func.count()).where(UserRole.user_id.in_(scope)).group_by(UserRole.role)
        ).all()
    }
    return UserDirectory(
        tenant=tenant,
        units=units,
        page=paginate(session, stmt, page, page_size),
        total=sum(by_status.values()),
        by_role=by_role,
        by_status=by_status,
    )


# --- tenants ----------------------------------------------------------------------------------


def tenant_list(
    session: Session, actor: Actor, *, level: str = "", parent_code: str = "", q: str = ""
) -> list[Tenant]:
    """The tenants the caller reads, in tree order, narrowed by level, parent and a search on the
    code or the name."""
    authorize(actor, "tenants.list")
    stmt = visible_tenants_stmt(actor, level=level or None, parent_code=parent_code or None)
    stmt = stmt.order_by(None).order_by(Tenant.path)
    if q.strip():
        pattern = _like(q.strip())
        stmt = stmt.where(or_(Tenant.code.like(pattern, escape="\\"), Tenant.name.like(pattern, escape="\\")))
    return list(session.execute(stmt).scalars())


def users_per_tenant(session: Session, tenant_ids: list[int]) -> dict[int, int]:
    """How many users each tenant has (one GROUP BY)."""
    if not tenant_ids:
        return {}
    rows = session.execute(
        select(User.tenant_id, func.count()).where(User.tenant_id.in_(tenant_ids)).group_by(User.tenant_id)
    ).all()
    return {int(tid): int(n) for tid, n in rows if tid is not None}


# --- evaluator organisations --------------------------------------------------------------------


def evaluator_org_list(session: Session, actor: Actor, *, q: str = "") -> list[tuple[EvaluatorOrg, int]]:
    """The organisations, each with how many of its users the caller reads (one GROUP BY)."""
    authorize(actor, "evaluator_orgs.read")
    users = (
        select(User.evaluator_org_id.label("org_id"), func.count().label("n"))
        .where(User.evaluator_org_id.is_not(None))
        .group_by(User.evaluator_org_id)
        .subquery()
    )
    stmt = (
        select(EvaluatorOrg, func.coalesce(users.c.n, 0))
        .outerjoin(users, users.c.org_id == EvaluatorOrg.id)
        .order_by(EvaluatorOrg.name)
    )
    if q.strip():
        pattern = _like(q.strip())
        stmt = stmt.where(
            or_(
                EvaluatorOrg.name.like(pattern, escape="\\"),
                func.coalesce(EvaluatorOrg.contact, "").like(pattern, escape="\\"),
                func.coalesce(EvaluatorOrg.credit_code, "").like(pattern, escape="\\"),
            )
        )
    return [(org, int(n)) for org, n in session.execute(stmt).all()]
