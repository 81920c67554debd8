"""Schemas of the province's views (API.md "Reports, acceptance, province": `province/dashboard`)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from marshmallow import Schema, fields, validate

from jixiao.platform.core import messages  # noqa: F401 - Chinese defaults before any field is built
from jixiao.platform.core.schema import DecimalString, InputSchema
from jixiao.services.programs.models import STAGES

from .dashboard import COLOURS, GRADES, Dashboard, ProjectRow, Totals

COLOUR_COUNTS = {"description": "{green, yellow, red}: lines of the latest monitoring round"}


class DashboardQuerySchema(InputSchema):
    program_id = fields.Int(required=True)
    city = fields.Str(
        validate=validate.Regexp(r"^\d{6}$"), metadata={"description": "a city's code: it and its counties"}
    )
    stage = fields.Str(metadata={"enum": [*STAGES, "done"]})
    grade = fields.Str(metadata={"enum": list(GRADES)})
    overdue = fields.Bool()
    warning = fields.Str(metadata={"enum": list(COLOURS)})


class ProjectRowSchema(Schema):
    id = fields.Int()
    name = fields.Str()
    stage = fields.Str(metadata={"enum": list(STAGES)})
    stage_name = fields.Str()
    complete = fields.Bool(metadata={"description": "every stage done (结果应用 approved)"})
    status = fields.Str()
    overdue = fields.Function(lambda p: bool(p.overdue))
    overdue_stages = fields.List(fields.Str(), attribute="overdue")
    warnings = fields.Dict(keys=fields.Str(), values=fields.Int(), metadata=COLOUR_COUNTS)
    forecast_warnings = fields.Dict(keys=fields.Str(), values=fields.Int(), metadata=COLOUR_COUNTS)
    latest_period = fields.Str(allow_none=True)
    grade = fields.Str(allow_none=True, metadata={"description": "the approved self-evaluation's"})
    score = DecimalString(allow_none=True)
    key_evaluation_grade = fields.Str(
        allow_none=True, metadata={"description": "the accepted key evaluation's"}
    )
    key_evaluation_score = DecimalString(allow_none=True)
    budget = DecimalString()
    budget_executed = DecimalString(allow_none=True)
    budget_execution_rate = DecimalString(allow_none=True, metadata={"description": "percent"})
    time_progress = DecimalString(allow_none=True, metadata={"description": "序时进度, percent"})
    open_corrections = fields.Int()
    open_rectifications = fields.Int()
    spot_check = fields.Str(
        allow_none=True,
        metadata={
            "enum": ["pending", "pass", "rectify", "rectified"],
            "description": "the latest spot check's result (抽查): 待审查/通过/须整改/整改完成",
        },
    )


class TotalsSchema(Schema):
    tenants = fields.Int()
    projects = fields.Int()
    stages = fields.Dict(
        keys=fields.Str(), values=fields.Int(), metadata={"description": "阶段名 → projects"}
    )
    overdue = fields.Int()
    warnings = fields.Dict(keys=fields.Str(), values=fields.Int())
    forecast_warnings = fields.Dict(keys=fields.Str(), values=fields.Int())
    grades = fields.Dict(keys=fields.Str(), values=fields.Int())
    key_evaluation_grades = fields.Dict(keys=fields.Str(), values=fields.Int())
    budget = DecimalString()
    budget_executed = DecimalString()
    budget_execution_rate = DecimalString(allow_none=True)
    open_corrections = fields.Int()
    open_rectifications = fields.Int()
    reports = fields.Dict(
        keys=fields.Str(), values=fields.Int(), metadata={"description": "report status → tenants"}
    )
    spot_checks = fields.Dict(
        keys=fields.Str(),
        values=fields.Int(),
        metadata={"description": "latest spot-check result → projects"},
    )


class TenantRowSchema(Schema):
    code = fields.Str()
    name = fields.Str()
    level = fields.Str()
    parent_code = fields.Str(allow_none=True)
    projects = fields.List(fields.Nested(ProjectRowSchema))
    report_id = fields.Int(allow_none=True)
    report_status = fields.Str(
        allow_none=True, metadata={"enum": ["draft", "submitted", "returned", "accepted"]}
    )
    report_status_name = fields.Str()
    report_version = fields.Int(allow_none=True)


class CitySchema(Schema):
    code = fields.Str()
    name = fields.Str()
    totals = fields.Nested(TotalsSchema)
    tenants = fields.Function(lambda c: [t.code for t in c.tenants])


class DashboardSchema(Schema):
    program_id = fields.Function(lambda d: d.program.id)
    root_code = fields.Function(lambda d: d.root.code)
    tenants = fields.List(fields.Nested(TenantRowSchema))
    cities = fields.List(fields.Nested(CitySchema))
    totals = fields.Nested(TotalsSchema)
    filters = fields.Dict()


class ComparisonQuerySchema(InputSchema):
    indicator_id = fields.Int(required=True)
    program_id = fields.Int(metadata={"description": "only the projects of one program"})
    threshold = fields.Float(
        load_default=None,
        allow_none=True,
        validate=validate.Range(min=1, max=10),
        metadata={"description": "|modified z| above which a value is an outlier (*default* 3.5)"},
    )


class ComparisonItemSchema(Schema):
    tenant_code = fields.Str()
    tenant_name = fields.Str()
    project_id = fields.Int()
    project_name = fields.Str()
    program_id = fields.Int()
    indicator_id = fields.Int(metadata={"description": "the line's indicator (a derived one's own id)"})
    indicator_code = fields.Str()
    derived = fields.Bool(metadata={"description": "an indicator derived from the one compared"})
    target_value = fields.Str()
    unit = fields.Str()
    direction = fields.Str()
    normalised_value = DecimalString(allow_none=True)
    normalised_unit = fields.Str()
    actual_value = fields.Str(allow_none=True, metadata={"description": "the latest monitoring round's"})
    completion = DecimalString(allow_none=True, metadata={"description": "percent"})
    z = DecimalString(allow_none=True, metadata={"description": "modified z-score"})
    outlier = fields.Bool()


class ComparisonMethodSchema(Schema):
    name = fields.Str(metadata={"enum": ["modified_z_score_mad"]})
    description = fields.Str()
    threshold = DecimalString()
    unit = fields.Str(allow_none=True, metadata={"description": "the unit the scored values share"})
    median = DecimalString(allow_none=True)
    mad = DecimalString(allow_none=True)
    count = fields.Int(metadata={"description": "values scored"})


class ComparisonSchema(Schema):
    indicator = fields.Function(
        lambda c: {
            "id": c.indicator.id,
            "code": c.indicator.code,
            "name": c.indicator.name,
            "unit": c.indicator.unit,
            "direction": c.indicator.direction,
        }
    )
    items = fields.List(fields.Nested(ComparisonItemSchema))
    method = fields.Nested(ComparisonMethodSchema)


# --- the dashboard's answer, written out by hand -------------------------------------------------
# `DashboardSchema` documents the answer; these functions write it. At 3,000 counties × 2 projects
# marshmallow took ≈ 0.45 s to dump the rows (benchmarks/dashboard.py); these give the very same
# JSON (tests/api/test_province_dashboard.py compares them) at a tenth of that.


def _dec(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")


def _project(p: ProjectRow) -> dict[str, Any]:
    # (thousands a request: the row's own lists and dicts, not copies — the answer is written
    # out at once; the decimals formatted inline)
    score, key_score, executed, rate, progress = (
        p.score,
        p.key_evaluation_score,
        p.budget_executed,
        p.budget_execution_rate,
        p.time_progress,
    )
    return {  # (the keys in the order the JSON is written, sorted: sorting them again is free)
        "budget": format(p.budget, "f"),
        "budget_executed": None if executed is None else format(executed, "f"),
        "budget_execution_rate": None if rate is None else format(rate, "f"),
        "complete": p.complete,
        "forecast_warnings": p.forecast_warnings,
        "grade": p.grade,
        "id": p.id,
        "key_evaluation_grade": p.key_evaluation_grade,
        "key_evaluation_score": None if key_score is None else format(key_score, "f"),
        "latest_period": p.latest_period,
        "name": p.name,
        "open_corrections": p.open_corrections,
        "open_rectifications": p.open_rectifications,
        "overdue": bool(p.overdue),
        "overdue_stages": p.overdue,
        "score": None if score is None else format(score, "f"),
        "spot_check": p.spot_check,
        "stage": p.stage,
        "stage_name": p.stage_name,
        "status": p.status,
        "time_progress": None if progress is None else format(progress, "f"),
        "warnings": p.warnings,
    }


def _totals(t: Totals) -> dict[str, Any]:
    return {
        "budget": _dec(t.budget),
        "budget_executed": _dec(t.budget_executed),
        "budget_execution_rate": _dec(t.budget_execution_rate),
        "forecast_warnings": dict(t.forecast_warnings),
        "grades": dict(t.grades),
        "key_evaluation_grades": dict(t.key_evaluation_grades),
        "open_corrections": t.open_corrections,
        "open_rectifications": t.open_rectifications,
        "overdue": t.overdue,
        "projects": t.projects,
        "reports": dict(t.reports),
        "spot_checks": dict(t.spot_checks),
        "stages": dict(t.stages),
        "tenants": t.tenants,
        "warnings": dict(t.warnings),
    }


def dashboard_json(d: Dashboard) -> dict[str, Any]:
    """What `DashboardSchema().dump(d)` gives (each dict's keys in sorted order, as jsonify writes
    them: ~10 % of the encoding of a big dashboard is sorting keys that are out of order)."""
    return {
        "cities": [
            {
                "code": c.code,
                "name": c.name,
                "tenants": [t.code for t in c.tenants],
                "totals": _totals(c.totals),
            }
            for c in d.cities
        ],
        "filters": dict(d.filters),
        "program_id": d.program.id,
        "root_code": d.root.code,
        "tenants": [
            {
                "code": t.code,
                "level": t.level,
                "name": t.name,
                "parent_code": t.parent_code,
                "projects": [_project(p) for p in t.projects],
                "report_id": t.report_id,
                "report_status": t.report_status,
                "report_status_name": t.report_status_name,
                "report_version": t.report_version,
            }
            for t in d.tenants
        ],
        "totals": _totals(d.totals),
    }
