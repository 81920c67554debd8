"""HTTP for performance targets (thin)."""

from __future__ import annotations

from typing import Any

from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint

from jixiao.platform.core import exports
from jixiao.platform.core.authz import authorize
from jixiao.platform.web.api.platform import JobStartedSchema
from jixiao.platform.web.context import actor, db, runtime

from . import chain, excel, rules, service, suggestions
from .schemas import (
    AdjustmentSchema,
    ApplyTemplateSchema,
    ResubmissionSchema,
    ReviewSchema,
    RuleSchema,
    TargetSetSchema,
    TargetStatisticsQuerySchema,
    TargetStatisticsSchema,
    TargetSuggestionsSchema,
    TargetsWriteSchema,
    TargetVersionSchema,
    ViolationSchema,
)

blp = Blueprint(
    "targets", __name__, url_prefix="/api/v1", description="绩效目标：填报、质量规则、审核链与调整"
)

EXAMPLE = {
    "overall_goal": "2023 年完成 12 个老旧小区改造，惠及居民 3000 户",
    "indicators": [
        {
            "name": "改造小区数量",
            "level2": "数量",
            "value_type": "quantitative",
            "direction": ">=",
            "target_value": "12",
            "unit": "个",
            "weight": "30",
            "value_basis": "计划标准",
        },
        {"indicator_id": 21, "target_value": "1000000", "weight": "20"},
    ],
}


def _done(result: Any) -> Any:
    db().commit()
    return result


@blp.route("/target-rules")
class Rules(MethodView):
    @blp.response(200, RuleSchema(many=True))
    def get(self) -> Any:
        """The quality rules run on submit (code and Chinese title)."""
        authorize(actor(), "projects.read")
        return rules.RULES


@blp.route("/projects/<int:project_id>/targets")
class Targets(MethodView):
    @blp.response(200, TargetSetSchema)
    def get(self, project_id: int) -> Any:
        """The current version: `{version, status, overall_goal, indicators: [{id, …}]}`."""
        return service.current(db(), actor(), project_id)

    @blp.arguments(TargetsWriteSchema, example=EXAMPLE)
    @blp.response(200, TargetSetSchema)
    def put(self, data: dict[str, Any], project_id: int) -> Any:
        """Save the draft (overall goal and indicator lines; library lines default from the library)."""
        return _done(service.save_draft(db(), actor(), project_id, data))


@blp.route("/projects/<int:project_id>/targets/apply-template")
class ApplyTemplate(MethodView):
    @blp.arguments(ApplyTemplateSchema)
    @blp.response(200, TargetSetSchema)
    def post(self, data: dict[str, Any], project_id: int) -> Any:
        """一键勾选: add a template's indicators to the draft. On an empty set the weights are
        distributed evenly (whole numbers, else hundredths) so that they sum to the program's
        `target_weights_total` (default 100); on a set with lines the new lines have no weight.
        With `case_id` instead: a 规范管理蓝本's targets, with their values (and, on an empty set,
        their weights when they sum to the program's total). One of the two (422)."""
        return _done(
            service.apply_from(db(), actor(), project_id, data.get("template_id"), data.get("case_id"))
        )


@blp.route("/projects/<int:project_id>/targets/submit")
class Submit(MethodView):
    @blp.response(200, TargetSetSchema)
    def post(self, project_id: int) -> Any:
        """Run the quality rules; 422 lists every violation with its rule code and line."""
        return _done(service.submit(db(), actor(), project_id))


@blp.route("/projects/<int:project_id>/targets/check")
class Check(MethodView):
    @blp.response(200, ViolationSchema(many=True))
    def post(self, project_id: int) -> Any:
        """Run the quality rules on the saved draft without submitting: the same messages as submit."""
        return service.dry_run(db(), actor(), project_id)


@blp.route("/projects/<int:project_id>/targets/reviews")
class Reviews(MethodView):
    @blp.arguments(
        ReviewSchema,
        example={
            "decision": "return",
            "comments": {
                "completeness": "缺少满意度指标",
                "relevance": "",
                "appropriateness": "",
                "feasibility": "",
            },
        },
    )
    @blp.response(200, TargetSetSchema)
    def post(self, data: dict[str, Any], project_id: int) -> Any:
        """Approve or return at the level the chain is at (初审 → 复核); never one's own submission."""
        return _done(chain.review(db(), actor(), project_id, data["decision"], data["comments"]))


@blp.route("/projects/<int:project_id>/targets/adjustments")
class Adjustments(MethodView):
    @blp.arguments(
        AdjustmentSchema,
        example={"reason": "政策变化", "explanation": "上级补助标准提高，改造数量指标由 12 个调整为 15 个"},
    )
    @blp.response(201, TargetSetSchema)
    def post(self, data: dict[str, Any], project_id: int) -> Any:
        """After approval: a new draft version (copy of the approved one) through the same chain.

        Needs `reason` (调整原因) and `explanation` (调整说明, at least 10 characters after
        stripping); a missing or short explanation and an unknown reason are one 422 whose
        `errors` name each field (`explanation`, `reason`)."""
        return _done(chain.adjust(db(), actor(), project_id, data["reason"], data.get("explanation")))


@blp.route("/projects/<int:project_id>/targets/versions")
class Versions(MethodView):
    @blp.response(200, TargetVersionSchema(many=True))
    def get(self, project_id: int) -> Any:
        """Every version, newest first, with the diff against the previous one."""
        return service.versions(db(), actor(), project_id)


@blp.route("/projects/<int:project_id>/targets/resubmission")
class Resubmission(MethodView):
    @blp.response(200, ResubmissionSchema)
    def get(self, project_id: int) -> Any:
        """What changed in a resubmitted set since the version the reviewer returned (the reviewer's
        view of a 重新提交); `resubmitted: false` when the current submission follows no return."""
        found = chain.resubmission(db(), actor(), project_id)
        return {"resubmitted": found is not None, **(found or {})}


@blp.route("/projects/<int:project_id>/targets/export")
class TargetsExport(MethodView):
    @blp.arguments(excel.TargetsExportSchema, example={"version": 1})
    @blp.response(202, JobStartedSchema)
    def post(self, data: dict[str, Any], project_id: int) -> Any:
        """Export the targets (current version, or `version`) as a 绩效目标申报表 .xlsx, as a job:
        poll GET /api/v1/jobs/{job_id}, then GET …/targets/export/{job_id} for the file. Anyone
        who may read the project may export it (the tenants above too); a nonexistent version 404."""
        return {"job_id": excel.start_export(db(), actor(), project_id, data.get("version"))}


@blp.route("/projects/<int:project_id>/targets/export/<string:job_id>")
class TargetsExportFile(MethodView):
    @blp.doc(
        responses={
            "200": {
                "description": "绩效目标申报表（.xlsx，附件 绩效目标申报表_<项目名>_v<n>.xlsx）",
                "content": {excel.XLSX_MIME: {"schema": {"type": "string", "format": "binary"}}},
            },
            "404": {"description": "不是调用者本人的任务，或不是本项目的导出"},
            "409": {"description": "导出任务尚未完成（或已失败）"},
        }
    )
    def get(self, project_id: int, job_id: str) -> Any:
        """The exported file of the caller's own finished export job of this project, streamed by
        the app from the object store (local folder or S3 alike); 409 while the job runs."""
        who = actor()
        rt = runtime()
        opened = exports.open_file(rt.store, excel.download(db(), who, project_id, rt.jobs.info(job_id, who)))
        response = Response(opened.chunks, mimetype=opened.mimetype, headers=opened.headers)
        response.call_on_close(opened.close)
        return response


@blp.route("/indicators/<int:indicator_id>/target-statistics")
class TargetStatistics(MethodView):
    @blp.arguments(TargetStatisticsQuerySchema, location="query")
    @blp.response(200, TargetStatisticsSchema)
    def get(self, args: dict[str, Any], indicator_id: int) -> Any:
        """目标值参考: the distribution of the approved target values (the version in force) of
        projects of `project_class` in OTHER tenants across the province, for lines using this
        library indicator or one derived from it — `{available, tenants, count, median, p25, p75,
        unit}` in the indicator's unit (values in a unit that cannot be converted are left out).
        Only when they come from at least k tenants (`min_tenants`: the program setting
        `suggestions.min_tenants` of `project_id`'s program, *default* 5); below, `available:
        false` and every figure null. Any tenant user; an evaluator 403; an indicator the caller
        cannot see 404; `project_class` missing or unknown 422."""
        return suggestions.target_statistics(
            db(), actor(), indicator_id, args["project_class"], args.get("project_id")
        )


@blp.route("/projects/<int:project_id>/target-suggestions")
class TargetSuggestions(MethodView):
    @blp.response(200, TargetSuggestionsSchema)
    def get(self, project_id: int) -> Any:
        """推荐指标 (extension): the library indicators most used by approved projects of this
        project's class in other tenants (counted only when at least k tenants used one — a derived
        indicator counts for its origin; only indicators the caller may read), most used first, and
        the published 规范管理蓝本 of the class. Any tenant user who may read the project; an
        evaluator 403."""
        return suggestions.starting_set(db(), actor(), project_id)
