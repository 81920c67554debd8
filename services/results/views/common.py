"""What the result-application pages share: the blueprint, the project as its pages load it, reading
a posted form through the API's own schemas, and the overview's card."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from jixiao.platform.core.errors import Conflict
from jixiao.platform.web.context import actor, db
from jixiao.platform.web.pages import may
from jixiao.services.programs.views import province_today
from jixiao.services.projects import service as project_service
from jixiao.services.projects.models import Project

from .. import notices, service
from ..models import ENTRY_ACTION_NAMES, ITEM_STATUS_NAMES, RECOMMENDATION_NAMES, RECOMMENDATIONS, STAGE

# No url_prefix: the project's pages live under /projects/<id>/results, the public page at /public.
bp = Blueprint(
    "results_pages",
    __name__,
    template_folder="../templates",
    static_folder="../static",
    static_url_path="/static/results",
)
BASE = "/projects/<int:project_id>/results"


@bp.context_processor
def _vocabularies() -> dict[str, Any]:
    return {
        "R": {
            "status": ITEM_STATUS_NAMES,
            "entry": ENTRY_ACTION_NAMES,
            "recommendation": RECOMMENDATION_NAMES,
            "recommendations": RECOMMENDATIONS,
            "grade_source": {"key_evaluation": "重点评价", "self_evaluation": "自评"},
        }
    }


def load_project(project_id: int) -> Project:
    """The project (404 behind the walls); 409 with the reason before the stage opens."""
    project = project_service.get_project(db(), actor(), project_id)
    if project.stage_row(STAGE).status == "locked":
        raise Conflict(service.NOT_OPEN)
    return project


def writable(project: Project, policy: str) -> bool:
    return project.status == "active" and may(policy, project=project)


def panel_context(project: Project) -> dict[str, Any]:
    """The overview's card while the project is at the result application: the items closed of
    all, the overdue ones, the recommendation (or that it is still to be decided), disclosure."""
    items = [i for n in notices.of_project(db(), actor(), project.id, province_today()) for i in n.items]
    found = service.find(db(), project)
    return {
        "rect_total": len(items),
        "rect_closed": sum(1 for i in items if i.status == "closed"),
        "rect_overdue": sum(1 for i in items if i.overdue),
        "result_application": found,
        "results_complete": project.stage_row(STAGE).status == "approved",
        "may_decide_results": writable(project, "projects.finance"),
    }
