"""Schemas of spot checks (API.md `/programs/{id}/spot-checks`)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from jixiao.platform.core import messages  # noqa: F401 - Chinese defaults before any field is built
from jixiao.platform.core.schema import DecimalString, InputSchema
from jixiao.services.monitoring.schemas import CorrectionSchema

from .models import ASPECTS, RESULT_NAMES, RESULTS

# --- input ------------------------------------------------------------------------------------


class SpotCheckDrawSchema(InputSchema):
    share = fields.Float(
        allow_none=True,
        metadata={"description": "抽查比例，大于 0 且不超过 1（0.5 即 50%）；与 count 二者填其一"},
    )
    count = fields.Int(allow_none=True, metadata={"description": "抽查项目数，不超过可抽查的项目数"})
    seed = fields.Int(
        allow_none=True,
        metadata={"description": "随机种子（不填则随机生成并记录）；同一种子、同一总体抽出同样的项目"},
    )
    new_round = fields.Bool(
        load_default=False, metadata={"description": "本试点已抽查过时，明确开展新一轮抽查"}
    )


class SpotCheckCommentsSchema(InputSchema):
    completeness = fields.Str(required=True, metadata={"description": "完整性审查意见", "multiline": True})
    relevance = fields.Str(required=True, metadata={"description": "相关性审查意见", "multiline": True})
    appropriateness = fields.Str(required=True, metadata={"description": "适当性审查意见", "multiline": True})
    feasibility = fields.Str(required=True, metadata={"description": "可行性审查意见", "multiline": True})


class SpotCheckReviewSchema(InputSchema):
    result = fields.Str(required=True, validate=validate.OneOf(RESULTS), metadata={"enum": list(RESULTS)})
    comments = fields.Nested(SpotCheckCommentsSchema, required=True)
    findings = fields.Str(
        load_default=None,
        allow_none=True,
        metadata={"description": "发现的问题（须整改时必填）", "multiline": True},
    )
    deadline = fields.Date(
        load_default=None, allow_none=True, metadata={"description": "整改答复期限（不填为 30 天后）"}
    )


class SpotCheckReplySchema(InputSchema):
    text = fields.Str(required=True, metadata={"description": "整改答复", "multiline": True})
    evidence_ids = fields.List(
        fields.Int(), load_default=list, metadata={"description": "本项目的佐证材料 id"}
    )


class SpotCheckAgainSchema(InputSchema):
    text = fields.Str(required=True, metadata={"description": "再次要求的内容", "multiline": True})
    deadline = fields.Date(required=True, metadata={"description": "新的答复期限（不早于今天）"})


class SpotCheckCloseSchema(InputSchema):
    opinion = fields.Str(load_default="", metadata={"description": "整改完成意见", "multiline": True})


# --- output -----------------------------------------------------------------------------------


class SpotCheckItemSchema(Schema):
    id = fields.Int()
    spot_check_id = fields.Int()
    project_id = fields.Int()
    project_name = fields.Function(lambda i: i.project.name, metadata={"type": "string"})
    tenant_code = fields.Function(lambda i: i.project.owner.code, metadata={"type": "string"})
    tenant_name = fields.Function(lambda i: i.project.owner.name, metadata={"type": "string"})
    target_set_id = fields.Int()
    status = fields.Str(metadata={"enum": ["pending", *RESULTS]})
    result = fields.Str(
        metadata={
            "enum": list(RESULT_NAMES),
            "description": "pending/pass/rectify，整改问题关闭后为 rectified",
        }
    )
    comments = fields.Dict(
        keys=fields.Str(),
        values=fields.Str(),
        metadata={"description": f"审查意见：{'、'.join(ASPECTS.values())}"},
    )
    findings = fields.Str(allow_none=True)
    reviewed_by = fields.Str(allow_none=True)
    reviewed_at = fields.DateTime(allow_none=True)
    finding = fields.Nested(
        CorrectionSchema, allow_none=True, metadata={"description": "发给项目单位的整改要求"}
    )


class SpotCheckSchema(Schema):
    id = fields.Int()
    program_id = fields.Int()
    tenant_code = fields.Function(lambda c: c.owner.code, metadata={"type": "string"})
    round = fields.Int()
    share = DecimalString(allow_none=True)
    count = fields.Int(allow_none=True)
    seed = fields.Int()
    population = fields.Int(metadata={"description": "抽取时已批复绩效目标的项目数"})
    drawn_by = fields.Str()
    drawn_at = fields.DateTime()
    items = fields.List(fields.Nested(SpotCheckItemSchema))


class SpotCheckListSchema(Schema):
    items = fields.List(fields.Nested(SpotCheckSchema))
    total = fields.Int()


class SpotCheckItemListSchema(Schema):
    items = fields.List(fields.Nested(SpotCheckItemSchema))
    total = fields.Int()
