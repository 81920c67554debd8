"""规范管理蓝本: what a case published from a project of an accepted pilot report carries — the
project's approved targets, its scores and findings, and the report it was accepted in (no Flask).
The case library (`services/indicators`) stores and shows it; every tenant reads it and applies its
targets as a template (`targets.service.apply_case`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from jixiao.platform.core.actor import Actor
from jixiao.platform.core.errors import Conflict
from jixiao.services.evaluation import service as self_evaluation
from jixiao.services.evaluation.key import service as key_service
from jixiao.services.indicators.models import BLUEPRINT_CATEGORY
from jixiao.services.projects.service import get_project
from jixiao.services.results.service import grade_of
from jixiao.services.targets.service import sets_of

from .service import find

CATEGORY = BLUEPRINT_CATEGORY


def from_project(session: Session, actor: Actor, project_id: int) -> dict[str, Any]:
    """The case fields of a project whose tenant's pilot report was accepted (409 otherwise)."""
    project = get_project(session, actor, project_id)
    report = find(session, project.program_id, project.tenant_id)
    if report is None or report.status != "accepted":
        raise Conflict(
            f"「{project.name}」所在地区的试点报告尚未通过验收，不能发布为规范管理蓝本",
        )
    approved = next((s for s in sets_of(session, project) if s.status == "approved"), None)
    lines = list(approved.lines) if approved is not None else []
    own = self_evaluation.get(session, actor, project.id)
    key = key_service.find(session, project)
    grade = grade_of(session, actor, project)
    return {
        "project_class": project.project_class or "",
        "category": CATEGORY,
        "text": f"{project.owner.name}「{project.name}」：试点报告第 {report.submitted_version} 版通过省级验收。",
        "indicator_ids": [line.indicator_id for line in lines if line.indicator_id is not None],
        "source_report_id": report.id,
        "targets": [
            {
                "indicator_id": line.indicator_id,
                "name": line.name,
                "level2": line.level2,
                "value_type": line.value_type,
                "direction": line.direction,
                "target_value": line.target_value,
                "unit": line.unit,
                "weight": None if line.weight is None else str(line.weight),
                "value_basis": line.value_basis,
                "note": line.note,
            }
            for line in lines
        ],
        "scores": {
            "self_score": own.get("score"),
            "self_grade": own.get("grade"),
            "key_score": None if key is None or key.score is None else str(key.score),
            "key_grade": key.grade if key is not None and key.status == "accepted" else None,
        },
        "findings": grade.findings,
    }
