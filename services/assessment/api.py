"""HTTP for the ex-ante assessment (thin)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from jixiao.platform.web.context import actor, db

from . import service
from .schemas import (
    AssessmentDecisionSchema,
    AssessmentSchema,
    AssessmentSubmitSchema,
    AssessmentWriteSchema,
)

blp = Blueprint("assessment", __name__, url_prefix="/api/v1", description="事前绩效评估")

EXAMPLE = {
    "criteria": {
        "necessity": {"score": "90", "opinion": "群众改造意愿强烈，符合城市更新规划"},
        "economy": {"score": "85", "opinion": "单位造价低于同类项目平均水平"},
        "target_reasonableness": {"score": "80", "opinion": "产出与效益目标可衡量"},
        "plan_effectiveness": {"score": "85", "opinion": "实施方案分期清晰"},
        "funding_compliance": {"score": "90", "opinion": "资金来源为一般公共预算，合规"},
        "fiscal_affordability": {"score": "80", "opinion": "在本级财政承受范围内"},
    },
    "summary": "建议予以支持",
}


@blp.route("/projects/<int:project_id>/assessment")
class AssessmentDraft(MethodView):
    @blp.response(200, AssessmentSchema)
    def get(self, project_id: int) -> Any:
        """The project's ex-ante assessment (an empty draft before anything was saved)."""
        return service.get_assessment(db(), actor(), project_id)

    @blp.arguments(AssessmentWriteSchema, example=EXAMPLE)
    @blp.response(200, AssessmentSchema)
    def put(self, data: dict[str, Any], project_id: int) -> Any:
        """Save the draft: a score (0–100) and an opinion for each of the six criteria, and a summary."""
        result = service.save_draft(db(), actor(), project_id, data)
        db().commit()
        return result


@blp.route("/projects/<int:project_id>/assessment/submit")
class AssessmentSubmit(MethodView):
    @blp.arguments(AssessmentSubmitSchema, example=EXAMPLE)
    @blp.response(200, AssessmentSchema)
    def post(self, data: dict[str, Any], project_id: int) -> Any:
        """Submit to finance; every criterion must be scored and explained (422 lists all gaps at
        once). Without a body the saved draft is submitted; with one it is saved and submitted."""
        result = service.submit(db(), actor(), project_id, data)
        db().commit()
        return result


@blp.route("/projects/<int:project_id>/assessment/decision")
class AssessmentDecision(MethodView):
    @blp.arguments(
        AssessmentDecisionSchema, example={"conclusion": "support", "opinion": "同意立项，纳入年度预算"}
    )
    @blp.response(200, AssessmentSchema)
    def post(self, data: dict[str, Any], project_id: int) -> Any:
        """Finance's conclusion (bureau admin): support / partial open the targets; reject ends the project."""
        result = service.decide(db(), actor(), project_id, data["conclusion"], data["opinion"])
        db().commit()
        return result
