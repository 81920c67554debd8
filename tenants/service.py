"""Tenants: look-up, walls (subtree / lineage), the Actor, authentication, the tenant hierarchy.

Users live in `users`, evaluator organisations in `evaluators`; the rules of who may do what in
`policies`. Imports run one way: evaluators → users → service → policies (no Flask here)."""

from __future__ import annotations

import logging
import re
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from jixiao.platform.core.actor import ACTOR_EXTENSIONS, Actor
from jixiao.platform.core.audit import record
from jixiao.platform.core.authz import authorize, scopes_for_roles
from jixiao.platform.core.errors import NotFound, ValidationFailed
from jixiao.platform.core.pagination import Page, paginate
from jixiao.platform.core.tenancy import in_reach, within

from . import policies  # noqa: F401 - registers tenants.*, users.* and evaluator_orgs.*
from .models import LEVEL_NAMES, LEVELS, Tenant, User
from .passwords import verify_password

log = logging.getLogger(__name__)

CODE_RE = re.compile(r"^\d{6}$")
PARENT_LEVEL = {"city": "province", "county": "city"}


# --- identity ---------------------------------------------------------------------------------


def tenant_by_code(session: Session, code: str) -> Tenant | None:
    return session.execute(select(Tenant).where(Tenant.code == code)).scalar_one_or_none()


def subtree_ids(session: Session, tenant: Tenant) -> frozenset[int]:
    rows = session.execute(
        select(Tenant.id).where(within(Tenant.id, Tenant.path, tenant.id, tenant.path))
    ).scalars()
    return frozenset(rows)


def lineage_ids(session: Session, tenant: Tenant) -> frozenset[int]:
    codes = tenant.path.split("/")
    return frozenset(session.execute(select(Tenant.id).where(Tenant.code.in_(codes))).scalars())


def build_actor(
    session: Session,
    user: User,
    *,
    scopes: frozenset[str] | None = None,
    request_id: str | None = None,
    client_id: str | None = None,
) -> Actor:
    """The actor for a user: walls from the tenant hierarchy, scopes narrowed by the token."""
    roles = frozenset(user.roles)
    allowed = scopes_for_roles(roles)
    tenant = user.tenant
    actor = Actor(
        user_id=user.id,
        username=user.username,
        tenant_id=tenant.id if tenant else None,
        tenant_code=tenant.code if tenant else None,
        tenant_level=tenant.level if tenant else None,
        roles=roles,
        scopes=allowed if scopes is None else allowed & scopes,
        readable_tenant_ids=subtree_ids(session, tenant) if tenant else frozenset(),
        tenant_path=tenant.path if tenant else None,
        lineage_tenant_ids=lineage_ids(session, tenant) if tenant else frozenset(),
        evaluator_org_id=user.evaluator_org_id,
        request_id=request_id,
        client_id=client_id,
    )
    for extend in ACTOR_EXTENSIONS:
        actor = extend(session, actor)
    return actor


def find_login_user(session: Session, username: str) -> User | None:
    """Login look-up: crosses the walls by necessity (nobody is logged in yet)."""
    return session.execute(
        select(User).where(User.username == username.strip().lower()).execution_options(all_tenants=True)
    ).scalar_one_or_none()


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The user of these credentials, or None — each refusal logged (a warning naming the username
    and why; never the password), for the operators' alerting on guessing (ASVS 7.2.1)."""
    user = find_login_user(session, username)
    if user is None or not user.is_active:
        verify_password(_DUMMY_HASH, password)  # same work either way: no user enumeration by timing
        _refused(username, "unknown user" if user is None else "account disabled")
        return None
    if user.tenant is not None and not user.tenant.is_active:
        _refused(username, "tenant disabled")
        return None
    if not verify_password(user.password_hash, password):
        _refused(username, "wrong password")
        return None
    return user


def _refused(username: str, reason: str) -> None:
    log.warning("login refused: %s (%s)", username[:64], reason, extra={"event": "login_refused"})


# hash_password("not-a-real-password-Xy1!"), written out: hashing it on import cost every process
# ~0.2 s of start-up; at the hasher's parameters, so verifying it costs what a user's hash costs
# (tests/integration/test_startup.py checks it)
_DUMMY_HASH = (
    "$argon2id$v=19$m=65536,t=3,p=4$G3zIUpaqPz2YYZGMd4fZ7A$N2+zmPdM6BSV3sXRMQiRAhsxb5L9t11/bDz3E5D2lEQ"
)


# --- tenants ----------------------------------------------------------------------------------


def get_tenant(session: Session, actor: Actor, code: str) -> Tenant:
    tenant = tenant_by_code(session, code)
    if tenant is None:
        raise NotFound(f"行政区划 {code} 不存在")
    authorize(actor, "tenants.read", tenant=tenant)
    return tenant


def visible_tenants_stmt(
    actor: Actor, *, level: str | None = None, parent_code: str | None = None
) -> Select[Any]:
    stmt = select(Tenant).where(in_reach(Tenant.id, actor)).order_by(Tenant.code)
    if level:
        stmt = stmt.where(Tenant.level == level)
    if parent_code:
        stmt = stmt.where(Tenant.parent.has(Tenant.code == parent_code))
    return stmt


def list_tenants(
    session: Session, actor: Actor, *, page: int = 1, page_size: int = 50, **filters: Any
) -> Page[Tenant]:
    authorize(actor, "tenants.list")
    return paginate(session, visible_tenants_stmt(actor, **filters), page, page_size)


def create_tenant(
    session: Session, actor: Actor, *, code: str, name: str, level: str, parent_code: str | None
) -> Tenant:
    authorize(actor, "tenants.create")
    return _insert_tenant(session, code=code, name=name, level=level, parent_code=parent_code, actor=actor)


def _insert_tenant(
    session: Session, *, code: str, name: str, level: str, parent_code: str | None, actor: Actor | None
) -> Tenant:
    errors: dict[str, list[str]] = {}
    if not CODE_RE.match(code or ""):
        errors.setdefault("code", []).append("行政区划代码须为 6 位数字")
    elif tenant_by_code(session, code) is not None:
        errors.setdefault("code", []).append(f"行政区划代码 {code} 已存在")
    if level not in LEVELS:
        errors.setdefault("level", []).append("请选择级次：省级、市级或县级")
    if not (name or "").strip():
        errors.setdefault("name", []).append("请填写名称")
    parent: Tenant | None = None
    if level in PARENT_LEVEL:
        if not parent_code:
            errors.setdefault("parent_code", []).append("市级、县级地区须选择上级")
        else:
            parent = tenant_by_code(session, parent_code)
            if parent is None:
                errors.setdefault("parent_code", []).append(f"上级行政区划 {parent_code} 不存在")
            elif parent.level != PARENT_LEVEL[level]:
                errors.setdefault("parent_code", []).append(
                    f"{LEVEL_NAMES[level]}地区的上级须为{LEVEL_NAMES[PARENT_LEVEL[level]]}地区，"
                    f"{parent_code} {parent.name}是{LEVEL_NAMES[parent.level]}"
                )
    elif level == "province" and parent_code:
        errors.setdefault("parent_code", []).append("省级没有上级")
    if errors:
        raise ValidationFailed("行政区划信息有误", errors=errors)
    tenant = Tenant(
        code=code,
        name=name.strip(),
        level=level,
        parent_id=parent.id if parent else None,
        path=f"{parent.path}/{code}" if parent else code,
    )
    session.add(tenant)
    session.flush()
    record(
        session,
        "tenant.create",
        object_type="tenant",
        object_id=code,
        after=tenant.to_audit(),
        tenant_id=tenant.id,
        actor=actor,
    )
    return tenant
