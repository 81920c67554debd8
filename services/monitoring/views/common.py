"""What the monitoring pages share: the blueprint, the vocabularies, the program's thresholds for
the live badges, the target lines a round is filled against, and reading the round form into the
body the service takes (through the API's own schemas, so the page and the API refuse alike)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request, url_for
from marshmallow import Schema, ValidationError

from jixiao.platform.core.errors import NotFound
from jixiao.platform.web.context import actor, db
from jixiao.platform.web.pages import may
from jixiao.services.evaluation import scoring
from jixiao.services.evidence import service as evidence_service
from jixiao.services.indicators.models import LEVEL1_OF
from jixiao.services.indicators.rules import DIRECTION_LABELS
from jixiao.services.programs.views import province_today
from jixiao.services.projects.models import Project
from jixiao.services.targets.models import TargetLine

from .. import corrections, rules, service
from ..models import (
    ACHIEVEMENTS,
    CORRECTION_KINDS,
    CORRECTION_STATUS_NAMES,
    LIKELIHOODS,
    REASON_CATEGORIES,
    ROUND_STATUS_NAMES,
    WARNING_NAMES,
    Correction,
    MonitoringRound,
)

# No url_prefix: the project's pages live under /projects/<id>/monitoring, the inbox at /corrections.
bp = Blueprint("monitoring_pages", __name__, template_folder="../templates")
BASE = "/projects/<int:project_id>/monitoring"
LINE_FIELDS = (
    "planned_value",
    "actual_value",
    "achievement",
    "text",
    "reason",
    "measure",
    "reason_category",
    "likelihood",
)
ADJUSTMENT_REASONS = ("机构改革", "政策变化", "突发事件", "其他")


@bp.context_processor
def _vocabularies() -> dict[str, Any]:
    return {
        "M": {
            "round_status": ROUND_STATUS_NAMES,
            "warning": WARNING_NAMES,
            "achievement": ACHIEVEMENTS,
            "reason_categories": REASON_CATEGORIES,
            "likelihoods": LIKELIHOODS,
            "kinds": CORRECTION_KINDS,
            "correction_status": CORRECTION_STATUS_NAMES,
            "direction": DIRECTION_LABELS,
            "adjustment_reasons": ADJUSTMENT_REASONS,
            "level1_of": LEVEL1_OF,
        }
    }


def thresholds(project: Project) -> dict[str, Any]:
    """The program's warning thresholds and qualitative midpoints (for the badges' data-*)."""
    settings = project.program.effective_settings
    found = {**rules.DEFAULTS, **(settings.get("monitoring") or {})}
    midpoints = (settings.get("self_evaluation") or {}).get(
        "qualitative_midpoints", scoring.DEFAULTS["qualitative_midpoints"]
    )
    return {
        "green": found["completion_green"],
        "yellow": found["completion_yellow"],
        "lag_yellow": found["budget_lag_yellow"],
        "lag_red": found["budget_lag_red"],
        "midpoints": {key: str(value) for key, value in midpoints.items()},
    }


def line_row(line: TargetLine) -> dict[str, Any]:
    return {
        "id": line.id,
        "level1": LEVEL1_OF.get(line.level2, ""),
        "level2": line.level2,
        "name": line.name,
        "value_type": line.value_type,
        "direction": line.direction,
        "target_value": line.target_value,
        "unit": line.unit,
    }


def empty_form(lines: list[TargetLine], period: str) -> dict[str, Any]:
    return {
        "period": period,
        "as_of": "",
        "budget_executed": "",
        "budget_explanation": "",
        "budget_reason": "",
        "budget_measure": "",
        "lock_version": "",
        "lines": [{**line_row(line), **{f: "" for f in LINE_FIELDS}} for line in lines],
    }


def round_form(found: MonitoringRound) -> dict[str, Any]:
    """A returned round's values, to correct them."""
    by_target = {line.target_line_id: line for line in found.lines}
    rows = []
    for line in found.target_set.lines:
        reported = by_target.get(line.id)
        rows.append(
            {
                **line_row(line),
                **{f: (getattr(reported, f) or "") if reported else "" for f in LINE_FIELDS},
            }
        )
    return {
        "period": found.period,
        "as_of": found.as_of.isoformat(),
        "budget_executed": f"{found.budget_executed:.2f}",
        "budget_explanation": found.budget_explanation,
        "budget_reason": found.budget_reason,
        "budget_measure": found.budget_measure,
        "lock_version": str(found.lock_version),
        "lines": rows,
    }


def posted_form(lines: list[TargetLine], period: str) -> dict[str, Any]:
    """The round form as posted, one row per target line (`line-<n>-<field>`, n from 1 — the
    service's `progress.<n>` keys)."""
    form = request.form
    rows = []
    for n, line in enumerate(lines, start=1):
        rows.append({**line_row(line), **{f: form.get(f"line-{n}-{f}", "").strip() for f in LINE_FIELDS}})
    return {
        "period": period,
        **{
            key: form.get(key, "").strip()
            for key in (
                "as_of",
                "budget_executed",
                "budget_explanation",
                "budget_reason",
                "budget_measure",
                "lock_version",
            )
        },
        "lines": rows,
    }


def flatten(messages: Any, path: str = "") -> dict[str, list[str]]:
    """marshmallow's nested errors → the service's keys (`progress.3.actual_value`, from 1)."""
    found: dict[str, list[str]] = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            part = str(key + 1) if isinstance(key, int) else str(key)
            found.update(flatten(value, f"{path}.{part}" if path else part))
    elif isinstance(messages, list) and messages and all(isinstance(m, str) for m in messages):
        found[path or "_schema"] = list(messages)
    elif isinstance(messages, list):
        for value in messages:
            found.update(flatten(value, path))
    else:
        found[path or "_schema"] = [str(messages)]
    return found


def load(schema: Schema, raw: dict[str, Any]) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """`raw` through an API schema: (the data, {}) or ({}, every problem by field)."""
    try:
        return schema.load(raw), {}
    except ValidationError as exc:
        return {}, flatten(exc.messages)


def round_body(form: dict[str, Any], *, with_period: bool) -> dict[str, Any]:
    """The posted form as the API's JSON body (empty selects left out)."""
    body: dict[str, Any] = {
        "budget_executed": form["budget_executed"],
        "budget_explanation": form["budget_explanation"],
        "budget_reason": form["budget_reason"],
        "budget_measure": form["budget_measure"],
        "progress": [
            {
                "target_indicator_id": row["id"],
                **{f: row[f] for f in LINE_FIELDS if row[f] != "" or f in ("planned_value", "actual_value")},
            }
            for row in form["lines"]
        ],
    }
    if form["as_of"]:
        body["as_of"] = form["as_of"]
    if form["lock_version"].isdigit():
        body["lock_version"] = int(form["lock_version"])
    if with_period:
        body["period"] = form["period"]
    return body


def round_by_period(project: Project, period: str) -> MonitoringRound:
    found = next((r for r in service.rounds_of(db(), project) if r.period == period), None)
    if found is None:
        raise NotFound(f"{period} 轮监控尚未填报")
    return found


def due_periods(project: Project, rounds: list[MonitoringRound]) -> list[str]:
    """The periods still to be reported: those after the latest reported one (rounds follow one
    another in time), in order."""
    latest = max((r.period for r in rounds), default="")
    return [p for p in service.allowed_periods(project) if p > latest]


def line_messages(errors: dict[str, list[str]]) -> tuple[dict[int, dict[str, list[str]]], dict[str, Any]]:
    """The service's errors split into those of a line (by its number, by field) and the rest."""
    by_line: dict[int, dict[str, list[str]]] = {}
    rest: dict[str, Any] = {}
    for key, messages in errors.items():
        parts = key.split(".")
        if len(parts) >= 3 and parts[0] == "progress" and parts[1].isdigit():
            by_line.setdefault(int(parts[1]), {}).setdefault(parts[2], []).extend(messages)
        else:
            rest[key] = messages
    return by_line, rest


STATUS_ORDER = {"open": 0, "answered": 1, "closed": 2}


def ordered(items: list[Correction]) -> list[Correction]:
    """Open first (overdue before the others), then answered, then closed; newest first inside."""
    return sorted(items, key=lambda c: (STATUS_ORDER.get(c.status, 3), not c.overdue, -c.id))


def may_reply(project: Project) -> bool:
    return (
        project.status == "active"
        and may("projects.write", project=project)
        and actor().has_role("project_editor")
    )


def round_corrections(project: Project, found: MonitoringRound) -> dict[str, Any]:
    """The round's correction requests with their threads, and what the caller may do on them."""
    items = [
        c
        for c in corrections.of_project(db(), actor(), project.id, province_today())
        if c.round_id == found.id
    ]
    replying = may_reply(project)
    evidence = (
        evidence_service.list_evidence(db(), actor(), project.id, stage="monitoring") if replying else []
    )
    return {
        "corrections": ordered(items),
        "may_reply": replying,
        "may_follow_up": project.status == "active" and may("projects.finance", project=project),
        "evidence": evidence,
        "evidence_names": {
            e.id: e for e in evidence_service.list_evidence(db(), actor(), project.id, include_history=True)
        }
        if items
        else {},
        "evidence_url": url_for("evidence_pages.project", project_id=project.id) + "#ev-h-monitoring",
    }


def panel_context(project: Project) -> dict[str, Any]:
    """The overview's card while the project is at the monitoring stage: the rounds so far (the
    latest one's warnings), the periods due, the open corrections."""
    found = service.rounds_of(db(), project)
    open_corrections = [
        c for c in corrections.of_project(db(), actor(), project.id, province_today()) if c.status != "closed"
    ]
    return {
        "monitoring_rounds": found,
        "latest_round": found[-1] if found else None,
        "due_periods": due_periods(project, found),
        "open_corrections": open_corrections,
        "may_report": may("projects.write", project=project),
    }
