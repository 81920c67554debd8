"""The province's acceptance workbench (验收): the reports by state (待验收 / 已退回 / 已通过 /
未报送 — the last with the participants that have no report yet), and the acceptance form of a
submitted report: the program's checklist with a score and a comment per item (the running total
against the pass mark by reports.js), the submitted PDF beside it, the city's opinion, and the
outcome with the opinion. A refused form (422) comes back as typed with each problem beside its
item; a report no longer awaiting acceptance (409) says why."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_login import login_required

from jixiao.platform.core.authz import authorize
from jixiao.platform.core.errors import Conflict, ValidationFailed
from jixiao.platform.web.context import actor, db
from jixiao.platform.web.pages import load_form, may

from .. import service
from ..models import STATUS_NAMES, PilotReport
from ..schemas import AcceptanceSchema
from .common import bp, load_report, visible_programs

TABS = {"submitted": "待验收", "returned": "已退回", "accepted": "已通过", "draft": "未报送"}


def _may_accept() -> None:
    authorize(actor(), "reports.accept", report=None)


@bp.get("/reports/acceptance", endpoint="workbench")
@login_required
def workbench() -> Any:
    _may_accept()
    tab = request.args.get("tab") or "submitted"
    tab = tab if tab in TABS else "submitted"
    raw = (request.args.get("program_id") or "").strip()
    program_id = int(raw) if raw.isdigit() and len(raw) < 10 else None
    reports = service.list_reports(db(), actor(), program_id=program_id)
    counts = {t: sum(1 for r in reports if r.status == t) for t in TABS}
    programs = visible_programs()
    missing: list[dict[str, Any]] = []  # participants without any report yet (未报送)
    have = {(r.program_id, r.tenant_id) for r in reports}
    for program in programs:
        if program_id is not None and program.id != program_id:
            continue
        for row in program.participants:
            if (program.id, row.tenant_id) not in have:
                missing.append({"program": program, "tenant": row.tenant})
    counts["draft"] += len(missing)
    shown = [r for r in reports if r.status == tab]
    if tab == "submitted":
        shown.sort(key=lambda r: r.submitted_at or r.created_at)
    return render_template(
        "reports/workbench.html",
        tabs=TABS,
        tab=tab,
        counts=counts,
        reports=shown,
        missing=missing if tab == "draft" else [],
        programs=programs,
        program_id=program_id,
    )


def _form_rows(report: PilotReport, form: dict[str, Any] | None) -> list[dict[str, Any]]:
    checklist = service.checklist_of(report.program)
    given = (form or {}).get("rows") or []
    rows = []
    for n, item in enumerate(checklist.items, start=1):
        typed = given[n - 1] if len(given) >= n else {}
        rows.append(
            {
                "n": n,
                "item": item["item"],
                "max": item["max"],
                "score": typed.get("score", ""),
                "comment": typed.get("comment", ""),
            }
        )
    return rows


def accept_page(
    report: PilotReport,
    *,
    form: dict[str, Any] | None = None,
    errors: dict[str, list[str]] | None = None,
    problem: str | None = None,
    status: int = 200,
) -> Any:
    checklist = service.checklist_of(report.program)
    version = report.submitted_version
    if problem is None and report.status != "submitted":
        problem = (
            "试点报告已通过验收，不能再次验收"
            if report.status == "accepted"
            else f"试点报告当前为「{STATUS_NAMES[report.status]}」，报送后方可验收"
        )
        status = 409
    page = render_template(
        "reports/accept.html",
        report=report,
        rows=_form_rows(report, form),
        pass_mark=checklist.pass_mark,
        top=sum((i["max"] for i in checklist.items), Decimal(0)),
        form=form or {"outcome": "", "opinion": ""},
        errors=errors or {},
        problem=problem,
        # while viewing a lower tenant (上级只读查看) no write control is offered (`may`)
        open_form=report.status == "submitted" and may("reports.accept", report=report),
        opinions=[o for o in report.opinions if o.version == version],
        rounds=report.acceptances,
    )
    return page, status


@bp.get("/reports/<int:report_id>/accept", endpoint="accept")
@login_required
def accept_form(report_id: int) -> Any:
    report = load_report(report_id)
    _may_accept()
    return accept_page(report)


def _by_item(
    rows: list[dict[str, Any]], raw_errors: dict[str, list[str]], sent: list[int]
) -> dict[str, list[str]]:
    """The problems keyed by the form's places: `item.<n>` beside an item, else as they came."""
    found: dict[str, list[str]] = {}
    for key, messages in raw_errors.items():
        parts = key.split(".")
        if parts[0] == "checklist" and len(parts) == 3 and parts[1].isdigit():
            n = sent[int(parts[1]) - 1] if int(parts[1]) <= len(sent) else 0
            found.setdefault(f"item.{n}" if n else "checklist", []).extend(messages)
            continue
        if key == "checklist":
            for message in messages:
                row = next((r for r in rows if f"「{r['item']}」" in message), None)
                found.setdefault(f"item.{row['n']}" if row else "checklist", []).append(message)
            continue
        found.setdefault(key, []).extend(messages)
    return found


@bp.post("/reports/<int:report_id>/accept")
@login_required
def accept_submit(report_id: int) -> Any:
    report = load_report(report_id)
    _may_accept()
    rows = _form_rows(report, None)
    form: dict[str, Any] = {
        "rows": [
            {
                "score": request.form.get(f"score-{r['n']}", "").strip(),
                "comment": request.form.get(f"comment-{r['n']}", "").strip(),
            }
            for r in rows
        ],
        "outcome": request.form.get("outcome", ""),
        "opinion": request.form.get("opinion", "").strip(),
    }
    sent = [r["n"] for r, typed in zip(rows, form["rows"], strict=True) if typed["score"]]
    raw: dict[str, Any] = {
        "checklist": [
            {"item": r["item"], "score": typed["score"], "comment": typed["comment"]}
            for r, typed in zip(rows, form["rows"], strict=True)
            if typed["score"]
        ],
        "opinion": form["opinion"],
    }
    if form["outcome"]:
        raw["outcome"] = form["outcome"]
    data, errors = load_form(AcceptanceSchema(), raw)
    s = db()
    try:
        if errors:
            raise ValidationFailed(next(iter(errors.values()))[0], errors=errors)
        report = service.accept(s, actor(), report_id, data)
        s.commit()
    except ValidationFailed as exc:
        s.rollback()
        found = _by_item(rows, exc.errors or {"checklist": [exc.message]}, sent)
        return accept_page(load_report(report_id), form=form, errors=found, status=422)
    except Conflict as exc:
        s.rollback()
        return accept_page(load_report(report_id), form=form, problem=exc.message, status=exc.status)
    review = report.acceptances[-1]
    flash(
        f"{report.owner.name}试点报告第 {review.version} 版验收{'通过' if review.outcome == 'pass' else '退回'}"
        f"（{review.total} 分）",
        "success",
    )
    return redirect(url_for(".detail", report_id=report_id, _anchor="reviews"))
