"""The dashboard's 导出 Excel: the button starts the export job (the API's flow, `excel.start_export`)
with the page's program and filters and shows the shared progress bar (`partials/job.html`), polled
until the job is done, then the download link (the JSON API's route, which takes the session cookie
for a GET)."""

from __future__ import annotations

from typing import Any

from flask import redirect, render_template, request, url_for
from flask_login import login_required

from jixiao.platform.core.authz import authorize
from jixiao.platform.core.errors import NotFound
from jixiao.platform.core.jobs import JobInfo
from jixiao.platform.web.context import actor, db
from jixiao.platform.web.pages import is_htmx
from jixiao.services.reports.views.common import job_of

from .. import excel
from .common import bp, filters_of, program_id_of


def export_job(job_id: str | None) -> JobInfo | None:
    """The caller's own dashboard export job (another job id shows no bar)."""
    job = job_of(job_id)
    if job is None or (job.status == "finished" and (job.result or {}).get("kind") != excel.KIND):
        return None
    return job


@bp.post("/dashboard/export")
@login_required
def export_start() -> Any:
    who = actor()
    authorize(who, "province.dashboard")
    program_id = program_id_of(request.form.get("program_id"))
    if program_id is None:
        raise NotFound("请选择试点")
    filters, said = filters_of(request.form)
    job_id = excel.start_export(db(), who, program_id, filters)
    if is_htmx():
        return render_template("province/_export_job.html", job=export_job(job_id))
    query: dict[str, Any] = {k: v for k, v in said.items() if v}
    return redirect(url_for(".dashboard_page", program_id=program_id, job=job_id, **query))


@bp.get("/dashboard/export/<job_id>")
@login_required
def export_progress(job_id: str) -> Any:
    authorize(actor(), "province.dashboard")
    job = export_job(job_id)
    if job is None:
        raise NotFound("没有这个导出任务")
    return render_template("province/_export_job.html", job=job)
