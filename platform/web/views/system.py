"""System page (province admin): the self-check job with its progress bar."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, url_for
from flask_login import login_required

from jixiao.platform.core import selfcheck

from ..context import actor, runtime

bp = Blueprint("system", __name__, url_prefix="/admin/system")


@bp.get("/")
@login_required
def index() -> Any:
    return render_template("system.html")


@bp.post("/selfcheck")
@login_required
def start_selfcheck() -> Any:
    job_id = selfcheck.start(actor())
    return progress(job_id)


@bp.get("/selfcheck/<job_id>")
@login_required
def progress(job_id: str) -> Any:
    job = runtime().jobs.info(job_id, actor())
    return render_template(
        "partials/selfcheck_job.html", job=job, poll_url=url_for("system.progress", job_id=job_id)
    )
