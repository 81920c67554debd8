"""The rounds of a project (跟踪监控): the list with the periods still due, the form of the next
one with live traffic-light badges (monitoring.js; the service decides), a round's page — read, or
corrected once returned — finance's 确认 / 退回, and the printable 项目支出绩效目标执行监控表.

Thin like every handler: parse the form, call the service, commit; on 422 re-render with the
service's messages beside each line's field, on 403/409 an alert."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_login import login_required

from jixiao.platform.core.errors import Conflict, Forbidden, ValidationFailed
from jixiao.platform.web.context import actor, db
from jixiao.platform.web.pages import may
from jixiao.services.programs.views import province_today
from jixiao.services.projects import service as project_service
from jixiao.services.projects.models import Project
from jixiao.services.projects.views import render_project_page

from .. import service
from ..models import MonitoringRound
from ..schemas import RoundCorrectSchema, RoundReportSchema
from .common import (
    BASE,
    bp,
    due_periods,
    empty_form,
    line_messages,
    load,
    posted_form,
    round_body,
    round_by_period,
    round_corrections,
    round_form,
    thresholds,
)


def _project(project_id: int) -> Project:
    project = project_service.get_project(db(), actor(), project_id)
    if project.stage_row("monitoring").status == "locked":
        project_service.require_stage(project, "monitoring")  # the 409 that says why
    return project


def _may_report(project: Project) -> bool:
    return (
        project.status == "active"
        and may("projects.write", project=project)
        and service.approved_set(db(), project) is not None
    )


def counts(found: MonitoringRound) -> dict[str, int]:
    return {w: sum(1 for line in found.lines if line.warning == w) for w in ("green", "yellow", "red")}


def _rounds_page(
    project: Project,
    *,
    period: str | None = None,
    form: dict[str, Any] | None = None,
    errors: dict[str, list[str]] | None = None,
    problem: str | None = None,
    status: int = 200,
) -> Any:
    rounds = service.rounds_of(db(), project)
    due = due_periods(project, rounds)
    may_report = _may_report(project)
    period = period if period in due else (due[0] if due else None)
    if form is None and may_report and period:
        target_set = service.approved_set(db(), project)
        form = empty_form(list(target_set.lines), period) if target_set else None
    by_line, rest = line_messages(errors or {})
    return render_project_page(
        "monitoring/rounds.html",
        project,
        "monitoring",
        status=status,
        rounds=rounds,
        counts={r.id: counts(r) for r in rounds},
        due=due,
        today=province_today(),
        may_report=may_report and form is not None,
        form=form,
        period=period,
        line_errors=by_line,
        errors=rest,
        all_errors=errors or {},
        problem=problem,
        thresholds=thresholds(project),
        action=url_for("monitoring_pages.report", project_id=project.id),
    )


@bp.get(BASE)
@login_required
def rounds(project_id: int) -> Any:
    return _rounds_page(_project(project_id))


@bp.get(BASE + "/new")
@login_required
def new(project_id: int) -> Any:
    """The form of a chosen period still due (`?period=2027-09`)."""
    project = _project(project_id)
    period = request.args.get("period", "")
    if period not in due_periods(project, service.rounds_of(db(), project)):
        flash(f"「{period}」不是待填报的监控期间", "warning")
        return redirect(url_for("monitoring_pages.rounds", project_id=project_id))
    return _rounds_page(project, period=period)


@bp.post(BASE)
@login_required
def report(project_id: int) -> Any:
    s = db()
    project = _project(project_id)
    period = request.form.get("period", "").strip()
    target_set = service.approved_set(s, project)
    if target_set is None:
        return _rounds_page(project, problem=service.NOT_APPROVED, status=409)
    form = posted_form(list(target_set.lines), period)
    data, errors = load(RoundReportSchema(), round_body(form, with_period=True))
    try:
        if errors:
            raise ValidationFailed(next(iter(errors.values()))[0], errors=errors)
        found = service.report(s, actor(), project_id, data)
        s.commit()
    except ValidationFailed as exc:
        s.rollback()
        return _rounds_page(project, period=period, form=form, errors=exc.errors, status=422)
    except (Conflict, Forbidden) as exc:
        s.rollback()
        return _rounds_page(_project(project_id), problem=exc.message, status=exc.status)
    flash(f"{found.period} 轮监控已报送，等待财政部门确认", "success")
    return redirect(url_for("monitoring_pages.round", project_id=project_id, period=found.period))


# --- one round --------------------------------------------------------------------------------


def round_page(
    project: Project,
    found: MonitoringRound,
    *,
    form: dict[str, Any] | None = None,
    errors: dict[str, list[str]] | None = None,
    actions: dict[str, Any] | None = None,
    problem: str | None = None,
    status: int = 200,
) -> Any:
    """The round read (or corrected when returned), finance's decisions, its corrections."""
    editable = found.status == "returned" and _may_report(project)
    finance = project.status == "active" and may("projects.finance", project=project)
    by_line, rest = line_messages(errors or {})
    return render_project_page(
        "monitoring/round.html",
        project,
        "monitoring",
        status=status,
        round=found,
        counts=counts(found),
        editable=editable,
        form=(form or round_form(found)) if editable else None,
        line_errors=by_line,
        errors=rest,
        all_errors=errors or {},
        may_decide=finance and found.status == "reported",
        may_issue=finance,
        actions=actions or {},
        problem=problem,
        thresholds=thresholds(project),
        action=url_for("monitoring_pages.correct", project_id=project.id, period=found.period),
        **round_corrections(project, found),
    )


@bp.get(BASE + "/<period>", endpoint="round")
@login_required
def round_view(project_id: int, period: str) -> Any:
    project = _project(project_id)
    return round_page(project, round_by_period(project, period))


@bp.post(BASE + "/<period>")
@login_required
def correct(project_id: int, period: str) -> Any:
    """A returned round corrected and reported again (the service's PUT)."""
    s = db()
    project = _project(project_id)
    found = round_by_period(project, period)
    form = posted_form(list(found.target_set.lines), period)
    data, errors = load(RoundCorrectSchema(), round_body(form, with_period=False))
    try:
        if errors:
            raise ValidationFailed(next(iter(errors.values()))[0], errors=errors)
        service.correct(s, actor(), project_id, found.id, data)
        s.commit()
    except ValidationFailed as exc:
        s.rollback()
        return round_page(project, round_by_period(project, period), form=form, errors=exc.errors, status=422)
    except (Conflict, Forbidden) as exc:
        s.rollback()
        project = _project(project_id)
        return round_page(project, round_by_period(project, period), problem=exc.message, status=exc.status)
    flash(f"{period} 轮监控已修改并重新报送，等待财政部门确认", "success")
    return redirect(url_for("monitoring_pages.round", project_id=project_id, period=period))


def _decide(project_id: int, period: str, verb: str) -> Any:
    s = db()
    project = _project(project_id)
    found = round_by_period(project, period)
    opinion = request.form.get("opinion", "").strip()
    try:
        if verb == "confirm":
            service.confirm(s, actor(), project_id, found.id)
        else:
            service.return_round(s, actor(), project_id, found.id, opinion)
        s.commit()
    except ValidationFailed as exc:
        s.rollback()
        actions = {"return": {"form": {"opinion": opinion}, "errors": exc.errors}}
        return round_page(project, round_by_period(project, period), actions=actions, status=422)
    except (Conflict, Forbidden) as exc:
        s.rollback()
        project = _project(project_id)
        return round_page(project, round_by_period(project, period), problem=exc.message, status=exc.status)
    flash(
        f"{period} 轮监控已确认" if verb == "confirm" else f"{period} 轮监控已退回项目单位修改",
        "success",
    )
    return redirect(url_for("monitoring_pages.round", project_id=project_id, period=period))


@bp.post(BASE + "/<period>/confirm")
@login_required
def confirm(project_id: int, period: str) -> Any:
    return _decide(project_id, period, "confirm")


@bp.post(BASE + "/<period>/return")
@login_required
def return_round(project_id: int, period: str) -> Any:
    return _decide(project_id, period, "return")


@bp.get(BASE + "/<period>/print", endpoint="print")
@login_required
def print_round(project_id: int, period: str) -> Any:
    """项目支出绩效目标执行监控表 (FORMS.md), printable."""
    project = _project(project_id)
    found = round_by_period(project, period)
    return render_template(
        "monitoring/print.html",
        project=project,
        round=found,
        counts=counts(found),
        printed_on=province_today(),
    )
