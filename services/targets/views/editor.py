"""The targets editor (绩效目标填报): the form with the library picker, 一键勾选 templates and
平均分配权重, the quality check on 检查 and of a line when the user leaves it, the required evidence
purposes, and target adjustments once the targets are frozen. 目标值参考: beside each library line the
distribution of other tenants' approved values (rendered with the line; suggestions.js fetches the
API's target-statistics for a line picked later and warns as a value is typed) and, while the
targets are a draft, the 推荐指标 (starting set) with the 规范管理蓝本 of the class.

Rule messages appear only after the user acts (检查, 提交, leaving an edited line), never when the
editor opens. Thin like every handler: parse the form, call the services, re-render with the
services' own Chinese messages — by field on 422, as an alert on 403/409."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_login import login_required

from jixiao.platform.core.errors import Conflict, Forbidden, ValidationFailed
from jixiao.platform.web.context import actor, db
from jixiao.platform.web.pages import may
from jixiao.services.evidence.views import required_evidence
from jixiao.services.indicators import library
from jixiao.services.indicators import service as indicator_service
from jixiao.services.indicators.models import BLUEPRINT_CATEGORY, FRAMEWORK, LEVEL1_OF, VALUE_BASES
from jixiao.services.indicators.rules import DIRECTION_LABELS, VALUE_TYPE_LABELS
from jixiao.services.projects import service as project_service
from jixiao.services.projects.models import Project
from jixiao.services.projects.views import render_project_page

from .. import chain, service, suggestions
from .. import rules as target_rules
from ..forms import (
    is_number,
    line_dicts,
    line_messages,
    posted_rows,
    posted_targets,
    service_lines,
    weight_text,
)
from ..models import ADJUSTMENT_REASONS, EXPLANATION_MIN, TargetSet
from ..schemas import TargetStatisticsSchema
from .common import bp, library_rows, may_review, require_targets_open

STATISTICS = TargetStatisticsSchema()


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
    adjust_form: dict[str, str] | None = None,
    adjust_errors: dict[str, Any] | None = None,
) -> dict[str, Any]:
    who = actor()
    lines = lines if lines is not None else line_dicts(target_set)
    top, by_line, bad_fields, shown = line_messages(violations or [], errors)
    editable = (
        project.status == "active"
        and project.stage_row("targets").status != "locked"
        and target_set.status in ("draft", "returned")
        and may("projects.write", project=project)
    )
    returned = [r for r in target_set.reviews if r.decision == "return"]
    ids = [int(line["indicator_id"]) for line in lines if line["indicator_id"].isdigit()]
    templates = library.list_templates(db(), who, page_size=200).items if editable else []
    # 目标值参考 of the lines' library indicators, rendered with them (suggestions.js fetches the
    # API's only for a line picked later): the API's own JSON
    references = (
        {
            indicator_id: STATISTICS.dump(found)
            for indicator_id, found in suggestions.line_statistics(db(), who, project, ids).items()
        }
        if editable
        else {}
    )
    return {
        "target_set": target_set,
        "goals": goals
        or {"overall_goal": target_set.overall_goal or "", "midterm_goal": target_set.midterm_goal or ""},
        "lines": lines,
        "library": library_rows(ids),
        "references": references,
        "top_errors": top,
        "line_messages": by_line,
        "bad_fields": bad_fields,
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
        # 规范管理蓝本: cases published from accepted projects, applied with their target values
        "cases": library.list_cases(db(), actor(), category=BLUEPRINT_CATEGORY, page_size=200).items
        if editable
        else [],
        "suggested_template": next(
            (t.id for t in templates if t.project_class == project.project_class), None
        ),
        "last_return": returned[-1] if returned and target_set.status in ("returned", "draft") else None,
        "may_review": may_review(project, target_set),
        "may_adjust": (
            target_set.status == "approved"
            and project.status == "active"
            and may("projects.write", project=project)
        ),
        "adjustment_reasons": ADJUSTMENT_REASONS,
        "adjust_form": adjust_form or {"reason": ADJUSTMENT_REASONS[0], "explanation": ""},
        "adjust_errors": adjust_errors or {},
        "explanation_min": EXPLANATION_MIN,
        "evidence": required_evidence(project, "targets"),
        "problem": problem,
        "weights_total": sum(
            (Decimal(line["weight"]) for line in lines if is_number(line["weight"])), Decimal(0)
        ),
        "weights_expected_text": weight_text(service.weights_total(project)),
        "weight_text": weight_text,
    }


def _targets_page(project: Project, target_set: TargetSet, status: int = 200, **kw: Any) -> Any:
    context = _targets_context(project, target_set, **kw)
    # 推荐指标: while the targets are a draft, what approved projects of the class used most and
    # the 规范管理蓝本 of the class (targets.suggestions; aggregates over ≥ k other tenants only)
    starting = (
        suggestions.starting_set(db(), actor(), project.id)
        if context["editable"] and target_set.status == "draft"
        else None
    )
    return render_project_page(
        "targets/targets.html",
        project,
        "targets",
        status=status,
        starting=starting,
        **context,
    )


@bp.get("/<int:project_id>/targets")
@login_required
def targets(project_id: int) -> Any:
    """The editor (or the targets read-only): no rule messages until the user acts."""
    s = db()
    project = project_service.get_project(s, actor(), project_id)
    require_targets_open(project)
    return _targets_page(project, service.current(s, actor(), project.id))


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


@bp.post("/<int:project_id>/targets/check-line")
@login_required
def targets_check_line(project_id: int) -> Any:
    """A line's own messages when the user leaves it (targets.js posts that one row): the values the
    columns cannot hold and the rules of a line; nothing is saved. Answers the message row, or
    nothing when the line is fine."""
    rows = posted_rows()
    if not rows:
        return ""
    _, line = rows[0]
    bad: set[str] = set()
    try:
        violations = service.check_lines(db(), actor(), project_id, service_lines([line]))
        _, by_line, _, _ = line_messages(violations)
    except ValidationFailed as exc:
        _, by_line, bad_by_line, _ = line_messages([], exc.errors)
        bad = bad_by_line.get(1, set())
    finally:
        db().rollback()
    messages = by_line.get(1, [])
    n = request.form.get("row", "")
    return render_template("targets/_line_messages.html", n=n, messages=messages, bad=sorted(bad))


@bp.get("/<int:project_id>/targets/picker")
@login_required
def targets_picker(project_id: int) -> Any:
    """Visible, active library indicators matching a search (htmx partial); 选用 fills a line."""
    project_service.get_project(db(), actor(), project_id)
    q = (request.args.get("q") or "").strip()[:100]
    results = indicator_service.search(db(), actor(), q=q or None, status="active", page_size=20)
    return render_template("targets/_picker.html", results=results, q=q)


def _apply(project: Project, project_id: int, source: str = "template") -> Any:
    """一键勾选 a template (模板库), or apply a case (规范管理蓝本) as a template: `source`."""
    who = actor()
    s = db()
    chosen = request.form.get(f"{source}_id", type=int)
    if not chosen:
        flash("请选择要套用的" + ("指标模板" if source == "template" else "规范管理蓝本"), "warning")
        return redirect(url_for(".targets", project_id=project_id))
    before = len(service.current(s, who, project_id).lines)
    try:
        applied = service.apply_from(
            s, who, project_id, chosen if source == "template" else None, chosen if source == "case" else None
        )
        s.commit()
    except (ValidationFailed, Conflict) as exc:
        s.rollback()
        target_set = service.current(s, who, project_id)
        return _targets_page(project, target_set, status=exc.status, problem=exc.message)
    added = len(applied.lines) - before
    if source == "case":
        flash(f"已套用规范管理蓝本中的 {added} 个绩效目标（含指标值），请结合本项目实际逐项核对", "success")
    elif before == 0 and added:
        total = weight_text(service.weights_total(project))
        flash(
            f"已一键勾选模板中的 {added} 个指标，权重已平均分配（合计 {total}），"
            "请逐项核对指标值并按重要程度调整权重",
            "success",
        )
    else:
        flash(f"已一键勾选模板中的 {added} 个指标（已有的不重复加入），请逐项核对指标值并填写权重", "success")
    return redirect(url_for(".targets", project_id=project_id))


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
    if action in ("apply", "apply_case"):
        return _apply(project, project_id, "case" if action == "apply_case" else "template")
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
    form = {
        "reason": request.form.get("reason", ""),
        "explanation": request.form.get("explanation", "").strip(),
    }
    try:
        new = chain.adjust(s, who, project_id, form["reason"], form["explanation"])
        s.commit()
    except ValidationFailed as exc:
        s.rollback()
        target_set = service.current(s, who, project_id)
        return _targets_page(project, target_set, status=422, adjust_form=form, adjust_errors=exc.errors)
    except (Conflict, Forbidden) as exc:
        s.rollback()
        target_set = service.current(s, who, project_id)
        return _targets_page(project, target_set, status=exc.status, problem=exc.message)
    flash(
        f"已发起目标调整（{form['reason']}），生成第 {new.number} 版草稿；修改后提交，经初审、复核通过后生效",
        "success",
    )
    return redirect(url_for(".targets", project_id=project_id))
