"""HTTP for the key evaluation (thin)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from jixiao.platform.web.context import actor, db

from . import decision, service
from .schemas import (
    KeyDecisionSchema,
    KeyEvaluationSchema,
    KeyEvaluationSubmitSchema,
    KeyEvaluationWriteSchema,
    KeySkipSchema,
)

blp = Blueprint(
    "key_evaluation",
    __name__,
    url_prefix="/api/v1",
    description="重点评价：获授权的第三方机构评分，财政局审定；与自评的比较",
)

EXAMPLE = {
    "scores": [
        {
            "dimension": "决策",
            "group": "项目立项",
            "item": "立项依据充分性",
            "weight": "15",
            "score": "13",
            "basis": "立项依据充分",
        },
        {
            "dimension": "过程",
            "group": "资金管理",
            "item": "预算执行率",
            "weight": "15",
            "score": "12",
            "basis": "执行率 92%",
        },
        {"dimension": "产出", "item": "数量", "weight": "35", "score": "28", "basis": "完成 80 个小区"},
        {"dimension": "效益", "item": "社会效益", "weight": "35", "score": "30", "basis": "受益居民 95%"},
    ],
    "findings": "部分小区进度滞后",
    "recommendations": "加强施工组织协调",
    "report_evidence_id": None,
}


def _done(result: Any) -> Any:
    db().commit()
    return result


@blp.route("/projects/<int:project_id>/evaluation")
class KeyEvaluationDraft(MethodView):
    @blp.response(200, KeyEvaluationSchema)
    def get(self, project_id: int) -> Any:
        """The key evaluation (before the first save: the program's framework, unscored) with its
        total and grade, and beside it the self-evaluation's score and the difference per 一级指标
        (`comparison`). 409 until the self-evaluation is approved; an evaluator needs a live
        `key_evaluation` grant (403 naming it)."""
        return service.get(db(), actor(), project_id)

    @blp.arguments(KeyEvaluationWriteSchema, example=EXAMPLE)
    @blp.response(200, KeyEvaluationSchema)
    def put(self, data: dict[str, Any], project_id: int) -> Any:
        """Save the whole form (granted evaluator only). The items may be adapted: all four
        dimensions present, weights summing to 100, every score between 0 and its weight — else one
        422 naming every problem (`scores.N.field`, `scores`). Frozen once submitted (409)."""
        return _done(service.save(db(), actor(), project_id, data))


@blp.route("/projects/<int:project_id>/evaluation/submit")
class KeyEvaluationSubmit(MethodView):
    @blp.arguments(KeyEvaluationSubmitSchema, example=EXAMPLE)
    @blp.response(200, KeyEvaluationSchema)
    def post(self, data: dict[str, Any], project_id: int) -> Any:
        """Submit to the bureau admin: every item scored with its basis, findings and
        recommendations given, the report file where the program requires 评价报告 — else one 422.
        With a body it is saved first."""
        given = {k: v for k, v in data.items() if v is not None}
        return _done(service.submit(db(), actor(), project_id, given or None))


@blp.route("/projects/<int:project_id>/evaluation/decision")
class KeyEvaluationDecision(MethodView):
    @blp.arguments(KeyDecisionSchema, example={"decision": "return", "opinion": "产出数量的评分依据不足"})
    @blp.response(200, KeyEvaluationSchema)
    def post(self, data: dict[str, Any], project_id: int) -> Any:
        """The bureau admin on a submitted key evaluation: accept (审定通过 — frozen, the stage
        approved; twice → 409) or return with an opinion (required)."""
        return _done(decision.decide(db(), actor(), project_id, data["decision"], data["opinion"]))


@blp.route("/projects/<int:project_id>/evaluation/skip")
class KeyEvaluationSkip(MethodView):
    @blp.arguments(KeySkipSchema, example={"reason": "本项目为延续性小额项目，不列入重点评价范围"})
    @blp.response(200, KeyEvaluationSchema)
    def post(self, data: dict[str, Any], project_id: int) -> Any:
        """The bureau admin decides the project has no key evaluation: the stage is approved
        without one (the reason audited). 409 once one is submitted or accepted."""
        return _done(decision.skip(db(), actor(), project_id, data["reason"]))
