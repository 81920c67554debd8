"""HTTP for the work queue: `GET /api/v1/me/tasks` (待办; `?done=true` for 已办). Thin."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from jixiao.platform.web.context import actor, db

from . import service
from .schemas import TaskListSchema, TaskQuerySchema

blp = Blueprint("tasks", __name__, url_prefix="/api/v1", description="待办与已办")


@blp.route("/me/tasks")
class MyTasks(MethodView):
    @blp.arguments(TaskQuerySchema, location="query")
    @blp.response(200, TaskListSchema)
    def get(self, args: dict[str, Any]) -> Any:
        """The caller's to-do items (待办), overdue first, derived from the stages' state; with
        `done=true` what the caller has done (已办), newest first, from the audit trail."""
        page, page_size = args.pop("page"), args.pop("page_size")
        if args.pop("done"):
            done = service.done_for(db(), actor(), page=page, page_size=page_size)
            items = [
                {
                    **asdict(d),
                    "kind": "done",
                    "kind_name": "已办",
                    "title": d.action_name,
                    "stage_name": d.stage_name,
                    "since": d.at,
                    "deadline": None,
                    "overdue": False,
                    "detail": d.summary,
                    "link": d.link,
                }
                for d in done.items
            ]
            return {"items": items, "total": done.total, "page": done.page, "page_size": done.page_size}
        tasks = service.tasks_for(db(), actor(), **args)
        window = tasks[(page - 1) * page_size : page * page_size]
        return {"items": window, "total": len(tasks), "page": page, "page_size": page_size}
