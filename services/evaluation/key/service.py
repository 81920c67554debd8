"""The key evaluation (重点评价): reading it beside the self-evaluation, the evaluator's draft and
submit, the bureau admin's decision (accept / return) or decision not to run one (no Flask).

It opens when the self-evaluation is approved (the project's `evaluation` stage is no longer locked;
before: 409). Only a third-party evaluator holding a live `key_evaluation` grant on the project
writes it (policy `key_evaluation.write`); the project's tenant and the tenants above read it, an
evaluator reads it with the same grant (`key_evaluation.read`). The bureau admin of the project's
tenant accepts it — frozen, the stage approved (which opens 结果应用) — or returns it with an
opinion; or, before anything is submitted, decides that the project has no key evaluation
(`skip`, with the reason: the stage approved without one). Every change is audited (in the
project's tenant) and announced.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from jixiao.platform.core.actor import Actor
from jixiao.platform.core.audit import record
from jixiao.platform.core.authz import authorize, policy
from jixiao.platform.core.db import utcnow
from jixiao.platform.core.errors import Conflict, DomainError, Forbidden, StaleVersion, ValidationFailed
from jixiao.services.evaluation import service as self_evaluation
from jixiao.services.evidence.models import Evidence
from jixiao.services.evidence.service import missing_purposes
from jixiao.services.notifications.events import announce
from jixiao.services.projects.models import Project
from jixiao.services.projects.service import get_project, require_stage

from . import framework
from .models import TEXTS, KeyEvaluation, KeyEvaluationItem

STAGE = "evaluation"
ACTION = "key_evaluation"
REPORT_PURPOSE = "评价报告"
NOT_OPEN = "自评尚未审核通过，不能开展重点评价"
FROZEN = {
    "submitted": "重点评价已提交、待财政局审定，不能修改",
    "accepted": "重点评价已审定通过并冻结，不能修改",
    "skipped": "财政局已决定本项目不开展重点评价",
}


# --- policies ---------------------------------------------------------------------------------


def _missing_grant(actor: Actor, project: Project) -> None:
    if not actor.granted(project.id, ACTION):
        raise Forbidden(f"您对本项目的授权不包括 {ACTION}（重点评价），不能查看或填写重点评价")


@policy("key_evaluation.read", scope="projects:read")
def _may_read(actor: Actor, *, project: Project) -> None:
    """The project's tenant and the tenants above (the walls); a third-party evaluator only with a
    live `key_evaluation` grant on the project."""
    if actor.is_evaluator:
        _missing_grant(actor, project)


@policy("key_evaluation.write", scope="evaluations:write")
def _may_write(actor: Actor, *, project: Project) -> None:
    """A third-party evaluator holding a live `key_evaluation` grant on the project — no one else
    (the bureau decides on it, it does not write it)."""
    if not actor.is_evaluator or not actor.has_role("evaluator"):
        raise Forbidden("重点评价只能由获授权（key_evaluation 重点评价）的第三方评价机构填写")
    _missing_grant(actor, project)


# --- reading ----------------------------------------------------------------------------------


def require_open(project: Project) -> None:
    if project.stage_row(STAGE).status == "locked":
        raise Conflict(NOT_OPEN)
    require_stage(project, STAGE)


def find(session: Session, project: Project) -> KeyEvaluation | None:
    return session.execute(
        select(KeyEvaluation).where(KeyEvaluation.project_id == project.id)
    ).scalar_one_or_none()


def settings_of(project: Project) -> dict[str, Any]:
    return dict(project.program.effective_settings.get("key_evaluation") or {})


def current(session: Session, project: Project) -> KeyEvaluation:
    """The project's key evaluation; before the first save an unsaved draft holding the program's
    framework (every item unscored)."""
    found = find(session, project)
    if found is not None:
        return found
    return KeyEvaluation(
        tenant_id=project.tenant_id,
        project_id=project.id,
        status="draft",
        findings="",
        recommendations="",
        skip_reason="",
        items=[
            KeyEvaluationItem(
                tenant_id=project.tenant_id,
                project_id=project.id,
                position=n,
                dimension=item.dimension,
                group=item.group,
                item=item.item,
                weight=item.weight,
                score=None,
                basis="",
            )
            for n, item in enumerate(framework.starting_items(settings_of(project).get("framework", [])), 1)
        ],
        decisions=[],
    )


def items_of(evaluation: KeyEvaluation) -> list[framework.Item]:
    return [
        framework.Item(row.dimension, row.item, row.weight, row.score, row.basis or "", row.group or "")
        for row in evaluation.items
    ]


def _self_evaluation(session: Session, project: Project) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The approved self-evaluation as its own service shows it, and its points per level-1 group,
    (available, earned) unrounded, from its own scoring (None: none readable)."""
    found = self_evaluation.find(session, project)
    if found is None or found.status != "approved":
        return None
    try:
        target_set = self_evaluation.target_set_of(session, project, found)
        shown = self_evaluation.view(project, found, target_set)
        result = self_evaluation.compute(project, found, target_set)
    except DomainError:
        return None
    groups: dict[str, Any] = {}
    for line in result.lines:
        available, earned = groups.get(line.group, (Decimal(0), Decimal(0)))
        groups[line.group] = (available + line.available, earned + line.earned)
    return shown, groups


def _report(session: Session, evaluation: KeyEvaluation) -> dict[str, Any] | None:
    if evaluation.report_evidence_id is None:
        return None
    item = session.get(Evidence, evaluation.report_evidence_id)
    if item is None:
        return {"id": evaluation.report_evidence_id, "filename": None}
    return {"id": item.id, "filename": item.filename, "purpose": item.purpose, "size": item.size}


def view(session: Session, project: Project, evaluation: KeyEvaluation) -> dict[str, Any]:
    """The key evaluation as the API returns it, with the comparison with the self-evaluation."""
    items = items_of(evaluation)
    sums = framework.totals(items)
    own = _self_evaluation(session, project)
    gap = framework.decimal(settings_of(project).get("gap_warning"))
    comparison = framework.compare(
        sums,
        own[1] if own else None,
        framework.decimal(own[0]["score"]) if own else None,
        own[0]["grade"] if own else None,
        framework.GAP_WARNING if gap is None else gap,
    )
    return {
        "project_id": project.id,
        "status": evaluation.status,
        "lock_version": evaluation.lock_version if evaluation.id else None,
        "scores": [
            {
                "dimension": row.dimension,
                "group": row.group or "",
                "item": row.item,
                "weight": framework.two(row.weight),
                "score": framework.two(row.score),
                "basis": row.basis or "",
            }
            for row in evaluation.items
        ],
        "dimensions": [
            {
                "dimension": name,
                "weight": framework.two(sums.dimensions[name]["weight"]),
                "score": framework.two(sums.dimensions[name]["score"]),
            }
            for name in framework.DIMENSIONS
        ],
        "score": framework.two(sums.total),
        "grade": sums.grade,
        "complete": sums.complete,
        **{name: getattr(evaluation, name) or "" for name in TEXTS},
        "report_evidence_id": evaluation.report_evidence_id,
        "report": _report(session, evaluation),
        "skip_reason": evaluation.skip_reason or "",
        "evaluator_org_id": evaluation.evaluator_org_id,
        "saved_by": evaluation.saved_by,
        "submitted_by": evaluation.submitted_by,
        "submitted_at": evaluation.submitted_at,
        "decided_by": evaluation.decided_by,
        "decided_at": evaluation.decided_at,
        "decisions": [
            {
                "decision": d.decision,
                "opinion": d.opinion,
                "decided_by": d.decided_by,
                "decided_at": d.decided_at,
            }
            for d in evaluation.decisions
        ],
        "comparison": comparison,
    }


def readable(session: Session, actor: Actor, project_id: int) -> tuple[Project, KeyEvaluation]:
    project = get_project(session, actor, project_id)
    authorize(actor, "key_evaluation.read", project=project)
    if project.stage_row(STAGE).status == "locked":
        raise Conflict(NOT_OPEN)
    return project, current(session, project)


def get(session: Session, actor: Actor, project_id: int) -> dict[str, Any]:
    project, evaluation = readable(session, actor, project_id)
    return view(session, project, evaluation)


def snapshot(evaluation: KeyEvaluation) -> dict[str, Any]:
    """What the key evaluation says (the audit's `after`, a decision's snapshot)."""
    return {
        "status": evaluation.status,
        "score": framework.two(evaluation.score) or "",
        "grade": evaluation.grade or "",
        **{name: getattr(evaluation, name) or "" for name in TEXTS},
        "report_evidence_id": evaluation.report_evidence_id,
        "scores": [
            {
                "dimension": row.dimension,
                "group": row.group or "",
                "item": row.item,
                "weight": framework.two(row.weight),
                "score": framework.two(row.score) or "",
                "basis": row.basis or "",
            }
            for row in evaluation.items
        ],
    }


def audit(session: Session, action: str, project: Project, evaluation: KeyEvaluation, **extra: Any) -> None:
    record(
        session,
        action,
        object_type="project",
        object_id=project.id,
        after={**snapshot(evaluation), **extra},
        tenant_id=project.tenant_id,  # the project's trail, whoever acted (an evaluator has no tenant)
    )


# --- the evaluator's draft and submit --------------------------------------------------------------


def _editable(session: Session, actor: Actor, project_id: int) -> tuple[Project, KeyEvaluation]:
    project = get_project(session, actor, project_id)
    authorize(actor, "key_evaluation.write", project=project)
    require_open(project)
    evaluation = current(session, project)
    if evaluation.status in FROZEN:
        raise Conflict(FROZEN[evaluation.status])
    if evaluation.evaluator_org_id not in (None, actor.evaluator_org_id):
        raise Forbidden("本项目的重点评价由另一家第三方评价机构承担，不能修改")
    return project, evaluation


def _take(session: Session, actor: Actor, evaluation: KeyEvaluation) -> None:
    """The evaluation is being changed (nothing is written before the input is checked)."""
    if evaluation not in session:
        session.add(evaluation)
    evaluation.evaluator_org_id = actor.evaluator_org_id
    if evaluation.status == "returned":
        evaluation.status = "draft"


def _report_problems(session: Session, project: Project, evidence_id: Any) -> list[str]:
    if evidence_id is None:
        return []
    item = session.get(Evidence, evidence_id) if isinstance(evidence_id, int) else None
    if item is None or item.project_id != project.id or item.status != "current" or item.stage != STAGE:
        return [f"佐证材料 {evidence_id} 不是本项目“重点评价”阶段的现行材料，请先在佐证材料栏目上传评价报告"]
    return []


def save(session: Session, actor: Actor, project_id: int, data: dict[str, Any]) -> dict[str, Any]:
    """Save the whole form: the items (adapted as the evaluator sees fit, within the rules), the
    texts and the report file; unscored items are fine in a draft. One 422 names every problem."""
    project, evaluation = _editable(session, actor, project_id)
    lock = data.get("lock_version")
    if lock is not None and evaluation.id is not None and lock != evaluation.lock_version:
        raise StaleVersion(f"重点评价已被修改（当前 lock_version {evaluation.lock_version}），请刷新后重试")
    rows = data.get("scores") or []
    errors = framework.problems_of(rows)
    report = _report_problems(session, project, data.get("report_evidence_id"))
    if report:
        errors["report_evidence_id"] = report
    if errors:
        first = next(iter(errors.values()))[0]
        raise ValidationFailed(
            f"重点评价有 {sum(len(v) for v in errors.values())} 处问题：{first}", errors=errors
        )
    _take(session, actor, evaluation)
    items = framework.parse(rows)
    evaluation.items.clear()
    session.flush()  # the old items go before the new ones take their places
    for n, item in enumerate(items, start=1):
        evaluation.items.append(
            KeyEvaluationItem(
                tenant_id=project.tenant_id,
                project_id=project.id,
                position=n,
                dimension=item.dimension,
                group=item.group,
                item=item.item,
                weight=item.weight,
                score=item.score,
                basis=item.basis,
            )
        )
    for name in TEXTS:
        setattr(evaluation, name, str(data.get(name) or "").strip())
    evaluation.report_evidence_id = data.get("report_evidence_id")
    sums = framework.totals(items)
    evaluation.score, evaluation.grade = sums.total, sums.grade
    evaluation.saved_by = actor.username
    evaluation.updated_at = utcnow()
    session.flush()
    audit(session, "key_evaluation.save", project, evaluation)
    return view(session, project, evaluation)


def submit_problems(session: Session, project: Project, evaluation: KeyEvaluation) -> dict[str, list[str]]:
    """What the submit asks for: every item scored with its basis, the findings and
    recommendations, and the report file where the program requires it (evidence purpose 评价报告)."""
    errors: dict[str, list[str]] = {}
    for n, row in enumerate(evaluation.items, start=1):
        if row.score is None:
            errors.setdefault(f"scores.{n}.score", []).append(f"第 {n} 项「{row.item}」：请评分")
        if not (row.basis or "").strip():
            errors.setdefault(f"scores.{n}.basis", []).append(f"第 {n} 项「{row.item}」：请填写评分依据")
    for name, label in TEXTS.items():
        if not (getattr(evaluation, name) or "").strip():
            errors[name] = [f"请填写{label}"]
    required = project.program.effective_settings["evidence"].get("required_purposes", {}).get(STAGE, [])
    missing = missing_purposes(session, project, STAGE)
    if missing:
        errors["evidence"] = [
            f"缺少必备的佐证材料：{'、'.join(missing)}（请在佐证材料栏目的“重点评价”阶段上传）"
        ]
    if REPORT_PURPOSE in required and evaluation.report_evidence_id is None:
        errors["report_evidence_id"] = ["本试点要求提交评价报告：请选择评价报告文件"]
    return errors


def submit(
    session: Session, actor: Actor, project_id: int, data: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Submit to the bureau admin (with a body: saved first, as PUT would)."""
    if data:
        save(session, actor, project_id, data)
    project, evaluation = _editable(session, actor, project_id)
    errors = submit_problems(session, project, evaluation)
    if errors:
        raise ValidationFailed(f"重点评价尚不能提交：共 {len(errors)} 处问题", errors=errors)
    _take(session, actor, evaluation)
    evaluation.status = "submitted"
    evaluation.submitted_by = actor.username
    evaluation.submitted_at = utcnow()
    session.flush()
    audit(session, "key_evaluation.submit", project, evaluation)
    announce(session, actor, "key_evaluation.submitted", project=project, evaluation=evaluation)
    return view(session, project, evaluation)
