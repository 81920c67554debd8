"""Schemas of the self-evaluation (API.md: /projects/{id}/self-evaluation…)."""

from __future__ import annotations

from marshmallow import Schema, fields

from jixiao.platform.core import messages  # noqa: F401 - Chinese defaults before any field is built
from jixiao.platform.core.schema import InputSchema
from jixiao.services.targets.models import COMMENT_KEYS, REVIEW_LEVELS
from jixiao.services.targets.schemas import ReviewSchema

from .models import ACHIEVEMENTS, STATUSES

__all__ = ["ReviewSchema", "SelfEvaluationSchema", "SelfEvaluationSubmitSchema", "SelfEvaluationWriteSchema"]

MONEY = {"type": "string", "format": "decimal", "example": "1150000.00"}


class EvaluationLineWriteSchema(InputSchema):
    target_indicator_id = fields.Int(
        required=True, metadata={"description": "绩效目标行的 id（GET …/targets 的 indicators[].id）"}
    )
    actual_value = fields.Raw(
        load_default=None,
        allow_none=True,
        metadata={"type": "string", "description": "完成值：定量指标须为数字", "example": "80"},
    )
    achievement = fields.Str(
        load_default=None,
        allow_none=True,
        metadata={"enum": list(ACHIEVEMENTS), "description": "定性指标：" + "、".join(ACHIEVEMENTS.values())},
    )
    rate = fields.Raw(
        load_default=None,
        allow_none=True,
        metadata={
            "type": "string",
            "description": "定性指标的得分率（%，可选）：达成 80–100，部分达成 60–80，未达成 0–60；不填取档次中值",
        },
    )
    shortfall_reason = fields.Str(
        load_default=None, allow_none=True, metadata={"description": "未完成原因分析", "multiline": True}
    )


class SelfEvaluationWriteSchema(InputSchema):
    budget_executed = fields.Raw(
        load_default=None, allow_none=True, metadata={**MONEY, "description": "预算执行数（元）"}
    )
    adjusted_budget = fields.Raw(
        load_default=None,
        allow_none=True,
        metadata={**MONEY, "description": "调整后预算数（元，可选；给出时按它计算执行率）"},
    )
    budget_reason = fields.Str(
        load_default="",
        metadata={"description": "预算执行原因（执行率低于 90% 时请说明）", "multiline": True},
    )
    lines = fields.List(fields.Nested(EvaluationLineWriteSchema), load_default=list)
    summary = fields.Str(load_default="", metadata={"description": "年度目标完成情况", "multiline": True})
    conclusion = fields.Str(load_default="", metadata={"description": "评价结论", "multiline": True})
    problems = fields.Str(load_default="", metadata={"description": "存在问题", "multiline": True})
    measures = fields.Str(load_default="", metadata={"description": "改进措施", "multiline": True})
    lock_version = fields.Int(
        load_default=None, allow_none=True, metadata={"description": "乐观锁，过期 → 409"}
    )


class EvaluationPointsSchema(Schema):
    completion = fields.Str(allow_none=True, metadata={"description": "完成率（%，定量指标，封顶 100）"})
    available = fields.Str(metadata={"description": "分值"})
    earned = fields.Str(metadata={"description": "得分"})


class EvaluationLineSchema(Schema):
    target_indicator_id = fields.Int()
    name = fields.Str()
    level1 = fields.Str()
    level2 = fields.Str()
    value_type = fields.Str()
    direction = fields.Str()
    target_value = fields.Str()
    unit = fields.Str()
    weight = fields.Decimal(places=2, as_string=True, allow_none=True, metadata={"type": "string"})
    actual_value = fields.Str(allow_none=True)
    achievement = fields.Str(allow_none=True, metadata={"enum": list(ACHIEVEMENTS)})
    rate = fields.Decimal(places=2, as_string=True, allow_none=True, metadata={"type": "string"})
    shortfall_reason = fields.Str()
    missing = fields.Bool(metadata={"description": "尚未填写完成情况（计 0 分）"})
    points = fields.Nested(EvaluationPointsSchema)


class EvaluationBudgetSchema(Schema):
    budget = fields.Str(metadata={"description": "预算数（有调整后预算数时为调整后预算数）"})
    executed = fields.Str(allow_none=True)
    rate = fields.Str(allow_none=True, metadata={"description": "执行率（%）"})
    available = fields.Str()
    earned = fields.Str()


class EvaluationReviewSchema(Schema):
    level = fields.Str()
    level_name = fields.Function(lambda r: REVIEW_LEVELS[r.level])
    decision = fields.Str()
    comments = fields.Dict(
        metadata={"description": "、".join(f"{k}（{v}）" for k, v in COMMENT_KEYS.items())}
    )
    reviewer = fields.Str()
    reviewed_at = fields.DateTime()


class EvaluationResubmissionSchema(Schema):
    returned_by = fields.Str()
    returned_at = fields.DateTime()
    level = fields.Str()
    comments = fields.Dict(keys=fields.Str(), values=fields.Str())
    diff = fields.Dict(
        metadata={"description": "与退回时相比：fields（字段：[原值, 新值]）、changed（各行的变化）"}
    )


class SelfEvaluationSchema(Schema):
    project_id = fields.Int()
    target_version = fields.Int(metadata={"description": "据以自评的绩效目标版本"})
    status = fields.Str(metadata={"enum": list(STATUSES)})
    review_level = fields.Str(allow_none=True, metadata={"enum": ["first", "finance"]})
    lock_version = fields.Int(allow_none=True)
    budget_executed = fields.Str(allow_none=True)
    adjusted_budget = fields.Str(allow_none=True)
    budget_reason = fields.Str()
    summary = fields.Str()
    conclusion = fields.Str()
    problems = fields.Str()
    measures = fields.Str()
    score = fields.Str(metadata={"description": "总分（两位小数）", "example": "90.83"})
    grade = fields.Str(metadata={"enum": ["优", "良", "中", "差"]})
    budget = fields.Nested(EvaluationBudgetSchema)
    lines = fields.List(fields.Nested(EvaluationLineSchema))
    missing = fields.List(fields.Str(), metadata={"description": "尚未填写完成情况的指标名称"})
    submitted_by = fields.Str(allow_none=True)
    submitted_at = fields.DateTime(allow_none=True)
    approved_at = fields.DateTime(allow_none=True)
    reviews = fields.List(fields.Nested(EvaluationReviewSchema))
    resubmission = fields.Nested(EvaluationResubmissionSchema, allow_none=True)


class SelfEvaluationSubmitSchema(SelfEvaluationWriteSchema):
    """Optional: the whole form, saved and submitted at once; without a body the saved draft is
    submitted."""

    budget_reason = fields.Str(load_default=None, metadata={"description": "预算执行原因", "multiline": True})
    lines = fields.List(fields.Nested(EvaluationLineWriteSchema), load_default=None)
    summary = fields.Str(load_default=None, metadata={"description": "年度目标完成情况", "multiline": True})
    conclusion = fields.Str(load_default=None, metadata={"description": "评价结论", "multiline": True})
    problems = fields.Str(load_default=None, metadata={"description": "存在问题", "multiline": True})
    measures = fields.Str(load_default=None, metadata={"description": "改进措施", "multiline": True})
