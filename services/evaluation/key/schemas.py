"""Schemas of the key evaluation (API.md: /projects/{id}/evaluation…)."""

from __future__ import annotations

from marshmallow import Schema, fields

from jixiao.platform.core import messages  # noqa: F401 - Chinese defaults before any field is built
from jixiao.platform.core.schema import InputSchema

from .framework import DIMENSIONS
from .models import DECISIONS, STATUSES

NUMBER = {"type": "string", "format": "decimal"}


class KeyItemWriteSchema(InputSchema):
    dimension = fields.Str(
        required=True, metadata={"enum": list(DIMENSIONS), "description": "一级指标：决策、过程、产出、效益"}
    )
    group = fields.Str(load_default="", metadata={"description": "二级指标（可选），如 项目立项、资金管理"})
    item = fields.Str(
        required=True, metadata={"description": "评价指标（三级）名称", "example": "立项依据充分性"}
    )
    weight = fields.Raw(
        required=True, metadata={**NUMBER, "description": "权重（分值），各项合计 100", "example": "3"}
    )
    score = fields.Raw(
        load_default=None,
        allow_none=True,
        metadata={**NUMBER, "description": "得分：0 至权重，最多两位小数；草稿可暂不评分", "example": "2.5"},
    )
    basis = fields.Str(
        load_default="", metadata={"description": "评分依据（提交时每项必填）", "multiline": True}
    )


class KeyEvaluationWriteSchema(InputSchema):
    scores = fields.List(fields.Nested(KeyItemWriteSchema), required=True)
    findings = fields.Str(
        load_default="", metadata={"description": "评价发现（主要问题）", "multiline": True}
    )
    recommendations = fields.Str(load_default="", metadata={"description": "评价建议", "multiline": True})
    report_evidence_id = fields.Int(
        load_default=None,
        allow_none=True,
        metadata={"description": "评价报告：本项目“重点评价”阶段的佐证材料 id"},
    )
    lock_version = fields.Int(
        load_default=None, allow_none=True, metadata={"description": "乐观锁，过期 → 409"}
    )


class KeyEvaluationSubmitSchema(KeyEvaluationWriteSchema):
    """Optional: the whole form, saved and submitted at once; without a body the saved draft is
    submitted."""

    scores = fields.List(fields.Nested(KeyItemWriteSchema), load_default=None)
    findings = fields.Str(load_default=None, metadata={"description": "评价发现", "multiline": True})
    recommendations = fields.Str(load_default=None, metadata={"description": "评价建议", "multiline": True})


class KeyDecisionSchema(InputSchema):
    decision = fields.Str(
        required=True, metadata={"enum": list(DECISIONS), "description": "accept 审定通过 / return 退回"}
    )
    opinion = fields.Str(
        load_default="", metadata={"description": "审定意见（退回时必填）", "multiline": True}
    )


class KeySkipSchema(InputSchema):
    reason = fields.Str(required=True, metadata={"description": "不开展重点评价的理由", "multiline": True})


class KeyItemSchema(Schema):
    dimension = fields.Str()
    group = fields.Str()
    item = fields.Str()
    weight = fields.Str(metadata={"example": "3.00"})
    score = fields.Str(allow_none=True)
    basis = fields.Str()


class KeyDimensionSchema(Schema):
    dimension = fields.Str()
    weight = fields.Str()
    score = fields.Str()


class KeyDecisionRowSchema(Schema):
    decision = fields.Str(metadata={"enum": list(DECISIONS)})
    opinion = fields.Str()
    decided_by = fields.Str()
    decided_at = fields.DateTime()


class KeyComparisonRowSchema(Schema):
    dimension = fields.Str()
    key_weight = fields.Str()
    key_score = fields.Str()
    key_rate = fields.Str(allow_none=True, metadata={"description": "得分率（%）"})
    self_groups = fields.List(fields.Str(), metadata={"description": "自评中对应的一级指标"})
    self_available = fields.Str(allow_none=True)
    self_earned = fields.Str(allow_none=True)
    self_rate = fields.Str(allow_none=True)
    difference = fields.Str(
        allow_none=True, metadata={"description": "得分率之差（百分点，重点评价 − 自评）"}
    )
    large_gap = fields.Bool()
    note = fields.Str()


class KeyComparisonSchema(Schema):
    self_score = fields.Str(allow_none=True)
    self_grade = fields.Str(allow_none=True)
    key_score = fields.Str()
    key_grade = fields.Str()
    difference = fields.Str(allow_none=True, metadata={"description": "总分之差（重点评价 − 自评）"})
    large_gap = fields.Bool()
    gap_warning = fields.Str()
    dimensions = fields.List(fields.Nested(KeyComparisonRowSchema))
    basis = fields.Str()


class KeyReportSchema(Schema):
    id = fields.Int()
    filename = fields.Str(allow_none=True)
    purpose = fields.Str()
    size = fields.Int()


class KeyEvaluationSchema(Schema):
    project_id = fields.Int()
    status = fields.Str(metadata={"enum": list(STATUSES)})
    lock_version = fields.Int(allow_none=True)
    scores = fields.List(fields.Nested(KeyItemSchema))
    dimensions = fields.List(fields.Nested(KeyDimensionSchema))
    score = fields.Str(metadata={"description": "总分（两位小数）"})
    grade = fields.Str(metadata={"enum": ["优", "良", "中", "差"]})
    complete = fields.Bool(metadata={"description": "每项均已评分"})
    findings = fields.Str()
    recommendations = fields.Str()
    report_evidence_id = fields.Int(allow_none=True)
    report = fields.Nested(KeyReportSchema, allow_none=True)
    skip_reason = fields.Str()
    evaluator_org_id = fields.Int(allow_none=True)
    saved_by = fields.Str(allow_none=True)
    submitted_by = fields.Str(allow_none=True)
    submitted_at = fields.DateTime(allow_none=True)
    decided_by = fields.Str(allow_none=True)
    decided_at = fields.DateTime(allow_none=True)
    decisions = fields.List(fields.Nested(KeyDecisionRowSchema))
    comparison = fields.Nested(KeyComparisonSchema)
