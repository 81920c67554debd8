"""What the report pages share: the blueprint, the vocabularies, a report as its pages load it,
the job of a generation, and the report page's context (its parts are re-rendered out of band when
a generation finishes)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from jixiao.platform.core.errors import NotFound
from jixiao.platform.core.jobs import JobInfo
from jixiao.platform.web.context import actor, db, runtime
from jixiao.platform.web.pages import may
from jixiao.services.indicators import library
from jixiao.services.programs import service as program_service
from jixiao.services.programs.models import Program

from .. import service
from ..cases import CATEGORY
from ..models import FORMATS, OUTCOMES, REVIEW_KINDS, STATUS_NAMES, STATUSES, PilotReport

# No url_prefix: the static files then live at /static/reports like every capability's.
bp = Blueprint(
    "reports_pages",
    __name__,
    template_folder="../templates",
    static_folder="../static",
    static_url_path="/static/reports",
)

STATUS_BADGES = {
    "draft": "text-bg-secondary",
    "submitted": "text-bg-info",
    "returned": "text-bg-warning",
    "accepted": "text-bg-success",
}


@bp.context_processor
def _vocabularies() -> dict[str, Any]:
    return {
        "RP": {
            "status": STATUS_NAMES,
            "statuses": STATUSES,
            "badge": STATUS_BADGES,
            "outcome": OUTCOMES,
            "kind": REVIEW_KINDS,
            "formats": FORMATS,
        }
    }


def load_report(report_id: int) -> PilotReport:
    """The report (404 behind the walls, 403 for an evaluator)."""
    return service.get_report(db(), actor(), report_id)


def visible_programs() -> list[Program]:
    """The programs the caller reads, newest first."""
    return list(program_service.list_programs(db(), actor(), page_size=200).items)


def participates(program: Program) -> bool:
    return actor().tenant_id in {p.tenant_id for p in program.participants}


def job_of(job_id: str | None) -> JobInfo | None:
    """The generation job when the caller started it (another user's job is not theirs to see)."""
    if not job_id:
        return None
    try:
        return runtime().jobs.info(job_id, actor())
    except NotFound:
        return None


def published_cases(report: PilotReport) -> dict[int, list[Any]]:
    """The 规范管理蓝本 published from the report's projects, by project id."""
    if report.status != "accepted":
        return {}
    found: dict[int, list[Any]] = {}
    for case in library.list_cases(db(), actor(), category=CATEGORY, page_size=200).items:
        if case.source_report_id == report.id and case.source_project_id is not None:
            found.setdefault(case.source_project_id, []).append(case)
    return found


def detail_context(report: PilotReport, *, job: JobInfo | None = None) -> dict[str, Any]:
    """Everything the report page shows, and what the caller may do on it."""
    who = actor()
    version = report.submitted_version
    opinion_given = any(o.version == version and o.author_tenant_id == who.tenant_id for o in report.opinions)
    return {
        "report": report,
        "latest": report.latest,
        "versions": list(reversed(report.versions)),
        "reviews_of": {
            v.number: [r for r in report.reviews if r.version == v.number] for v in report.versions
        },
        "projects": service.projects_of(db(), report),
        "cases": published_cases(report),
        "job": job,
        "may_generate": report.status in ("draft", "returned") and may("reports.write", report=report),
        "may_submit": report.status in ("draft", "returned")
        and report.latest is not None
        and may("reports.write", report=report),
        "may_opinion": report.status == "submitted"
        and not opinion_given
        and may("reports.opinion", report=report),
        "may_accept": report.status == "submitted" and may("reports.accept", report=report),
        "may_publish": report.status == "accepted" and may("cases.write"),
    }
