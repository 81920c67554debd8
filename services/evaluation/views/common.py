"""What the self-evaluation pages share: the blueprint, the posted form read into the service's body,
and the self-evaluation as the templates show it (each line's points, its messages, the prompts for
a shortfall's reason). The page modules import from here, never the other way round."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from flask import Blueprint, request

from jixiao.platform.web.context import actor, db
from jixiao.platform.web.pages import may
from jixiao.services.indicators.rules import DIRECTION_LABELS
from jixiao.services.projects.models import Project
from jixiao.services.targets.models import COMMENT_KEYS, REVIEW_LEVELS, ROLE_OF_LEVEL, TargetLine

from .. import form as evaluation_form
from .. import scoring, service
from ..models import ACHIEVEMENTS, STATUS_NAMES, TEXTS

bp = Blueprint("evaluation_pages", __name__, url_prefix="/projects", template_folder="../templates")

STAGE = "self_evaluation"
# A budget executed below this share (percent) asks for its 原因 (FORMS.md 项目支出绩效自评表).
REASON_BELOW = Decimal(90)
MONEY_INPUTS = tuple(evaluation_form.MONEY_FIELDS)
FIELD_LABELS = {**evaluation_form.MONEY_FIELDS, **TEXTS}
LINE_LABELS = {
    "actual_value": "完成值",
    "achievement": "达成情况",
    "rate": "得分率",
    "shortfall_reason": "未完成原因分析",
}
LABELS = {
    "status": STATUS_NAMES,
    "achievement": ACHIEVEMENTS,
    "bands": {key: f"{low}–{high}%" for key, (low, high) in scoring.BANDS.items()},
    "direction": DIRECTION_LABELS,
    "review_level": REVIEW_LEVELS,
    "comment": COMMENT_KEYS,
    "field": FIELD_LABELS,
    "line_field": LINE_LABELS,
}


# --- the form as posted --------------------------------------------------------------------------


def _given(name: str) -> str | None:
    value = request.form.get(name, "").strip()
    return value or None


def posted(target_lines: list[TargetLine]) -> dict[str, Any]:
    """The form as the service's body (PUT …/self-evaluation): empty inputs are not given; a
    quantitative line sends its 完成值, a qualitative one its 达成情况 and optional 得分率."""
    lines = []
    for line in target_lines:
        key = f"l{line.id}_"
        item: dict[str, Any] = {
            "target_indicator_id": line.id,
            "shortfall_reason": request.form.get(key + "reason", "").strip(),
        }
        if line.value_type == "qualitative":
            item["achievement"] = _given(key + "achievement")
            item["rate"] = _given(key + "rate")
        else:
            item["actual_value"] = _given(key + "actual")
        lines.append(item)
    lock = request.form.get("lock_version", type=int)
    return {
        **{name: _given(name) for name in MONEY_INPUTS},
        **{name: request.form.get(name, "").strip() for name in TEXTS},
        "lines": lines,
        "lock_version": lock,
    }


def typed_over(view: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    """The saved self-evaluation with what the user typed over it, its points unknown (the form
    as typed could not be scored): a refused form is shown again as it was sent."""
    lines = {item["target_indicator_id"]: item for item in data["lines"]}
    shown = {
        **view,
        **{name: data.get(name) for name in MONEY_INPUTS},
        **{name: data.get(name, "") for name in TEXTS},
        "score": None,
        "grade": None,
        "budget": {**view["budget"], "rate": None, "earned": None},
    }
    shown["lines"] = [
        {
            **line,
            **{
                k: v
                for k, v in lines.get(line["target_indicator_id"], {}).items()
                if k != "target_indicator_id"
            },
            "points": {"completion": None, "available": line["points"]["available"], "earned": None},
        }
        for line in view["lines"]
    ]
    return shown


# --- the self-evaluation as shown ----------------------------------------------------------------


def _number(text: str | None) -> Decimal | None:
    try:
        return None if text in (None, "") else Decimal(str(text))
    except InvalidOperation:
        return None


def shown(project: Project, view: dict[str, Any], errors: dict[str, Any] | None = None) -> dict[str, Any]:
    """`view` (service.view / preview) for the templates: each line numbered as the service's
    messages number it (`lines.N.field`), with its messages, the fields they concern and whether its
    未完成原因分析 is asked for (it earns less than its points); the budget's 原因 likewise (rate
    below 90 %); the errors that belong to no line."""
    errors = errors or {}
    lines = []
    for n, line in enumerate(view["lines"], start=1):
        prefix = f"lines.{n}."
        mine = {k[len(prefix) :]: v for k, v in errors.items() if k.startswith(prefix)}
        earned, available = _number(line["points"]["earned"]), _number(line["points"]["available"])
        lines.append(
            {
                **line,
                "n": n,
                "messages": [m for v in mine.values() for m in ([v] if isinstance(v, str) else v)],
                "bad": set(mine),
                "short": (
                    not line["missing"]
                    and earned is not None
                    and available is not None
                    and earned < available
                ),
            }
        )
    rate = _number(view["budget"]["rate"])
    return {
        "ev": {**view, "lines": lines},
        "budget_prompt": rate is not None and rate < REASON_BELOW,
        "top_errors": {k: v for k, v in errors.items() if not k.startswith("lines.")},
        "errors": errors,
        "labels": LABELS,
        "empty_groups": empty_groups(
            view["lines"], project.program.effective_settings.get("self_evaluation")
        ),
    }


def empty_groups(lines: list[dict[str, Any]], settings: dict[str, Any] | None) -> list[str]:
    """The level-1 groups without lines, whose points the others share (the table says so)."""
    conf = {**scoring.DEFAULTS, **(settings or {})}
    cost_in = str(conf.get("cost_counts_in") or "产出")
    present = {cost_in if line["level1"] == "成本" else line["level1"] for line in lines}
    return [name for name in conf["indicator_points"] if name not in present]


def may_review(project: Project, view: dict[str, Any]) -> bool:
    """Whether the caller may review the submission at the level it awaits (never their own)."""
    level = view.get("review_level")
    if view.get("status") != "submitted" or not level:
        return False
    who = actor()
    return (
        view.get("submitted_by") != who.username
        and project.tenant_id == who.tenant_id
        and who.has_role(ROLE_OF_LEVEL[level])
        and may("self_evaluation.review", project=project, level=level)
    )


def editable(project: Project, view: dict[str, Any]) -> bool:
    return (
        project.status == "active"
        and view["status"] in ("draft", "returned")
        and may("projects.write", project=project)
    )


def last_return(view: dict[str, Any]) -> Any:
    """The return the editors are answering (its reasons shown above the form)."""
    returns = [r for r in view["reviews"] if r.decision == "return"]
    return returns[-1] if returns and view["status"] in ("returned", "draft") else None


def review_rows(view: dict[str, Any]) -> list[dict[str, Any]]:
    """Every review so far for `targets/_reviews.html`, numbered by submission (第 N 次提交 —
    a return starts the next)."""
    rows, number = [], 1
    for r in view["reviews"]:
        rows.append({"version": number, "review": r})
        if r.decision == "return":
            number += 1
    return rows


def resubmission(view: dict[str, Any]) -> dict[str, Any] | None:
    """What changed since the return, with its labels (None for a first submission)."""
    found = view.get("resubmission")
    if not found:
        return None

    def text(field: str, value: str) -> str:
        return ACHIEVEMENTS.get(value, value) if field == "achievement" else value

    diff = found["diff"]
    return {
        **found,
        "fields": [
            {"label": FIELD_LABELS.get(k, k), "old": old, "new": new}
            for k, (old, new) in diff["fields"].items()
        ],
        "changed": [
            {
                "name": c["name"],
                "fields": [
                    {"label": LINE_LABELS.get(f, f), "old": text(f, old), "new": text(f, new)}
                    for f, (old, new) in c["fields"].items()
                ],
            }
            for c in diff["changed"]
        ],
    }


def panel_context(project: Project) -> dict[str, Any]:
    """The overview's card while the project is at the self-evaluation stage."""
    found = service.get(db(), actor(), project.id)
    return {
        "evaluation": found,
        "may_review_evaluation": may_review(project, found),
        "may_fill": editable(project, found),
    }
