"""The self-evaluation form (自评填报): 预算执行情况, one row per target line, the texts, and the live
score — the form posted as typed to `preview` (htmx), which scores it with the service's own
`preview` (one implementation of DESIGN.md §6) and swaps the score panel and each line's cells.

保存 saves the draft; 提交 saves it, then submits it to 初审 (a refused submit keeps the saved draft
and names every gap). Thin like every handler: read the form, call the service, commit; a refused
form comes back as typed with its messages by line (422), a refused move as an alert (403 / 409)."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_login import login_required

from jixiao.platform.core.errors import Conflict, Forbidden, ValidationFailed
from jixiao.platform.web.context import actor, db
from jixiao.services.evidence.views import required_evidence
from jixiao.services.projects import service as project_service
from jixiao.services.projects.models import Project
from jixiao.services.projects.views import render_project_page

from .. import service
from .common import STAGE, bp, editable, last_return, may_review, posted, shown, typed_over

TAB = "self_evaluation"


def _closed(project: Project, message: str, status: int = 409) -> Any:
    """The stage is not open (monitoring not complete, no approved targets): say why."""
    return render_project_page("evaluation/closed.html", project, TAB, status=status, message=message)


def render_form(
    project: Project,
    view: dict[str, Any] | None = None,
    *,
    errors: dict[str, Any] | None = None,
    problem: str | None = None,
    status: int = 200,
) -> Any:
    """The form (or, submitted or approved, the self-evaluation read-only) with its score."""
    s, who = db(), actor()
    try:
        view = view if view is not None else service.get(s, who, project.id)
        _, target_set = service.current(s, project)
    except Conflict as exc:
        return _closed(project, problem or exc.message, status if status != 200 else exc.status)
    return render_project_page(
        "evaluation/self_evaluation.html",
        project,
        TAB,
        status=status,
        **shown(project, view, errors),
        overall_goal=target_set.overall_goal or "",
        editable=editable(project, view),
        evidence=required_evidence(project, STAGE),
        may_review=may_review(project, view),
        last_return=last_return(view),
        problem=problem,
    )


@bp.route("/<int:project_id>/self-evaluation", methods=["GET", "POST"])
@login_required
def self_evaluation(project_id: int) -> Any:
    project = project_service.get_project(db(), actor(), project_id)  # the walls: a sibling → 404
    if request.method == "POST":
        return _save(project, request.form.get("action", "save"))
    return render_form(project)


def _save(project: Project, action: str) -> Any:
    s, who = db(), actor()
    try:
        _, target_set = service.current(s, project)
    except Conflict as exc:
        return _closed(project, exc.message)
    data = posted(list(target_set.lines))
    try:
        service.save_draft(s, who, project.id, data)
        s.commit()
    except ValidationFailed as exc:
        s.rollback()
        project = project_service.get_project(s, who, project.id)
        typed = typed_over(service.get(s, who, project.id), data)
        return render_form(project, typed, errors=exc.errors, status=422)
    except (Conflict, Forbidden) as exc:
        s.rollback()
        project = project_service.get_project(s, who, project.id)
        return render_form(project, problem=exc.message, status=exc.status)
    if action != "submit":
        flash("自评草稿已保存", "success")
        return redirect(url_for(".self_evaluation", project_id=project.id))
    try:
        service.submit(s, who, project.id)
        s.commit()
    except ValidationFailed as exc:
        s.rollback()
        project = project_service.get_project(s, who, project.id)
        return render_form(project, errors=exc.errors, problem=f"{exc.message}（草稿已保存）", status=422)
    except (Conflict, Forbidden) as exc:
        s.rollback()
        project = project_service.get_project(s, who, project.id)
        return render_form(project, problem=exc.message, status=exc.status)
    flash("自评已提交，等待主管部门初审", "success")
    return redirect(url_for(".self_evaluation", project_id=project.id))


@bp.post("/<int:project_id>/self-evaluation/preview", endpoint="preview")
@login_required
def preview(project_id: int) -> Any:
    """The live score (htmx): the form as typed, scored by the service, nothing saved. Answers the
    score panel and, out of band, each line's cells; a value that cannot be scored is named in the
    panel and beside its line (200, so that htmx swaps it)."""
    s, who = db(), actor()
    project = project_service.get_project(s, who, project_id)
    _, target_set = service.current(s, project)
    data = posted(list(target_set.lines))
    errors: dict[str, Any] | None = None
    try:
        view = service.preview(s, who, project_id, data)
    except ValidationFailed as exc:
        errors = exc.errors
        view = typed_over(service.get(s, who, project_id), data)
    try:
        return render_template(
            "evaluation/_score.html",
            project=project,
            oob=True,
            editable=True,
            **shown(project, view, errors),
        )
    finally:
        s.rollback()  # a preview never saves
