"""Schemas of the work queue (API.md "Platform": `GET /api/v1/me/tasks`)."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from jixiao.platform.core import messages  # noqa: F401 - Chinese defaults before any field is built
from jixiao.platform.core.dumping import Items
from jixiao.platform.core.schema import InputSchema
from jixiao.services.projects.stages import stage_names

from .kinds import KIND_NAMES, Task


class TaskQuerySchema(InputSchema):
    done = fields.Bool(load_default=False, metadata={"description": "true: 已办 (from the audit trail)"})
    kind = fields.Str(metadata={"enum": list(KIND_NAMES)})
    stage = fields.Str(metadata={"enum": list(stage_names())})
    overdue = fields.Bool()
    page = fields.Int(load_default=1, validate=validate.Range(min=1))
    page_size = fields.Int(load_default=50, validate=validate.Range(min=1, max=200))


class TaskSchema(Schema):
    """A 待办 item; an 已办 item has `kind: done`, `action` and `at` (when it was done)."""

    kind = fields.Str(metadata={"enum": [*KIND_NAMES, "done"]})
    kind_name = fields.Str()
    title = fields.Str()
    project_id = fields.Int(allow_none=True)
    project_name = fields.Str()
    tenant_code = fields.Str()
    stage = fields.Str(metadata={"enum": list(stage_names())})
    stage_name = fields.Str()
    level = fields.Str(allow_none=True, metadata={"enum": ["first", "finance", "joint"]})
    version = fields.Int(attribute="number", allow_none=True)
    since = fields.DateTime(allow_none=True)
    deadline = fields.Date(allow_none=True)
    overdue = fields.Bool()
    detail = fields.Method(
        "_detail", metadata={"description": "e.g. 'xq.editor 提交（退回后重新提交）', a return's reasons"}
    )
    submitted_by = fields.Str(
        allow_none=True, metadata={"description": "待审核/待决策: who submitted (login name)"}
    )
    link = fields.Str(metadata={"description": "the page where it is done"})
    action = fields.Str(metadata={"description": "已办: the audited action"})
    at = fields.DateTime(metadata={"description": "已办: when"})

    def _detail(self, obj: Any) -> str:
        return obj.describe() if isinstance(obj, Task) else str(obj.get("detail") or "")


class TaskListSchema(Schema):
    items = Items(TaskSchema)  # each by a plan compiled once (platform/core/dumping.py)
    total = fields.Int()
    page = fields.Int()
    page_size = fields.Int()
