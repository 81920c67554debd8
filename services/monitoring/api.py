"""HTTP for monitoring rounds and correction requests (thin)."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint

from jixiao.platform.core import exports
from jixiao.platform.core.clock import today_in
from jixiao.platform.web.api.platform import JobStartedSchema
from jixiao.platform.web.context import actor, db, runtime
from jixiao.tenants.schemas import page_schema

from . import corrections, excel, service
from .schemas import (
    CorrectionAdjustmentSchema,
    CorrectionAgainSchema,
    CorrectionCloseSchema,
    CorrectionIssueSchema,
    CorrectionQuerySchema,
    CorrectionReplySchema,
    CorrectionSchema,
    ReturnSchema,
    RoundCorrectSchema,
    RoundReportSchema,
    RoundSchema,
)

blp = Blueprint(
    "monitoring",
    __name__,
    url_prefix="/api/v1",
    description="跟踪监控：监控轮次（完成率、预算执行率与序时进度、预警、年末预测）与纠偏/约谈/发函",
)

CorrectionPage = page_schema(CorrectionSchema, "CorrectionPage")
ROUND = "/projects/<int:project_id>/monitoring-rounds/<int:round_id>"
CORRECTION = ROUND + "/corrections/<int:correction_id>"

EXAMPLE = {
    "period": "2023-09",
    "as_of": "2023-09-30",
    "budget_executed": "820000.00",
    "budget_reason": "",
    "budget_measure": "",
    "progress": [
        {"target_indicator_id": 11, "planned_value": "8", "actual_value": "8"},
        {
            "target_indicator_id": 12,
            "planned_value": "2000",
            "actual_value": "1300",
            "reason": "部分小区居民意见未统一，开工推迟",
            "measure": "街道逐户协调，10 月底前全部开工",
            "reason_category": "其他",
            "likelihood": "有可能",
        },
        {"target_indicator_id": 13, "achievement": "partly", "text": "管理制度已起草，待印发"},
    ],
}


def _today() -> date:
    return today_in(runtime().settings.timezone)


def _done(result: Any) -> Any:
    db().commit()
    return result


@blp.route("/projects/<int:project_id>/monitoring-rounds")
class Rounds(MethodView):
    @blp.response(200, RoundSchema(many=True))
    def get(self, project_id: int) -> Any:
        """The project's rounds, oldest period first."""
        return service.list_rounds(db(), actor(), project_id)

    @blp.arguments(RoundReportSchema, example=EXAMPLE)
    @blp.response(201, RoundSchema)
    def post(self, data: dict[str, Any], project_id: int) -> Any:
        """Report a round against the latest approved target version (409 before targets are
        approved, 409 for a period already reported). Every line of that version exactly once;
        per line `completion` (percent string, actual against the planned stage value,
        direction-aware, uncapped) and `warning`; the budget's execution rate against 序时进度;
        a `forecast` to 31 December for each. 422 lists every problem at once: a period outside
        the project's years or the program's periods, a round dated before an earlier one,
        a non-numeric value, a negative budget, executed above the budget without
        `budget_explanation`, a yellow/red line or budget without reason and measure, a red
        round without the program's required evidence. The last period's round completes the
        monitoring stage (the self-evaluation opens)."""
        return _done(service.report(db(), actor(), project_id, data))


@blp.route(ROUND)
class RoundById(MethodView):
    @blp.response(200, RoundSchema)
    def get(self, project_id: int, round_id: int) -> Any:
        """One round with its lines, warnings and forecast."""
        return service.get_round(db(), actor(), project_id, round_id)

    @blp.arguments(RoundCorrectSchema)
    @blp.response(200, RoundSchema)
    def put(self, data: dict[str, Any], project_id: int, round_id: int) -> Any:
        """Correct a returned round and report it again (same body as POST without `period`; the
        same checks). 409 for a round awaiting finance or confirmed (已确认的监控轮次不能修改)."""
        return _done(service.correct(db(), actor(), project_id, round_id, data))


@blp.route(ROUND + "/confirm")
class Confirm(MethodView):
    @blp.response(200, RoundSchema)
    def post(self, project_id: int, round_id: int) -> Any:
        """Finance (the bureau admin of the project's tenant) confirms a reported round; it is
        frozen from then on. 409 when already confirmed or returned."""
        return _done(service.confirm(db(), actor(), project_id, round_id))


@blp.route(ROUND + "/return")
class Return(MethodView):
    @blp.arguments(ReturnSchema, example={"opinion": "开工率偏差原因不具体，请补充"})
    @blp.response(200, RoundSchema)
    def post(self, data: dict[str, Any], project_id: int, round_id: int) -> Any:
        """Finance returns a reported round with an opinion (required). Returning the last
        period's round reopens the monitoring stage (409 once the self-evaluation was submitted)."""
        return _done(service.return_round(db(), actor(), project_id, round_id, data["opinion"]))


@blp.route(ROUND + "/corrections")
class Corrections(MethodView):
    @blp.arguments(
        CorrectionIssueSchema,
        example={
            "kind": "约谈",
            "text": "开工率严重滞后，请于期限内说明原因并提交整改方案",
            "deadline": "2023-10-20",
        },
    )
    @blp.response(201, CorrectionSchema)
    def post(self, data: dict[str, Any], project_id: int, round_id: int) -> Any:
        """Finance issues a correction request (纠偏/约谈/发函) on a round; the deadline is today
        or later (the province's calendar)."""
        return _done(corrections.issue(db(), actor(), project_id, round_id, data, _today()))


@blp.route(CORRECTION)
class CorrectionById(MethodView):
    @blp.response(200, CorrectionSchema)
    def get(self, project_id: int, round_id: int, correction_id: int) -> Any:
        """One correction request with its thread (`entries`)."""
        return corrections.get_correction(db(), actor(), project_id, round_id, correction_id, _today())


@blp.route(CORRECTION + "/reply")
class Reply(MethodView):
    @blp.arguments(
        CorrectionReplySchema,
        example={"text": "已约谈施工单位，增派人员，10 月底前全部开工", "evidence_ids": [7]},
    )
    @blp.response(200, CorrectionSchema)
    def post(self, data: dict[str, Any], project_id: int, round_id: int, correction_id: int) -> Any:
        """The project's editors reply (evidence files of this project where they help) → answered.
        409 on a closed request."""
        return _done(corrections.reply(db(), actor(), project_id, round_id, correction_id, data, _today()))


@blp.route(CORRECTION + "/again")
class Again(MethodView):
    @blp.arguments(CorrectionAgainSchema)
    @blp.response(200, CorrectionSchema)
    def post(self, data: dict[str, Any], project_id: int, round_id: int, correction_id: int) -> Any:
        """Finance asks again with a new deadline → open. 409 on a closed request."""
        return _done(
            corrections.ask_again(db(), actor(), project_id, round_id, correction_id, data, _today())
        )


@blp.route(CORRECTION + "/close")
class Close(MethodView):
    @blp.arguments(CorrectionCloseSchema)
    @blp.response(200, CorrectionSchema)
    def post(self, data: dict[str, Any], project_id: int, round_id: int, correction_id: int) -> Any:
        """Finance closes the request (an optional opinion). 409 when already closed."""
        return _done(
            corrections.close(
                db(), actor(), project_id, round_id, correction_id, data.get("opinion"), _today()
            )
        )


@blp.route(CORRECTION + "/adjustment")
class Adjustment(MethodView):
    @blp.arguments(
        CorrectionAdjustmentSchema,
        example={"reason": "其他", "explanation": "监控发现开工条件变化，受益户数指标需相应调整"},
    )
    @blp.response(201, CorrectionSchema)
    def post(self, data: dict[str, Any], project_id: int, round_id: int, correction_id: int) -> Any:
        """Finance opens a target adjustment from the request: a new draft target version (the
        targets' adjustment flow and its checks); once approved, later rounds are measured
        against it. 409 when one was opened already or the request is closed."""
        return _done(
            corrections.open_adjustment(db(), actor(), project_id, round_id, correction_id, data, _today())
        )


@blp.route("/projects/<int:project_id>/corrections")
class ProjectCorrections(MethodView):
    @blp.response(200, CorrectionSchema(many=True))
    def get(self, project_id: int) -> Any:
        """Every correction request of the project, newest first."""
        return corrections.of_project(db(), actor(), project_id, _today())


@blp.route("/corrections")
class Inbox(MethodView):
    @blp.arguments(CorrectionQuerySchema, location="query")
    @blp.response(200, CorrectionPage)
    def get(self, args: dict[str, Any]) -> Any:
        """The correction requests of the caller's tenant and those below it, newest first;
        `status` and `overdue` filter."""
        return corrections.inbox(db(), actor(), _today(), **args)


@blp.route(ROUND + "/export")
class RoundExport(MethodView):
    @blp.response(202, JobStartedSchema)
    def post(self, project_id: int, round_id: int) -> Any:
        """Export the round as a 项目支出绩效目标执行监控表 .xlsx, as a job: poll GET /api/v1/jobs/{job_id},
        then GET …/monitoring-rounds/{rid}/export/{job_id} for the file. Anyone who may read the
        project may export it (the tenants above too)."""
        return {"job_id": excel.start_export(db(), actor(), project_id, round_id)}


@blp.route(ROUND + "/export/<string:job_id>")
class RoundExportFile(MethodView):
    @blp.doc(
        responses={
            "200": {
                "description": "绩效监控表（.xlsx，附件 绩效监控表_<项目名>_<期间>.xlsx）",
                "content": {exports.XLSX_MIME: {"schema": {"type": "string", "format": "binary"}}},
            },
            "404": {"description": "不是调用者本人的任务，或不是本轮次的导出"},
            "409": {"description": "导出任务尚未完成（或已失败）"},
        }
    )
    def get(self, project_id: int, round_id: int, job_id: str) -> Any:
        """The exported file of the caller's own finished export job of this round, streamed from
        the object store; 409 while the job runs."""
        who, rt = actor(), runtime()
        found = excel.download(db(), who, project_id, round_id, rt.jobs.info(job_id, who))
        opened = exports.open_file(rt.store, found)
        response = Response(opened.chunks, mimetype=opened.mimetype, headers=opened.headers)
        response.call_on_close(opened.close)
        return response
