"""Schemas of monitoring (API.md: /projects/{id}/monitoring-rounds…, /corrections)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from marshmallow import Schema, fields, validate

from jixiao.platform.core import messages  # noqa: F401 - Chinese defaults before any field is built
from jixiao.platform.core.schema import InputSchema

from .models import (
    ACHIEVEMENTS,
    CORRECTION_KINDS,
    CORRECTION_STATUSES,
    ENTRY_ACTIONS,
    LIKELIHOODS,
    REASON_CATEGORIES,
    ROUND_STATUSES,
    SPOT_CHECK_KIND,
    WARNINGS,
)


def _two(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


class ValueText(fields.Str):
    """A value as written: text, or a JSON number taken as its text (never a float's binary noise
    beyond what it printed as)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, int | float) and not isinstance(value, bool):
            value = repr(value) if isinstance(value, float) else str(value)
        return super()._deserialize(value, attr, data, **kwargs)


def _multiline(description: str) -> dict[str, Any]:
    return {"description": description, "multiline": True}


# --- input ------------------------------------------------------------------------------------


class ProgressWriteSchema(InputSchema):
    target_indicator_id = fields.Int(required=True, metadata={"description": "绩效目标指标行 id"})
    planned_value = ValueText(
        load_default="",
        validate=validate.Length(max=100),
        metadata={"description": "计划阶段值（定量指标必填）"},
    )
    actual_value = ValueText(
        load_default="",
        validate=validate.Length(max=100),
        metadata={"description": "实际完成值（定量指标必填）"},
    )
    achievement = fields.Str(
        load_default=None,
        allow_none=True,
        validate=validate.OneOf(list(ACHIEVEMENTS)),
        metadata={"description": "定性指标的完成情况：achieved 达成 / partly 部分达成 / not_achieved 未达成"},
    )
    text = fields.Str(load_default="", metadata=_multiline("定性指标的进展情况"))
    reason = fields.Str(load_default="", metadata=_multiline("偏差原因（黄色、红色预警必填）"))
    measure = fields.Str(load_default="", metadata=_multiline("纠偏措施（黄色、红色预警必填）"))
    reason_category = fields.Str(
        load_default=None,
        allow_none=True,
        validate=validate.OneOf(REASON_CATEGORIES),
        metadata={"description": "偏差原因分类"},
    )
    likelihood = fields.Str(
        load_default=None,
        allow_none=True,
        validate=validate.OneOf(LIKELIHOODS),
        metadata={"description": "全年目标能否完成"},
    )


class RoundCorrectSchema(InputSchema):
    """PUT: a returned round corrected (its period stays)."""

    as_of = fields.Date(required=True, metadata={"description": "监控截止日期"})
    budget_executed = ValueText(
        required=True,
        validate=validate.Length(max=30),
        metadata={"description": "截至 as_of 的预算执行数（元）", "example": "450000.00"},
    )
    budget_explanation = fields.Str(load_default="", metadata=_multiline("执行数超过预算时必填"))
    budget_reason = fields.Str(load_default="", metadata=_multiline("预算执行偏差原因（黄色、红色预警必填）"))
    budget_measure = fields.Str(
        load_default="", metadata=_multiline("预算执行纠偏措施（黄色、红色预警必填）")
    )
    progress = fields.List(fields.Nested(ProgressWriteSchema), required=True)
    lock_version = fields.Int(
        load_default=None, allow_none=True, metadata={"description": "乐观锁，过期 → 409"}
    )


class RoundReportSchema(RoundCorrectSchema):
    period = fields.Str(
        required=True,
        validate=validate.Length(max=7),
        metadata={"description": "监控期间 YYYY-MM", "example": "2023-09"},
    )


class ReturnSchema(InputSchema):
    opinion = fields.Str(required=True, metadata=_multiline("退回意见"))


class CorrectionIssueSchema(InputSchema):
    kind = fields.Str(
        required=True, validate=validate.OneOf(CORRECTION_KINDS), metadata={"description": "纠偏/约谈/发函"}
    )
    text = fields.Str(required=True, metadata=_multiline("要求的内容"))
    deadline = fields.Date(required=True, metadata={"description": "答复期限（不早于今天）"})


class CorrectionAgainSchema(InputSchema):
    text = fields.Str(required=True, metadata=_multiline("再次要求的内容"))
    deadline = fields.Date(required=True, metadata={"description": "新的答复期限（不早于今天）"})


class CorrectionReplySchema(InputSchema):
    text = fields.Str(required=True, metadata=_multiline("答复内容"))
    evidence_ids = fields.List(
        fields.Int(), load_default=list, metadata={"description": "本项目的佐证材料 id"}
    )


class CorrectionCloseSchema(InputSchema):
    opinion = fields.Str(load_default="", metadata=_multiline("关闭意见"))


class CorrectionAdjustmentSchema(InputSchema):
    reason = fields.Str(
        load_default="其他",
        metadata={"enum": ["机构改革", "政策变化", "突发事件", "其他"], "description": "调整原因"},
    )
    explanation = fields.Str(required=True, metadata=_multiline("调整说明（至少 10 个字）"))


class CorrectionQuerySchema(InputSchema):
    status = fields.Str(load_default=None, validate=validate.OneOf(CORRECTION_STATUSES))
    overdue = fields.Bool(
        load_default=None, metadata={"description": "true：只列逾期未答复的；false：不含逾期的"}
    )
    page = fields.Int(load_default=1, validate=validate.Range(min=1))
    page_size = fields.Int(load_default=50, validate=validate.Range(min=1, max=200))


# --- output -----------------------------------------------------------------------------------

WARNING = {"type": "string", "enum": list(WARNINGS)}


class ForecastSchema(Schema):
    value = fields.Str(allow_none=True, metadata={"description": "预计年末值（2 位小数）"})
    completion = fields.Str(allow_none=True, metadata={"description": "预计年末完成率（%，对全年目标值）"})
    warning = fields.Str(allow_none=True, metadata=WARNING)


def _line_forecast(line: Any) -> dict[str, Any]:
    return {
        "value": _two(line.forecast_value),
        "completion": _two(line.forecast_completion),
        "warning": line.forecast_warning,
    }


class ProgressSchema(Schema):
    target_indicator_id = fields.Int(attribute="target_line_id")
    name = fields.Function(lambda line: line.target_line.name)
    level2 = fields.Function(lambda line: line.target_line.level2)
    value_type = fields.Function(lambda line: line.target_line.value_type)
    direction = fields.Function(lambda line: line.target_line.direction)
    unit = fields.Function(lambda line: line.target_line.unit)
    target_value = fields.Function(
        lambda line: line.target_line.target_value, metadata={"description": "全年目标值"}
    )
    planned_value = fields.Str()
    actual_value = fields.Str()
    achievement = fields.Str(allow_none=True)
    text = fields.Str()
    completion = fields.Function(lambda line: _two(line.completion), metadata={"description": "完成率（%）"})
    warning = fields.Str(metadata=WARNING)
    reason = fields.Str()
    measure = fields.Str()
    reason_category = fields.Str(allow_none=True)
    likelihood = fields.Str(allow_none=True)
    forecast = fields.Function(_line_forecast, metadata={"type": "object"})


def _budget(found: Any) -> dict[str, Any]:
    return {
        "amount": _two(found.project.budget_amount),
        "executed": _two(found.budget_executed),
        "execution_rate": _two(found.execution_rate),
        "completion": _two(found.execution_rate),
        "time_progress": _two(found.time_progress),
        "warning": found.budget_warning,
        "explanation": found.budget_explanation,
        "reason": found.budget_reason,
        "measure": found.budget_measure,
        "forecast": {
            "value": _two(found.forecast_executed),
            "completion": _two(found.forecast_rate),
            "warning": found.forecast_warning,
        },
    }


class RoundSchema(Schema):
    id = fields.Int()
    project_id = fields.Int()
    period = fields.Str()
    as_of = fields.Date()
    status = fields.Str(metadata={"enum": list(ROUND_STATUSES)})
    target_set_id = fields.Int()
    target_version = fields.Function(
        lambda r: r.target_set.number, metadata={"description": "所依据的绩效目标版本"}
    )
    budget = fields.Function(
        _budget,
        metadata={
            "type": "object",
            "description": "amount 预算、executed、execution_rate（= completion，%）、time_progress（序时进度，%）、warning、"
            "explanation、reason、measure、forecast {value 预计年末执行数, completion 预计执行率, warning}",
        },
    )
    progress = fields.List(fields.Nested(ProgressSchema), attribute="lines")
    warning = fields.Str(metadata={**WARNING, "description": "本轮最严重的预警（预算与各指标）"})
    forecast_warning = fields.Str(attribute="worst_forecast", allow_none=True, metadata=WARNING)
    return_opinion = fields.Str(allow_none=True)
    reported_by = fields.Str()
    reported_at = fields.DateTime()
    returned_by = fields.Str(allow_none=True)
    returned_at = fields.DateTime(allow_none=True)
    confirmed_by = fields.Str(allow_none=True)
    confirmed_at = fields.DateTime(allow_none=True)
    lock_version = fields.Int()


class EntrySchema(Schema):
    action = fields.Str(metadata={"enum": list(ENTRY_ACTIONS)})
    text = fields.Str()
    evidence_ids = fields.List(fields.Int())
    deadline = fields.Date(allow_none=True)
    by = fields.Str(attribute="author")
    at = fields.DateTime(attribute="written_at")


class CorrectionSchema(Schema):
    id = fields.Int()
    project_id = fields.Int()
    round_id = fields.Int(allow_none=True, metadata={"description": "监控轮次（抽查问题为空）"})
    spot_check_item_id = fields.Int(allow_none=True, metadata={"description": "抽查项（抽查发现的问题）"})
    period = fields.Function(
        lambda c: c.monitoring_round.period if c.monitoring_round else None,
        metadata={"type": "string", "nullable": True},
    )
    kind = fields.Str(metadata={"enum": [*CORRECTION_KINDS, SPOT_CHECK_KIND]})
    text = fields.Str()
    deadline = fields.Date()
    status = fields.Str(metadata={"enum": list(CORRECTION_STATUSES)})
    overdue = fields.Bool(metadata={"description": "待答复且已过答复期限（省时区的日历日）"})
    issued_by = fields.Str()
    issued_at = fields.DateTime()
    closed_by = fields.Str(allow_none=True)
    closed_at = fields.DateTime(allow_none=True)
    adjustment_target_set_id = fields.Int(allow_none=True)
    adjustment_version = fields.Function(
        lambda c: c.adjustment.number if c.adjustment else None,
        metadata={"type": "integer", "nullable": True},
    )
    lock_version = fields.Int()
    entries = fields.List(fields.Nested(EntrySchema))
