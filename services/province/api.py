"""HTTP for the province's views (thin)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from jixiao.platform.core.clock import today_in
from jixiao.platform.web.context import actor, db, runtime

from . import dashboard
from .schemas import DashboardQuerySchema, DashboardSchema

blp = Blueprint(
    "province",
    __name__,
    url_prefix="/api/v1/province",
    description="省级汇总：试点看板（市、县分组，阶段、逾期、预警、等级、预算执行、整改、报告与验收）",
)


@blp.route("/dashboard")
class Dashboard(MethodView):
    @blp.arguments(DashboardQuerySchema, location="query")
    @blp.response(200, DashboardSchema)
    def get(self, args: dict[str, Any]) -> Any:
        """Per participating tenant (grouped by city) and its projects, with totals per city and
        for the caller's province (a city: its branch; a county: 403). Filters: `city`, `stage`
        (or `done`), `grade` (either evaluation's), `overdue`, `warning` (a colour in the latest
        round). A fixed number of SQL statements, whatever the number of tenants and projects."""
        filters = dashboard.Filters(
            city=args.get("city"),
            stage=args.get("stage"),
            grade=args.get("grade"),
            overdue=args.get("overdue"),
            warning=args.get("warning"),
        )
        today = today_in(runtime().settings.timezone)
        return dashboard.build(db(), actor(), args["program_id"], filters, today)
