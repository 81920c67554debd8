"""HTTP for the indicator library (thin: parse → service → serialise). API.md "Indicator library"."""

from __future__ import annotations

from typing import Any

from flask import Response, request
from flask.views import MethodView
from flask_smorest import Blueprint

from jixiao.platform.core.authz import authorize
from jixiao.platform.core.errors import ValidationFailed
from jixiao.platform.core.storage import content_disposition
from jixiao.platform.web.api.platform import JobStartedSchema
from jixiao.platform.web.context import actor, db
from jixiao.tenants.schemas import page_schema

from . import excel, library, service, sharing
from .excel import export
from .excel.layout import XLSX_MIME
from .schemas import (
    EXAMPLE,
    CasePatchSchema,
    CaseQuerySchema,
    CaseSchema,
    CaseWriteSchema,
    DecisionSchema,
    FrameworkLevel1Schema,
    IndicatorCreateSchema,
    IndicatorPatchSchema,
    IndicatorQuerySchema,
    IndicatorSchema,
    IndicatorVersionSchema,
    ProposalQuerySchema,
    ProposalSchema,
    ReasonSchema,
    TemplatePatchSchema,
    TemplateQuerySchema,
    TemplateSchema,
    TemplateWriteSchema,
)

blp = Blueprint(
    "indicators", __name__, url_prefix="/api/v1", description="指标库：框架、指标、共建共享、模板与案例"
)

IndicatorPage = page_schema(IndicatorSchema, "IndicatorPage")
ProposalPage = page_schema(ProposalSchema, "ProposalPage")
TemplatePage = page_schema(TemplateSchema, "TemplatePage")
CasePage = page_schema(CaseSchema, "CasePage")


def _committed(result: Any) -> Any:
    db().commit()
    return result


@blp.route("/indicator-framework")
class Framework(MethodView):
    @blp.response(200, FrameworkLevel1Schema(many=True))
    def get(self) -> Any:
        """The Ministry's framework: level 1 → level 2 (read-only)."""
        authorize(actor(), "indicators.read")
        return service.framework(db())


@blp.route("/indicators")
class Indicators(MethodView):
    @blp.arguments(IndicatorQuerySchema, location="query")
    @blp.response(200, IndicatorPage)
    def get(self, args: dict[str, Any]) -> Any:
        """Indicators visible to the caller (shared + ancestors' + own + below, read-only), filtered."""
        return service.search(db(), actor(), **args)

    @blp.arguments(IndicatorCreateSchema, example=EXAMPLE)
    @blp.response(201, IndicatorSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """Create an indicator of the caller's tenant (province admin: shared); `derived_from` derives."""
        return _committed(service.create_indicator(db(), actor(), data))


@blp.route("/indicators/export")
class IndicatorExport(MethodView):
    @blp.arguments(IndicatorQuerySchema, location="query")
    @blp.doc(
        responses={
            "200": {
                "description": "指标库导出（.xlsx，附件 指标库导出_<日期>.xlsx）；列的布局见 docs/indicator-excel.md",
                "content": {XLSX_MIME: {"schema": {"type": "string", "format": "binary"}}},
            }
        }
    )
    def get(self, args: dict[str, Any]) -> Any:
        """Export what the list's filters select as .xlsx (the import layout; `page` is ignored)."""
        filters = {k: v for k, v in args.items() if k not in ("page", "page_size")}
        body = export.export_xlsx(db(), actor(), filters)
        return Response(
            body,
            mimetype=XLSX_MIME,
            headers={"Content-Disposition": content_disposition(export.export_filename())},
        )


@blp.route("/indicators/import-template")
class IndicatorImportTemplate(MethodView):
    @blp.doc(
        responses={
            "200": {
                "description": "导入模板（.xlsx）：表头、一行示例和“填写说明”工作表",
                "content": {XLSX_MIME: {"schema": {"type": "string", "format": "binary"}}},
            }
        }
    )
    def get(self) -> Any:
        """The import template: header row, one example row, and a 填写说明 sheet."""
        authorize(actor(), "indicators.read")
        return Response(
            export.template_xlsx(),
            mimetype=XLSX_MIME,
            headers={"Content-Disposition": content_disposition("指标库导入模板.xlsx")},
        )


@blp.route("/indicators/import")
class IndicatorImport(MethodView):
    @blp.doc(
        requestBody={
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {
                            "file": {"type": "string", "format": "binary", "description": ".xlsx，≤ 20 MiB"}
                        },
                        "required": ["file"],
                    }
                }
            },
        }
    )
    @blp.response(202, JobStartedSchema)
    def post(self) -> Any:
        """Import an .xlsx as a job: every row is checked first, all or nothing; the job's result
        lists each error with row, column and rule (GET /api/v1/jobs/{job_id})."""
        who = actor()
        authorize(who, "indicators.write")
        limit = excel.MAX_UPLOAD_BYTES + 64 * 1024  # the file plus the multipart envelope
        if request.content_length and request.content_length > limit:
            raise excel.UploadTooLarge(
                f"文件超过 {excel.MAX_UPLOAD_BYTES // (1024 * 1024)} MiB 上限，请拆分后分批导入"
            )
        request.max_content_length = limit
        upload = request.files.get("file")
        if upload is None:
            raise ValidationFailed(
                "请选择要导入的 .xlsx 文件", errors={"file": ["请选择要导入的 .xlsx 文件"]}
            )
        job_id = excel.start_import(who, upload.filename or "", upload.stream, content_type=upload.mimetype)
        return {"job_id": job_id}


@blp.route("/indicators/<int:indicator_id>")
class IndicatorById(MethodView):
    @blp.response(200, IndicatorSchema)
    def get(self, indicator_id: int) -> Any:
        """One indicator; another branch's is 404."""
        return service.get_indicator(db(), actor(), indicator_id)

    @blp.arguments(
        IndicatorPatchSchema, example={"version": 3, "standard_value": "95", "value_basis": "历史标准"}
    )
    @blp.response(200, IndicatorSchema)
    def patch(self, data: dict[str, Any], indicator_id: int) -> Any:
        """Edit an own indicator; `version` must be the current one (stale → 409)."""
        version = data.pop("version")
        return _committed(service.update_indicator(db(), actor(), indicator_id, version, data))


@blp.route("/indicators/<int:indicator_id>/retire")
class Retire(MethodView):
    @blp.arguments(ReasonSchema, example={"reason": "政策调整，该指标不再适用"})
    @blp.response(200, IndicatorSchema)
    def post(self, data: dict[str, Any], indicator_id: int) -> Any:
        """Retire (退出) an own indicator with a reason; it stays readable but can't be picked."""
        return _committed(service.retire_indicator(db(), actor(), indicator_id, data["reason"]))


@blp.route("/indicators/<int:indicator_id>/restore")
class Restore(MethodView):
    @blp.response(200, IndicatorSchema)
    def post(self, indicator_id: int) -> Any:
        """Bring a retired own indicator back."""
        return _committed(service.restore_indicator(db(), actor(), indicator_id))


@blp.route("/indicators/<int:indicator_id>/versions")
class Versions(MethodView):
    @blp.response(200, IndicatorVersionSchema(many=True))
    def get(self, indicator_id: int) -> Any:
        """Every version of the indicator, newest first."""
        return service.versions(db(), actor(), indicator_id)


@blp.route("/indicators/<int:indicator_id>/proposals")
class Propose(MethodView):
    @blp.arguments(ReasonSchema, example={"reason": "我区社区治理项目普遍适用，建议全市共享"})
    @blp.response(201, ProposalSchema)
    def post(self, data: dict[str, Any], indicator_id: int) -> Any:
        """Propose an own indicator to the parent level (共建共享)."""
        return _committed(sharing.propose(db(), actor(), indicator_id, data["reason"]))


@blp.route("/indicator-proposals")
class Proposals(MethodView):
    @blp.arguments(ProposalQuerySchema, location="query")
    @blp.response(200, ProposalPage)
    def get(self, args: dict[str, Any]) -> Any:
        """Incoming (to the caller's tenant) and outgoing proposals."""
        return sharing.list_proposals(db(), actor(), **args)


@blp.route("/indicator-proposals/<int:proposal_id>/decision")
class Decide(MethodView):
    @blp.arguments(
        DecisionSchema, example={"decision": "decline", "reason": "与市级已有指标「社区活动覆盖率」重复"}
    )
    @blp.response(200, ProposalSchema)
    def post(self, data: dict[str, Any], proposal_id: int) -> Any:
        """Accept (a shared copy owned by the parent) or decline (with a reason)."""
        return _committed(sharing.decide(db(), actor(), proposal_id, data["decision"], data.get("reason")))


@blp.route("/indicator-templates")
class Templates(MethodView):
    @blp.arguments(TemplateQuerySchema, location="query")
    @blp.response(200, TemplatePage)
    def get(self, args: dict[str, Any]) -> Any:
        """Templates visible to the caller (模板库)."""
        return library.list_templates(db(), actor(), **args)

    @blp.arguments(
        TemplateWriteSchema,
        example={
            "name": "培训类（兴庆区）",
            "project_class": "培训",
            "indicator_ids": [12, 15, 18, 40, 77, 101],
        },
    )
    @blp.response(201, TemplateSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """Create a template of the caller's tenant; retired indicators are refused by name."""
        return _committed(library.create_template(db(), actor(), data))


@blp.route("/indicator-templates/<int:template_id>")
class TemplateById(MethodView):
    @blp.response(200, TemplateSchema)
    def get(self, template_id: int) -> Any:
        """One template."""
        return library.get_template(db(), actor(), template_id)

    @blp.arguments(TemplatePatchSchema, example={"version": 2, "indicator_ids": [12, 15, 18, 40, 77]})
    @blp.response(200, TemplateSchema)
    def patch(self, data: dict[str, Any], template_id: int) -> Any:
        """Edit an own template (with `version`)."""
        return _committed(library.update_template(db(), actor(), template_id, data))

    @blp.response(204)
    def delete(self, template_id: int) -> None:
        """Delete an own template."""
        library.delete_template(db(), actor(), template_id)
        db().commit()


@blp.route("/cases")
class Cases(MethodView):
    @blp.arguments(CaseQuerySchema, location="query")
    @blp.response(200, CasePage)
    def get(self, args: dict[str, Any]) -> Any:
        """The case library (案例库)."""
        return library.list_cases(db(), actor(), **args)

    @blp.arguments(
        CaseWriteSchema,
        example={
            "title": "职业技能培训项目绩效目标范例",
            "project_class": "培训",
            "category": "社会保障和就业",
            "text": "……",
            "indicator_ids": [12, 15],
        },
    )
    @blp.response(201, CaseSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """Publish a case (province admin)."""
        return _committed(library.create_case(db(), actor(), data))


@blp.route("/cases/<int:case_id>")
class CaseById(MethodView):
    @blp.response(200, CaseSchema)
    def get(self, case_id: int) -> Any:
        """One case."""
        return library.get_case(db(), actor(), case_id)

    @blp.arguments(CasePatchSchema, example={"version": 1, "text": "……（修订）"})
    @blp.response(200, CaseSchema)
    def patch(self, data: dict[str, Any], case_id: int) -> Any:
        """Edit a case (with `version`)."""
        return _committed(library.update_case(db(), actor(), case_id, data))

    @blp.response(204)
    def delete(self, case_id: int) -> None:
        """Withdraw a case."""
        library.delete_case(db(), actor(), case_id)
        db().commit()
