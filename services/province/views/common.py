"""What the province pages share: the blueprint, the vocabularies, and the filters as the page's
query string reads them (a value the dashboard does not know is ignored, never an error page)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Blueprint

from jixiao.services.programs.models import STAGE_NAMES, STAGES

from ..dashboard import COLOURS, GRADES, Filters

bp = Blueprint("province_pages", __name__, url_prefix="/province", template_folder="../templates")

COLOUR_NAMES = {"green": "绿色", "yellow": "黄色", "red": "红色"}
GRADE_BADGES = {
    "优": "text-bg-success",
    "良": "text-bg-primary",
    "中": "text-bg-warning",
    "差": "text-bg-danger",
}
REPORT_BADGES = {
    "draft": "text-bg-secondary",
    "submitted": "text-bg-info",
    "returned": "text-bg-warning",
    "accepted": "text-bg-success",
}
FILTER_KEYS = ("city", "stage", "grade", "overdue", "warning")


@bp.context_processor
def _vocabularies() -> dict[str, Any]:
    return {
        "PV": {
            "stages": [(s, STAGE_NAMES[s]) for s in STAGES] + [("done", "已办结")],
            "stage_name": {**STAGE_NAMES, "done": "已办结"},
            "grades": GRADES,
            "grade_badge": GRADE_BADGES,
            "colours": COLOURS,
            "colour": COLOUR_NAMES,
            "report_badge": REPORT_BADGES,
        }
    }


def program_id_of(raw: str | None) -> int | None:
    raw = (raw or "").strip()
    return int(raw) if raw.isdigit() and len(raw) < 10 else None


def filters_of(args: Mapping[str, str]) -> tuple[Filters, dict[str, str]]:
    """The dashboard's filters from a query string or a form, and the same as strings for the form
    and the links (only the values it knows)."""
    city = (args.get("city") or "").strip()
    stage = (args.get("stage") or "").strip()
    grade = (args.get("grade") or "").strip()
    overdue = (args.get("overdue") or "").strip().lower()
    warning = (args.get("warning") or "").strip()
    found = Filters(
        city=city if len(city) == 6 and city.isdigit() else None,
        stage=stage if stage in (*STAGES, "done") else None,
        grade=grade if grade in GRADES else None,
        overdue=True if overdue in ("1", "true") else False if overdue in ("0", "false") else None,
        warning=warning if warning in COLOURS else None,
    )
    said = {
        "city": found.city or "",
        "stage": found.stage or "",
        "grade": found.grade or "",
        "overdue": "" if found.overdue is None else ("1" if found.overdue else "0"),
        "warning": found.warning or "",
    }
    return found, said
