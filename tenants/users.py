"""Users of a tenant: list, create, read, update (validation incl. the optional e-mail), and the
first province admin of a fresh install (`bootstrap_province`, CLI only).

A password change or reset ends the user's other web sessions and revokes all their OAuth tokens;
a deactivation ends all of them (`jixiao.platform.core.web_sessions`); a reactivation brings none back.

Evaluator users are created through `evaluators`, which reuses the validation and insert here."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from jixiao.platform.core import web_sessions
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
# names the records use for the system itself (shown as 系统): never a person's login
RESERVED_USERNAMES = frozenset({"system", "admin", "root"})
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
    email: str | None = None,
) -> dict[str, list[str]]:
    """Every problem of the user form at once, each under its field."""
    errors: dict[str, list[str]] = {}
    if not (username or "").strip():
        errors.setdefault("username", []).append("请填写用户名（登录名）")
    elif not USERNAME_RE.match(username or ""):
        errors.setdefault("username", []).append("用户名须为 3–64 位小写字母、数字或 . _ -，以字母或数字开头")
    elif username in RESERVED_USERNAMES:
        errors.setdefault("username", []).append(f"用户名 {username} 为系统保留，请换一个")
    elif find_login_user(session, username) is not None:
        errors.setdefault("username", []).append(f"用户名 {username} 已被使用")
    if not (display_name or "").strip():
        errors.setdefault("display_name", []).append("请填写姓名")
    elif len(display_name.strip()) > 100:
        errors.setdefault("display_name", []).append("姓名不能超过 100 个字")
    weak = password_problems(password, username=username or "") if password else ["请设置初始密码"]
    if weak:
        errors["password"] = weak
    if bad_roles := role_problems(roles or [], allowed_roles):
        errors["roles"] = bad_roles
    if bad_email := _email_problems(email):
        errors["email"] = bad_email
    return errors


def refusal(errors: dict[str, list[str]]) -> ValidationFailed:
    """One answer naming every problem of the form."""
    return ValidationFailed(f"用户信息有 {len(errors)} 项需要修改", errors=errors)


def role_problems(roles: list[str], allowed_roles: set[str]) -> list[str]:
    """What is wrong with the roles picked: none, unknown, or not held at this level."""
    if not roles:
        return ["请至少选择一个角色"]
    problems = []
    for role in dict.fromkeys(roles):
        if role not in ROLES:
            problems.append(f"没有“{role}”这个角色")
        elif role not in allowed_roles:
            problems.append(f"本级单位的用户不能担任“{ROLE_NAMES[role]}”")
    return problems


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
        email=email,
    )
    email = (email or "").strip() or None
    if errors:
        raise refusal(errors)
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


def _email_problems(email: str | None) -> list[str]:
    """An optional address for notification e-mails ("" clears it)."""
    value = (email or "").strip()
    if value and (len(value) > 254 or not EMAIL_RE.match(value)):
        return [f"电子邮箱格式不正确：{value}"]
    return []


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
    keep_web_session: int | None = None,
) -> User:
    """`keep_web_session`: the caller's own page session, which survives when a user changes their
    own password (every other session of theirs ends)."""
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
        errors["display_name"] = ["请填写姓名"]
    elif display_name is not None and len(display_name.strip()) > 100:
        errors["display_name"] = ["姓名不能超过 100 个字"]
    if roles is not None and (bad_roles := role_problems(roles, allowed)):
        errors["roles"] = bad_roles
    if password is not None and (problems := password_problems(password, username=user.username)):
        errors["password"] = problems
    if email is not None and (bad_email := _email_problems(email)):
        errors["email"] = bad_email
    if is_active is False and user.id == actor.user_id and not errors:
        raise Conflict("不能停用自己的账号")
    if is_active is False and user.id == actor.user_id:
        errors["is_active"] = ["不能停用自己的账号"]
    new_email = (email or "").strip() or None
    if errors:
        raise refusal(errors)
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
    if is_active is False:
        web_sessions.end_everything(session, user.id, web_sessions.DEACTIVATED, tenant_id=user.tenant_id)
    elif password is not None:
        own = user.id == actor.user_id
        web_sessions.end_everything(
            session,
            user.id,
            web_sessions.PASSWORD_CHANGED if own else web_sessions.PASSWORD_RESET,
            tenant_id=user.tenant_id,
            keep=keep_web_session if own else None,
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
