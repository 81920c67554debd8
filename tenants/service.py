"""Tenants, users and evaluator organisations: rules and transactions (no Flask)."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from jixiao.platform.core.actor import Actor
from jixiao.platform.core.audit import record
from jixiao.platform.core.authz import authorize, policy, require_role, scopes_for_roles
from jixiao.platform.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from jixiao.platform.core.pagination import Page, paginate

from .models import LEVELS, ROLE_NAMES, ROLES, ROLES_BY_LEVEL, EvaluatorOrg, Tenant, User, UserRole
from .passwords import hash_password, password_problems, verify_password

CODE_RE = re.compile(r"^\d{6}$")
USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")
EMAIL_RE = re.compile(r"^[^@\s<>\"]+@[^@\s<>\"]+\.[^@\s<>\"]+$")
PARENT_LEVEL = {"city": "province", "county": "city"}


# --- identity ---------------------------------------------------------------------------------


def tenant_by_code(session: Session, code: str) -> Tenant | None:
    return session.execute(select(Tenant).where(Tenant.code == code)).scalar_one_or_none()


def subtree_ids(session: Session, tenant: Tenant) -> frozenset[int]:
    rows = session.execute(
        select(Tenant.id).where((Tenant.id == tenant.id) | Tenant.path.startswith(tenant.path + "/"))
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
    return Actor(
        user_id=user.id,
        username=user.username,
        tenant_id=tenant.id if tenant else None,
        tenant_code=tenant.code if tenant else None,
        tenant_level=tenant.level if tenant else None,
        roles=roles,
        scopes=allowed if scopes is None else allowed & scopes,
        readable_tenant_ids=subtree_ids(session, tenant) if tenant else frozenset(),
        lineage_tenant_ids=lineage_ids(session, tenant) if tenant else frozenset(),
        evaluator_org_id=user.evaluator_org_id,
        request_id=request_id,
        client_id=client_id,
    )


def find_login_user(session: Session, username: str) -> User | None:
    """Login look-up: crosses the walls by necessity (nobody is logged in yet)."""
    return session.execute(
        select(User).where(User.username == username.strip().lower()).execution_options(all_tenants=True)
    ).scalar_one_or_none()


def authenticate(session: Session, username: str, password: str) -> User | None:
    user = find_login_user(session, username)
    if user is None or not user.is_active:
        verify_password(_DUMMY_HASH, password)  # same work either way: no user enumeration by timing
        return None
    if user.tenant is not None and not user.tenant.is_active:
        return None
    return user if verify_password(user.password_hash, password) else None


_DUMMY_HASH = hash_password("not-a-real-password-Xy1!")


# --- policies ---------------------------------------------------------------------------------


@policy("tenants.read", scope="profile")
def _may_read_tenant(actor: Actor, *, tenant: Tenant) -> None:
    """Own tenant, its descendants and (for display) its ancestors; never a sibling."""
    if tenant.id in actor.readable_tenant_ids or tenant.id in actor.lineage_tenant_ids:
        return
    raise NotFound(f"行政区划 {tenant.code} 不存在")


@policy("tenants.list", scope="profile")
def _may_list_tenants(actor: Actor) -> None:
    """Anyone: the list holds the own tenant and those below it (evaluators: none)."""


@policy("tenants.create", scope="admin")
def _may_create_tenant(actor: Actor) -> None:
    """Only the province admin runs the tenant hierarchy."""
    require_role(actor, "province_admin", message="只有省财政厅管理员可以新增地区")


@policy("users.read", scope="admin")
def _may_read_users(actor: Actor, *, tenant: Tenant) -> None:
    """Admins read the users of their own tenant and the tenants below it."""
    _may_read_tenant(actor, tenant=tenant)
    if tenant.id not in actor.readable_tenant_ids:
        raise NotFound(f"行政区划 {tenant.code} 不存在")
    require_role(actor, "province_admin", "bureau_admin", message="只有管理员可以查看用户")


@policy("users.write", scope="admin")
def _may_write_users(actor: Actor, *, tenant: Tenant) -> None:
    """A bureau admin manages its own tenant's users; the province admin every tenant's."""
    _may_read_users(actor, tenant=tenant)
    if actor.has_role("province_admin"):
        return
    if tenant.id != actor.tenant_id:
        raise Forbidden("上级单位对下级用户只读：只能由该地区管理员或省财政厅管理员维护")
    require_role(actor, "bureau_admin", message="只有管理员可以维护用户")


@policy("evaluator_orgs.read", scope="profile")
def _may_read_evaluator_orgs(actor: Actor) -> None:
    """Any bureau or province admin (to grant access to projects)."""
    require_role(actor, "province_admin", "bureau_admin", message="只有管理员可以查看第三方机构")


@policy("evaluator_orgs.write", scope="admin")
def _may_write_evaluator_orgs(actor: Actor) -> None:
    """Third-party organisations are registered by the province."""
    require_role(actor, "province_admin", message="第三方机构由省财政厅登记")


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
    stmt = select(Tenant).where(Tenant.id.in_(sorted(actor.readable_tenant_ids))).order_by(Tenant.code)
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
        errors.setdefault("level", []).append("级次须为 province / city / county")
    if not (name or "").strip():
        errors.setdefault("name", []).append("名称不能为空")
    parent: Tenant | None = None
    if level in PARENT_LEVEL:
        if not parent_code:
            errors.setdefault("parent_code", []).append("市、县级须指定上级行政区划代码")
        else:
            parent = tenant_by_code(session, parent_code)
            if parent is None:
                errors.setdefault("parent_code", []).append(f"上级行政区划 {parent_code} 不存在")
            elif parent.level != PARENT_LEVEL[level]:
                errors.setdefault("parent_code", []).append(
                    f"{level} 级的上级须为 {PARENT_LEVEL[level]} 级，{parent_code} 是 {parent.level} 级"
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


# --- users ------------------------------------------------------------------------------------


def list_users(
    session: Session, actor: Actor, code: str, *, page: int = 1, page_size: int = 50
) -> Page[User]:
    tenant = get_tenant(session, actor, code)
    authorize(actor, "users.read", tenant=tenant)
    stmt = select(User).where(User.tenant_id == tenant.id).order_by(User.username)
    return paginate(session, stmt, page, page_size)


def _user_errors(
    session: Session,
    *,
    username: str,
    display_name: str,
    password: str,
    roles: list[str],
    allowed_roles: set[str],
) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if not USERNAME_RE.match(username or ""):
        errors.setdefault("username", []).append("用户名须为 3–64 位小写字母、数字或 . _ -，以字母或数字开头")
    elif find_login_user(session, username) is not None:
        errors.setdefault("username", []).append(f"用户名 {username} 已被使用")
    if not (display_name or "").strip():
        errors.setdefault("display_name", []).append("姓名不能为空")
    problems = password_problems(password or "", username=username or "")
    if problems:
        errors["password"] = problems
    if not roles:
        errors.setdefault("roles", []).append("至少选择一个角色")
    for role in roles:
        if role not in ROLES:
            errors.setdefault("roles", []).append(f"未知角色 {role}")
        elif role not in allowed_roles:
            errors.setdefault("roles", []).append(f"该级次不能设置角色 {role}（{ROLE_NAMES[role]}）")
    return errors


def create_user(
    session: Session,
    actor: Actor,
    code: str,
    *,
    username: str,
    display_name: str,
    password: str,
    roles: list[str],
    email: str | None = None,
) -> User:
    tenant = get_tenant(session, actor, code)
    authorize(actor, "users.write", tenant=tenant)
    username = (username or "").strip().lower()
    errors = _user_errors(
        session,
        username=username,
        display_name=display_name,
        password=password,
        roles=roles,
        allowed_roles=ROLES_BY_LEVEL[tenant.level],
    )
    email = _clean_email(email, errors)
    if errors:
        raise ValidationFailed("用户信息有误", errors=errors)
    return _insert_user(
        session,
        actor,
        username=username,
        display_name=display_name,
        password=password,
        roles=roles,
        tenant=tenant,
        email=email,
    )


def _clean_email(email: str | None, errors: dict[str, list[str]]) -> str | None:
    """An optional address for notification e-mails: "" clears it."""
    value = (email or "").strip()
    if not value:
        return None
    if len(value) > 254 or not EMAIL_RE.match(value):
        errors.setdefault("email", []).append(f"电子邮箱格式不正确：{value}")
    return value


def _insert_user(
    session: Session,
    actor: Actor | None,
    *,
    username: str,
    display_name: str,
    password: str,
    roles: list[str],
    tenant: Tenant | None = None,
    org: EvaluatorOrg | None = None,
    email: str | None = None,
) -> User:
    user = User(
        username=username,
        email=email,
        display_name=display_name.strip(),
        password_hash=hash_password(password),
        tenant_id=tenant.id if tenant else None,
        evaluator_org_id=org.id if org else None,
        role_rows=[UserRole(role=r) for r in sorted(set(roles))],
    )
    session.add(user)
    session.flush()
    record(
        session,
        "user.create",
        object_type="user",
        object_id=user.id,
        after=user.to_audit(),
        tenant_id=tenant.id if tenant else None,
        actor=actor,
    )
    return user


def get_user(session: Session, actor: Actor, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"用户 {user_id} 不存在")
    if user.id != actor.user_id:
        if user.tenant is not None:
            authorize(actor, "users.read", tenant=user.tenant)
        else:
            authorize(actor, "evaluator_orgs.read")
    return user


def update_user(
    session: Session,
    actor: Actor,
    user_id: int,
    *,
    display_name: str | None = None,
    roles: list[str] | None = None,
    is_active: bool | None = None,
    password: str | None = None,
    email: str | None = None,
) -> User:
    user = get_user(session, actor, user_id)
    if user.tenant is None:
        authorize(actor, "evaluator_orgs.write")
        allowed = {"evaluator"}
    else:
        authorize(actor, "users.write", tenant=user.tenant)
        allowed = ROLES_BY_LEVEL[user.tenant.level]
    before = user.to_audit()
    errors: dict[str, list[str]] = {}
    if display_name is not None and not display_name.strip():
        errors["display_name"] = ["姓名不能为空"]
    if roles is not None:
        bad = [r for r in roles if r not in allowed]
        if not roles or bad:
            errors["roles"] = [f"角色无效：{', '.join(bad) or '至少选择一个角色'}"]
    if password is not None and (problems := password_problems(password, username=user.username)):
        errors["password"] = problems
    if is_active is False and user.id == actor.user_id:
        raise Conflict("不能停用自己的账号")
    new_email = _clean_email(email, errors) if email is not None else None
    if errors:
        raise ValidationFailed("用户信息有误", errors=errors)
    if display_name is not None:
        user.display_name = display_name.strip()
    if roles is not None:
        keep = set(roles)
        user.role_rows = [r for r in user.role_rows if r.role in keep] + [
            UserRole(role=r) for r in sorted(keep - set(user.roles))
        ]
    if is_active is not None:
        user.is_active = is_active
    if email is not None:
        user.email = new_email
    if password is not None:
        user.password_hash = hash_password(password)
    session.flush()
    after = user.to_audit()
    if password is not None:
        after["password"] = "（已重置）"
    record(
        session,
        "user.update",
        object_type="user",
        object_id=user.id,
        before=before,
        after=after,
        tenant_id=user.tenant_id,
    )
    return user


# --- evaluator organisations ------------------------------------------------------------------


def list_evaluator_orgs(
    session: Session, actor: Actor, *, page: int = 1, page_size: int = 50
) -> Page[EvaluatorOrg]:
    authorize(actor, "evaluator_orgs.read")
    return paginate(session, select(EvaluatorOrg).order_by(EvaluatorOrg.name), page, page_size)


def create_evaluator_org(
    session: Session,
    actor: Actor | None,
    *,
    name: str,
    credit_code: str | None = None,
    contact: str | None = None,
) -> EvaluatorOrg:
    if actor is not None:
        authorize(actor, "evaluator_orgs.write")
    errors: dict[str, list[str]] = {}
    if not (name or "").strip():
        errors["name"] = ["机构名称不能为空"]
    elif session.execute(select(EvaluatorOrg).where(EvaluatorOrg.name == name.strip())).scalar_one_or_none():
        errors["name"] = [f"机构 {name} 已登记"]
    if credit_code and not re.match(r"^[0-9A-HJ-NPQRTUWXY]{18}$", credit_code):
        errors["credit_code"] = ["统一社会信用代码须为 18 位"]
    if errors:
        raise ValidationFailed("机构信息有误", errors=errors)
    org = EvaluatorOrg(name=name.strip(), credit_code=credit_code or None, contact=contact or None)
    session.add(org)
    session.flush()
    record(
        session,
        "evaluator_org.create",
        object_type="evaluator_org",
        object_id=org.id,
        after=org.to_audit(),
        actor=actor,
    )
    return org


def get_evaluator_org(session: Session, actor: Actor, org_id: int) -> EvaluatorOrg:
    authorize(actor, "evaluator_orgs.read")
    org = session.get(EvaluatorOrg, org_id)
    if org is None:
        raise NotFound(f"第三方机构 {org_id} 不存在")
    return org


def create_evaluator_user(
    session: Session, actor: Actor | None, org_id: int, *, username: str, display_name: str, password: str
) -> User:
    if actor is not None:
        authorize(actor, "evaluator_orgs.write")
    org = session.get(EvaluatorOrg, org_id)
    if org is None:
        raise NotFound(f"第三方机构 {org_id} 不存在")
    username = (username or "").strip().lower()
    errors = _user_errors(
        session,
        username=username,
        display_name=display_name,
        password=password,
        roles=["evaluator"],
        allowed_roles={"evaluator"},
    )
    if errors:
        raise ValidationFailed("用户信息有误", errors=errors)
    return _insert_user(
        session,
        actor,
        username=username,
        display_name=display_name,
        password=password,
        roles=["evaluator"],
        org=org,
    )


def bootstrap_province(session: Session, *, code: str, name: str, admin_username: str, password: str) -> User:
    """First install in production: the province tenant and its first admin (CLI only)."""
    tenant = tenant_by_code(session, code) or _insert_tenant(
        session, code=code, name=name, level="province", parent_code=None, actor=None
    )
    errors = _user_errors(
        session,
        username=admin_username,
        display_name="管理员",
        password=password,
        roles=["province_admin"],
        allowed_roles={"province_admin"},
    )
    if errors:
        raise ValidationFailed("管理员信息有误", errors=errors)
    return _insert_user(
        session,
        None,
        username=admin_username,
        display_name="省财政厅管理员",
        password=password,
        roles=["province_admin"],
        tenant=tenant,
    )
