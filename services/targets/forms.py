"""Between the targets pages' forms and the services: the lines as the editor's inputs hold them,
the posted form back to the service's shape, messages by line, and the diff and print views."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import request

from jixiao.services.indicators.models import FRAMEWORK, LEVEL1_OF
from jixiao.services.indicators.rules import DIRECTION_LABELS, VALUE_TYPE_LABELS

from . import rules as target_rules
from .models import LINE_FIELDS as SERVICE_LINE_FIELDS
from .models import TargetSet
from .stage import FIELD_LABELS, GOAL_LABELS

# The editor's inputs per line: the library link and the service's line fields.
LINE_FIELDS = ("indicator_id", *SERVICE_LINE_FIELDS)


def weight_text(weight: Any) -> str:
    if weight is None or weight == "":
        return ""
    value = Decimal(str(weight))
    return f"{value.quantize(Decimal(1)) if value == value.to_integral() else value.normalize():f}"


def line_dicts(target_set: TargetSet | None) -> list[dict[str, str]]:
    if target_set is None:
        return []
    return [
        {
            "indicator_id": str(line.indicator_id or ""),
            "level2": line.level2,
            "name": line.name,
            "value_type": line.value_type,
            "direction": line.direction,
            "target_value": line.target_value or "",
            "unit": line.unit or "",
            "weight": weight_text(line.weight),
            "value_basis": line.value_basis or "",
            "note": line.note or "",
        }
        for line in target_set.lines
    ]


def posted_rows() -> list[tuple[int, dict[str, str]]]:
    """The lines as typed, each with its row number in the editor (rows left entirely empty are
    dropped, so a line's number in the service may be smaller than its row)."""
    f = request.form
    columns = {field: f.getlist(f"line_{field}") for field in LINE_FIELDS}
    count = max((len(v) for v in columns.values()), default=0)
    rows = []
    for n in range(count):
        line = {
            field: (columns[field][n].strip() if n < len(columns[field]) else "") for field in LINE_FIELDS
        }
        if any(line[k] for k in ("indicator_id", "name", "target_value", "weight", "unit", "note")):
            rows.append((n + 1, line))
    return rows


def posted_targets() -> tuple[dict[str, str], list[dict[str, str]]]:
    """Goals and the lines as typed (rows left entirely empty are dropped)."""
    goals = {
        "overall_goal": request.form.get("overall_goal", "").strip(),
        "midterm_goal": request.form.get("midterm_goal", "").strip(),
    }
    return goals, [line for _, line in posted_rows()]


def service_lines(lines: list[dict[str, str]]) -> list[dict[str, Any]]:
    result = []
    for line in lines:
        item: dict[str, Any] = {k: v for k, v in line.items() if k != "indicator_id"}
        item["indicator_id"] = int(line["indicator_id"]) if line["indicator_id"].isdigit() else None
        item["weight"] = line["weight"] or None
        result.append(item)
    return result


def joined(texts: list[str]) -> str:
    """Messages in one sentence: ；between them, never 。； (a message's own full stop is dropped)."""
    return "；".join(t.rstrip("。；; ") for t in texts if t.strip())


def line_messages(
    violations: list[target_rules.Violation], errors: dict[str, Any] | None = None
) -> tuple[list[str], dict[int, list[dict[str, str | None]]], dict[int, set[str]], list[dict[str, Any]]]:
    """Top messages; the messages by 1-based line (`text`, and the rule code shown as a small tag);
    the fields to mark invalid by line; the violations as shown at the top."""
    top: list[str] = []
    by_line: dict[int, list[dict[str, str | None]]] = {}
    bad: dict[int, set[str]] = {}
    for key, problems in (errors or {}).items():
        texts = [problems] if isinstance(problems, str) else [str(p) for p in problems]
        parts = key.split(".")
        if len(parts) >= 2 and parts[0] == "indicators" and parts[1].isdigit():
            n = int(parts[1])
            by_line.setdefault(n, []).extend({"text": t, "rule": None} for t in texts)
            if len(parts) >= 3:
                bad.setdefault(n, set()).add(parts[2])
        top.extend(texts)
    for v in violations:
        if v.line is not None:
            by_line.setdefault(v.line, []).append({"text": v.message, "rule": v.rule})
    shown = [v.as_dict() for v in violations]
    return top, by_line, bad, shown


def is_number(text: str) -> bool:
    try:
        Decimal(text)
        return bool(text)
    except ArithmeticError:
        return False


def diff_view(diff: dict[str, Any] | None) -> dict[str, Any] | None:
    if diff is None:
        return None

    def shown(field: str, value: str) -> str:
        if field == "direction":
            return DIRECTION_LABELS.get(value, value)
        if field == "value_type":
            return VALUE_TYPE_LABELS.get(value, value)
        if field == "weight" and value:
            return weight_text(value)
        return value

    return {
        "goals": [
            {"label": GOAL_LABELS[k], "old": old, "new": new}
            for k, (old, new) in diff.get("goals", {}).items()
        ],
        "added": diff.get("added", []),
        "removed": diff.get("removed", []),
        "changed": [
            {
                "name": c["name"],
                "fields": [
                    {"label": FIELD_LABELS.get(f, f), "old": shown(f, old), "new": shown(f, new)}
                    for f, (old, new) in c["fields"].items()
                ],
            }
            for c in diff.get("changed", [])
        ],
    }


def grouped(target_set: TargetSet) -> list[dict[str, Any]]:
    """The lines grouped by 一级 then 二级, in the framework's order, with the rowspans."""
    groups = []
    for level1, children in FRAMEWORK.items():
        subgroups = []
        for level2 in children:
            lines = [line for line in target_set.lines if line.level2 == level2]
            if lines:
                subgroups.append({"name": level2, "lines": lines})
        if subgroups:
            groups.append(
                {"name": level1, "subgroups": subgroups, "rows": sum(len(g["lines"]) for g in subgroups)}
            )
    others = [line for line in target_set.lines if line.level2 not in LEVEL1_OF]
    if others:
        groups.append({"name": "其他", "subgroups": [{"name": "—", "lines": others}], "rows": len(others)})
    return groups
