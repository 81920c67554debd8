"""The result-application panel (结果应用): the grade and where it comes from, the suggested budget
recommendation, finance's choice (the reason field shown — by results.js — and required — by the
service — when the choice differs from the suggestion), the disclosure switch and the findings the
public page will show. Everyone who reads the project sees the decision; only finance changes it."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, request, url_for
from flask_login import login_required

from jixiao.platform.core.errors import Conflict, Forbidden, ValidationFailed
from jixiao.platform.web.context import actor, db
from jixiao.platform.web.pages import load_form
from jixiao.services.projects.models import Project
from jixiao.services.projects.views import render_project_page

from .. import service
from ..schemas import ResultApplicationWriteSchema
from .common import BASE, bp, load_project, writable


def application_page(
    project: Project,
    *,
    form: dict[str, Any] | None = None,
    errors: dict[str, list[str]] | None = None,
    problem: str | None = None,
    status: int = 200,
) -> Any:
    shown = service.view(db(), actor(), project)
    if form is None:
        form = {
            "budget_recommendation": shown["budget_recommendation"]
            or shown["suggested_recommendation"]
            or "",
            "recommendation_reason": shown["recommendation_reason"],
            "disclose": shown["disclosed"],
            "findings": shown["findings"],
        }
    return render_project_page(
        "results/application.html",
        project,
        "result_application",
        status=status,
        shown=shown,
        form=form,
        errors=errors or {},
        problem=problem,
        may_decide=writable(project, "projects.finance"),
    )


@bp.get(BASE + "/application", endpoint="application")
@login_required
def application(project_id: int) -> Any:
    return application_page(load_project(project_id))


@bp.post(BASE + "/application")
@login_required
def decide(project_id: int) -> Any:
    s = db()
    project = load_project(project_id)
    form = {
        "budget_recommendation": request.form.get("budget_recommendation", "").strip(),
        "recommendation_reason": request.form.get("recommendation_reason", "").strip(),
        "disclose": request.form.get("disclose") == "1",
        "findings": request.form.get("findings", "").strip(),
    }
    raw: dict[str, Any] = {k: v for k, v in form.items() if not (k == "budget_recommendation" and v == "")}
    if request.form.get("lock_version", "").isdigit():
        raw["lock_version"] = int(request.form["lock_version"])
    data, errors = load_form(ResultApplicationWriteSchema(), raw)
    try:
        if errors:
            raise ValidationFailed(next(iter(errors.values()))[0], errors=errors)
        shown = service.decide(s, actor(), project_id, data)
        s.commit()
    except ValidationFailed as exc:
        s.rollback()
        return application_page(load_project(project_id), form=form, errors=exc.errors, status=422)
    except (Conflict, Forbidden) as exc:
        s.rollback()
        return application_page(load_project(project_id), problem=exc.message, status=exc.status)
    done = "结果应用决定已保存" + ("，结果已公开" if shown["disclosed"] else "")
    if shown["complete"]:
        done += "；整改事项已全部销号，项目全流程已完成"
    flash(done, "success")
    return redirect(url_for("results_pages.application", project_id=project.id))
