"""HTTP for spot checks (抽查, thin): draw a sample, read it, review an item, and the finding's
thread — the tenant's reply, the drawer's ask-again and close."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from jixiao.platform.web.context import actor, db
from jixiao.services.programs.views import province_today

from . import service
from .schemas import (
    SpotCheckAgainSchema,
    SpotCheckCloseSchema,
    SpotCheckDrawSchema,
    SpotCheckItemListSchema,
    SpotCheckItemSchema,
    SpotCheckListSchema,
    SpotCheckReplySchema,
    SpotCheckReviewSchema,
    SpotCheckSchema,
)

blp = Blueprint(
    "spot_checks",
    __name__,
    url_prefix="/api/v1",
    description="抽查：省级或市级按地区分层抽取已批复的绩效目标（可复现的随机种子），"
    "从完整性、相关性、适当性、可行性审查，问题发给项目单位答复整改",
)
ITEM = "/spot-checks/<int:check_id>/items/<int:item_id>"


def _done(result: Any) -> Any:
    db().commit()
    return result


@blp.route("/programs/<int:program_id>/spot-checks")
class Checks(MethodView):
    @blp.response(200, SpotCheckListSchema)
    def get(self, program_id: int) -> Any:
        """The program's spot checks the caller sees: its own and those of the tenants below it
        (the province: every city's too). A county: 403."""
        items = service.list_checks(db(), actor(), program_id)
        return {"items": items, "total": len(items)}

    @blp.arguments(SpotCheckDrawSchema, example={"share": 0.5, "seed": 20261207})
    @blp.response(201, SpotCheckSchema)
    def post(self, data: dict[str, Any], program_id: int) -> Any:
        """Draw a sample of the approved targets in force below the caller, stratified by tenant:
        a share (0, 1] or a count (≤ the population), reproducible from `seed` (recorded; made up
        when not given). A second draw for the same program is 409 unless `new_round` is true."""
        return _done(service.draw(db(), actor(), program_id, data))


@blp.route("/spot-checks/<int:check_id>")
class CheckById(MethodView):
    @blp.response(200, SpotCheckSchema)
    def get(self, check_id: int) -> Any:
        """One spot check with its items (the drawing tenant and those above it)."""
        return service.get_check(db(), actor(), check_id)


@blp.route(ITEM)
class ItemById(MethodView):
    @blp.response(200, SpotCheckItemSchema)
    def get(self, check_id: int, item_id: int) -> Any:
        """One drawn project: its review and its finding's thread (the project's tenant reads it too)."""
        return service.get_item(db(), actor(), check_id, item_id)


@blp.route(ITEM + "/review")
class Review(MethodView):
    @blp.arguments(
        SpotCheckReviewSchema,
        example={
            "result": "rectify",
            "comments": {
                "completeness": "产出、效益、满意度指标齐全",
                "relevance": "指标与项目内容相关",
                "appropriateness": "培训人次目标值偏低",
                "feasibility": "可实现",
            },
            "findings": "培训人次目标值低于上年实际，请说明理由或调整",
        },
    )
    @blp.response(200, SpotCheckItemSchema)
    def post(self, data: dict[str, Any], check_id: int, item_id: int) -> Any:
        """The drawing tenant's conclusion, once: pass, or rectify with findings — which go to the
        project's editors as a request to answer (kind 抽查, due at `deadline`, default 30 days)."""
        return _done(service.review(db(), actor(), check_id, item_id, data, province_today()))


@blp.route(ITEM + "/reply")
class Reply(MethodView):
    @blp.arguments(SpotCheckReplySchema)
    @blp.response(200, SpotCheckItemSchema)
    def post(self, data: dict[str, Any], check_id: int, item_id: int) -> Any:
        """The project's editors answer the finding (another tenant's item: 404)."""
        return _done(service.reply(db(), actor(), check_id, item_id, data))


@blp.route(ITEM + "/again")
class Again(MethodView):
    @blp.arguments(SpotCheckAgainSchema)
    @blp.response(200, SpotCheckItemSchema)
    def post(self, data: dict[str, Any], check_id: int, item_id: int) -> Any:
        """The drawing tenant asks for another answer, with a new deadline."""
        return _done(service.ask_again(db(), actor(), check_id, item_id, data, province_today()))


@blp.route(ITEM + "/close")
class Close(MethodView):
    @blp.arguments(SpotCheckCloseSchema)
    @blp.response(200, SpotCheckItemSchema)
    def post(self, data: dict[str, Any], check_id: int, item_id: int) -> Any:
        """The drawing tenant accepts the answer: 整改完成."""
        return _done(service.close(db(), actor(), check_id, item_id, data.get("opinion")))


@blp.route("/projects/<int:project_id>/spot-checks")
class OfProject(MethodView):
    @blp.response(200, SpotCheckItemListSchema)
    def get(self, project_id: int) -> Any:
        """The spot checks a project was drawn in, with their results (its own tenant reads them)."""
        items = service.of_project(db(), actor(), project_id)
        return {"items": items, "total": len(items)}
