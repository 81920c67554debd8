"""Pages of the key evaluation (重点评价), on the self-evaluation's blueprint (`evaluation_pages`):

- the form (`key_evaluation`): the four dimensions with their items (weight, score, basis; items
  added and removed), the live total and grade (key_evaluation.js — the server decides on save),
  findings, recommendations and the report file chosen from the project's evidence of the stage;
  read-only for everyone but the granted evaluator, and once submitted;
- the comparison with the self-evaluation per 一级指标 (`key_compare`);
- the bureau admin's 审定 (accept / return with the opinion) and the decision not to run a key
  evaluation (`key_decision`);
- the printable 重点评价表 (`key_print`).

Thin like every handler: read the form, call the service, commit; a refused form comes back as
typed with its messages by item (422), a refused move as an alert (403 / 409)."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_login import login_required

from jixiao.platform.core.errors import Conflict, DomainError, Forbidden, ValidationFailed
from jixiao.platform.web.context import actor, db
from jixiao.platform.web.pages import may
from jixiao.services.evidence.service import list_evidence
from jixiao.services.projects import service as project_service
from jixiao.services.projects.models import Project
from jixiao.services.projects.views import render_project_page

from ..views.common import bp
from . import decision, framework, service
from .models import DECISIONS, STATUS_NAMES, TEXTS

FIELDS = ("dimension", "group", "item", "weight", "score", "basis")
LABELS = {"status": STATUS_NAMES, "decision": DECISIONS, "text": TEXTS}
GRADES = [{"floor": "90", "grade": "优"}, {"floor": "80", "grade": "良"}, {"floor": "60", "grade": "中"}]


def _project(project_id: int) -> Project:
    return project_service.get_project(db(), actor(), project_id)  # the walls: a sibling → 404


def _closed(project: Project, tab: str, message: str, status: int) -> Any:
    return render_project_page("evaluation/key_closed.html", project, tab, status=status, message=message)


def posted() -> dict[str, Any]:
    """The form as the service's body (PUT …/evaluation): one item per row of parallel inputs."""
    columns = {name: request.form.getlist(f"{name}[]") for name in FIELDS}
    count = len(columns["item"])
    rows = []
    for n in range(count):
        row: dict[str, Any] = {
            name: (columns[name][n] if n < len(columns[name]) else "").strip() for name in FIELDS
        }
        row["score"] = row["score"] or None
        rows.append(row)
    report = request.form.get("report_evidence_id", "").strip()
    return {
        "scores": rows,
        **{name: request.form.get(name, "").strip() for name in TEXTS},
        "report_evidence_id": int(report) if report.isdigit() else None,
        "lock_version": request.form.get("lock_version", type=int),
    }


def typed_over(view: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    """The refused form shown again as it was sent (its totals unknown)."""
    return {
        **view,
        "scores": [{**row, "score": row.get("score") or ""} for row in data["scores"]],
        **{name: data.get(name, "") for name in TEXTS},
        "report_evidence_id": data.get("report_evidence_id"),
    }


def sections(view: dict[str, Any], errors: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The items by dimension, each numbered as the service's messages number it (`scores.N.`)."""
    errors = errors or {}
    found: dict[str, list[dict[str, Any]]] = {name: [] for name in framework.DIMENSIONS}
    subtotal = {row["dimension"]: row for row in view.get("dimensions", [])}
    for n, row in enumerate(view["scores"], start=1):
        prefix = f"scores.{n}."
        mine = {k[len(prefix) :]: v for k, v in errors.items() if k.startswith(prefix)}
        shown = {**row, "n": n, "bad": set(mine), "messages": [m for v in mine.values() for m in v]}
        found.setdefault(str(row.get("dimension")), []).append(shown)
    return [
        {"dimension": name, "items": items, "subtotal": subtotal.get(name, {})}
        for name, items in found.items()
    ]


def editable(project: Project, view: dict[str, Any]) -> bool:
    return (
        project.status == "active"
        and view["status"] in ("draft", "returned")
        and may("key_evaluation.write", project=project)
    )


def may_decide(project: Project, view: dict[str, Any]) -> bool:
    return view["status"] == "submitted" and may("projects.finance", project=project)


def may_skip(project: Project, view: dict[str, Any]) -> bool:
    return view["status"] in ("draft", "returned") and may("projects.finance", project=project)


def _evidence(project: Project) -> list[Any]:
    try:
        return list_evidence(db(), actor(), project.id, stage=service.STAGE)
    except DomainError:
        return []


def render_form(
    project: Project,
    view: dict[str, Any] | None = None,
    *,
    errors: dict[str, Any] | None = None,
    problem: str | None = None,
    status: int = 200,
) -> Any:
    try:
        view = view if view is not None else service.get(db(), actor(), project.id)
    except (Conflict, Forbidden) as exc:
        return _closed(project, "key_evaluation", exc.message, exc.status)
    errors = errors or {}
    return render_project_page(
        "evaluation/key_evaluation.html",
        project,
        "key_evaluation",
        status=status,
        ev=view,
        sections=sections(view, errors),
        errors=errors,
        top_errors={k: v for k, v in errors.items() if not k.startswith("scores.")},
        labels=LABELS,
        grades=GRADES,
        editable=editable(project, view),
        may_decide=may_decide(project, view),
        evidence=_evidence(project),
        problem=problem,
    )


@bp.route("/<int:project_id>/evaluation", methods=["GET", "POST"], endpoint="key_evaluation")
@login_required
def key_evaluation(project_id: int) -> Any:
    project = _project(project_id)
    if request.method == "GET":
        return render_form(project)
    s, who = db(), actor()
    data = posted()
    try:
        service.save(s, who, project.id, data)
        s.commit()
    except ValidationFailed as exc:
        s.rollback()
        project = _project(project_id)
        shown = typed_over(service.get(s, who, project.id), data)
        return render_form(project, shown, errors=exc.errors, problem=exc.message, status=422)
    except (Conflict, Forbidden) as exc:
        s.rollback()
        return render_form(_project(project_id), problem=exc.message, status=exc.status)
    if request.form.get("action") != "submit":
        flash("重点评价已保存", "success")
        return redirect(url_for(".key_evaluation", project_id=project.id))
    try:
        service.submit(s, who, project.id)
        s.commit()
    except (ValidationFailed, Conflict, Forbidden) as exc:
        s.rollback()
        errors = exc.errors if isinstance(exc, ValidationFailed) else None
        return render_form(
            _project(project_id), errors=errors, problem=f"{exc.message}（已保存）", status=exc.status
        )
    flash("重点评价已提交，等待财政局审定", "success")
    return redirect(url_for(".key_evaluation", project_id=project.id))


@bp.get("/<int:project_id>/evaluation/compare", endpoint="key_compare")
@login_required
def key_compare(project_id: int) -> Any:
    project = _project(project_id)
    try:
        view = service.get(db(), actor(), project.id)
    except (Conflict, Forbidden) as exc:
        return _closed(project, "key_evaluation_compare", exc.message, exc.status)
    return render_project_page(
        "evaluation/key_compare.html", project, "key_evaluation_compare", ev=view, labels=LABELS
    )


@bp.route("/<int:project_id>/evaluation/decision", methods=["GET", "POST"], endpoint="key_decision")
@login_required
def key_decision(project_id: int) -> Any:
    project = _project(project_id)
    s, who = db(), actor()
    errors: dict[str, Any] = {}
    problem, status = None, 200
    if request.method == "POST":
        action = request.form.get("action", "")
        try:
            if action == "skip":
                decision.skip(s, who, project.id, request.form.get("reason", ""))
                message = "已决定本项目不开展重点评价，重点评价阶段完成"
            else:
                decision.decide(s, who, project.id, action, request.form.get("opinion", ""))
                message = "重点评价已审定通过并冻结" if action == "accept" else "重点评价已退回第三方机构修改"
            s.commit()
            flash(message, "success")
            return redirect(url_for(".key_decision", project_id=project.id))
        except DomainError as exc:
            s.rollback()
            project = _project(project_id)
            errors = exc.errors if isinstance(exc, ValidationFailed) else {}
            problem, status = exc.message, exc.status
    try:
        view = service.get(s, who, project.id)
    except (Conflict, Forbidden) as exc:
        return _closed(project, "key_evaluation_decision", exc.message, exc.status)
    return render_project_page(
        "evaluation/key_decision.html",
        project,
        "key_evaluation_decision",
        status=status,
        ev=view,
        sections=sections(view, None),
        labels=LABELS,
        errors=errors,
        problem=problem,
        may_decide=may_decide(project, view),
        may_skip=may_skip(project, view),
        opinion=request.form.get("opinion", ""),
        reason=request.form.get("reason", ""),
    )


@bp.get("/<int:project_id>/evaluation/print", endpoint="key_print")
@login_required
def key_print(project_id: int) -> Any:
    project = _project(project_id)
    try:
        view = service.get(db(), actor(), project.id)
    except (Conflict, Forbidden) as exc:
        return _closed(project, "key_evaluation", exc.message, exc.status)
    return render_template(
        "evaluation/key_print.html", project=project, ev=view, sections=sections(view, None), labels=LABELS
    )


def panel_context(project: Project) -> dict[str, Any]:
    """The overview's card while the project is at the key evaluation stage."""
    try:
        found = service.get(db(), actor(), project.id)
    except (Conflict, Forbidden):
        found = None
    return {
        "key_ev": found,
        "may_write_key": found is not None and editable(project, found),
        "may_decide_key": found is not None and may_decide(project, found),
        "may_skip_key": found is not None and may_skip(project, found),
    }
