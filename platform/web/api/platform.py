"""HTTP for the platform itself: who am I, job status, the audit trail."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from sqlalchemy import select

from jixiao.platform.core import (
    audit_query,
    messages,  # noqa: F401 - Chinese defaults before any field is built
    selfcheck,
)
from jixiao.platform.core.actor import Actor
from jixiao.platform.core.authz import authorize, policy
from jixiao.platform.core.schema import InputSchema
from jixiao.platform.core.tenancy import in_reach
from jixiao.tenants.models import ROLE_NAMES, Tenant, User
from jixiao.tenants.schemas import page_schema

from ..context import actor, db, runtime

blp = Blueprint("platform", __name__, url_prefix="/api/v1", description="平台：当前用户、后台任务、审计日志")


@policy("me.read", scope="profile")
def _may_read_me(actor: Actor) -> None:
    """Anyone with a valid token and the profile scope."""


@policy("jobs.read", scope="profile")
def _may_read_job(actor: Actor) -> None:
    """The job's own user (checked by the job facade)."""


class MeTenantSchema(Schema):
    code = fields.Str()
    name = fields.Str()
    level = fields.Str()
    parent_code = fields.Str(allow_none=True)


class MeSchema(Schema):
    id = fields.Int()
    username = fields.Str()
    display_name = fields.Str()
    tenant = fields.Nested(MeTenantSchema, allow_none=True)
    evaluator_org = fields.Dict(allow_none=True)
    roles = fields.List(fields.Str())
    role_names = fields.List(fields.Str())
    scopes = fields.List(fields.Str())
    visible_tenant_codes = fields.List(fields.Str())


class JobSchema(Schema):
    id = fields.Str()
    status = fields.Str(metadata={"enum": ["queued", "started", "finished", "failed"]})
    progress = fields.Int()
    message = fields.Str()
    result = fields.Raw(allow_none=True)
    error = fields.Str(allow_none=True)
    description = fields.Str()


class AuditEventSchema(Schema):
    id = fields.Int()
    at = fields.DateTime()
    tenant_id = fields.Int(allow_none=True)
    user_id = fields.Int(allow_none=True)
    username = fields.Str()
    action = fields.Str()
    object_type = fields.Str()
    object_id = fields.Str(allow_none=True)
    before = fields.Raw(allow_none=True)
    after = fields.Raw(allow_none=True)
    request_id = fields.Str(allow_none=True)
    hash = fields.Str()


class AuditQuerySchema(InputSchema):
    object_type = fields.Str()
    object_id = fields.Str()
    user_id = fields.Int()
    username = fields.Str()
    action = fields.Str(metadata={"description": "prefix, e.g. `user.`"})
    since = fields.AwareDateTime(default_timezone=None)
    until = fields.AwareDateTime(default_timezone=None)
    page = fields.Int(load_default=1, validate=validate.Range(min=1))
    page_size = fields.Int(load_default=50, validate=validate.Range(min=1, max=200))


AuditPage = page_schema(AuditEventSchema, "AuditEventPage")


@blp.route("/me")
class Me(MethodView):
    @blp.response(200, MeSchema)
    def get(self) -> Any:
        """The user, tenant, roles and scopes of this token (or session)."""
        who = actor()
        authorize(who, "me.read")
        s = db()
        user = s.get(User, who.user_id)
        tenant = s.get(Tenant, who.tenant_id) if who.tenant_id else None
        codes = (
            s.execute(select(Tenant.code).where(in_reach(Tenant.id, who)).order_by(Tenant.code))
            .scalars()
            .all()
            if who.readable_tenant_ids
            else []
        )
        return {
            "id": who.user_id,
            "username": who.username,
            "display_name": user.display_name if user else who.username,
            "tenant": {
                "code": tenant.code,
                "name": tenant.name,
                "level": tenant.level,
                "parent_code": tenant.parent.code if tenant.parent else None,
            }
            if tenant
            else None,
            "evaluator_org": {"id": user.evaluator_org.id, "name": user.evaluator_org.name}
            if user and user.evaluator_org
            else None,
            "roles": sorted(who.roles),
            "role_names": [ROLE_NAMES[r] for r in sorted(who.roles)],
            "scopes": sorted(who.scopes),
            "visible_tenant_codes": sorted(codes),
        }


@blp.route("/jobs/<string:job_id>")
class JobStatus(MethodView):
    @blp.response(200, JobSchema)
    def get(self, job_id: str) -> Any:
        """Status and progress of a background job; only the user who started it sees it."""
        who = actor()
        authorize(who, "jobs.read")
        return runtime().jobs.info(job_id, who)


@blp.route("/audit-events")
class AuditEvents(MethodView):
    @blp.arguments(AuditQuerySchema, location="query")
    @blp.response(200, AuditPage)
    def get(self, args: dict[str, Any]) -> Any:
        """The audit trail of the caller's tenant and the tenants below it (province: all)."""
        return audit_query.list_events(db(), actor(), **args)


class JobStartedSchema(Schema):
    job_id = fields.Str()


@blp.route("/system/selfcheck")
class SelfCheck(MethodView):
    @blp.response(202, JobStartedSchema)
    def post(self) -> Any:
        """Start the system self-check job (audit chain, database, object store); province admin."""
        return {"job_id": selfcheck.start(actor())}
