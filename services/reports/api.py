"""HTTP for pilot reports and acceptance (thin): generate (a job), read, submit, accept or return,
a city's preliminary opinion, and the files of a version."""

from __future__ import annotations

from typing import Any

from flask import Response, redirect
from flask.views import MethodView
from flask_smorest import Blueprint

from jixiao.platform.core import exports
from jixiao.platform.web.context import actor, db, runtime
from jixiao.platform.web.pages import stream_object

from . import briefing, files, generation, service
from .models import MIME
from .schemas import (
    AcceptanceSchema,
    OpinionSchema,
    ReportCreateSchema,
    ReportDetailSchema,
    ReportListSchema,
    ReportQuerySchema,
    ReportStartedSchema,
)

blp = Blueprint(
    "pilot_reports",
    __name__,
    url_prefix="/api/v1",
    description="试点报告与验收：生成（Word + PDF，分阶段分报告）、报送、省级验收评分、市级初审意见",
)


def _done(result: Any) -> Any:
    db().commit()
    return result


def start(program_id: int) -> tuple[Any, str]:
    """Ask for a new version (the report made on first use), commit, then enqueue its job."""
    return generation.start_report(db(), runtime().jobs, actor(), program_id)


@blp.route("/pilot-reports")
class Reports(MethodView):
    @blp.arguments(ReportQuerySchema, location="query")
    @blp.response(200, ReportListSchema)
    def get(self, args: dict[str, Any]) -> Any:
        """The caller's reports: its own tenant's and those below (the province: all)."""
        items = service.list_reports(
            db(), actor(), program_id=args.get("program_id"), status=args.get("status")
        )
        return {"items": items, "total": len(items)}

    @blp.arguments(ReportCreateSchema, example={"program_id": 1})
    @blp.response(202, ReportStartedSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """The bureau admin of a participating tenant generates the next version of its report as a
        job (poll `/api/v1/jobs/{job_id}`): Word + PDF with one sub-report per stage per project, as
        far as each has got. 409 when the tenant does not take part."""
        report, job_id = start(data["program_id"])
        return {"job_id": job_id, "report_id": report.id}


@blp.route("/pilot-reports/<int:report_id>")
class ReportById(MethodView):
    @blp.response(200, ReportDetailSchema)
    def get(self, report_id: int) -> Any:
        """The report: status, the latest files, every version with the acceptance rounds and
        opinions that concern it. Another tenant's (sideways) is 404."""
        return service.get_report(db(), actor(), report_id)


@blp.route("/pilot-reports/<int:report_id>/submit")
class Submit(MethodView):
    @blp.response(200, ReportDetailSchema)
    def post(self, report_id: int) -> Any:
        """To the province: the latest version. 409 before every active project has an approved
        self-evaluation (naming them), when already submitted or accepted, or after a return
        without a new version."""
        return _done(service.submit(db(), actor(), report_id))


@blp.route("/pilot-reports/<int:report_id>/acceptance")
class Acceptance(MethodView):
    @blp.arguments(
        AcceptanceSchema,
        example={
            "checklist": [
                {"item": "事前绩效评估", "score": "13", "comment": "评估规范"},
                {"item": "绩效目标管理", "score": "17", "comment": ""},
                {"item": "绩效跟踪监控", "score": "16", "comment": ""},
                {"item": "绩效评价", "score": "17", "comment": ""},
                {"item": "结果应用", "score": "12", "comment": ""},
                {"item": "资料完整性", "score": "8", "comment": ""},
            ],
            "outcome": "pass",
            "opinion": "同意通过验收",
        },
    )
    @blp.response(200, ReportDetailSchema)
    def post(self, data: dict[str, Any], report_id: int) -> Any:
        """The province scores the program's checklist (every item once, 0 … its maximum: 422) and
        passes (total ≥ the pass mark) or returns with an opinion. 403 for a city or a county; 409
        unless the report awaits acceptance (accepting twice)."""
        return _done(service.accept(db(), actor(), report_id, data))


@blp.route("/pilot-reports/<int:report_id>/opinions")
class Opinions(MethodView):
    @blp.arguments(OpinionSchema, example={"text": "报告内容完整，建议省级验收时关注监控纠偏的落实情况"})
    @blp.response(200, ReportDetailSchema)
    def post(self, data: dict[str, Any], report_id: int) -> Any:
        """The city directly above a county gives its preliminary opinion (初审意见) on the
        submitted version, once per version; it never accepts. 403 for anyone else; 409 unless the
        report awaits acceptance or when already given."""
        return _done(service.give_opinion(db(), actor(), report_id, data["text"]))


@blp.route("/pilot-reports/<int:report_id>/versions/<int:number>/files/<fmt>")
class ReportFile(MethodView):
    @blp.response(200, description="the bytes (local folder)")
    @blp.alt_response(
        302,
        description="to a 5-minute presigned URL of the object (S3)",
        headers={"Location": {"description": "the presigned URL", "schema": {"type": "string"}}},
        success=True,
    )
    def get(self, report_id: int, number: int, fmt: str) -> Any:
        """A version's `docx` or `pdf`: authorization first, then a presigned URL (S3) or the stream."""
        found = files.download(db(), actor(), report_id, number, fmt)
        db().commit()
        if found.url:
            return redirect(found.url, code=302)
        return stream_object(
            found.store,
            found.key,
            filename=found.filename,
            content_type=found.content_type,
            size=found.size,
            headers={"X-Content-SHA256": found.sha256},
        )


# --- 专报 -----------------------------------------------------------------------------------------


@blp.route("/programs/<int:program_id>/briefings")
class Briefings(MethodView):
    @blp.response(202, ReportStartedSchema)
    def post(self, program_id: int) -> Any:
        """The province (every participant) or a city (its branch) generates the program's 专报 as
        a job: participation, stage completion, grades, budget execution, key findings, the best
        cases — a PDF and a Word file. 403 for a county."""
        job_id = generation.start_briefing(db(), runtime().jobs, actor(), program_id)
        return {"job_id": job_id, "report_id": None}


@blp.route("/programs/<int:program_id>/briefings/<job_id>/files/<fmt>")
class BriefingFile(MethodView):
    @blp.response(200, description="the bytes")
    def get(self, program_id: int, job_id: str, fmt: str) -> Any:
        """The caller's finished 专报 (`pdf` or `docx`); 409 while the job runs or when it failed."""
        who = actor()
        found = briefing.download(runtime().jobs.info(job_id, who), who, program_id, fmt)
        opened = exports.open_file(runtime().store, found)
        return Response(opened.chunks, mimetype=MIME[fmt], headers=opened.headers)
