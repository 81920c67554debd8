"""The targets' review page (初审 / 复核) with the resubmission's diff and every review so far, the
version history with its diffs, and the printable 绩效目标申报表 (the approved version by default,
any version by ?version=N)."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_login import login_required

from jixiao.platform.core.errors import Conflict, Forbidden, ValidationFailed
from jixiao.platform.web.context import actor, db
from jixiao.services.indicators.models import LEVEL1_OF
from jixiao.services.programs.views import province_today
from jixiao.services.projects import service as project_service
from jixiao.services.projects.models import Project
from jixiao.services.projects.views import render_project_page

from .. import chain, service
from ..forms import diff_view, grouped, joined, line_dicts, weight_text
from ..models import COMMENT_KEYS, REVIEW_LEVELS, TargetSet
from .common import bp, library_rows, may_review, require_targets_open


def _previous_reviews(project: Project) -> list[dict[str, Any]]:
    """Every review of every version, oldest first (the comments side by side)."""
    rows = []
    for entry in reversed(service.versions(db(), actor(), project.id)):
        for r in entry["set"].reviews:
            rows.append({"version": entry["set"].number, "review": r})
    return rows


def _review_page(
    project: Project,
    target_set: TargetSet,
    form: dict[str, str] | None = None,
    errors: dict[str, Any] | None = None,
    problem: str | None = None,
    status: int = 200,
) -> Any:
    return render_project_page(
        "targets/review.html",
        project,
        "review",
        status=status,
        target_set=target_set,
        lines=line_dicts(target_set),
        library=library_rows([line.indicator_id for line in target_set.lines if line.indicator_id]),
        reviews=_previous_reviews(project),
        may_review=may_review(project, target_set),
        form=form or dict.fromkeys(COMMENT_KEYS, ""),
        errors=errors or {},
        error_text=joined([m for v in (errors or {}).values() for m in ([v] if isinstance(v, str) else v)]),
        problem=problem,
        multi_year=project.end_year > project.start_year,
        level1_of=LEVEL1_OF,
        resubmission=_resubmission(project),
    )


def _resubmission(project: Project) -> dict[str, Any] | None:
    """A resubmission after a return: what changed since the version the reviewer returned."""
    found = chain.resubmission(db(), actor(), project.id)
    if found is None:
        return None
    return {**found, "diff": diff_view(found["diff"])}


@bp.get("/<int:project_id>/targets/review")
@login_required
def review(project_id: int) -> Any:
    s = db()
    project = project_service.get_project(s, actor(), project_id)
    require_targets_open(project)
    return _review_page(project, service.current(s, actor(), project_id))


@bp.post("/<int:project_id>/targets/review")
@login_required
def review_post(project_id: int) -> Any:
    who = actor()
    s = db()
    project = project_service.get_project(s, who, project_id)
    decision = request.form.get("decision", "")
    form = {key: request.form.get(key, "").strip() for key in COMMENT_KEYS}
    comments = {k: v for k, v in form.items() if v}
    try:
        reviewed = chain.review(s, who, project_id, decision, comments)
        level = reviewed.reviews[-1].level
        s.commit()
    except ValidationFailed as exc:
        s.rollback()
        return _review_page(project, service.current(s, who, project_id), form, exc.errors, status=422)
    except (Forbidden, Conflict) as exc:
        s.rollback()
        return _review_page(
            project, service.current(s, who, project_id), form, problem=exc.message, status=exc.status
        )
    if decision == "return":
        flash(f"已退回绩效目标（{REVIEW_LEVELS[level]}），意见已告知项目单位", "warning")
    elif reviewed.status == "approved":
        flash("复核通过：绩效目标已冻结，项目进入跟踪监控阶段", "success")
    else:
        flash(f"{REVIEW_LEVELS[level]}通过，已转财政复核", "success")
    return redirect(url_for("projects_pages.detail", project_id=project_id))


# --- versions and the printable form -----------------------------------------------------------


@bp.get("/<int:project_id>/targets/versions")
@login_required
def versions(project_id: int) -> Any:
    s = db()
    project = project_service.get_project(s, actor(), project_id)
    require_targets_open(project)
    entries = [
        {"set": e["set"], "diff": diff_view(e["diff"])} for e in service.versions(s, actor(), project_id)
    ]
    return render_project_page("targets/versions.html", project, "versions", entries=entries)


@bp.get("/<int:project_id>/targets/print")
@login_required
def targets_print(project_id: int) -> Any:
    """The 申报表: the approved version in force by default (else the current one), or ?version=N."""
    s = db()
    project = project_service.get_project(s, actor(), project_id)
    require_targets_open(project)
    target_set = service.for_print(s, actor(), project_id, request.args.get("version", type=int))
    return render_template(
        "targets/print.html",
        project=project,
        target_set=target_set,
        all_versions=service.sets_of(s, project),
        groups=grouped(target_set),
        multi_year=project.end_year > project.start_year,
        weight_text=weight_text,
        printed_on=province_today(),
    )
