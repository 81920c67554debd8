"""HTTP for the self-evaluation (thin)."""

from __future__ import annotations

from typing import Any

from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint

from jixiao.platform.core import exports
from jixiao.platform.web.api.platform import JobStartedSchema
from jixiao.platform.web.context import actor, db, runtime

from . import excel, review, service
from .schemas import ReviewSchema, SelfEvaluationSchema, SelfEvaluationSubmitSchema, SelfEvaluationWriteSchema

blp = Blueprint(
    "self_evaluation", __name__, url_prefix="/api/v1", description="自评：填报、自动评分、初审与复核"
)

EXAMPLE = {
    "budget_executed": "1150000.00",
    "budget_reason": "",
    "lines": [
        {"target_indicator_id": 1, "actual_value": "80", "shortfall_reason": "两个小区因管线迁改延期"},
        {"target_indicator_id": 2, "actual_value": "1100000"},
        {"target_indicator_id": 3, "achievement": "partly", "rate": "75"},
    ],
    "summary": "完成 10 个小区改造，惠及居民 2800 户",
    "conclusion": "项目总体达到预期",
    "problems": "部分小区进度滞后",
    "measures": "加强施工组织协调",
}


def _done(result: Any) -> Any:
    db().commit()
    return result


@blp.route("/projects/<int:project_id>/self-evaluation")
class SelfEvaluationDraft(MethodView):
    @blp.response(200, SelfEvaluationSchema)
    def get(self, project_id: int) -> Any:
        """The self-evaluation with its score, grade and every point explained (per line: completion,
        points available, points earned; the budget likewise), its reviews and — when submitted again
        after a return — what changed since (`resubmission.diff`). 409 until monitoring is complete."""
        return service.get(db(), actor(), project_id)

    @blp.arguments(SelfEvaluationWriteSchema, example=EXAMPLE)
    @blp.response(200, SelfEvaluationSchema)
    def put(self, data: dict[str, Any], project_id: int) -> Any:
        """Save the draft (the whole form). Lines not filled in yet score 0 and are listed in
        `missing`; a non-numeric actual on a quantitative line, a negative amount or a rate outside
        its band is a 422 naming the line."""
        return _done(service.save_draft(db(), actor(), project_id, data))


@blp.route("/projects/<int:project_id>/self-evaluation/preview")
class SelfEvaluationPreview(MethodView):
    @blp.arguments(SelfEvaluationWriteSchema, example=EXAMPLE)
    @blp.response(200, SelfEvaluationSchema)
    def post(self, data: dict[str, Any], project_id: int) -> Any:
        """The score of the form as given, nothing saved (the page's live score)."""
        return service.preview(db(), actor(), project_id, data)


@blp.route("/projects/<int:project_id>/self-evaluation/submit")
class SelfEvaluationSubmit(MethodView):
    @blp.arguments(SelfEvaluationSubmitSchema, example=EXAMPLE)
    @blp.response(200, SelfEvaluationSchema)
    def post(self, data: dict[str, Any], project_id: int) -> Any:
        """Submit to 初审. Every line filled in, the budget executed and the summary (年度目标完成情况)
        given, a budget executed above the budget explained (`budget_reason`) — else one 422 naming
        every gap. With a body (the whole form) it is saved first; without, the saved draft is submitted."""
        given = {k: v for k, v in data.items() if v is not None}
        return _done(service.submit(db(), actor(), project_id, given or None))


@blp.route("/projects/<int:project_id>/self-evaluation/reviews")
class SelfEvaluationReviews(MethodView):
    @blp.arguments(
        ReviewSchema,
        example={
            "decision": "return",
            "comments": {
                "completeness": "缺少满意度调查的佐证",
                "relevance": "",
                "appropriateness": "",
                "feasibility": "",
            },
        },
    )
    @blp.response(200, SelfEvaluationSchema)
    def post(self, data: dict[str, Any], project_id: int) -> Any:
        """Approve or return at the level the chain is at (初审 → 复核), as for the targets; never one's
        own submission; a return needs at least one comment. The last approval freezes it."""
        return _done(review.review(db(), actor(), project_id, data["decision"], data["comments"]))


@blp.route("/projects/<int:project_id>/self-evaluation/export")
class SelfEvaluationExport(MethodView):
    @blp.response(202, JobStartedSchema)
    def post(self, project_id: int) -> Any:
        """Export the self-evaluation as a 项目支出绩效自评表 .xlsx, as a job: poll GET /api/v1/jobs/{job_id},
        then GET …/self-evaluation/export/{job_id} for the file. Anyone who may read the project
        may export it (the tenants above too); 409 until monitoring is complete."""
        return {"job_id": excel.start_export(db(), actor(), project_id)}


@blp.route("/projects/<int:project_id>/self-evaluation/export/<string:job_id>")
class SelfEvaluationExportFile(MethodView):
    @blp.doc(
        responses={
            "200": {
                "description": "绩效自评表（.xlsx，附件 绩效自评表_<项目名>.xlsx）",
                "content": {exports.XLSX_MIME: {"schema": {"type": "string", "format": "binary"}}},
            },
            "404": {"description": "不是调用者本人的任务，或不是本项目自评的导出"},
            "409": {"description": "导出任务尚未完成（或已失败）"},
        }
    )
    def get(self, project_id: int, job_id: str) -> Any:
        """The exported file of the caller's own finished export job of this self-evaluation,
        streamed from the object store; 409 while the job runs."""
        who, rt = actor(), runtime()
        found = excel.download(db(), who, project_id, rt.jobs.info(job_id, who))
        opened = exports.open_file(rt.store, found)
        response = Response(opened.chunks, mimetype=opened.mimetype, headers=opened.headers)
        response.call_on_close(opened.close)
        return response
