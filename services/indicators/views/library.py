"""Templates (模板库, 一键勾选) and cases (案例库) of the indicator library: list, detail, create,
edit, delete, and the indicator picker (an htmx partial) both forms add indicators with.

Thin like every handler: parse the form, call `library`, re-render with its Chinese messages on
422 (every field at once) and on 409 (stale version).
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_login import login_required
from sqlalchemy import select

from jixiao.platform.core.authz import authorize
from jixiao.platform.core.errors import Conflict, Forbidden, ValidationFailed
from jixiao.platform.web.context import actor, db
from jixiao.platform.web.pages import may as _may
from jixiao.tenants.models import Tenant

from .. import library, service
from ..models import Indicator
from .common import bp, linked, writable

# --- the picker shared by templates and cases ---------------------------------------------------


@bp.get("/picker")
@login_required
def picker() -> Any:
    """Active indicators matching a search, to add to a template or a case (htmx partial)."""
    q = (request.args.get("q") or "").strip()[:100]
    page = service.search(db(), actor(), q=q or None, status="active", page_size=20)
    return render_template("indicators/_picker.html", results=page, q=q)


def _picked_ids() -> list[int]:
    ids = []
    for raw in request.form.getlist("indicator_ids"):
        try:
            ids.append(int(raw))
        except ValueError:
            continue
    return ids


def _picked(ids: list[int]) -> list[Indicator]:
    """The indicators behind ids, in order, as the caller may see them (retired ones too, so a
    form can show why the service refuses them)."""
    found = []
    for indicator_id in ids:
        indicator = linked(indicator_id)
        if indicator is not None:
            found.append(indicator)
    return found


# --- templates (模板库) ----------------------------------------------------------------------------


@bp.get("/templates")
@login_required
def templates() -> Any:
    s = db()
    page = library.list_templates(s, actor(), page_size=200)
    ids = {t.tenant_id for t in page.items}
    owners = dict(s.execute(select(Tenant.id, Tenant.name).where(Tenant.id.in_(ids))).all())
    return render_template(
        "indicators/templates.html", page=page, owners=owners, can_write=_may("indicators.write")
    )


@bp.get("/templates/<int:template_id>")
@login_required
def template_detail(template_id: int) -> Any:
    who = actor()
    template = library.get_template(db(), who, template_id)
    return render_template(
        "indicators/template_detail.html",
        t=template,
        can_edit=template.tenant_id == who.tenant_id and _may("indicators.write"),
    )


def _template_form(
    template: Any, form: dict[str, Any], picked: list[Indicator], errors: Any, status: int
) -> Any:
    return render_template(
        "indicators/template_form.html", t=template, form=form, picked=picked, errors=errors, conflict=None
    ), status


@bp.route("/templates/new", methods=["GET", "POST"])
@login_required
def template_create() -> Any:
    writable()
    who = actor()
    s = db()
    authorize(who, "indicators.write")
    if request.method == "GET":
        return _template_form(None, {"name": "", "project_class": ""}, [], {}, 200)
    ids = _picked_ids()
    data = {
        "name": request.form.get("name", ""),
        "project_class": request.form.get("project_class", ""),
        "indicator_ids": ids,
    }
    try:
        template = library.create_template(s, who, data)
        s.commit()
    except ValidationFailed as exc:
        s.rollback()
        return _template_form(None, data, _picked(ids), exc.errors, 422)
    flash(f"已新建模板「{template.name}」（{len(template.items)} 个指标）", "success")
    return redirect(url_for(".template_detail", template_id=template.id))


@bp.route("/templates/<int:template_id>/edit", methods=["GET", "POST"])
@login_required
def template_edit(template_id: int) -> Any:
    writable()
    who = actor()
    s = db()
    template = library.get_template(s, who, template_id)
    if template.tenant_id != who.tenant_id:
        raise Forbidden(f"模板「{template.name}」不属于本单位，只能查看和使用")
    authorize(who, "indicators.write")
    if request.method == "GET":
        form = {"name": template.name, "project_class": template.project_class, "version": template.version}
        return _template_form(template, form, [item.indicator for item in template.items], {}, 200)
    ids = _picked_ids()
    version = request.form.get("version", type=int) or 0
    data = {
        "name": request.form.get("name", ""),
        "project_class": request.form.get("project_class", ""),
        "indicator_ids": ids,
        "version": version,
    }
    try:
        template = library.update_template(s, who, template_id, data)
        s.commit()
    except ValidationFailed as exc:
        s.rollback()
        return _template_form(template, data, _picked(ids), exc.errors, 422)
    except Conflict as exc:
        s.rollback()
        return render_template(
            "indicators/template_form.html",
            t=template,
            form=data,
            picked=_picked(ids),
            errors={},
            conflict=exc.message,
        ), 409
    flash(f"已保存模板「{template.name}」", "success")
    return redirect(url_for(".template_detail", template_id=template_id))


@bp.post("/templates/<int:template_id>/delete")
@login_required
def template_delete(template_id: int) -> Any:
    writable()
    s = db()
    template = library.get_template(s, actor(), template_id)
    name = template.name
    library.delete_template(s, actor(), template_id)
    s.commit()
    flash(f"已删除模板「{name}」", "success")
    return redirect(url_for(".templates"))


# --- cases (案例库) --------------------------------------------------------------------------------


@bp.get("/cases")
@login_required
def cases() -> Any:
    page = library.list_cases(db(), actor(), page_size=200)
    return render_template("indicators/cases.html", page=page, can_write=_may("cases.write"))


@bp.get("/cases/<int:case_id>")
@login_required
def case_detail(case_id: int) -> Any:
    case = library.get_case(db(), actor(), case_id)
    return render_template(
        "indicators/case_detail.html",
        c=case,
        indicators=_picked(list(case.indicator_ids or [])),
        can_edit=_may("cases.write", case=case),
    )


CASE_FIELDS = ("title", "project_class", "category", "text")


def _case_form(
    case: Any,
    form: dict[str, Any],
    picked: list[Indicator],
    errors: Any,
    status: int,
    conflict: str | None = None,
) -> Any:
    return render_template(
        "indicators/case_form.html", c=case, form=form, picked=picked, errors=errors, conflict=conflict
    ), status


@bp.route("/cases/new", methods=["GET", "POST"])
@login_required
def case_create() -> Any:
    writable()
    who = actor()
    s = db()
    authorize(who, "cases.write")
    if request.method == "GET":
        return _case_form(None, dict.fromkeys(CASE_FIELDS, ""), [], {}, 200)
    ids = _picked_ids()
    data: dict[str, Any] = {k: request.form.get(k, "") for k in CASE_FIELDS} | {"indicator_ids": ids}
    try:
        case = library.create_case(s, who, data)
        s.commit()
    except ValidationFailed as exc:
        s.rollback()
        return _case_form(None, data, _picked(ids), exc.errors, 422)
    flash(f"已发布案例「{case.title}」", "success")
    return redirect(url_for(".case_detail", case_id=case.id))


@bp.route("/cases/<int:case_id>/edit", methods=["GET", "POST"])
@login_required
def case_edit(case_id: int) -> Any:
    writable()
    who = actor()
    s = db()
    case = library.get_case(s, who, case_id)
    authorize(who, "cases.write", case=case)
    if request.method == "GET":
        form = {k: getattr(case, k) or "" for k in CASE_FIELDS} | {"version": case.version}
        return _case_form(case, form, _picked(list(case.indicator_ids or [])), {}, 200)
    ids = _picked_ids()
    version = request.form.get("version", type=int) or 0
    data: dict[str, Any] = {k: request.form.get(k, "") for k in CASE_FIELDS} | {
        "indicator_ids": ids,
        "version": version,
    }
    try:
        case = library.update_case(s, who, case_id, data)
        s.commit()
    except ValidationFailed as exc:
        s.rollback()
        return _case_form(case, data, _picked(ids), exc.errors, 422)
    except Conflict as exc:
        s.rollback()
        return _case_form(case, data, _picked(ids), {}, 409, exc.message)
    flash(f"已保存案例「{case.title}」", "success")
    return redirect(url_for(".case_detail", case_id=case_id))


@bp.post("/cases/<int:case_id>/delete")
@login_required
def case_delete(case_id: int) -> Any:
    writable()
    s = db()
    case = library.get_case(s, actor(), case_id)
    title = case.title
    library.delete_case(s, actor(), case_id)
    s.commit()
    flash(f"已撤下案例「{title}」", "success")
    return redirect(url_for(".cases"))
