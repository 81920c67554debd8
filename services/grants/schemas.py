"""Schemas of grants (API.md: POST /projects/{id}/grants, DELETE …/grants/{gid}; GET /grants)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from marshmallow import Schema, ValidationError, fields

from jixiao.platform.core import messages  # noqa: F401 - Chinese defaults before any field is built
from jixiao.platform.core.schema import InputSchema

from .models import ACTIONS


class Expiry(fields.Field):
    """An ISO date (through the end of that day in the province) or date-time (without a zone: the
    province's)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> date | datetime:
        text = str(value).strip() if value is not None else ""
        try:
            return datetime.fromisoformat(text) if "T" in text or " " in text else date.fromisoformat(text)
        except ValueError as exc:
            raise ValidationError(
                "授权截止时间须为日期（2027-06-30）或日期时间（2027-06-30T18:00:00+08:00）"
            ) from exc


class GrantCreateSchema(InputSchema):
    evaluator_org_id = fields.Int(required=True, metadata={"description": "第三方机构"})
    user_ids = fields.List(
        fields.Int(), load_default=list, metadata={"description": "只授权给机构的这些用户；省略为全机构"}
    )
    actions = fields.List(
        fields.Str(metadata={"enum": list(ACTIONS)}), required=True, metadata={"description": "授权事项"}
    )
    expires_at = Expiry(
        required=True,
        metadata={"type": "string", "description": "授权截止时间（日期：当日结束）", "example": "2027-06-30"},
    )


class GrantRevokeSchema(InputSchema):
    reason = fields.Str(load_default=None, metadata={"description": "撤销原因", "multiline": True})


class GrantSchema(Schema):
    id = fields.Int()
    project_id = fields.Int()
    project_name = fields.Function(lambda g: g.project.name)
    tenant_code = fields.Function(lambda g: g.project.owner.code)
    evaluator_org_id = fields.Int()
    evaluator_org_name = fields.Function(lambda g: g.org.name)
    user_ids = fields.List(fields.Int())
    actions = fields.List(fields.Str())
    action_names = fields.Function(lambda g: [ACTIONS[a] for a in g.actions if a in ACTIONS])
    expires_at = fields.DateTime()
    granted_by = fields.Str()
    granted_at = fields.DateTime()
    revoked_by = fields.Str(allow_none=True)
    revoked_at = fields.DateTime(allow_none=True)
    revoke_reason = fields.Str(allow_none=True)
    status = fields.Method("_status", metadata={"enum": ["active", "expired", "revoked"]})

    def _status(self, grant: Any) -> str:
        from jixiao.platform.core.db import utcnow

        if grant.revoked_at is not None:
            return "revoked"
        return "active" if grant.live(utcnow()) else "expired"


class GrantListSchema(Schema):
    items = fields.List(fields.Nested(GrantSchema))
    total = fields.Int()
