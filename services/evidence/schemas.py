"""Schemas of evidence metadata (API.md "Evidence")."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from jixiao.platform.core import messages  # noqa: F401 - Chinese defaults before any field is built
from jixiao.platform.core.schema import BIGINT_MAX, BIGINT_MIN, InputSchema


class EvidenceSchema(Schema):
    id = fields.Int()
    project_id = fields.Int()
    stage = fields.Str()
    purpose = fields.Str()
    filename = fields.Str()
    content_type = fields.Str()
    size = fields.Int()
    sha256 = fields.Str()
    status = fields.Str(metadata={"enum": ["current", "superseded"]})
    version_no = fields.Int()
    supersedes = fields.Int(attribute="supersedes_id", allow_none=True)
    uploaded_by = fields.Str()
    uploaded_at = fields.DateTime()


class EvidenceQuerySchema(InputSchema):
    stage = fields.Str()
    history = fields.Bool(load_default=False, metadata={"description": "含已被替换的历史版本"})


class UploadFormSchema(InputSchema):
    # required, but checked by the service so that a missing one is named with every other problem
    stage = fields.Str(load_default="", metadata={"example": "targets", "description": "必填"})
    purpose = fields.Str(load_default="", metadata={"example": "立项依据", "description": "必填"})
    supersedes = fields.Int(load_default=None, allow_none=True, metadata={"description": "替换的材料 id"})


class UploadRequestSchema(InputSchema):
    filename = fields.Str(required=True, metadata={"example": "竣工验收报告.pdf"})
    size = fields.Int(
        required=True,
        validate=validate.Range(min=BIGINT_MIN, max=BIGINT_MAX),  # a BIGINT column
        metadata={"description": "字节"},
    )
    sha256 = fields.Str(required=True)
    stage = fields.Str(required=True)
    purpose = fields.Str(required=True)
    supersedes = fields.Int(load_default=None, allow_none=True)


class UploadSlotSchema(Schema):
    id = fields.Int()
    upload_url = fields.Str(metadata={"description": "PUT 文件内容到此地址（15 分钟内有效）"})
    method = fields.Str()
    expires_at = fields.DateTime()
