"""Administration pages: users of a tenant (and of the tenants below it), the tenant hierarchy,
evaluator organisations — each a filterable list with its counts, and the forms that refuse with
every problem at once.

Write controls follow `may()`: none while the user views another tenant (read-only mode)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import login_required
from sqlalchemy import func, select

from jixiao.platform.core.errors import Forbidden, ValidationFailed
from jixiao.platform.web.pages import may as _may
from jixiao.platform.web.pages import own_path
from jixiao.services.programs.models import ProgramTenant
from jixiao.services.projects.models import Project
from jixiao.tenants import directory
from jixiao.tenants import evaluators as tenant_evaluators
from jixiao.tenants import service as tenants
from jixiao.tenants import users as tenant_users
from jixiao.tenants.models import LEVELS, ROLES, ROLES_BY_LEVEL

from ..context import actor, db
from .auth import current_web_session_id
from .home import viewing_tenant

bp = Blueprint("admin", __name__, url_prefix="/admin")

USER_PAGE_SIZE = 50


def _back(default: str) -> Any:
    """Back to the list the form was posted from (its filters kept)."""
    return redirect(own_path(request.form.get("next")) or url_for(default))


def _user_form() -> dict[str, Any]:
    return {
        "username": request.form.get("username", ""),
        "display_name": request.form.get("display_name", ""),
        "password": request.form.get("password", ""),
        "roles": request.form.getlist("roles"),
        "email": request.form.get("email", "").strip(),
    }


@bp.route("/users", methods=["GET", "POST"])
@login_required
def users() -> Any:
    who = actor()
    tenant = viewing_tenant()
    if tenant is None:
        return redirect(url_for("admin.evaluator_orgs"))
    s = db()
    can_write = _may("users.write", tenant=tenant)
    form: dict[str, Any] = {}
    errors: dict[str, Any] = {}
    status = 200
    if request.method == "POST":
        if not can_write:
            raise Forbidden("上级单位对下级用户只读")
        form = _user_form()
        try:
            user = tenant_users.create_user(s, who, tenant.code, **form)
            s.commit()
            flash(f"已创建用户 {user.display_name}（登录名 {user.username}）", "success")
            return redirect(url_for("admin.users"))
        except ValidationFailed as exc:
            s.rollback()
            errors = exc.errors
            status = 422
    filters = directory.UserFilters(
        role=request.args.get("role", ""),
        status=request.args.get("status", ""),
        unit=request.args.get("unit", ""),
        q=request.args.get("q", ""),
    )
    found = directory.user_directory(
        s,
        who,
        tenant.code,
        filters,
        page=request.args.get("page", 1, type=int) or 1,
        page_size=USER_PAGE_SIZE,
    )
    writable = {
        u.id for u in found.page.items if u.tenant is not None and _may("users.write", tenant=u.tenant)
    }
    return render_template(
        "admin/users.html",
        tenant=tenant,
        found=found,
        page=found.page,
        filters=filters,
        statuses=directory.STATUSES,
        all_roles=[r for r in ROLES if r != "evaluator"],
        can_write=can_write,
        writable=writable,
        form=form,
        errors=errors,
        assignable_roles=sorted(ROLES_BY_LEVEL[tenant.level]),
        here=request.full_path.rstrip("?"),
    ), status


@bp.route("/users/<int:user_id>/edit", methods=["GET", "POST"])
@login_required
def edit_user(user_id: int) -> Any:
    """Change a user's name, roles, e-mail address or reset the password, in one form."""
    who = actor()
    s = db()
    user = tenant_users.get_user(s, who, user_id)
    if user.tenant is None:
        return redirect(url_for("admin.evaluator_orgs"))
    can_write = _may("users.write", tenant=user.tenant)
    form: dict[str, Any] = {
        "display_name": user.display_name,
        "roles": user.roles,
        "email": user.email or "",
    }
    errors: dict[str, Any] = {}
    status = 200
    if request.method == "POST":
        if not can_write:
            raise Forbidden("只读查看时不能修改用户")
        form = {
            "display_name": request.form.get("display_name", ""),
            "roles": request.form.getlist("roles"),
            "email": request.form.get("email", "").strip(),
        }
        password = request.form.get("password", "")
        try:
            tenant_users.update_user(
                s, who, user_id, **form, password=password or None, keep_web_session=current_web_session_id()
            )
            s.commit()
            flash(f"已保存用户 {user.display_name}（登录名 {user.username}）", "success")
            return redirect(url_for("admin.users"))
        except ValidationFailed as exc:
            s.rollback()
            errors = exc.errors
            status = 422
    return render_template(
        "admin/user_edit.html",
        user=user,
        can_write=can_write,
        form=form,
        errors=errors,
        assignable_roles=sorted(ROLES_BY_LEVEL[user.tenant.level]),
    ), status


@bp.post("/users/<int:user_id>/active")
@login_required
def toggle_user(user_id: int) -> Any:
    s = db()
    active = request.form.get("active") == "1"
    user = tenant_users.update_user(s, actor(), user_id, is_active=active)
    s.commit()
    flash(f"已{'启用' if active else '停用'}用户 {user.display_name}（登录名 {user.username}）", "success")
    return _back("admin.users")


@bp.post("/users/<int:user_id>/email")
@login_required
def user_email(user_id: int) -> Any:
    """Set or clear a user's address for notification e-mails (empty clears it)."""
    s = db()
    try:
        user = tenant_users.update_user(s, actor(), user_id, email=request.form.get("email", ""))
    except ValidationFailed as exc:
        s.rollback()
        flash("；".join(exc.errors.get("email", [exc.message])), "error")
        return _back("admin.users")
    s.commit()
    flash(
        f"已{'更新' if user.email else '清除'} {user.display_name}（{user.username}）的电子邮箱",
        "success",
    )
    return _back("admin.users")


def _participation(tenant_ids: list[int]) -> tuple[dict[int, int], dict[int, int]]:
    """Per tenant: the pilot programs it takes part in and its projects (one GROUP BY each)."""
    if not tenant_ids:
        return {}, {}
    s = db()
    programs = s.execute(
        select(ProgramTenant.tenant_id, func.count(func.distinct(ProgramTenant.program_id)))
        .where(ProgramTenant.tenant_id.in_(tenant_ids))
        .group_by(ProgramTenant.tenant_id)
    ).all()
    projects = s.execute(
        select(Project.tenant_id, func.count())
        .where(Project.tenant_id.in_(tenant_ids))
        .group_by(Project.tenant_id)
    ).all()
    return {int(t): int(n) for t, n in programs}, {int(t): int(n) for t, n in projects}


@bp.route("/tenants", methods=["GET", "POST"])
@login_required
def tenant_list() -> Any:
    who = actor()
    s = db()
    errors: dict[str, Any] = {}
    form: dict[str, Any] = {}
    status = 200
    if request.method == "POST":
        form = {k: (request.form.get(k) or "").strip() for k in ("code", "name", "level", "parent_code")}
        try:
            tenant = tenants.create_tenant(
                s,
                who,
                code=form["code"],
                name=form["name"],
                level=form["level"],
                parent_code=form["parent_code"] or None,
            )
            s.commit()
            flash(f"已新增 {tenant.code} {tenant.name}", "success")
            return redirect(url_for("admin.tenant_list"))
        except ValidationFailed as exc:
            s.rollback()
            errors = exc.errors
            status = 422
    level = request.args.get("level", "")
    level = level if level in LEVELS else ""
    parent = (request.args.get("parent") or "").strip()
    q = (request.args.get("q") or "").strip()[:100]
    everything = directory.tenant_list(s, who)
    items = (
        directory.tenant_list(s, who, level=level, parent_code=parent, q=q)
        if (level or parent or q)
        else everything
    )
    ids = [t.id for t in items]
    programs, projects = _participation(ids)
    return render_template(
        "admin/tenants.html",
        items=items,
        total=len(everything),
        by_level={lv: sum(1 for t in everything if t.level == lv) for lv in LEVELS},
        parents=[t for t in everything if t.level != "county"],
        filters={k: v for k, v in {"level": level, "parent": parent, "q": q}.items() if v},
        users=directory.users_per_tenant(s, ids),
        programs=programs,
        projects=projects,
        can_create=_may("tenants.create"),
        form=form,
        errors=errors,
        levels=LEVELS,
    ), status


@bp.route("/evaluator-orgs", methods=["GET", "POST"])
@login_required
def evaluator_orgs() -> Any:
    who = actor()
    s = db()
    errors: dict[str, Any] = {}
    form: dict[str, Any] = {}
    status = 200
    if request.method == "POST":
        form = {k: (request.form.get(k) or "").strip() for k in ("name", "credit_code", "contact")}
        try:
            org = tenant_evaluators.create_evaluator_org(
                s,
                who,
                name=form["name"],
                credit_code=form["credit_code"] or None,
                contact=form["contact"] or None,
            )
            s.commit()
            flash(f"已登记第三方机构 {org.name}", "success")
            return redirect(url_for("admin.evaluator_orgs"))
        except ValidationFailed as exc:
            s.rollback()
            errors = exc.errors
            status = 422
    q = (request.args.get("q") or "").strip()[:100]
    rows = directory.evaluator_org_list(s, who, q=q)
    return render_template(
        "admin/evaluator_orgs.html",
        rows=rows,
        total=len(directory.evaluator_org_list(s, who)) if q else len(rows),
        q=q,
        # evaluator users are the province's: a bureau reads none of them, so it sees no count
        show_users=who.is_province,
        can_create=_may("evaluator_orgs.write"),
        form=form,
        errors=errors,
    ), status
