"""Pages of a project's performance targets (绩效目标, DESIGN.md §6 stage 2, §9): the editor with
the library picker, 一键勾选 templates and inline quality checks, target adjustments, the review page
(初审 / 复核), the version history with its diff, and the printable 绩效目标申报表.

Thin like every handler: parse the form, call the services, re-render with the services' own
Chinese messages — by field on 422, as an alert on 403/409. The quality rules are the targets
service's own (`service.check` / `dry_run`), so the page says exactly what the API says. The
project's header, stepper and tabs come from `projects.views.render_project_page`; the URLs stay
under /projects/<id>/targets.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import login_required

from jixiao.platform.core.errors import Conflict, DomainError, Forbidden, ValidationFailed
from jixiao.platform.web.context import actor, db
from jixiao.platform.web.pages import may as _may
from jixiao.services.indicators import library
from jixiao.services.indicators import service as indicator_service
from jixiao.services.indicators.models import FRAMEWORK, LEVEL1_OF, VALUE_BASES
from jixiao.services.indicators.rules import DIRECTION_LABELS, VALUE_TYPE_LABELS
from jixiao.services.programs.views import province_today
from jixiao.services.projects import service as project_service
from jixiao.services.projects.models import Project
from jixiao.services.projects.views import may_review, render_project_page

from . import chain, service
from . import rules as target_rules
from .forms import (
    diff_view,
    grouped,
    is_number,
    line_dicts,
    line_messages,
    posted_targets,
    service_lines,
    weight_text,
)
from .models import ADJUSTMENT_REASONS, COMMENT_KEYS, REVIEW_LEVELS, TargetSet

bp = Blueprint("targets_pages", __name__, url_prefix="/projects", template_folder="templates")


def _library_rows(ids: list[int]) -> dict[int, Any]:
    """The library indicators behind the lines (code, status), as far as the caller sees them."""
    found: dict[int, Any] = {}
    for indicator_id in dict.fromkeys(ids):
        try:
            found[indicator_id] = indicator_service.get_indicator(db(), actor(), indicator_id)
        except DomainError:
            continue
    return found


def _targets_context(
    project: Project,
    target_set: TargetSet,
    *,
    goals: dict[str, str] | None = None,
    lines: list[dict[str, str]] | None = None,
    violations: list[target_rules.Violation] | None = None,
    errors: dict[str, Any] | None = None,
    checked: bool = False,
    problem: str | None = None,
) -> dict[str, Any]:
    who = actor()
    lines = lines if lines is not None else line_dicts(target_set)
    top, by_line, shown = line_messages(violations or [], errors)
    editable = (
        project.status == "active"
        and project.stage_row("targets").status != "locked"
        and target_set.status in ("draft", "returned")
        and _may("projects.write", project=project)
    )
    returned = [r for r in target_set.reviews if r.decision == "return"]
    ids = [int(line["indicator_id"]) for line in lines if line["indicator_id"].isdigit()]
    templates = library.list_templates(db(), who, page_size=200).items if editable else []
    return {
        "target_set": target_set,
        "goals": goals
        or {"overall_goal": target_set.overall_goal or "", "midterm_goal": target_set.midterm_goal or ""},
        "lines": lines,
        "library": _library_rows(ids),
        "top_errors": top,
        "line_messages": by_line,
        "violations": shown,
        "checked": checked,
        "editable": editable,
        "multi_year": project.end_year > project.start_year,
        "framework": FRAMEWORK,
        "level1_of": LEVEL1_OF,
        "value_bases": VALUE_BASES,
        "directions": list(DIRECTION_LABELS.items()),
        "value_types": list(VALUE_TYPE_LABELS.items()),
        "templates": templates,
        "suggested_template": next(
            (t.id for t in templates if t.project_class == project.project_class), None
        ),
        "last_return": returned[-1] if returned and target_set.status in ("returned", "draft") else None,
        "may_review": may_review(project, target_set),
        "may_adjust": (
            target_set.status == "approved"
            and project.status == "active"
            and _may("projects.write", project=project)
        ),
        "adjustment_reasons": ADJUSTMENT_REASONS,
        "problem": problem,
        "weights_total": sum(
            (Decimal(line["weight"]) for line in lines if is_number(line["weight"])), Decimal(0)
        ),
        "weights_expected": Decimal(str(project.program.effective_settings.get("target_weights_total", 100))),
    }


def _targets_page(project: Project, target_set: TargetSet, status: int = 200, **kw: Any) -> Any:
    return render_project_page(
        "targets/targets.html",
        project,
        "targets",
        status=status,
        **_targets_context(project, target_set, **kw),
    )


def _require_targets_open(project: Project) -> None:
    if project.stage_row("targets").status == "locked":
        project_service.require_stage(project, "targets")  # raises the 409 that says why


@bp.get("/<int:project_id>/targets")
@login_required
def targets(project_id: int) -> Any:
    s = db()
    project = project_service.get_project(s, actor(), project_id)
    _require_targets_open(project)
    target_set = service.current(s, actor(), project.id)
    violations = None
    if target_set.status == "returned" or (target_set.id and request.args.get("check")):
        violations = service.dry_run(s, actor(), project.id)
    return _targets_page(project, target_set, violations=violations, checked=violations is not None)


def _save(project_id: int, goals: dict[str, str], lines: list[dict[str, str]]) -> TargetSet:
    data = {**goals, "indicators": service_lines(lines)}
    return service.save_draft(db(), actor(), project_id, data)


@bp.post("/<int:project_id>/targets/check")
@login_required
def targets_check(project_id: int) -> Any:
    """检查 (htmx): the quality rules on the lines as typed, without saving them."""
    who = actor()
    s = db()
    project = project_service.get_project(s, who, project_id)
    goals, lines = posted_targets()
    errors: dict[str, Any] | None = None
    problem: str | None = None
    violations: list[target_rules.Violation] = []
    try:
        _save(project_id, goals, lines)
        violations = service.dry_run(s, who, project_id)
    except ValidationFailed as exc:
        errors = exc.errors
    except Conflict as exc:  # no longer editable (submitted meanwhile, frozen …)
        problem = exc.message
    finally:
        s.rollback()  # a check never saves
    project = project_service.get_project(s, who, project_id)
    target_set = service.current(s, who, project_id)
    context = _targets_context(
        project,
        target_set,
        goals=goals,
        lines=lines,
        violations=violations,
        errors=errors,
        checked=problem is None,
        problem=problem,
    )
    return render_template("targets/_targets_editor.html", project=project, **context)


@bp.get("/<int:project_id>/targets/picker")
@login_required
def targets_picker(project_id: int) -> Any:
    """Visible, active library indicators matching a search (htmx partial); 选用 fills a line."""
    project_service.get_project(db(), actor(), project_id)
    q = (request.args.get("q") or "").strip()[:100]
    results = indicator_service.search(db(), actor(), q=q or None, status="active", page_size=20)
    return render_template("targets/_picker.html", results=results, q=q)


@bp.post("/<int:project_id>/targets")
@login_required
def targets_save(project_id: int) -> Any:
    who = actor()
    s = db()
    project = project_service.get_project(s, who, project_id)
    action = request.form.get("action", "save")
    goals, lines = posted_targets()
    try:
        _save(project_id, goals, lines)
        s.commit()
    except ValidationFailed as exc:
        s.rollback()
        project = project_service.get_project(s, who, project_id)
        target_set = service.current(s, who, project_id)
        return _targets_page(project, target_set, status=422, goals=goals, lines=lines, errors=exc.errors)
    except Conflict as exc:
        s.rollback()
        target_set = service.current(s, who, project_id)
        return _targets_page(project, target_set, status=409, problem=exc.message)
    if action == "apply":
        template_id = request.form.get("template_id", type=int)
        if not template_id:
            flash("请选择要套用的指标模板", "warning")
            return redirect(url_for(".targets", project_id=project_id))
        before = len(service.current(s, who, project_id).lines)
        try:
            applied = service.apply_template(s, who, project_id, template_id)
            s.commit()
        except (ValidationFailed, Conflict) as exc:
            s.rollback()
            target_set = service.current(s, who, project_id)
            return _targets_page(project, target_set, status=exc.status, problem=exc.message)
        added = len(applied.lines) - before
        flash(f"已一键勾选模板中的 {added} 个指标（已有的不重复加入），请逐项核对指标值并填写权重", "success")
        return redirect(url_for(".targets", project_id=project_id, check=1))
    if action != "submit":
        flash("绩效目标草稿已保存", "success")
        return redirect(url_for(".targets", project_id=project_id))
    try:
        service.submit(s, who, project_id)
        s.commit()
    except ValidationFailed as exc:
        s.rollback()
        project = project_service.get_project(s, who, project_id)
        target_set = service.current(s, who, project_id)
        violations = [
            target_rules.Violation(v["rule"], v["message"], v.get("line"), v.get("indicator"))
            for v in exc.errors.get("violations", [])
        ]
        return _targets_page(
            project,
            target_set,
            status=422,
            violations=violations,
            checked=True,
            problem=exc.message,
        )
    flash("绩效目标已提交，等待主管部门初审", "success")
    return redirect(url_for(".targets", project_id=project_id))


@bp.post("/<int:project_id>/targets/adjustments")
@login_required
def targets_adjust(project_id: int) -> Any:
    who = actor()
    s = db()
    project = project_service.get_project(s, who, project_id)
    reason = request.form.get("reason", "")
    explanation = request.form.get("explanation", "").strip()
    try:
        new = chain.adjust(s, who, project_id, reason, explanation)
        s.commit()
    except (ValidationFailed, Conflict, Forbidden) as exc:
        s.rollback()
        target_set = service.current(s, who, project_id)
        return _targets_page(project, target_set, status=exc.status, problem=exc.message)
    flash(
        f"已发起目标调整（{reason}），生成第 {new.number} 版草稿；修改后提交，经初审、复核通过后生效",
        "success",
    )
    return redirect(url_for(".targets", project_id=project_id))


# --- review (初审 / 复核) -------------------------------------------------------------------------


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
        library=_library_rows([line.indicator_id for line in target_set.lines if line.indicator_id]),
        reviews=_previous_reviews(project),
        may_review=may_review(project, target_set),
        form=form or dict.fromkeys(COMMENT_KEYS, ""),
        errors=errors or {},
        problem=problem,
        multi_year=project.end_year > project.start_year,
        level1_of=LEVEL1_OF,
        resubmission=_resubmission(project),
    )


def _resubmission(project: Project) -> dict[str, Any] | None:
    """A resubmission after a return: what changed since the version the reviewer returned."""
    found = service.since_return(db(), actor(), project.id)
    if found is None:
        return None
    return {**found, "diff": diff_view(found["diff"])}


@bp.get("/<int:project_id>/targets/review")
@login_required
def review(project_id: int) -> Any:
    s = db()
    project = project_service.get_project(s, actor(), project_id)
    _require_targets_open(project)
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
    _require_targets_open(project)
    entries = [
        {"set": e["set"], "diff": diff_view(e["diff"])} for e in service.versions(s, actor(), project_id)
    ]
    return render_project_page("targets/versions.html", project, "versions", entries=entries)


@bp.get("/<int:project_id>/targets/print")
@login_required
def targets_print(project_id: int) -> Any:
    s = db()
    project = project_service.get_project(s, actor(), project_id)
    _require_targets_open(project)
    target_set = service.current(s, actor(), project_id)
    return render_template(
        "targets/print.html",
        project=project,
        target_set=target_set,
        groups=grouped(target_set),
        multi_year=project.end_year > project.start_year,
        weight_text=weight_text,
        printed_on=province_today(),
    )
