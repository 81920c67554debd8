"""The indicator comparison page (横向可对比), reached from every library indicator's page: the
approved targets in force that use it (or an indicator derived from it) across the tenants the
caller sees, normalised values, the latest actuals, and the outliers marked — with the method
stated. The province and a city (its branch); a county is refused (403, the policy)."""

from __future__ import annotations

import json
import statistics
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import render_template, request
from flask_login import login_required

from jixiao.platform.web.context import actor, db
from jixiao.services.reports.views.common import visible_programs

from .. import comparison
from .common import bp, program_id_of


def _threshold(raw: str | None) -> Decimal:
    try:
        value = Decimal((raw or "").strip())
    except InvalidOperation:
        return comparison.DEFAULT_THRESHOLD
    return value if value.is_finite() and 1 <= value <= 10 else comparison.DEFAULT_THRESHOLD


def box_plot(found: comparison.Comparison) -> dict[str, Any] | None:
    """The box plot of the values that took part (the unit most share): quartiles (inclusive), the
    whiskers at the furthest values within 1.5 IQR, every value a point — the outliers by the
    modified z-score marked. None below 3 values (as the method)."""
    points = [i for i in found.items if i.z is not None and i.normalised_value is not None]
    values = sorted(float(i.normalised_value) for i in points if i.normalised_value is not None)
    if len(values) < 3:
        return None
    q1, median, q3 = statistics.quantiles(values, n=4, method="inclusive")
    reach = 1.5 * (q3 - q1)
    low = min(v for v in values if v >= q1 - reach)
    high = max(v for v in values if v <= q3 + reach)
    return {
        "unit": found.method.get("unit") or "",
        "stats": [low, q1, median, q3, high],
        "points": [
            {
                "name": f"{i.tenant_name} · {i.project_name}",
                "value": float(i.normalised_value),
                "outlier": i.outlier,
            }
            for i in points
            if i.normalised_value is not None
        ],
    }


@bp.get("/indicators/<int:indicator_id>/comparison", endpoint="comparison")
@login_required
def comparison_page(indicator_id: int) -> Any:
    program_id = program_id_of(request.args.get("program_id"))
    threshold = _threshold(request.args.get("threshold"))
    found = comparison.compare(db(), actor(), indicator_id, threshold=threshold, program_id=program_id)
    outliers = [i for i in found.items if i.outlier]
    box = box_plot(found)
    return render_template(
        "province/comparison.html",
        found=found,
        programs=visible_programs(),
        program_id=program_id,
        threshold=threshold,
        outliers=outliers,
        box=json.dumps({"box": box}, ensure_ascii=False),
        has_box=box is not None,
    )
