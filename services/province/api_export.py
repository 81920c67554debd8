"""HTTP for the province dashboard's Excel export (thin): start the job, then stream its file."""

from __future__ import annotations

from typing import Any

from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint

from jixiao.platform.core import exports
from jixiao.platform.web.api.platform import JobStartedSchema
from jixiao.platform.web.context import actor, db, runtime

from . import excel
from .schemas import DashboardQuerySchema

blp = Blueprint(
    "province_export",
    __name__,
    url_prefix="/api/v1/province",
    description="省级汇总：看板导出 Excel（试点汇总表，后台任务）",
)


@blp.route("/dashboard/export")
class DashboardExport(MethodView):
    @blp.arguments(DashboardQuerySchema, location="query")
    @blp.response(202, JobStartedSchema)
    def post(self, args: dict[str, Any]) -> Any:
        """Export the dashboard (with the same filters as GET /api/v1/province/dashboard) as a
        试点汇总表 .xlsx, as a job: poll GET /api/v1/jobs/{job_id}, then GET
        /api/v1/province/dashboard/export/{job_id} for the file. A county: 403."""
        filters = excel.filters_of(args)
        return {"job_id": excel.start_export(db(), actor(), args["program_id"], filters)}


@blp.route("/dashboard/export/<string:job_id>")
class DashboardExportFile(MethodView):
    @blp.doc(
        responses={
            "200": {
                "description": "试点汇总表（.xlsx，附件 试点汇总表_<试点名>_<地区>.xlsx）",
                "content": {exports.XLSX_MIME: {"schema": {"type": "string", "format": "binary"}}},
            },
            "404": {"description": "不是调用者本人的任务，或不是看板的导出"},
            "409": {"description": "导出任务尚未完成（或已失败）"},
        }
    )
    def get(self, job_id: str) -> Any:
        """The exported file of the caller's own finished dashboard export job, streamed from the
        object store; 409 while the job runs."""
        who, rt = actor(), runtime()
        found = excel.download(db(), who, rt.jobs.info(job_id, who))
        opened = exports.open_file(rt.store, found)
        response = Response(opened.chunks, mimetype=opened.mimetype, headers=opened.headers)
        response.call_on_close(opened.close)
        return response
