"""HTTP for notifications: list (unread first), mark one or all read. Thin."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from jixiao.platform.web.context import actor, db

from . import service
from .schemas import (
    NotificationPageSchema,
    NotificationQuerySchema,
    NotificationSchema,
    ReadAllArgsSchema,
    ReadAllSchema,
)

blp = Blueprint("notifications", __name__, url_prefix="/api/v1", description="消息通知")


@blp.route("/me/notifications")
class MyNotifications(MethodView):
    @blp.arguments(NotificationQuerySchema, location="query")
    @blp.response(200, NotificationPageSchema)
    def get(self, args: dict[str, Any]) -> Any:
        """The caller's notifications, unread first, newest first, with the unread count."""
        page = service.list_notifications(db(), actor(), **args)
        return {
            "items": page.items,
            "total": page.total,
            "page": page.page,
            "page_size": page.page_size,
            "unread": service.unread_count(db(), actor()),
        }


@blp.route("/me/notifications/<int:notification_id>/read")
class ReadNotification(MethodView):
    @blp.response(200, NotificationSchema)
    def post(self, notification_id: int) -> Any:
        """Mark one of the caller's notifications read (another user's: 404)."""
        note = service.mark_read(db(), actor(), notification_id)
        db().commit()
        return note


@blp.route("/me/notifications/read-all")
class ReadAll(MethodView):
    @blp.arguments(ReadAllArgsSchema, location="query")
    @blp.response(200, ReadAllSchema)
    def post(self, args: dict[str, Any]) -> Any:
        """Mark all of the caller's notifications read (`?up_to=` id: only those the client has shown)."""
        marked = service.mark_all_read(db(), actor(), up_to=args["up_to"])
        db().commit()
        return {"marked": marked, "unread": service.unread_count(db(), actor())}
