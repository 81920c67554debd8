"""Schemas of pilot projects (API.md "Programs and projects")."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from jixiao.platform.core import messages  # noqa: F401 - Chinese defaults before any field is built
from jixiao.platform.core.schema import InputSchema
from jixiao.services.programs.models import STAGE_NAMES

from .models import FUND_SOURCES, PROJECT_CLASSES, STAGE_STATUS_NAMES
from .service import is_overdue, stage_deadline


class StageSchema(Schema):
    stage = fields.Str()
    name = fields.Function(lambda row: STAGE_NAMES[row.stage])
    status = fields.Str(metadata={"enum": list(STAGE_STATUS_NAMES)})
    status_name = fields.Function(lambda row: STAGE_STATUS_NAMES[row.status])
    opened_at = fields.DateTime(allow_none=True)
    approved_at = fields.DateTime(allow_none=True)


class ProjectSchema(Schema):
    id = fields.Int()
    program_id = fields.Int()
    tenant_code = fields.Str(attribute="owner.code")
    tenant_name = fields.Str(attribute="owner.name")
    name = fields.Str()
    department = fields.Str()
    implementing_unit = fields.Str()
    budget_amount = fields.Decimal(
        places=2, as_string=True, metadata={"type": "string", "format": "decimal", "example": "1250000.00"}
    )
    fund_source = fields.Str()
    project_class = fields.Str()
    years = fields.List(fields.Int())
    serves_public = fields.Bool()
    stage = fields.Str()
    status = fields.Str()
    closed_reason = fields.Str(allow_none=True)
    stages = fields.Method("_stages")
    version = fields.Int()
    created_at = fields.DateTime()

    def _stages(self, project) -> list[dict[str, object]]:
        result = []
        for row in project.stages:
            item = StageSchema().dump(row)
            deadline = stage_deadline(project, row.stage)
            item["deadline"] = deadline.isoformat() if deadline else None
            item["overdue"] = is_overdue(project, row)
            result.append(item)
        return result


class ProjectCreateSchema(InputSchema):
    program_id = fields.Int(required=True)
    name = fields.Str(required=True, metadata={"example": "兴庆区老旧小区改造项目"})
    department = fields.Str(
        required=True, validate=validate.Length(max=100), metadata={"example": "兴庆区住房和城乡建设局"}
    )
    implementing_unit = fields.Str(
        required=True, validate=validate.Length(max=100), metadata={"example": "兴庆区城市建设服务中心"}
    )
    budget_amount = fields.Raw(
        required=True,
        metadata={"type": "string", "example": "1250000.00", "description": "元，字符串，最多两位小数"},
    )
    fund_source = fields.Str(required=True, metadata={"enum": list(FUND_SOURCES)})
    project_class = fields.Str(required=True, metadata={"enum": list(PROJECT_CLASSES)})
    years = fields.List(fields.Raw(), required=True, metadata={"example": [2023]})
    serves_public = fields.Bool(load_default=True, metadata={"description": "面向公众：须设满意度指标"})


class ProjectQuerySchema(InputSchema):
    program_id = fields.Int()
    stage = fields.Str()
    tenant_code = fields.Str()
    page = fields.Int(load_default=1, validate=validate.Range(min=1))
    page_size = fields.Int(load_default=50, validate=validate.Range(min=1, max=200))
