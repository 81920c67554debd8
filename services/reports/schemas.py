"""Schemas of pilot reports and acceptance (API.md "Reports, acceptance, province")."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from jixiao.platform.core import messages  # noqa: F401 - Chinese defaults before any field is built
from jixiao.platform.core.schema import DecimalString, InputSchema

from .models import FORMATS, OUTCOMES, REVIEW_KINDS, STATUS_NAMES, STATUSES

# --- input ------------------------------------------------------------------------------------


class ReportCreateSchema(InputSchema):
    program_id = fields.Int(required=True, metadata={"description": "the pilot program"})


class ReportQuerySchema(InputSchema):
    program_id = fields.Int(metadata={"description": "one program's reports"})
    status = fields.Str(validate=validate.OneOf(STATUSES), metadata={"enum": list(STATUSES)})


class ChecklistEntrySchema(InputSchema):
    item = fields.Str(
        required=True, metadata={"description": "验收项（程序设置 acceptance.checklist 的 item）"}
    )
    score = fields.Decimal(required=True, as_string=True, places=2, metadata={"description": "0 至该项满分"})
    comment = fields.Str(load_default="", metadata={"description": "评分说明", "multiline": True})


class AcceptanceSchema(InputSchema):
    checklist = fields.List(
        fields.Nested(ChecklistEntrySchema),
        required=True,
        metadata={"description": "every item of the program's checklist, once"},
    )
    outcome = fields.Str(
        required=True, validate=validate.OneOf(list(OUTCOMES)), metadata={"enum": list(OUTCOMES)}
    )
    opinion = fields.Str(
        load_default="", metadata={"description": "验收意见（退回时必填）", "multiline": True}
    )


class OpinionSchema(InputSchema):
    text = fields.Str(required=True, metadata={"description": "初审意见", "multiline": True})


# --- output -----------------------------------------------------------------------------------


class ReportFileSchema(Schema):
    format = fields.Str(metadata={"enum": list(FORMATS)})
    size = fields.Int()
    sha256 = fields.Str()
    download_url = fields.Str()


class ReviewSchema(Schema):
    kind = fields.Str(metadata={"enum": list(REVIEW_KINDS)})
    kind_name = fields.Method("_kind_name")
    version = fields.Int()
    round = fields.Int(allow_none=True)
    checklist = fields.List(fields.Dict(), metadata={"description": "[{item, max, score, comment}]"})
    total = DecimalString(allow_none=True)
    pass_mark = DecimalString(allow_none=True)
    outcome = fields.Str(allow_none=True, metadata={"enum": list(OUTCOMES)})
    opinion = fields.Str()
    author = fields.Str()
    author_tenant_code = fields.Function(lambda r: r.author_tenant.code)
    written_at = fields.DateTime()

    def _kind_name(self, obj: Any) -> str:
        return REVIEW_KINDS.get(obj.kind, obj.kind)


def _files(report_id: int, version: Any) -> list[dict[str, Any]]:
    return [
        {
            "format": fmt,
            "size": version.file(fmt)[1],
            "sha256": version.file(fmt)[2],
            "download_url": f"/api/v1/pilot-reports/{report_id}/versions/{version.number}/files/{fmt}",
        }
        for fmt in FORMATS
    ]


class VersionSchema(Schema):
    number = fields.Int()
    generated_by = fields.Str()
    generated_at = fields.DateTime()
    project_names = fields.List(fields.Str())
    figures = fields.Dict()
    files = fields.Method(
        "_files", metadata={"description": "[{format: docx|pdf, size, sha256, download_url}]"}
    )
    reviews = fields.List(
        fields.Nested(ReviewSchema),
        dump_only=True,
        metadata={"description": "the acceptance rounds and opinions on this version"},
    )

    def _files(self, obj: Any) -> list[dict[str, Any]]:
        return _files(obj.report_id, obj)


class ReportSchema(Schema):
    id = fields.Int()
    program_id = fields.Int()
    program_name = fields.Function(lambda r: r.program.name)
    tenant_code = fields.Function(lambda r: r.owner.code)
    tenant_name = fields.Function(lambda r: r.owner.name)
    status = fields.Str(metadata={"enum": list(STATUSES)})
    status_name = fields.Function(lambda r: STATUS_NAMES[r.status])
    version = fields.Function(lambda r: r.latest.number if r.latest else None)
    submitted_version = fields.Int(allow_none=True)
    submitted_by = fields.Str(allow_none=True)
    submitted_at = fields.DateTime(allow_none=True)
    accepted_at = fields.DateTime(allow_none=True)
    job_id = fields.Str(
        attribute="last_job_id", allow_none=True, metadata={"description": "the last generation"}
    )
    error = fields.Str(attribute="last_error", allow_none=True, metadata={"description": "why it failed"})
    files = fields.Method("_files", metadata={"description": "the latest version's files"})
    acceptance = fields.Method("_acceptance", metadata={"description": "every acceptance round"})
    opinions = fields.Method("_opinions", metadata={"description": "the cities' preliminary opinions"})

    def _files(self, obj: Any) -> list[dict[str, Any]]:
        return _files(obj.id, obj.latest) if obj.latest else []

    def _acceptance(self, obj: Any) -> list[dict[str, Any]]:
        return ReviewSchema(many=True).dump(obj.acceptances)

    def _opinions(self, obj: Any) -> list[dict[str, Any]]:
        return ReviewSchema(many=True).dump(obj.opinions)


class ReportDetailSchema(ReportSchema):
    versions = fields.Method("_versions")

    def _versions(self, obj: Any) -> list[dict[str, Any]]:
        found = []
        for version in reversed(obj.versions):
            dumped: dict[str, Any] = VersionSchema().dump(version)
            dumped["reviews"] = ReviewSchema(many=True).dump(
                [r for r in obj.reviews if r.version == version.number]
            )
            found.append(dumped)
        return found


class ReportStartedSchema(Schema):
    job_id = fields.Str()
    report_id = fields.Int(allow_none=True, metadata={"description": "the report (None for a 专报)"})


class ReportListSchema(Schema):
    items = fields.List(fields.Nested(ReportSchema))
    total = fields.Int()
