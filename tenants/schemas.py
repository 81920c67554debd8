"""Marshmallow schemas for tenants, users and evaluator organisations (API.md "Tenants and users")."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from jixiao.platform.core import messages  # noqa: F401 - Chinese defaults before any field is built
from jixiao.platform.core.dumping import Items
from jixiao.platform.core.schema import InputSchema

from .models import LEVELS, ROLES


class TenantSchema(Schema):
    id = fields.Int(dump_only=True)
    code = fields.Str(metadata={"example": "640104"})
    name = fields.Str(metadata={"example": "兴庆区"})
    level = fields.Str(metadata={"enum": list(LEVELS)})
    parent_code = fields.Method("_parent_code")
    is_active = fields.Bool()

    def _parent_code(self, obj) -> str | None:
        return obj.parent.code if obj.parent else None


class TenantCreateSchema(InputSchema):
    code = fields.Str(required=True, metadata={"example": "640107"})
    name = fields.Str(required=True, validate=validate.Length(min=1, max=100))
    level = fields.Str(required=True, validate=validate.OneOf(LEVELS))
    parent_code = fields.Str(load_default=None, allow_none=True)


class TenantQuerySchema(InputSchema):
    page = fields.Int(load_default=1, validate=validate.Range(min=1))
    page_size = fields.Int(load_default=50, validate=validate.Range(min=1, max=200))
    level = fields.Str(load_default=None, validate=validate.OneOf(LEVELS))
    parent_code = fields.Str(load_default=None)


class PageQuerySchema(InputSchema):
    page = fields.Int(load_default=1, validate=validate.Range(min=1))
    page_size = fields.Int(load_default=50, validate=validate.Range(min=1, max=200))


class UserSchema(Schema):
    id = fields.Int(dump_only=True)
    username = fields.Str()
    display_name = fields.Str()
    tenant_code = fields.Method("_tenant_code")
    evaluator_org_id = fields.Int(allow_none=True)
    roles = fields.List(fields.Str())
    email = fields.Str(allow_none=True)
    is_active = fields.Bool()
    created_at = fields.DateTime()
    last_login_at = fields.DateTime(allow_none=True)

    def _tenant_code(self, obj) -> str | None:
        return obj.tenant.code if obj.tenant else None


# The user form's fields are checked by the service, all at once (an empty username, a weak
# password, no role and a bad e-mail address are named in one answer): the schema only parses.
class UserCreateSchema(InputSchema):
    username = fields.Str(load_default="", metadata={"example": "xq.finance2", "description": "必填"})
    display_name = fields.Str(
        load_default="",
        validate=validate.Length(max=100),
        metadata={"example": "王科长", "description": "必填"},
    )
    password = fields.Str(
        load_default="", load_only=True, metadata={"example": "Xq@2026ok", "description": "必填"}
    )
    roles = fields.List(
        fields.Str(metadata={"enum": list(ROLES)}), load_default=list, metadata={"description": "至少一个"}
    )
    email = fields.Str(metadata={"example": "wang@czj.xq.gov.cn", "description": "通知邮件（可选）"})


class UserUpdateSchema(InputSchema):
    display_name = fields.Str(validate=validate.Length(max=100))
    roles = fields.List(fields.Str(metadata={"enum": list(ROLES)}))
    is_active = fields.Bool()
    password = fields.Str(load_only=True)
    email = fields.Str(metadata={"description": "通知邮件；空字符串清除"})


class EvaluatorUserCreateSchema(InputSchema):
    username = fields.Str(required=True)
    display_name = fields.Str(required=True, validate=validate.Length(max=100))
    password = fields.Str(required=True, load_only=True)


class EvaluatorOrgSchema(InputSchema):
    id = fields.Int(dump_only=True)
    name = fields.Str(required=True, validate=validate.Length(min=1, max=200))
    credit_code = fields.Str(load_default=None, allow_none=True)
    contact = fields.Str(load_default=None, allow_none=True, validate=validate.Length(max=100))


def page_schema(item: type[Schema], name: str) -> type[Schema]:
    """`{"items": [...], "total": N, "page": 1, "page_size": 50}`."""
    return Schema.from_dict(
        {
            "items": Items(item),  # each item by a plan compiled once (platform/core/dumping.py)
            "total": fields.Int(),
            "page": fields.Int(),
            "page_size": fields.Int(),
        },
        name=name,
    )
