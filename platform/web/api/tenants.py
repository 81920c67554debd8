"""HTTP for tenants, users and evaluator organisations (thin: parse → service → serialise)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from jixiao.tenants import evaluators, service, users
from jixiao.tenants.schemas import (
    EvaluatorOrgSchema,
    EvaluatorUserCreateSchema,
    PageQuerySchema,
    TenantCreateSchema,
    TenantQuerySchema,
    TenantSchema,
    UserCreateSchema,
    UserSchema,
    UserUpdateSchema,
    page_schema,
)

from ..context import actor, db

blp = Blueprint("tenants", __name__, url_prefix="/api/v1", description="行政区划（租户）、用户与第三方机构")

TenantPage = page_schema(TenantSchema, "TenantPage")
UserPage = page_schema(UserSchema, "UserPage")
EvaluatorOrgPage = page_schema(EvaluatorOrgSchema, "EvaluatorOrgPage")


@blp.route("/tenants")
class Tenants(MethodView):
    @blp.arguments(TenantQuerySchema, location="query")
    @blp.response(200, TenantPage)
    def get(self, args: dict[str, Any]) -> Any:
        """List tenants: the province sees all; others themselves and their descendants."""
        return service.list_tenants(db(), actor(), **args)

    @blp.arguments(TenantCreateSchema)
    @blp.response(201, TenantSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """Create a city or county tenant (province admin)."""
        s = db()
        tenant = service.create_tenant(s, actor(), **data)
        s.commit()
        return tenant


@blp.route("/tenants/<string:code>")
class TenantByCode(MethodView):
    @blp.response(200, TenantSchema)
    def get(self, code: str) -> Any:
        """One tenant by its 6-digit code; another branch's tenant is 404."""
        return service.get_tenant(db(), actor(), code)


@blp.route("/tenants/<string:code>/users")
class TenantUsers(MethodView):
    @blp.arguments(PageQuerySchema, location="query")
    @blp.response(200, UserPage)
    def get(self, args: dict[str, Any], code: str) -> Any:
        """Users of a tenant (its admins, and admins above it, read-only)."""
        return users.list_users(db(), actor(), code, **args)

    @blp.arguments(UserCreateSchema)
    @blp.response(201, UserSchema)
    def post(self, data: dict[str, Any], code: str) -> Any:
        """Create a user in the tenant (its bureau admin, or the province admin)."""
        s = db()
        user = users.create_user(s, actor(), code, **data)
        s.commit()
        return user


@blp.route("/users/<int:user_id>")
class UserById(MethodView):
    @blp.response(200, UserSchema)
    def get(self, user_id: int) -> Any:
        """One user (walled: another tenant's user is 404)."""
        return users.get_user(db(), actor(), user_id)

    @blp.arguments(UserUpdateSchema)
    @blp.response(200, UserSchema)
    def patch(self, data: dict[str, Any], user_id: int) -> Any:
        """Change display name, roles, active flag or reset the password."""
        s = db()
        user = users.update_user(s, actor(), user_id, **data)
        s.commit()
        return user


@blp.route("/evaluator-orgs")
class EvaluatorOrgs(MethodView):
    @blp.arguments(PageQuerySchema, location="query")
    @blp.response(200, EvaluatorOrgPage)
    def get(self, args: dict[str, Any]) -> Any:
        """Third-party evaluator organisations (any bureau or province admin, to grant access)."""
        return evaluators.list_evaluator_orgs(db(), actor(), **args)

    @blp.arguments(EvaluatorOrgSchema)
    @blp.response(201, EvaluatorOrgSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """Register an organisation (province admin)."""
        s = db()
        org = evaluators.create_evaluator_org(s, actor(), **data)
        s.commit()
        return org


@blp.route("/evaluator-orgs/<int:org_id>/users")
class EvaluatorOrgUsers(MethodView):
    @blp.arguments(EvaluatorUserCreateSchema)
    @blp.response(201, UserSchema)
    def post(self, data: dict[str, Any], org_id: int) -> Any:
        """Create an evaluator user in the organisation (province admin)."""
        s = db()
        user = evaluators.create_evaluator_user(s, actor(), org_id, **data)
        s.commit()
        return user
