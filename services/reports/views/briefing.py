"""The 专报 page (the province and the cities' bureaus): pick a program, 生成专报 with the progress
bar, then download the PDF and the Word file (the JSON API's download routes, which take the
session cookie for a GET). A county is refused (403)."""

from __future__ import annotations

from typing import Any

from flask import redirect, render_template, request, url_for
from flask_login import login_required

from jixiao.platform.core.authz import authorize
from jixiao.platform.core.errors import Conflict, NotFound
from jixiao.platform.web.context import actor, db, runtime

from .. import generation
from .common import bp, job_of, visible_programs


def _program_id(raw: str | None) -> int | None:
    raw = (raw or "").strip()
    return int(raw) if raw.isdigit() and len(raw) < 10 else None


def _job(job_id: str | None, program_id: int | None) -> Any:
    """The caller's 专报 job of that program (nothing else: another job id shows no bar)."""
    job = job_of(job_id)
    if job is None or program_id is None:
        return None
    if job.status == "finished" and (job.result or {}).get("program_id") != program_id:
        return None
    return job


@bp.get("/reports/briefing", endpoint="briefing")
@login_required
def briefing_page() -> Any:
    authorize(actor(), "reports.briefing")
    program_id = _program_id(request.args.get("program_id"))
    return render_template(
        "reports/briefing.html",
        programs=visible_programs(),
        program_id=program_id,
        job=_job(request.args.get("job"), program_id),
        problem=None,
    )


@bp.post("/reports/briefing")
@login_required
def briefing_start() -> Any:
    who = actor()
    authorize(who, "reports.briefing")
    program_id = _program_id(request.form.get("program_id"))
    s = db()
    try:
        if program_id is None:
            raise NotFound("请选择试点")
        job_id = generation.start_briefing(s, runtime().jobs, who, program_id)
    except (Conflict, NotFound) as exc:
        s.rollback()
        page = render_template(
            "reports/briefing.html",
            programs=visible_programs(),
            program_id=program_id,
            job=None,
            problem=exc.message,
        )
        return page, exc.status
    return redirect(url_for(".briefing", program_id=program_id, job=job_id))


@bp.get("/reports/briefing/<int:program_id>/jobs/<job_id>")
@login_required
def briefing_progress(program_id: int, job_id: str) -> Any:
    authorize(actor(), "reports.briefing")
    job = _job(job_id, program_id)
    if job is None:
        raise NotFound("没有这个专报任务")
    return render_template("reports/_briefing_job.html", job=job, program_id=program_id)
