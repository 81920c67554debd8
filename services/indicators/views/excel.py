"""The Excel import page of the indicator library (指标库 Excel 导入): the form with the import
template's link, the upload that enqueues the all-or-nothing import job, and its progress bar
(an htmx partial polled until the job ends). The export is the JSON API's, linked from the
library browser (`browse`).
"""

from __future__ import annotations

from typing import Any

from flask import render_template, request
from flask_login import login_required

from jixiao.platform.core.authz import authorize
from jixiao.platform.core.errors import DomainError, ValidationFailed
from jixiao.platform.web.context import actor, runtime
from jixiao.platform.web.pages import is_htmx as _htmx

from .. import excel
from .common import bp, writable

# The JSON API's import template (it takes the session cookie for GETs).
IMPORT_TEMPLATE_URL = "/api/v1/indicators/import-template"


@bp.get("/import")
@login_required
def import_page() -> Any:
    writable()
    authorize(actor(), "indicators.write")
    return render_template("indicators/import.html", job=None, problem=None, template_url=IMPORT_TEMPLATE_URL)


@bp.post("/import")
@login_required
def import_start() -> Any:
    """Store the upload and enqueue the all-or-nothing import; answer with its progress bar."""
    writable()
    who = actor()
    authorize(who, "indicators.write")
    problem = None
    job = None
    try:
        if request.content_length and request.content_length > excel.MAX_UPLOAD_BYTES + 64 * 1024:
            raise excel.UploadTooLarge(
                f"文件超过 {excel.MAX_UPLOAD_BYTES // (1024 * 1024)} MiB 上限，请拆分后分批导入"
            )
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            raise ValidationFailed("请选择要导入的 Excel 文件（.xlsx）")
        job_id = excel.start_import(who, upload.filename, upload.stream, content_type=upload.mimetype)
        job = runtime().jobs.info(job_id, who)
    except DomainError as exc:
        problem = exc.message
    if _htmx():
        # 200 even for a refused file: htmx swaps only 2xx answers, and the message belongs in place.
        return render_template("indicators/_import_job.html", job=job, problem=problem)
    page = render_template(
        "indicators/import.html", job=job, problem=problem, template_url=IMPORT_TEMPLATE_URL
    )
    return page, (200 if job else 422)


@bp.get("/import/<job_id>")
@login_required
def import_progress(job_id: str) -> Any:
    job = runtime().jobs.info(job_id, actor())
    return render_template("indicators/_import_job.html", job=job, problem=None)
