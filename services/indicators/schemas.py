"""Marshmallow schemas of the indicator library (API.md "Indicator library")."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate

from jixiao.platform.core import messages  # noqa: F401 - Chinese defaults before any field is built
from jixiao.platform.core.schema import InputSchema

from .models import DIRECTIONS, FRAMEWORK, KINDS, LEVEL1_OF, SCOPES, STATUSES, VALUE_BASES, VALUE_TYPES
from .rules import validate_fields

EXAMPLE = {
    "name": "参训人员满意度",
    "level2": "服务对象满意度",
    "category": None,
    "common_class": "培训",
    "kind": "common",
    "scope": "project",
    "explanation": "参训人员对培训内容、组织和效果的满意程度，按问卷满意及以上比例计算。",
    "source": "培训满意度问卷",
    "value_type": "quantitative",
    "direction": ">=",
    "unit": "%",
    "standard_value": "90",
    "value_basis": "历史标准",
    "historical_values": {"2022": "88", "2023": "91", "2024": "93"},
}


class FrameworkLevel2Schema(Schema):
    name = fields.Str()


class FrameworkLevel1Schema(Schema):
    name = fields.Str()
    children = fields.List(fields.Nested(FrameworkLevel2Schema))


class IndicatorFieldsSchema(InputSchema):
    name = fields.Str()
    level2 = fields.Str(metadata={"enum": list(LEVEL1_OF), "description": "二级指标（中文名）"})
    category = fields.Str(allow_none=True, metadata={"description": "行业领域，如 教育"})
    common_class = fields.Str(allow_none=True, metadata={"description": "共性类别，如 培训"})
    kind = fields.Str(metadata={"enum": list(KINDS)})
    scope = fields.Str(metadata={"enum": list(SCOPES)})
    explanation = fields.Str(metadata={"multiline": True})
    source = fields.Str(metadata={"multiline": True})
    value_type = fields.Str(metadata={"enum": list(VALUE_TYPES)})
    direction = fields.Str(metadata={"enum": list(DIRECTIONS)})
    unit = fields.Str()
    standard_value = fields.Str(metadata={"description": 'range 方向为 "下限,上限"'})
    value_basis = fields.Str(metadata={"enum": list(VALUE_BASES)})
    historical_values = fields.Dict(keys=fields.Str(), values=fields.Str())


class IndicatorCreateSchema(IndicatorFieldsSchema):
    derived_from = fields.Int(
        allow_none=True, metadata={"description": "派生：上级指标的 id；未给出的字段沿用上级指标"}
    )

    class Meta:
        metadata = {"example": EXAMPLE}

    def handle_error(self, error: ValidationError, data: Any, **kwargs: Any) -> None:
        """A field of the wrong type is refused here, before the service sees the body: add the
        field rules' problems of the other fields, so that one 422 names every problem at once."""
        if not isinstance(data, dict) or not isinstance(error.messages, dict) or data.get("derived_from"):
            return
        known = {k: v for k, v in data.items() if k in self.fields and k not in error.messages}
        for field, problems in validate_fields(known).items():
            if field not in error.messages:
                error.messages[field] = problems


class IndicatorPatchSchema(IndicatorFieldsSchema):
    version = fields.Int(required=True, metadata={"description": "乐观锁：当前版本号，过期 → 409"})


class IndicatorSchema(IndicatorFieldsSchema):
    id = fields.Int()
    code = fields.Str(metadata={"example": "640104-CC-0007"})
    level1 = fields.Str(attribute="level1_name")
    level2 = fields.Str(attribute="level2.name")
    owner_code = fields.Str(attribute="owner.code")
    owner_name = fields.Str(attribute="owner.name")
    shared = fields.Bool()
    status = fields.Str(validate=validate.OneOf(STATUSES))
    retired_reason = fields.Str(allow_none=True)
    retired_at = fields.DateTime(allow_none=True)
    derived_from = fields.Int(attribute="derived_from_id", allow_none=True)
    origin = fields.Int(attribute="origin_id", allow_none=True)
    version = fields.Int()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class IndicatorQuerySchema(InputSchema):
    q = fields.Str(
        metadata={
            "description": "在名称、解释、共性类别、行业领域中查找：中文片段，或其拼音/拼音首字母"
            "（peixun、px 与 培训 结果相同）"
        }
    )
    level1 = fields.Str(validate=validate.OneOf(list(FRAMEWORK)))
    level2 = fields.Str(validate=validate.OneOf(list(LEVEL1_OF)))
    category = fields.Str()
    common_class = fields.Str()
    kind = fields.Str(validate=validate.OneOf(KINDS))
    scope = fields.Str(validate=validate.OneOf(SCOPES))
    status = fields.Str(load_default="active", validate=validate.OneOf([*STATUSES, "all"]))
    owner = fields.Str(metadata={"description": "shared（省级共享）、own（本单位）或行政区划代码"})
    page = fields.Int(load_default=1, validate=validate.Range(min=1))
    page_size = fields.Int(load_default=50, validate=validate.Range(min=1, max=200))


class ReasonSchema(InputSchema):
    reason = fields.Str(required=True, metadata={"example": "政策调整，该指标不再适用", "multiline": True})


class IndicatorVersionSchema(Schema):
    version = fields.Int()
    action = fields.Str()
    data = fields.Dict()
    changed_by = fields.Str()
    changed_at = fields.DateTime()


class ProposalSchema(Schema):
    id = fields.Int()
    indicator = fields.Function(
        lambda p: {"id": p.indicator.id, "code": p.indicator.code, "name": p.indicator.name}
    )
    from_code = fields.Str(attribute="proposer.code")
    from_name = fields.Str(attribute="proposer.name")
    to_code = fields.Str(attribute="target.code")
    to_name = fields.Str(attribute="target.name")
    reason = fields.Str()
    status = fields.Str(metadata={"enum": ["pending", "accepted", "declined"]})
    decision_reason = fields.Str(allow_none=True)
    decided_by = fields.Str(allow_none=True)
    decided_at = fields.DateTime(allow_none=True)
    accepted_indicator_id = fields.Int(allow_none=True)
    proposed_by = fields.Str()
    created_at = fields.DateTime()


class ProposalQuerySchema(InputSchema):
    direction = fields.Str(validate=validate.OneOf(["incoming", "outgoing"]))
    status = fields.Str(validate=validate.OneOf(["pending", "accepted", "declined"]))
    page = fields.Int(load_default=1, validate=validate.Range(min=1))
    page_size = fields.Int(load_default=50, validate=validate.Range(min=1, max=200))


class DecisionSchema(InputSchema):
    decision = fields.Str(required=True, validate=validate.OneOf(["accept", "decline"]))
    reason = fields.Str(load_default=None, allow_none=True, metadata={"multiline": True})


class TemplateItemSchema(Schema):
    id = fields.Int(attribute="indicator.id")
    code = fields.Str(attribute="indicator.code")
    name = fields.Str(attribute="indicator.name")
    level2 = fields.Function(lambda item: item.indicator.level2.name)
    status = fields.Str(attribute="indicator.status")


class TemplateSchema(Schema):
    id = fields.Int()
    name = fields.Str()
    project_class = fields.Str()
    shared = fields.Bool()
    version = fields.Int()
    indicator_ids = fields.Function(lambda t: [item.indicator_id for item in t.items])
    indicators = fields.List(fields.Nested(TemplateItemSchema), attribute="items")


class TemplateWriteSchema(InputSchema):
    # Not `required`: the service names every missing or empty field at once (one 422).
    name = fields.Str(load_default="", metadata={"example": "培训类"})
    project_class = fields.Str(load_default="", metadata={"example": "培训"})
    indicator_ids = fields.List(fields.Int(), load_default=list)


class TemplatePatchSchema(InputSchema):
    name = fields.Str()
    project_class = fields.Str()
    indicator_ids = fields.List(fields.Int())
    version = fields.Int(required=True)


class TemplateQuerySchema(InputSchema):
    project_class = fields.Str()
    page = fields.Int(load_default=1, validate=validate.Range(min=1))
    page_size = fields.Int(load_default=50, validate=validate.Range(min=1, max=200))


class CaseSchema(Schema):
    id = fields.Int()
    title = fields.Str()
    project_class = fields.Str()
    category = fields.Str()
    text = fields.Str(metadata={"multiline": True})
    indicator_ids = fields.List(fields.Int())
    project_id = fields.Int(attribute="source_project_id", allow_none=True)
    report_id = fields.Int(attribute="source_report_id", allow_none=True)
    targets = fields.List(
        fields.Dict(), metadata={"description": "规范管理蓝本: the project's approved targets (a template)"}
    )
    scores = fields.Dict(metadata={"description": "self_score, self_grade, key_score, key_grade"})
    findings = fields.Str(metadata={"multiline": True})
    version = fields.Int()
    created_at = fields.DateTime()


class CaseWriteSchema(InputSchema):
    title = fields.Str(load_default="")  # not `required`: the service names every problem at once
    project_class = fields.Str(load_default="")
    category = fields.Str(load_default="")
    text = fields.Str(load_default="", metadata={"multiline": True})
    indicator_ids = fields.List(fields.Int(), load_default=list)
    project_id = fields.Int(load_default=None, allow_none=True)


class CasePatchSchema(InputSchema):
    title = fields.Str()
    project_class = fields.Str()
    category = fields.Str()
    text = fields.Str(metadata={"multiline": True})
    indicator_ids = fields.List(fields.Int())
    version = fields.Int(required=True)


class CaseQuerySchema(InputSchema):
    project_class = fields.Str()
    category = fields.Str()
    page = fields.Int(load_default=1, validate=validate.Range(min=1))
    page_size = fields.Int(load_default=50, validate=validate.Range(min=1, max=200))
