"""Schemas of the ex-ante assessment (API.md: PUT/POST /projects/{id}/assessment…)."""

from __future__ import annotations

from marshmallow import Schema, fields

from jixiao.platform.core import messages  # noqa: F401 - Chinese defaults before any field is built
from jixiao.platform.core.schema import InputSchema

from .models import CONCLUSIONS, CRITERIA


class CriterionSchema(InputSchema):
    score = fields.Raw(metadata={"type": "string", "description": "0–100", "example": "85"})
    opinion = fields.Str(metadata={"example": "项目符合城市更新规划，群众需求迫切", "multiline": True})


class AssessmentWriteSchema(InputSchema):
    criteria = fields.Dict(
        keys=fields.Str(),
        values=fields.Dict(),
        required=True,
        metadata={"description": "六个要点：" + "、".join(f"{k}（{v}）" for k, v in CRITERIA.items())},
    )
    summary = fields.Str(load_default="", metadata={"multiline": True})
    version = fields.Int(load_default=None, allow_none=True)


class AssessmentSubmitSchema(InputSchema):
    """Optional: the whole form, saved and submitted at once (every problem named in one 422)."""

    criteria = fields.Dict(keys=fields.Str(), values=fields.Dict(), load_default=None)
    summary = fields.Str(load_default="", metadata={"multiline": True})
    version = fields.Int(load_default=None, allow_none=True)


class AssessmentDecisionSchema(InputSchema):
    conclusion = fields.Str(required=True, metadata={"enum": list(CONCLUSIONS)})
    opinion = fields.Str(required=True, metadata={"multiline": True})


class AssessmentSchema(Schema):
    project_id = fields.Int()
    criteria = fields.Dict()
    summary = fields.Str()
    status = fields.Str(metadata={"enum": ["draft", "submitted", "decided"]})
    conclusion = fields.Str(allow_none=True)
    conclusion_name = fields.Function(lambda a: CONCLUSIONS.get(a.conclusion or "", None))
    opinion = fields.Str(allow_none=True)
    submitted_by = fields.Str(allow_none=True)
    submitted_at = fields.DateTime(allow_none=True)
    decided_by = fields.Str(allow_none=True)
    decided_at = fields.DateTime(allow_none=True)
    version = fields.Int(allow_none=True)
