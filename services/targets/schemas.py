"""Schemas of performance targets (API.md: /projects/{id}/targets…)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from jixiao.platform.core import messages  # noqa: F401 - Chinese defaults before any field is built
from jixiao.platform.core.schema import DecimalString, InputSchema
from jixiao.services.projects.models import PROJECT_CLASSES

from .models import ADJUSTMENT_REASONS, COMMENT_KEYS, EXPLANATION_MIN, REVIEW_LEVELS


class TargetLineWriteSchema(InputSchema):
    indicator_id = fields.Int(
        allow_none=True, load_default=None, metadata={"description": "库指标 id；不填为自定义指标"}
    )
    name = fields.Str(load_default=None, allow_none=True)
    level2 = fields.Str(load_default=None, allow_none=True)
    value_type = fields.Str(load_default=None, allow_none=True)
    direction = fields.Str(load_default=None, allow_none=True)
    target_value = fields.Raw(load_default=None, allow_none=True, metadata={"type": "string"})
    unit = fields.Str(load_default=None, allow_none=True)
    weight = fields.Raw(load_default=None, allow_none=True, metadata={"type": "string", "example": "20"})
    value_basis = fields.Str(load_default=None, allow_none=True)
    note = fields.Str(
        load_default=None, allow_none=True, metadata={"description": "指标值说明", "multiline": True}
    )


class TargetsWriteSchema(InputSchema):
    overall_goal = fields.Str(load_default="", metadata={"multiline": True})
    midterm_goal = fields.Str(
        load_default="", metadata={"description": "跨年度项目的中长期目标", "multiline": True}
    )
    indicators = fields.List(fields.Nested(TargetLineWriteSchema), load_default=list)
    lock_version = fields.Int(
        load_default=None, allow_none=True, metadata={"description": "乐观锁，过期 → 409"}
    )


class TargetLineSchema(Schema):
    id = fields.Int(metadata={"description": "target_indicator_id，监控与自评引用它"})
    indicator_id = fields.Int(allow_none=True)
    name = fields.Str()
    level2 = fields.Str()
    value_type = fields.Str()
    direction = fields.Str()
    target_value = fields.Str()
    unit = fields.Str()
    weight = fields.Decimal(
        places=2,
        as_string=True,
        allow_none=True,
        metadata={"type": "string", "format": "decimal", "example": "20.00"},
    )
    value_basis = fields.Str()
    note = fields.Str()


class TargetReviewSchema(Schema):
    level = fields.Str()
    level_name = fields.Function(lambda r: REVIEW_LEVELS[r.level])
    decision = fields.Str()
    comments = fields.Dict()
    reviewer = fields.Str()
    reviewed_at = fields.DateTime()


class TargetSetSchema(Schema):
    version = fields.Int(attribute="number")
    status = fields.Str(metadata={"enum": ["draft", "submitted", "returned", "approved", "superseded"]})
    review_level = fields.Str(allow_none=True)
    overall_goal = fields.Str()
    midterm_goal = fields.Str()
    adjustment_reason = fields.Str(allow_none=True)
    adjustment_explanation = fields.Str(allow_none=True)
    submitted_by = fields.Str(allow_none=True)
    submitted_at = fields.DateTime(allow_none=True)
    approved_at = fields.DateTime(allow_none=True)
    lock_version = fields.Int(allow_none=True)
    indicators = fields.List(fields.Nested(TargetLineSchema), attribute="lines")
    reviews = fields.List(fields.Nested(TargetReviewSchema))


class TargetVersionSchema(Schema):
    target_set = fields.Nested(TargetSetSchema, attribute="set", data_key="targets")
    diff = fields.Dict(
        allow_none=True, metadata={"description": "与上一版本相比：goals、added、removed、changed"}
    )


class ResubmissionSchema(Schema):
    resubmitted = fields.Bool(metadata={"description": "true when the current submission follows a return"})
    returned_by = fields.Str(allow_none=True)
    returned_at = fields.DateTime(allow_none=True)
    level = fields.Str(allow_none=True, metadata={"enum": ["first", "finance", "joint"]})
    comments = fields.Dict(keys=fields.Str(), values=fields.Str(), allow_none=True)
    diff = fields.Dict(
        allow_none=True,
        metadata={"description": "与退回时的版本相比：goals、added、removed、changed"},
    )


class ApplyTemplateSchema(InputSchema):
    template_id = fields.Int(
        load_default=None, allow_none=True, metadata={"description": "a template (模板库)"}
    )
    case_id = fields.Int(
        load_default=None,
        allow_none=True,
        metadata={"description": "or a case (规范管理蓝本): its targets with their values and weights"},
    )


class ReviewSchema(InputSchema):
    decision = fields.Str(required=True, metadata={"enum": ["approve", "return"]})
    comments = fields.Dict(
        keys=fields.Str(),
        values=fields.Str(metadata={"multiline": True}),
        load_default=dict,
        metadata={"description": "、".join(f"{k}（{v}）" for k, v in COMMENT_KEYS.items())},
    )


class AdjustmentSchema(InputSchema):
    reason = fields.Str(required=True, metadata={"enum": list(ADJUSTMENT_REASONS), "description": "调整原因"})
    explanation = fields.Str(
        load_default=None,
        allow_none=True,
        metadata={
            "description": f"调整说明（必填）：调整的内容和理由，去除首尾空白后至少 {EXPLANATION_MIN} 个字；"
            "不足时 422，errors 中列出 explanation（原因无效时同时列出 reason）",
            "example": "上级下达新增改造任务 3 个小区，调整数量指标",
            "multiline": True,
        },
    )


class RuleSchema(Schema):
    code = fields.Str()
    title = fields.Str()


class ViolationSchema(Schema):
    rule = fields.Str()
    message = fields.Str()
    line = fields.Int(allow_none=True)
    indicator = fields.Str(allow_none=True)


# --- 目标值参考 (services/targets/suggestions) ----------------------------------------------------

K_NOTE = (
    "只统计其他地区已批复的目标（本地区除外），且至少来自 min_tenants 个地区（试点设置 "
    "suggestions.min_tenants，默认 5）；不足时 available 为 false，各项数字均为 null"
)


class TargetStatisticsQuerySchema(InputSchema):
    project_class = fields.Str(
        required=True,
        validate=validate.OneOf(PROJECT_CLASSES, error="项目类别须为：" + "、".join(PROJECT_CLASSES)),
        metadata={"enum": list(PROJECT_CLASSES), "description": "项目类别：只统计同类项目"},
    )
    project_id = fields.Int(
        load_default=None,
        allow_none=True,
        metadata={"description": "正在填报的项目：其所在试点的 suggestions.min_tenants 为 k"},
    )


class TargetStatisticsSchema(Schema):
    available = fields.Bool(metadata={"description": K_NOTE})
    min_tenants = fields.Int(metadata={"description": "k：统计至少来自的地区数"})
    unit = fields.Str(metadata={"description": "指标的计量单位：各值换算到该单位（不能换算的不计）"})
    tenants = fields.Int(allow_none=True, metadata={"description": "地区数（≥ k；不足时 null）"})
    count = fields.Int(allow_none=True, metadata={"description": "已批复目标值个数（不足 k 时 null）"})
    median = DecimalString(allow_none=True, metadata={"description": "中位数"})
    p25 = DecimalString(allow_none=True, metadata={"description": "下四分位数（线性插值，含端点）"})
    p75 = DecimalString(allow_none=True, metadata={"description": "上四分位数"})


class SuggestedIndicatorSchema(Schema):
    indicator_id = fields.Int(attribute="indicator.id")
    code = fields.Str(attribute="indicator.code")
    name = fields.Str(attribute="indicator.name")
    level1 = fields.Str(attribute="indicator.level1_name")
    level2 = fields.Str(attribute="indicator.level2.name")
    unit = fields.Str(attribute="indicator.unit")
    uses = fields.Int(metadata={"description": "其他地区同类已批复项目中选用它的项目数"})
    tenants = fields.Int(metadata={"description": "……分布在的地区数（≥ k）"})


class SuggestedCaseSchema(Schema):
    id = fields.Int()
    title = fields.Str()
    project_class = fields.Str()
    category = fields.Str()
    targets = fields.Function(lambda c: len(c.targets or []), metadata={"type": "integer"})


class TargetSuggestionsSchema(Schema):
    project_id = fields.Int(attribute="project.id")
    project_class = fields.Str(attribute="project.project_class")
    min_tenants = fields.Int(metadata={"description": K_NOTE})
    indicators = fields.List(
        fields.Nested(SuggestedIndicatorSchema),
        metadata={"description": "按同类已批复项目的选用次数排序；派生指标计入其来源指标"},
    )
    cases = fields.List(
        fields.Nested(SuggestedCaseSchema), metadata={"description": "同类项目的规范管理蓝本（已发布）"}
    )
