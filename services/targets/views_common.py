"""What the targets pages share: the blueprint, the library rows behind the lines, the stage guard
and the program's required evidence purposes. The page modules import from here, never the other
way round; `views` imports the page modules so that their routes are registered."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, url_for

from jixiao.platform.core.errors import DomainError
from jixiao.platform.web.context import actor, db
from jixiao.platform.web.pages import may
from jixiao.services.evidence.service import missing_purposes
from jixiao.services.indicators import service as indicator_service
from jixiao.services.projects import service as project_service
from jixiao.services.projects.models import Project

bp = Blueprint("targets_pages", __name__, url_prefix="/projects", template_folder="templates")


def library_rows(ids: list[int]) -> dict[int, Any]:
    """The library indicators behind the lines (code, status), as far as the caller sees them."""
    found: dict[int, Any] = {}
    for indicator_id in dict.fromkeys(ids):
        try:
            found[indicator_id] = indicator_service.get_indicator(db(), actor(), indicator_id)
        except DomainError:
            continue
    return found


def require_targets_open(project: Project) -> None:
    if project.stage_row("targets").status == "locked":
        project_service.require_stage(project, "targets")  # raises the 409 that says why


def required_evidence(project: Project) -> dict[str, Any]:
    """The evidence purposes the program requires for the targets (submit refuses without them, rule
    E01), each 已上传 or not, and where to upload them (the project's 佐证材料 tab)."""
    settings = project.program.effective_settings.get("evidence", {})
    required = list((settings.get("required_purposes") or {}).get("targets", []))
    missing = missing_purposes(db(), project, "targets") if required else []
    return {
        "purposes": [{"purpose": p, "present": p not in missing} for p in required],
        "missing": missing,
        "url": url_for("evidence_pages.project", project_id=project.id) + "#ev-h-targets",
        "may_upload": project.status == "active" and may("evidence.write", project=project),
    }
