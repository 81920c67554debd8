"""What changed between two states of a target set, compared as snapshots (`service.snapshot_of(…,
with_indicators=True)`): the versions' history and the resubmission after a return (no Flask)."""

from __future__ import annotations

from typing import Any

from .models import LINE_FIELDS


def diff_snapshots(old: dict[str, Any] | None, new: dict[str, Any]) -> dict[str, Any]:
    """`diff` of two `snapshot_of(…, with_indicators=True)`: a line is the same line when it has the
    same library indicator, or (a custom line) the same name."""

    def key(values: dict[str, Any]) -> str:
        return (
            f"indicator:{values['indicator_id']}" if values.get("indicator_id") else f"name:{values['name']}"
        )

    changes: dict[str, Any] = {"goals": {}, "added": [], "removed": [], "changed": []}
    for field in ("overall_goal", "midterm_goal"):
        before, after = (old or {}).get(field, ""), new[field]
        if before != after:
            changes["goals"][field] = [before, after]
    old_lines = {key(values): values for values in (old or {}).get("lines", [])}
    new_lines = {key(values): values for values in new["lines"]}
    for line_key, values in new_lines.items():
        if line_key not in old_lines:
            changes["added"].append(values["name"])
            continue
        before_values = old_lines[line_key]
        fields = {
            f: [before_values.get(f, ""), values[f]]
            for f in LINE_FIELDS
            if before_values.get(f, "") != values[f]
        }
        if fields:
            changes["changed"].append({"name": values["name"], "fields": fields})
    changes["removed"] = [
        values["name"] for line_key, values in old_lines.items() if line_key not in new_lines
    ]
    return changes
