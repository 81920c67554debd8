"""Pages of a project's ex-ante performance assessment (事前绩效评估, DESIGN.md §6 stage 1): the
form scoring each criterion with an opinion, saved as a draft or submitted, and the finance
bureau's conclusion (予以支持 / 部分支持 / 不予支持) on a submitted assessment.

Thin like every handler: parse the form, call the services, re-render with the services' own
Chinese messages — by field on 422, as an alert on 403/409. The project's header, stepper and tabs
come from `projects.views.render_project_page`; the URLs stay under /projects/<id>/assessment.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, request, url_for
from flask_login import login_required

from jixiao.platform.core.errors import Conflict, Forbidden, ValidationFailed
from jixiao.platform.web.context import actor, db
from jixiao.platform.web.pages import may as _may
from jixiao.services.projects import service as project_service
from jixiao.services.projects.models import Project
from jixiao.services.projects.views import render_project_page

from . import service
from .models import CONCLUSIONS, CRITERIA

bp = Blueprint("assessment_pages", __name__, url_prefix="/projects", template_folder="templates")


def _assessment_form(assessment: Any) -> dict[str, Any]:
    criteria = assessment.criteria or {}
    return {
        "criteria": {
            key: {
                "score": (criteria.get(key) or {}).get("score", ""),
                "opinion": (criteria.get(key) or {}).get("opinion", ""),
            }
            for key in CRITERIA
        },
        "summary": assessment.summary or "",
        "version": assessment.version or 0,
    }


def _assessment_page(
    project: Project,
    assessment: Any,
    form: dict[str, Any] | None = None,
    errors: dict[str, Any] | None = None,
    decision_form: dict[str, str] | None = None,
    decision_errors: dict[str, Any] | None = None,
    problem: str | None = None,
    status: int = 200,
) -> Any:
    row = project.stage_row("assessment")
    editable = (
        project.status == "active"
        and row.status in ("draft", "returned")
        and _may("projects.write", project=project)
    )
    return render_project_page(
        "assessment/assessment.html",
        project,
        "assessment",
        status=status,
        assessment=assessment,
        form=form or _assessment_form(assessment),
        errors=errors or {},
        editable=editable,
        may_decide=(
            project.status == "active"
            and assessment.status == "submitted"
            and _may("projects.finance", project=project)
        ),
        decision_form=decision_form or {"conclusion": "", "opinion": ""},
        decision_errors=decision_errors or {},
        problem=problem,
    )


def _posted_assessment() -> dict[str, Any]:
    f = request.form
    return {
        "criteria": {
            key: {
                "score": f.get(f"{key}_score", "").strip(),
                "opinion": f.get(f"{key}_opinion", "").strip(),
            }
            for key in CRITERIA
        },
        "summary": f.get("summary", "").strip(),
        "version": f.get("version", type=int) or 0,
    }


@bp.get("/<int:project_id>/assessment")
@login_required
def assessment(project_id: int) -> Any:
    s = db()
    project = project_service.get_project(s, actor(), project_id)
    return _assessment_page(project, service.get_assessment(s, actor(), project.id))


@bp.post("/<int:project_id>/assessment")
@login_required
def assessment_save(project_id: int) -> Any:
    who = actor()
    s = db()
    project = project_service.get_project(s, who, project_id)
    form = _posted_assessment()
    data = {"criteria": form["criteria"], "summary": form["summary"]}
    if form["version"]:
        data["version"] = form["version"]
    submitting = request.form.get("action") == "submit"
    try:
        if submitting:  # saved and submitted together, or nothing, with every problem at once
            service.submit(s, who, project_id, data)
        else:
            saved = service.save_draft(s, who, project_id, data)
            form["version"] = saved.version
        s.commit()
    except ValidationFailed as exc:
        s.rollback()
        project = project_service.get_project(s, who, project_id)
        return _assessment_page(
            project, service.get_assessment(s, who, project_id), form, exc.errors, status=422
        )
    except Conflict as exc:
        s.rollback()
        return _assessment_page(
            project,
            service.get_assessment(s, who, project_id),
            form,
            problem=exc.message,
            status=409,
        )
    if not submitting:
        flash("事前评估草稿已保存", "success")
        return redirect(url_for(".assessment", project_id=project_id))
    flash("事前评估已提交，等待财政局作出评估结论", "success")
    return redirect(url_for(".assessment", project_id=project_id))


@bp.post("/<int:project_id>/assessment/decision")
@login_required
def assessment_decide(project_id: int) -> Any:
    who = actor()
    s = db()
    project = project_service.get_project(s, who, project_id)
    decision = {
        "conclusion": request.form.get("conclusion", ""),
        "opinion": request.form.get("opinion", "").strip(),
    }
    try:
        decided = service.decide(s, who, project_id, decision["conclusion"], decision["opinion"])
        s.commit()
    except ValidationFailed as exc:
        s.rollback()
        return _assessment_page(
            project,
            service.get_assessment(s, who, project_id),
            decision_form=decision,
            decision_errors=exc.errors,
            status=422,
        )
    except (Forbidden, Conflict) as exc:  # e.g. the submitter deciding on their own assessment
        s.rollback()
        return _assessment_page(
            project,
            service.get_assessment(s, who, project_id),
            decision_form=decision,
            problem=exc.message,
            status=exc.status,
        )
    if decided.conclusion == "reject":
        flash("事前评估结论：不予支持，项目已终止", "warning")
    else:
        flash(f"事前评估结论：{CONCLUSIONS[decided.conclusion or '']}，已进入绩效目标阶段", "success")
    return redirect(url_for("projects_pages.detail", project_id=project_id))


def panel_context(project: Project) -> dict[str, Any]:
    """The overview's card while the project is at the assessment stage."""
    found = service.get_assessment(db(), actor(), project.id)
    return {
        "assessment": found,
        "may_decide": found.status == "submitted" and _may("projects.finance", project=project),
    }
