"""HTTP for performance targets (thin)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from jixiao.platform.core.authz import authorize
from jixiao.platform.web.context import actor, db

from . import rules, service
from .schemas import (
    AdjustmentSchema,
    ApplyTemplateSchema,
    ReviewSchema,
    RuleSchema,
    TargetSetSchema,
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
        """一键勾选: add a template's indicators to the draft."""
        return _done(service.apply_template(db(), actor(), project_id, data["template_id"]))


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
        return _done(service.review(db(), actor(), project_id, data["decision"], data["comments"]))


@blp.route("/projects/<int:project_id>/targets/adjustments")
class Adjustments(MethodView):
    @blp.arguments(AdjustmentSchema, example={"reason": "政策变化", "explanation": "上级补助标准调整"})
    @blp.response(201, TargetSetSchema)
    def post(self, data: dict[str, Any], project_id: int) -> Any:
        """After approval: a new draft version (copy of the approved one) through the same chain."""
        return _done(service.adjust(db(), actor(), project_id, data["reason"], data.get("explanation")))


@blp.route("/projects/<int:project_id>/targets/versions")
class Versions(MethodView):
    @blp.response(200, TargetVersionSchema(many=True))
    def get(self, project_id: int) -> Any:
        """Every version, newest first, with the diff against the previous one."""
        return service.versions(db(), actor(), project_id)
