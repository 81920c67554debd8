"""Administration pages: users of a tenant, the tenant hierarchy, evaluator organisations."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import login_required

from jixiao.platform.core.errors import Forbidden, ValidationFailed
from jixiao.platform.web.pages import may as _may
from jixiao.tenants import evaluators as tenant_evaluators
from jixiao.tenants import service as tenants
from jixiao.tenants import users as tenant_users
from jixiao.tenants.models import LEVELS, ROLES_BY_LEVEL

from ..context import actor, db
from .home import viewing_tenant

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.route("/users", methods=["GET", "POST"])
@login_required
def users() -> Any:
    who = actor()
    tenant = viewing_tenant()
    if tenant is None:
        return redirect(url_for("admin.evaluator_orgs"))
    s = db()
    page = tenant_users.list_users(
        s, who, tenant.code, page=request.args.get("page", 1, type=int), page_size=50
    )
    can_write = _may("users.write", tenant=tenant)
    form: dict[str, Any] = {}
    errors: dict[str, Any] = {}
    status = 200
    if request.method == "POST":
        if not can_write:
            raise Forbidden("上级单位对下级用户只读")
        form = {
            "username": request.form.get("username", ""),
            "display_name": request.form.get("display_name", ""),
            "password": request.form.get("password", ""),
            "roles": request.form.getlist("roles"),
            "email": request.form.get("email", "").strip(),
        }
        try:
            user = tenant_users.create_user(s, who, tenant.code, **form)
            s.commit()
            flash(f"已创建用户 {user.username}（{user.display_name}）", "success")
            return redirect(url_for("admin.users"))
        except ValidationFailed as exc:
            s.rollback()
            errors = exc.errors
            status = 422
    return render_template(
        "admin/users.html",
        tenant=tenant,
        page=page,
        can_write=can_write,
        form=form,
        errors=errors,
        assignable_roles=sorted(ROLES_BY_LEVEL[tenant.level]),
    ), status


@bp.post("/users/<int:user_id>/active")
@login_required
def toggle_user(user_id: int) -> Any:
    s = db()
    active = request.form.get("active") == "1"
    user = tenant_users.update_user(s, actor(), user_id, is_active=active)
    s.commit()
    flash(f"已{'启用' if active else '停用'}用户 {user.username}", "success")
    return redirect(url_for("admin.users"))


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
        return redirect(url_for("admin.users"))
    s.commit()
    flash(
        f"已更新用户 {user.username} 的电子邮箱" if user.email else f"已清除用户 {user.username} 的电子邮箱",
        "success",
    )
    return redirect(url_for("admin.users"))


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
    items = list(s.execute(tenants.visible_tenants_stmt(who)).scalars())
    return render_template(
        "admin/tenants.html",
        items=items,
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
    page = tenant_evaluators.list_evaluator_orgs(s, who, page_size=200)
    return render_template(
        "admin/evaluator_orgs.html",
        page=page,
        can_create=_may("evaluator_orgs.write"),
        form=form,
        errors=errors,
    ), status
