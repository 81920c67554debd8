"""HTTP for the province's views (thin)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import jsonify
from flask.views import MethodView
from flask_smorest import Blueprint

from jixiao.platform.core.clock import today_in
from jixiao.platform.web.context import actor, db, runtime

from . import comparison, dashboard
from .dashboard.collector import paused
from .schemas import (
    ComparisonQuerySchema,
    ComparisonSchema,
    DashboardQuerySchema,
    DashboardSchema,
    dashboard_json,
)

blp = Blueprint(
    "province",
    __name__,
    url_prefix="/api/v1/province",
    description="省级汇总：试点看板（市、县分组，阶段、逾期、预警、等级、预算执行、整改、报告与验收）；同一指标的横向对比",
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
        with paused():  # tens of thousands of short-lived containers (dashboard/collector.py)
            built = dashboard.build(db(), actor(), args["program_id"], filters, today)
            return jsonify(dashboard_json(built))  # = DashboardSchema().dump(built), faster


@blp.route("/indicator-comparison")
class IndicatorComparison(MethodView):
    @blp.arguments(ComparisonQuerySchema, location="query")
    @blp.response(200, ComparisonSchema)
    def get(self, args: dict[str, Any]) -> Any:
        """One library indicator across tenants: every visible project whose approved targets use it
        (or an indicator derived from it, `derived: true`) with target, unit, latest actual and
        completion; values normalised where the units allow (元/万元/亿元 → 元, 个/万个 → 个,
        天/月/年 → 天, %); outliers by the modified z-score on the MAD (`method`, *default*
        |z| > 3.5). The province sees all, a city its branch, a county 403."""
        given = args.get("threshold")
        threshold = comparison.DEFAULT_THRESHOLD if given is None else Decimal(str(given))
        return comparison.compare(
            db(), actor(), args["indicator_id"], threshold=threshold, program_id=args.get("program_id")
        )
