"""HTTP for grants (thin)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from jixiao.platform.web.context import actor, db, runtime

from . import service
from .schemas import GrantCreateSchema, GrantListSchema, GrantRevokeSchema, GrantSchema

blp = Blueprint(
    "grants",
    __name__,
    url_prefix="/api/v1",
    description="第三方授权：财政局管理员授权第三方机构在限期内就一个项目开展指定事项，可随时撤销",
)


@blp.route("/projects/<int:project_id>/grants")
class ProjectGrants(MethodView):
    @blp.response(200, GrantListSchema)
    def get(self, project_id: int) -> dict[str, Any]:
        """The project's grants, newest first (an evaluator: its own)."""
        found = service.of_project(db(), actor(), project_id)
        return {"items": found, "total": len(found)}

    @blp.arguments(GrantCreateSchema)
    @blp.response(201, GrantSchema)
    def post(self, data: dict[str, Any], project_id: int) -> Any:
        """Grant an evaluator organisation (or some of its users) actions on this project until an
        expiry — bureau admin of the project's tenant; 422 names every problem."""
        s = db()
        found = service.grant(s, actor(), project_id, data, runtime().settings.timezone)
        s.commit()
        return found


@blp.route("/projects/<int:project_id>/grants/<int:grant_id>")
class ProjectGrant(MethodView):
    @blp.arguments(GrantRevokeSchema, location="json", required=False)
    @blp.response(200, GrantSchema)
    def delete(self, data: dict[str, Any] | None, project_id: int, grant_id: int) -> Any:
        """Revoke a grant (at once: the evaluator's next request is refused with the reason)."""
        s = db()
        found = service.revoke(s, actor(), project_id, grant_id, (data or {}).get("reason"))
        s.commit()
        return found


@blp.route("/grants")
class Grants(MethodView):
    @blp.response(200, GrantListSchema)
    def get(self) -> dict[str, Any]:
        """The caller's grants: an evaluator its organisation's; a tenant those of its subtree (the
        province: all)."""
        found = service.listing(db(), actor())
        return {"items": found, "total": len(found)}
