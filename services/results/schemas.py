"""Schemas of the result application (API.md: /projects/{id}/rectification-notices,
/rectification-notices/{nid}/items/{iid}/…, /projects/{id}/result-application, /public/disclosures)."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from jixiao.platform.core import messages  # noqa: F401 - Chinese defaults before any field is built
from jixiao.platform.core.schema import InputSchema

from .models import ENTRY_ACTIONS, GRADE_SOURCES, ITEM_STATUSES, RECOMMENDATIONS


def _multiline(description: str) -> dict[str, Any]:
    return {"description": description, "multiline": True}


GRADE = {"type": "string", "enum": ["优", "良", "中", "差"], "nullable": True}
RECOMMENDATION = {"enum": list(RECOMMENDATIONS)}

# --- input ------------------------------------------------------------------------------------


class RectificationItemWriteSchema(InputSchema):
    text = fields.Str(load_default="", metadata=_multiline("整改内容（必填）"))
    deadline = fields.Date(
        load_default=None, allow_none=True, metadata={"description": "整改期限（必填，不早于今天，省时区）"}
    )


class RectificationNoticeIssueSchema(InputSchema):
    items = fields.List(
        fields.Nested(RectificationItemWriteSchema),
        required=True,
        metadata={"description": "整改事项（至少一项）"},
    )
    text = fields.Str(load_default="", metadata=_multiline("通知正文（可选）"))


class RectificationReplySchema(InputSchema):
    text = fields.Str(required=True, metadata=_multiline("整改情况"))
    evidence_ids = fields.List(
        fields.Int(), load_default=list, metadata={"description": "本项目结果应用阶段的佐证材料 id"}
    )


class RectificationCloseSchema(InputSchema):
    opinion = fields.Str(load_default="", metadata=_multiline("销号意见（可选）"))


class RectificationReturnSchema(InputSchema):
    opinion = fields.Str(required=True, metadata=_multiline("退回意见"))


class ResultApplicationWriteSchema(InputSchema):
    budget_recommendation = fields.Str(
        required=True,
        validate=validate.OneOf(RECOMMENDATIONS),
        metadata={"description": "prioritise 优先保障 / improve 督促改进 / reduce 削减 / cancel 取消"},
    )
    recommendation_reason = fields.Str(load_default="", metadata=_multiline("与建议不同时必填：理由"))
    disclose = fields.Bool(required=True, metadata={"description": "true 公开结果；false 不公开（撤回）"})
    findings = fields.Str(
        load_default="",
        metadata=_multiline("公开的主要发现（可选；默认取重点评价的发现，无则取自评的评价结论与存在问题）"),
    )
    lock_version = fields.Int(load_default=None, allow_none=True, metadata={"description": "乐观锁版本"})


class PublicQuerySchema(InputSchema):
    tenant_code = fields.Str(
        load_default=None, validate=validate.Length(max=6), metadata={"description": "地区代码（6 位）"}
    )
    year = fields.Int(
        load_default=None, validate=validate.Range(min=2000, max=2100), metadata={"description": "项目年度"}
    )
    page = fields.Int(load_default=1, validate=validate.Range(min=1))
    page_size = fields.Int(load_default=50, validate=validate.Range(min=1, max=200))


# --- output -----------------------------------------------------------------------------------


class RectificationEntrySchema(Schema):
    action = fields.Str(metadata={"enum": list(ENTRY_ACTIONS)})
    text = fields.Str()
    evidence_ids = fields.List(fields.Int())
    by = fields.Str(attribute="author")
    at = fields.DateTime(attribute="written_at")


class RectificationItemSchema(Schema):
    id = fields.Int()
    notice_id = fields.Int()
    project_id = fields.Int()
    position = fields.Int()
    text = fields.Str()
    deadline = fields.Date()
    status = fields.Str(metadata={"enum": list(ITEM_STATUSES)})
    overdue = fields.Bool(metadata={"description": "未销号且已过整改期限（省时区的日历日）"})
    closed_by = fields.Str(allow_none=True)
    closed_at = fields.DateTime(allow_none=True)
    lock_version = fields.Int()
    entries = fields.List(fields.Nested(RectificationEntrySchema))


class RectificationNoticeSchema(Schema):
    id = fields.Int()
    project_id = fields.Int()
    text = fields.Str()
    issued_by = fields.Str()
    issued_at = fields.DateTime()
    closed = fields.Int(attribute="closed_count", metadata={"description": "已销号的事项数"})
    items = fields.List(fields.Nested(RectificationItemSchema))


class RectificationStatusSchema(Schema):
    items = fields.Int()
    closed = fields.Int()


class ResultApplicationSchema(Schema):
    project_id = fields.Int()
    grade = fields.Str(allow_none=True, metadata=GRADE)
    grade_source = fields.Str(allow_none=True, metadata={"enum": list(GRADE_SOURCES), "nullable": True})
    self_evaluation_score = fields.Str(allow_none=True)
    self_evaluation_grade = fields.Str(allow_none=True, metadata=GRADE)
    key_evaluation_grade = fields.Str(allow_none=True, metadata=GRADE)
    suggested_recommendation = fields.Str(allow_none=True, metadata={**RECOMMENDATION, "nullable": True})
    budget_recommendation = fields.Str(allow_none=True, metadata={**RECOMMENDATION, "nullable": True})
    recommendation_reason = fields.Str()
    findings = fields.Str()
    disclosed = fields.Bool()
    disclosed_at = fields.DateTime(allow_none=True)
    decided_by = fields.Str(allow_none=True)
    decided_at = fields.DateTime(allow_none=True)
    lock_version = fields.Int(allow_none=True)
    rectification = fields.Nested(RectificationStatusSchema)
    complete = fields.Bool(metadata={"description": "结果应用已完成（全部整改事项销号且已作出预算安排建议）"})


class DisclosureSchema(Schema):
    project_id = fields.Int()
    project_name = fields.Str()
    tenant_code = fields.Str()
    tenant_name = fields.Str()
    department = fields.Str()
    years = fields.Str()
    budget_amount = fields.Decimal(
        as_string=True, places=2, metadata={"type": "string", "format": "decimal", "example": "1250000.00"}
    )
    self_evaluation_score = fields.Decimal(
        as_string=True,
        places=2,
        allow_none=True,
        metadata={"type": "string", "format": "decimal", "example": "90.83"},
    )
    self_evaluation_grade = fields.Str(allow_none=True, metadata=GRADE)
    key_evaluation_grade = fields.Str(allow_none=True, metadata=GRADE)
    findings = fields.Str()
    budget_recommendation = fields.Str(metadata=RECOMMENDATION)
    rectification = fields.Function(
        lambda d: {"items": d.items_total, "closed": d.items_closed},
        metadata={"type": "object", "description": "整改事项：已销号 / 总数"},
    )
    disclosed_at = fields.DateTime(allow_none=True)
