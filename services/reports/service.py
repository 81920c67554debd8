"""Pilot reports: generation requested, submission, the province's acceptance, a city's
preliminary opinion, and reading (no Flask). The job that builds a version is `jobs.py`.

Who does what (DESIGN.md §1, §6): the bureau admin of the report's tenant generates and submits;
the province (admin or reviewer, `acceptance:write`) scores the checklist and passes or returns;
the city above a county gives a preliminary opinion (初审意见) on a submitted report, never an
acceptance; every tenant above reads (the walls); a sibling gets 404."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from jixiao.platform.core.actor import Actor
from jixiao.platform.core.audit import record
from jixiao.platform.core.authz import authorize, policy
from jixiao.platform.core.db import utcnow
from jixiao.platform.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from jixiao.services.notifications.events import announce
from jixiao.services.programs.models import Program
from jixiao.services.programs.service import get_program
from jixiao.services.projects.models import Project
from jixiao.tenants.models import Tenant

from .models import (
    OUTCOMES,
    STATUS_NAMES,
    PilotReport,
    PilotReportReview,
)

CENT = Decimal("0.01")


# --- policies -----------------------------------------------------------------------------------


@policy("reports.read", scope="reports:read")
def _may_read(actor: Actor, *, report: PilotReport | None = None) -> None:
    """The report's tenant and every tenant above it (the walls); a third-party evaluator never."""
    if actor.is_evaluator:
        raise Forbidden("第三方评价机构不能查看试点报告")


@policy("reports.write", scope="reports:write")
def _may_write(actor: Actor, *, report: PilotReport | None = None, tenant_id: int | None = None) -> None:
    """The bureau admin (财政局) of the report's own tenant generates and submits it."""
    owner = report.tenant_id if report is not None else tenant_id
    if not actor.has_role("bureau_admin") or actor.tenant_id != owner:
        raise Forbidden("只有本地区财政局管理员可以生成和报送试点报告")


@policy("reports.accept", scope="acceptance:write")
def _may_accept(actor: Actor, *, report: PilotReport) -> None:
    """Only the province (省财政厅: admin or reviewer) accepts; a city or a county never."""
    if not actor.is_province or not actor.has_role("province_admin", "province_reviewer"):
        raise Forbidden("只有省财政厅可以验收试点报告（市级可提出初审意见）")


@policy("reports.opinion", scope="reports:write")
def _may_give_opinion(actor: Actor, *, report: PilotReport) -> None:
    """The bureau admin of the city directly above the report's county (初审意见)."""
    parent = report.owner.parent_id
    if actor.tenant_level != "city" or not actor.has_role("bureau_admin") or actor.tenant_id != parent:
        raise Forbidden("只有上级市财政局管理员可以对县区试点报告提出初审意见")


# --- settings -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Checklist:
    items: list[dict[str, Any]]  # [{item, max}]
    pass_mark: Decimal


def checklist_of(program: Program) -> Checklist:
    """The program's acceptance checklist (settings `acceptance`; *default* six items, pass 60)."""
    found = program.effective_settings["acceptance"]
    return Checklist(
        items=[{"item": str(i["item"]), "max": Decimal(str(i["max"]))} for i in found["checklist"]],
        pass_mark=Decimal(str(found["pass_mark"])),
    )


# --- reading ------------------------------------------------------------------------------------


def get_report(session: Session, actor: Actor, report_id: int) -> PilotReport:
    authorize(actor, "reports.read")
    report = session.get(PilotReport, report_id)
    if report is None:
        raise NotFound(f"试点报告 {report_id} 不存在")
    return report


def list_reports(
    session: Session, actor: Actor, *, program_id: int | None = None, status: str | None = None
) -> list[PilotReport]:
    """The reports the caller sees (its own tenant's and those below; the province: all)."""
    authorize(actor, "reports.read")
    stmt = select(PilotReport).join(Tenant, Tenant.id == PilotReport.tenant_id)
    if program_id is not None:
        stmt = stmt.where(PilotReport.program_id == program_id)
    if status is not None:
        stmt = stmt.where(PilotReport.status == status)
    return list(session.execute(stmt.order_by(Tenant.code, PilotReport.id)).scalars())


def find(session: Session, program_id: int, tenant_id: int) -> PilotReport | None:
    return session.execute(
        select(PilotReport).where(PilotReport.program_id == program_id, PilotReport.tenant_id == tenant_id)
    ).scalar_one_or_none()


def projects_of(session: Session, report: PilotReport) -> list[Project]:
    """The tenant's projects in the program (those not supported at the assessment included)."""
    return list(
        session.execute(
            select(Project)
            .where(Project.program_id == report.program_id, Project.tenant_id == report.tenant_id)
            .order_by(Project.id)
        ).scalars()
    )


def not_ready(session: Session, report: PilotReport) -> list[Project]:
    """The active projects whose self-evaluation is not yet approved (a report can't be submitted)."""
    return [
        p
        for p in projects_of(session, report)
        if p.status == "active" and p.stage_row("self_evaluation").status != "approved"
    ]


# --- generating ---------------------------------------------------------------------------------


def start_generation(session: Session, actor: Actor, program_id: int) -> tuple[PilotReport, str]:
    """The report of the caller's tenant in the program (made on first use) and the id of the job
    that will build its next version (the API enqueues it after the commit)."""
    program = get_program(session, actor, program_id)
    authorize(actor, "reports.write", tenant_id=actor.tenant_id)
    if actor.tenant_id not in {p.tenant_id for p in program.participants}:
        raise Conflict(f"本地区未参加试点「{program.name}」，不能生成试点报告")
    report = find(session, program.id, actor.tenant_id)
    if report is None:
        report = PilotReport(
            tenant_id=actor.tenant_id, program_id=program.id, status="draft", created_by=actor.username
        )
        session.add(report)
        session.flush()
        record(
            session,
            "pilot_report.create",
            object_type="pilot_report",
            object_id=report.id,
            after=report.to_audit(),
        )
    job_id = uuid.uuid4().hex
    report.last_job_id, report.last_error = job_id, None
    session.flush()
    record(
        session,
        "pilot_report.generate",
        object_type="pilot_report",
        object_id=report.id,
        after={"job_id": job_id, "next_version": len(report.versions) + 1},
    )
    return report, job_id


# --- submitting ---------------------------------------------------------------------------------


def submit(session: Session, actor: Actor, report_id: int) -> PilotReport:
    """To the province: the latest version, once every active project of the tenant in the program
    has an approved self-evaluation (409 naming the others). Twice: 409. After a return: only a
    version generated since (409 otherwise)."""
    report = get_report(session, actor, report_id)
    authorize(actor, "reports.write", report=report)
    if report.status == "submitted":
        raise Conflict(f"试点报告第 {report.submitted_version} 版已报送，正在等待省级验收，不能重复报送")
    if report.status == "accepted":
        raise Conflict("试点报告已通过验收，不能再次报送")
    latest = report.latest
    if latest is None:
        raise Conflict("请先生成试点报告，再报送")
    if report.status == "returned" and latest.number == report.submitted_version:
        raise Conflict(f"第 {latest.number} 版已被退回：请按验收意见修改后重新生成报告（新版本），再报送")
    projects = projects_of(session, report)
    if not any(p.status == "active" for p in projects):
        raise Conflict("本地区在该试点没有项目，不能报送试点报告")
    waiting = not_ready(session, report)
    if waiting:
        names = "、".join(f"「{p.name}」" for p in waiting)
        raise Conflict(f"以下项目的自评尚未审核通过，不能报送试点报告：{names}")
    before = report.to_audit()
    report.status = "submitted"
    report.submitted_version = latest.number
    report.submitted_by, report.submitted_at = actor.username, utcnow()
    session.flush()
    record(
        session,
        "pilot_report.submit",
        object_type="pilot_report",
        object_id=report.id,
        before=before,
        after=report.to_audit(),
    )
    announce(session, actor, "pilot_report.submitted", project=None, report=report)
    return report


# --- acceptance (the province) ------------------------------------------------------------------


def _scored(checklist: Checklist, given: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The checklist as scored, in the program's order: every item exactly once, 0 ≤ score ≤ max
    (422 naming each problem)."""
    problems: list[str] = []
    by_item: dict[str, dict[str, Any]] = {}
    known = {i["item"] for i in checklist.items}
    for entry in given:
        name = str(entry.get("item") or "").strip()
        if name not in known:
            problems.append(f"验收清单没有「{name}」一项（应为：{'、'.join(known)}）")
        elif name in by_item:
            problems.append(f"「{name}」重复评分")
        else:
            by_item[name] = entry
    scored = []
    for item in checklist.items:
        found = by_item.get(item["item"])
        if found is None:
            problems.append(f"缺少「{item['item']}」的评分")
            continue
        try:
            score = Decimal(str(found.get("score")))
        except (InvalidOperation, ValueError):
            problems.append(f"「{item['item']}」的得分须为数字")
            continue
        if not score.is_finite() or score < 0 or score > item["max"]:
            problems.append(f"「{item['item']}」的得分 {found.get('score')} 须在 0 到 {item['max']} 分之间")
            continue
        scored.append(
            {
                "item": item["item"],
                "max": str(item["max"]),
                "score": str(score.quantize(CENT)),
                "comment": str(found.get("comment") or "").strip(),
            }
        )
    if problems:
        raise ValidationFailed(problems[0], errors={"checklist": problems})
    return scored


def accept(session: Session, actor: Actor, report_id: int, data: dict[str, Any]) -> PilotReport:
    """The province scores the checklist and passes the submitted version or returns it with an
    opinion. 409 unless submitted (accepting twice); 403 for a city or a county; 422 for a checklist
    missing an item, a score above its maximum, a pass below the pass mark, a return without opinion."""
    report = get_report(session, actor, report_id)
    authorize(actor, "reports.accept", report=report)
    if report.status != "submitted":
        if report.status == "accepted":
            raise Conflict("试点报告已通过验收，不能再次验收")
        raise Conflict(f"试点报告当前为「{STATUS_NAMES[report.status]}」，报送后方可验收")
    checklist = checklist_of(report.program)
    scored = _scored(checklist, list(data.get("checklist") or []))
    total = sum((Decimal(i["score"]) for i in scored), Decimal(0)).quantize(CENT)
    outcome = data["outcome"]
    opinion = (data.get("opinion") or "").strip()
    if outcome == "pass" and total < checklist.pass_mark:
        message = f"总分 {total} 低于及格线 {checklist.pass_mark}，不能通过验收；请退回并提出意见"
        raise ValidationFailed(message, errors={"outcome": [message]})
    if outcome == "return" and not opinion:
        raise ValidationFailed("退回须填写验收意见", errors={"opinion": ["退回须填写验收意见"]})
    before = report.to_audit()
    rounds = len(report.acceptances)
    review = PilotReportReview(
        tenant_id=report.tenant_id,
        report_id=report.id,
        version=report.submitted_version,
        kind="acceptance",
        round=rounds + 1,
        checklist=scored,
        total=total,
        pass_mark=checklist.pass_mark,
        outcome=outcome,
        opinion=opinion,
        author=actor.username,
        author_tenant_id=actor.tenant_id,
    )
    report.reviews.append(review)
    report.status = "accepted" if outcome == "pass" else "returned"
    report.accepted_at = utcnow() if outcome == "pass" else None
    session.flush()
    record(
        session,
        "pilot_report.accept" if outcome == "pass" else "pilot_report.return",
        object_type="pilot_report",
        object_id=report.id,
        before=before,
        after={**report.to_audit(), "round": review.round, "total": str(total), "outcome": OUTCOMES[outcome]},
    )
    announce(session, actor, "pilot_report.accepted", project=None, report=report, review=review)
    return report


# --- the city's preliminary opinion -------------------------------------------------------------


def give_opinion(session: Session, actor: Actor, report_id: int, text: str) -> PilotReport:
    """The city above gives its preliminary opinion (初审意见) on the submitted version — once per
    version (409 again, or when the report is not awaiting acceptance)."""
    report = get_report(session, actor, report_id)
    authorize(actor, "reports.opinion", report=report)
    text = text.strip()
    if not text:
        raise ValidationFailed("请填写初审意见", errors={"text": ["请填写初审意见"]})
    if report.status != "submitted":
        raise Conflict(f"试点报告当前为「{STATUS_NAMES[report.status]}」，报送待验收时方可提出初审意见")
    version = report.submitted_version
    if any(o.version == version and o.author_tenant_id == actor.tenant_id for o in report.opinions):
        raise Conflict(f"已对第 {version} 版提出初审意见")
    review = PilotReportReview(
        tenant_id=report.tenant_id,
        report_id=report.id,
        version=version,
        kind="opinion",
        opinion=text,
        author=actor.username,
        author_tenant_id=actor.tenant_id,
    )
    report.reviews.append(review)
    session.flush()
    record(
        session,
        "pilot_report.opinion",
        object_type="pilot_report",
        object_id=report.id,
        after={"version": version, "opinion": text[:200]},
    )
    announce(session, actor, "pilot_report.opinion", project=None, report=report, review=review)
    return report
