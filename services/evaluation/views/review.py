"""The self-evaluation's review page (初审 by the department reviewer, 复核 by the bureau admin): the
self-evaluation read-only with every point, what changed since the last return, the reviews so far
and the review form — the targets' chain, its rules and messages (`review.review`); and the
printable 项目支出绩效自评表."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_login import login_required

from jixiao.platform.core.errors import Conflict, Forbidden, ValidationFailed
from jixiao.platform.web.context import actor, db
from jixiao.services.programs.views import province_today
from jixiao.services.projects import service as project_service
from jixiao.services.projects.models import Project
from jixiao.services.projects.views import render_project_page
from jixiao.services.targets.models import COMMENT_KEYS, REVIEW_LEVELS

from .. import review as evaluation_review
from .. import service
from .common import bp, may_review, resubmission, review_rows, shown

TAB = "self_evaluation_review"


def _review_page(
    project: Project,
    *,
    form: dict[str, str] | None = None,
    errors: dict[str, Any] | None = None,
    problem: str | None = None,
    status: int = 200,
) -> Any:
    s, who = db(), actor()
    try:
        view = service.get(s, who, project.id)
    except Conflict as exc:
        return render_project_page(
            "evaluation/closed.html", project, TAB, status=exc.status, message=problem or exc.message
        )
    return render_project_page(
        "evaluation/review.html",
        project,
        TAB,
        status=status,
        **shown(project, view),
        editable=False,
        overall_goal=service.current(s, project)[1].overall_goal or "",
        may_review=may_review(project, view),
        reviews=review_rows(view),
        resubmission=resubmission(view),
        form=form or dict.fromkeys(COMMENT_KEYS, ""),
        review_errors=errors or {},
        problem=problem,
    )


@bp.route("/<int:project_id>/self-evaluation/review", methods=["GET", "POST"], endpoint="review")
@login_required
def review_page(project_id: int) -> Any:
    s, who = db(), actor()
    project = project_service.get_project(s, who, project_id)  # the walls: a sibling → 404
    if request.method == "GET":
        return _review_page(project)
    decision = request.form.get("decision", "")
    form = {key: request.form.get(key, "").strip() for key in COMMENT_KEYS}
    comments = {k: v for k, v in form.items() if v}
    try:
        reviewed = evaluation_review.review(s, who, project_id, decision, comments)
        level = reviewed["reviews"][-1].level
        s.commit()
    except ValidationFailed as exc:
        s.rollback()
        project = project_service.get_project(s, who, project_id)
        return _review_page(project, form=form, errors=exc.errors, problem=exc.message, status=422)
    except (Forbidden, Conflict) as exc:
        s.rollback()
        project = project_service.get_project(s, who, project_id)
        return _review_page(project, form=form, problem=exc.message, status=exc.status)
    if decision == "return":
        flash(f"已退回自评（{REVIEW_LEVELS[level]}），意见已告知项目单位", "warning")
    elif reviewed["status"] == "approved":
        flash(f"复核通过：自评 {reviewed['score']} 分，等级{reviewed['grade']}，已冻结", "success")
    else:
        flash(f"{REVIEW_LEVELS[level]}通过，已转财政复核", "success")
    return redirect(url_for("projects_pages.detail", project_id=project_id))


# --- the printable 项目支出绩效自评表 ------------------------------------------------------------------

TEN_THOUSAND = Decimal(10000)


def wan(value: str | None) -> str:
    """Yuan → 万元 with two decimals, as the table is printed (FORMS.md)."""
    if value in (None, ""):
        return ""
    amount = (Decimal(str(value)) / TEN_THOUSAND).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return f"{amount:,.2f}"


@bp.get("/<int:project_id>/self-evaluation/print", endpoint="print")
@login_required
def print_sheet(project_id: int) -> Any:
    s, who = db(), actor()
    project = project_service.get_project(s, who, project_id)
    view = service.get(s, who, project_id)  # 409 until monitoring is complete
    _, target_set = service.current(s, project)
    return render_template(
        "evaluation/print.html",
        project=project,
        overall_goal=target_set.overall_goal or "",
        wan=wan,
        printed_on=province_today(),
        **shown(project, view),
    )
