"""HTTP for the result application: rectification notices and items, the result application, and
the public disclosures (thin)."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from jixiao.platform.core.clock import today_in
from jixiao.platform.web.context import actor, db, runtime
from jixiao.tenants.schemas import page_schema

from . import notices, public, service
from .schemas import (
    DisclosureSchema,
    PublicQuerySchema,
    RectificationCloseSchema,
    RectificationItemSchema,
    RectificationNoticeIssueSchema,
    RectificationNoticeSchema,
    RectificationReplySchema,
    RectificationReturnSchema,
    ResultApplicationSchema,
    ResultApplicationWriteSchema,
)

blp = Blueprint(
    "results",
    __name__,
    url_prefix="/api/v1",
    description="结果应用：整改通知与整改事项、预算安排建议、结果公开（公开接口无需登录）",
)

DisclosurePage = page_schema(DisclosureSchema, "DisclosurePage")
ITEM = "/rectification-notices/<int:notice_id>/items/<int:item_id>"
PUBLIC_CACHE = "public, max-age=300"


def _today() -> date:
    return today_in(runtime().settings.timezone)


def _done(result: Any) -> Any:
    db().commit()
    return result


@blp.route("/projects/<int:project_id>/rectification-notices")
class Notices(MethodView):
    @blp.response(200, RectificationNoticeSchema(many=True))
    def get(self, project_id: int) -> Any:
        """The project's rectification notices, newest first, with each item's thread and `overdue`."""
        return notices.of_project(db(), actor(), project_id, _today())

    @blp.arguments(
        RectificationNoticeIssueSchema,
        example={
            "text": "根据重点评价发现的问题，请于期限内整改并报送整改情况",
            "items": [
                {"text": "完善项目资金管理制度，明确支出审批流程", "deadline": "2027-03-31"},
                {"text": "补充满意度调查样本，重新测算满意度", "deadline": "2027-04-30"},
            ],
        },
    )
    @blp.response(201, RectificationNoticeSchema)
    def post(self, data: dict[str, Any], project_id: int) -> Any:
        """Finance (the bureau admin of the project's tenant) issues a notice once the key evaluation
        is approved (409 before). At least one item; each with its text and a deadline today or
        later (422 naming each item). A notice issued after the stage completed opens it again."""
        return _done(notices.issue(db(), actor(), project_id, data, _today()))


@blp.route("/rectification-notices/<int:notice_id>")
class NoticeById(MethodView):
    @blp.response(200, RectificationNoticeSchema)
    def get(self, notice_id: int) -> Any:
        """One notice with its items."""
        return notices.get_notice(db(), actor(), notice_id, _today())


@blp.route(ITEM + "/reply")
class Reply(MethodView):
    @blp.arguments(
        RectificationReplySchema, example={"text": "已修订资金管理办法并印发", "evidence_ids": [31]}
    )
    @blp.response(200, RectificationItemSchema)
    def post(self, data: dict[str, Any], notice_id: int, item_id: int) -> Any:
        """The project's editors reply (evidence of this project's result-application stage, else
        422) → answered. 409 on a closed item."""
        return _done(notices.reply(db(), actor(), notice_id, item_id, data, _today()))


@blp.route(ITEM + "/close")
class Close(MethodView):
    @blp.arguments(RectificationCloseSchema)
    @blp.response(200, RectificationItemSchema)
    def post(self, data: dict[str, Any], notice_id: int, item_id: int) -> Any:
        """Finance closes (销号) an answered item (optional opinion). 409 when not answered or closed.
        The last item closed with the recommendation set completes the stage."""
        return _done(notices.close(db(), actor(), notice_id, item_id, data.get("opinion"), _today()))


@blp.route(ITEM + "/return")
class Return(MethodView):
    @blp.arguments(RectificationReturnSchema, example={"opinion": "未附制度文件，请补充"})
    @blp.response(200, RectificationItemSchema)
    def post(self, data: dict[str, Any], notice_id: int, item_id: int) -> Any:
        """Finance returns the reply with an opinion → open again. 409 unless answered."""
        return _done(notices.return_reply(db(), actor(), notice_id, item_id, data["opinion"], _today()))


@blp.route("/projects/<int:project_id>/result-application")
class ResultApplication(MethodView):
    @blp.response(200, ResultApplicationSchema)
    def get(self, project_id: int) -> Any:
        """The grade, the suggested recommendation, the decision so far, the rectification status.
        409 before the stage opens."""
        return service.get(db(), actor(), project_id)

    @blp.arguments(
        ResultApplicationWriteSchema,
        example={"budget_recommendation": "improve", "recommendation_reason": "", "disclose": True},
    )
    @blp.response(200, ResultApplicationSchema)
    def put(self, data: dict[str, Any], project_id: int) -> Any:
        """Finance sets the budget recommendation and whether the results are disclosed (公开);
        `disclose: false` withdraws a disclosure. A recommendation other than
        `suggested_recommendation` (from the accepted key evaluation's grade, else the
        self-evaluation's, through the program's settings) needs `recommendation_reason` (422)."""
        return _done(service.decide(db(), actor(), project_id, data))


@blp.route("/public/disclosures")
class Disclosures(MethodView):
    @blp.doc(security=[])
    @blp.arguments(PublicQuerySchema, location="query")
    @blp.response(200, DisclosurePage)
    def get(self, args: dict[str, Any]) -> Any:
        """No login: the results tenants disclosed, newest first; `tenant_code` (6 digits) and `year`
        filter. Cacheable for five minutes."""
        found = public.disclosures(
            runtime().db,
            tenant_code=args["tenant_code"],
            year=args["year"],
            page=args["page"],
            page_size=args["page_size"],
        )
        return found, 200, {"Cache-Control": PUBLIC_CACHE}
