"""Users of a tenant: list, create, read, update (validation incl. the optional e-mail), and the
first province admin of a fresh install (`bootstrap_province`, CLI only).

Evaluator users are created through `evaluators`, which reuses the validation and insert here."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from jixiao.platform.core.actor import Actor
from jixiao.platform.core.audit import record
from jixiao.platform.core.authz import authorize
from jixiao.platform.core.errors import Conflict, NotFound, ValidationFailed
from jixiao.platform.core.pagination import Page, paginate

from . import policies  # noqa: F401 - registers users.* and evaluator_orgs.* (used by get/update_user)
from .models import ROLE_NAMES, ROLES, ROLES_BY_LEVEL, EvaluatorOrg, Tenant, User, UserRole
from .passwords import hash_password, password_problems
from .service import _insert_tenant, find_login_user, get_tenant, tenant_by_code

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")
EMAIL_RE = re.compile(r"^[^@\s<>\"]+@[^@\s<>\"]+\.[^@\s<>\"]+$")


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


# --- first install ----------------------------------------------------------------------------


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
