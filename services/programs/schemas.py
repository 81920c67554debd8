"""Schemas of pilot programs (API.md "Programs and projects")."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from jixiao.platform.core import messages  # noqa: F401 - Chinese defaults before any field is built
from jixiao.platform.core.schema import InputSchema

from .models import DEADLINE_NAMES


class ProgramSchema(Schema):
    id = fields.Int()
    name = fields.Str()
    start = fields.Date()
    end = fields.Date()
    max_projects_per_tenant = fields.Int()
    tenant_codes = fields.Method("_codes")
    deadlines = fields.Dict(keys=fields.Str(), values=fields.Str())
    settings = fields.Dict(attribute="effective_settings")
    version = fields.Int()

    def _codes(self, obj) -> list[str]:
        return sorted(p.tenant.code for p in obj.participants)


class ProgramCreateSchema(InputSchema):
    name = fields.Str(required=True, metadata={"example": "2025年市县预算绩效一体化管理试点"})
    start = fields.Date(required=True)
    end = fields.Date(required=True)
    tenant_codes = fields.List(fields.Str(), required=True)
    max_projects_per_tenant = fields.Int(load_default=2)
    deadlines = fields.Dict(
        keys=fields.Str(validate=validate.OneOf(list(DEADLINE_NAMES))),
        values=fields.Date(),
        load_default=dict,
    )
    settings = fields.Dict(
        load_default=dict, metadata={"description": "覆盖默认设置（阈值、权重、佐证要求）"}
    )


class ProgramUpdateSchema(InputSchema):
    """PATCH: only the fields given change; `settings` replaces the program's overrides whole."""

    version = fields.Int(required=True, metadata={"description": "乐观锁：读取时的版本号"})
    name = fields.Str()
    start = fields.Date()
    end = fields.Date()
    tenant_codes = fields.List(fields.Str())
    max_projects_per_tenant = fields.Int()
    deadlines = fields.Dict(
        keys=fields.Str(validate=validate.OneOf(list(DEADLINE_NAMES))), values=fields.Date()
    )
    settings = fields.Dict(metadata={"description": "覆盖默认设置（阈值、权重、佐证要求）"})


class PageQuerySchema(InputSchema):
    page = fields.Int(load_default=1, validate=validate.Range(min=1))
    page_size = fields.Int(load_default=50, validate=validate.Range(min=1, max=200))
