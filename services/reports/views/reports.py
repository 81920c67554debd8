"""The pilot reports (试点报告): the list of the caller's reports with the 生成 button per program,
and a report's page — its header, the generation's progress bar, the latest PDF in the page, the
versions with their files, the acceptance rounds and the city's opinions on the version each
concerns; 报送, the city's 初审意见, and (accepted) 发布为规范管理蓝本."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_login import login_required

from jixiao.platform.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from jixiao.platform.web.context import actor, db, runtime
from jixiao.platform.web.extensions import talisman
from jixiao.platform.web.pages import INLINE_CSP, is_htmx, may, stream_object
from jixiao.services.indicators import library

from .. import files, generation, service
from ..models import STATUSES
from .common import bp, detail_context, job_of, load_report, participates, visible_programs


def _int_arg(name: str) -> int | None:
    raw = (request.args.get(name) or "").strip()
    return int(raw) if raw.isdigit() and len(raw) < 10 else None


def index_page(*, problem: str | None = None, status: int = 200) -> Any:
    who = actor()
    program_id = _int_arg("program_id")
    state = request.args.get("status") or None
    state = state if state in STATUSES else None
    reports = service.list_reports(db(), who, program_id=program_id, status=state)
    programs = visible_programs()
    mine = {r.program_id for r in service.list_reports(db(), who) if r.tenant_id == who.tenant_id}
    startable = [
        p
        for p in programs
        if p.id not in mine and participates(p) and (program_id is None or p.id == program_id)
    ]
    page = render_template(
        "reports/index.html",
        reports=reports,
        programs=programs,
        program_id=program_id,
        state=state,
        startable=startable if may("reports.write", tenant_id=who.tenant_id) else [],
        problem=problem,
    )
    return page, status


@bp.get("/reports", endpoint="index")
@login_required
def index() -> Any:
    return index_page()


@bp.get("/reports/new")
@login_required
def new() -> Any:
    """The work queue's link before a report exists: the list of that program, with its 生成 button."""
    return redirect(url_for(".index", program_id=_int_arg("program_id")))


@bp.post("/reports/generate")
@login_required
def generate() -> Any:
    """A new version of the caller's tenant's report in a program (the report made on first use)."""
    raw = (request.form.get("program_id") or "").strip()
    back = (request.form.get("report_id") or "").strip()
    s = db()
    try:
        if not raw.isdigit() or len(raw) > 9:
            raise NotFound("请选择试点")
        report, job_id = generation.start_report(s, runtime().jobs, actor(), int(raw))
    except (Conflict, Forbidden) as exc:
        s.rollback()
        if back.isdigit() and len(back) < 10:
            return detail_page(int(back), problem=exc.message, status=exc.status)
        return index_page(problem=exc.message, status=exc.status)
    return redirect(url_for(".detail", report_id=report.id, job=job_id))


def detail_page(report_id: int, *, problem: str | None = None, status: int = 200) -> Any:
    report = load_report(report_id)
    asked = request.args.get("job")
    job = None
    if report.last_job_id and asked == report.last_job_id:
        job = job_of(asked)  # the generation just asked for: its bar, to 100 %
    elif report.last_job_id:
        running = job_of(report.last_job_id)
        job = running if running is not None and running.status in ("queued", "started") else None
    context = detail_context(report, job=job)
    return render_template("reports/detail.html", problem=problem, **context), status


@bp.get("/reports/<int:report_id>", endpoint="detail")
@login_required
def detail(report_id: int) -> Any:
    return detail_page(report_id)


@bp.get("/reports/<int:report_id>/jobs/<job_id>")
@login_required
def progress(report_id: int, job_id: str) -> Any:
    """The generation's progress bar (htmx, polled); when finished, the page's parts out of band."""
    report = load_report(report_id)
    job = job_of(job_id) if job_id == report.last_job_id else None
    if job is None:
        raise NotFound("没有进行中的报告生成任务")
    if job.status == "finished":
        db().expire_all()
        report = load_report(report_id)
    context = detail_context(report, job=job)
    return render_template("reports/_job.html", oob=is_htmx(), **context)


@bp.get("/reports/<int:report_id>/versions/<int:number>/preview")
@login_required
@talisman(content_security_policy=INLINE_CSP, frame_options="SAMEORIGIN")
def preview(report_id: int, number: int) -> Any:
    """A version's PDF streamed through the app (both modes), shown inline in the page."""
    found = files.download(db(), actor(), report_id, number, "pdf")  # audited like a download
    db().commit()
    return stream_object(
        found.store,
        found.key,
        filename=found.filename,
        content_type=found.content_type,
        size=found.size,
        inline=True,
        headers={"Cache-Control": "private, no-store", "X-Content-SHA256": found.sha256},
    )


@bp.post("/reports/<int:report_id>/submit")
@login_required
def submit(report_id: int) -> Any:
    s = db()
    try:
        report = service.submit(s, actor(), report_id)
        s.commit()
    except (Conflict, ValidationFailed) as exc:
        s.rollback()
        return detail_page(report_id, problem=exc.message, status=exc.status)
    flash(f"试点报告第 {report.submitted_version} 版已报送省级验收", "success")
    return redirect(url_for(".detail", report_id=report_id))


@bp.post("/reports/<int:report_id>/opinions")
@login_required
def opinion(report_id: int) -> Any:
    s = db()
    try:
        service.give_opinion(s, actor(), report_id, request.form.get("text", ""))
        s.commit()
    except (Conflict, ValidationFailed) as exc:
        s.rollback()
        return detail_page(report_id, problem=exc.message, status=exc.status)
    flash("初审意见已提交", "success")
    return redirect(url_for(".detail", report_id=report_id, _anchor="reviews"))


@bp.post("/reports/<int:report_id>/cases")
@login_required
def publish_case(report_id: int) -> Any:
    """发布为规范管理蓝本: one of the accepted report's projects into the case library."""
    report = load_report(report_id)
    raw = (request.form.get("project_id") or "").strip()
    project_id = int(raw) if raw.isdigit() and len(raw) < 10 else None
    if project_id not in {p.id for p in service.projects_of(db(), report)}:
        raise NotFound("该试点报告没有这个项目")
    title = (request.form.get("title") or "").strip()
    s = db()
    try:
        if len(title) > 200:
            raise ValidationFailed("蓝本标题不能超过 200 个字符")
        case = library.create_case(s, actor(), {"project_id": project_id, "title": title})
        s.commit()
    except (Conflict, ValidationFailed) as exc:
        s.rollback()
        return detail_page(report_id, problem=exc.message, status=exc.status)
    flash(f"已发布规范管理蓝本「{case.title}」", "success")
    return redirect(url_for(".detail", report_id=report_id, _anchor="cases"))
