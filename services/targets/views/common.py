"""What the targets pages share: the blueprint, the library rows behind the lines, the stage guard
and the program's required evidence purposes. The page modules import from here, never the other
way round; `views` imports the page modules so that their routes are registered."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from jixiao.platform.core.errors import DomainError
from jixiao.platform.web.context import actor, db
from jixiao.platform.web.pages import may
from jixiao.services.indicators import service as indicator_service
from jixiao.services.projects import service as project_service
from jixiao.services.projects.models import Project

from .. import service as targets_service
from ..models import ROLE_OF_LEVEL, TargetSet

# its own static files (the suggestion panel's script and style): /projects/static/targets/…
bp = Blueprint(
    "targets_pages",
    __name__,
    url_prefix="/projects",
    template_folder="../templates",
    static_folder="../static",
    static_url_path="/static/targets",
)


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


def current_set(project: Project) -> TargetSet | None:
    """The current target version (None before the stage opens or before a first draft)."""
    if project.stage_row("targets").status == "locked":
        return None
    target_set = targets_service.current(db(), actor(), project.id)
    return target_set if target_set.id is not None else None


def may_review(project: Project, target_set: TargetSet | None) -> bool:
    """Whether the caller may review the current submission at its level (not their own)."""
    if target_set is None or target_set.status != "submitted" or not target_set.review_level:
        return False
    who = actor()
    return (
        target_set.submitted_by != who.username
        and project.tenant_id == who.tenant_id
        and who.has_role(ROLE_OF_LEVEL[target_set.review_level])
        and may("targets.review", project=project, level=target_set.review_level)
    )


def panel_context(project: Project) -> dict[str, Any]:
    """The overview's card while the project is at the targets stage."""
    target_set = current_set(project)
    return {"target_set": target_set, "may_review": may_review(project, target_set)}
