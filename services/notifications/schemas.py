"""Schemas of notifications (API.md "Platform": `/api/v1/me/notifications`)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from jixiao.platform.core import messages  # noqa: F401 - Chinese defaults before any field is built
from jixiao.platform.core.schema import InputSchema

from .models import KINDS


class NotificationQuerySchema(InputSchema):
    unread = fields.Bool(metadata={"description": "true: unread only; false: read only"})
    page = fields.Int(load_default=1, validate=validate.Range(min=1))
    page_size = fields.Int(load_default=50, validate=validate.Range(min=1, max=200))


class NotificationSchema(Schema):
    id = fields.Int()
    kind = fields.Str(metadata={"enum": list(KINDS)})
    kind_name = fields.Function(lambda n: KINDS.get(n.kind, n.kind))
    title = fields.Str()
    body = fields.Str()
    link = fields.Str()
    project_id = fields.Int(allow_none=True)
    stage = fields.Str(allow_none=True)
    created_at = fields.DateTime()
    read_at = fields.DateTime(allow_none=True)
    read = fields.Function(lambda n: n.read_at is not None)


class NotificationPageSchema(Schema):
    items = fields.List(fields.Nested(NotificationSchema))
    total = fields.Int()
    page = fields.Int()
    page_size = fields.Int()
    unread = fields.Int(metadata={"description": "the caller's unread count (the header badge)"})


class ReadAllArgsSchema(InputSchema):
    up_to = fields.Int(
        load_default=None,
        validate=validate.Range(min=1),
        metadata={"description": "only notifications with an id up to this one (what the client has shown)"},
    )


class ReadAllSchema(Schema):
    marked = fields.Int()
    unread = fields.Int()
