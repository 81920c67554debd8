"""Monitoring rounds (跟踪监控): report, correct a returned round, confirm or return (no Flask).

A round needs the latest approved target version and the monitoring stage open (409 otherwise);
its period is one the program allows (`monitoring.periods`, *default* March and September) in one
of the project's years; rounds follow one another in time. The round of the last period of the
project's last year completes the stage (the self-evaluation opens); returning it reopens it.
The figures are in `figures.py`; the correction requests in `corrections.py`.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from jixiao.platform.core.actor import Actor
from jixiao.platform.core.audit import record
from jixiao.platform.core.authz import authorize
from jixiao.platform.core.db import utcnow
from jixiao.platform.core.errors import Conflict, NotFound, StaleVersion, ValidationFailed
from jixiao.services.evidence.service import missing_purposes
from jixiao.services.notifications.events import announce
from jixiao.services.projects.models import Project
from jixiao.services.projects.service import get_project, reopen_stage, require_stage, set_stage_status
from jixiao.services.targets.models import TargetSet
from jixiao.services.targets.service import sets_of

from .figures import Problems, RoundFigures, measure
from .models import MonitoringLine, MonitoringRound

PERIOD_RE = re.compile(r"^(\d{4})-(\d{2})$")
NOT_APPROVED = "绩效目标尚未审核通过，不能填报监控"


# --- reading ----------------------------------------------------------------------------------


def period_months(project: Project) -> list[int]:
    return sorted(int(m) for m in project.program.effective_settings["monitoring"].get("periods") or [3, 9])


def allowed_periods(project: Project) -> list[str]:
    return [f"{year}-{month:02d}" for year in project.years for month in period_months(project)]


def final_period(project: Project) -> str:
    """The round that completes the stage: the last period of the project's last year."""
    return allowed_periods(project)[-1]


def approved_set(session: Session, project: Project) -> TargetSet | None:
    """The latest approved target version (the one a new round is measured against)."""
    return next((s for s in sets_of(session, project) if s.status == "approved"), None)


def rounds_of(session: Session, project: Project) -> list[MonitoringRound]:
    """Oldest period first."""
    return list(
        session.execute(
            select(MonitoringRound)
            .where(MonitoringRound.project_id == project.id)
            .order_by(MonitoringRound.period)
        ).scalars()
    )


def list_rounds(session: Session, actor: Actor, project_id: int) -> list[MonitoringRound]:
    return rounds_of(session, get_project(session, actor, project_id))


def find_round(session: Session, project: Project, round_id: int) -> MonitoringRound:
    found = session.get(MonitoringRound, round_id)
    if found is None or found.project_id != project.id:
        raise NotFound(f"监控轮次 {round_id} 不存在")
    return found


def get_round(session: Session, actor: Actor, project_id: int, round_id: int) -> MonitoringRound:
    return find_round(session, get_project(session, actor, project_id), round_id)


# --- reporting --------------------------------------------------------------------------------


def _writable(session: Session, actor: Actor, project_id: int) -> Project:
    project = get_project(session, actor, project_id)
    authorize(actor, "projects.write", project=project)
    if project.status != "active":
        require_stage(project, "monitoring")  # says why: the project has ended
    if project.stage_row("monitoring").status == "locked" or approved_set(session, project) is None:
        raise Conflict(NOT_APPROVED)
    return project


def _timing_problems(
    project: Project,
    period: str | None,
    as_of: date,
    others: list[MonitoringRound],
    errors: dict[str, list[str]],
) -> None:
    """The period is allowed, `as_of` lies in it (on/after its first day, in its year) and the
    rounds stay in order: no round dated before one of an earlier period, or after a later one."""
    allowed = allowed_periods(project)
    match = PERIOD_RE.match(period or "")
    if period not in allowed or match is None:
        errors.setdefault("period", []).append(
            f"监控期间须为本项目实施年度内试点规定的期间：{'、'.join(allowed)}，而不是「{period}」"
        )
        return
    year, month = int(match.group(1)), int(match.group(2))
    if as_of.year != year or as_of < date(year, month, 1):
        errors.setdefault("as_of", []).append(
            f"{period} 轮的截止日期须在 {year}-{month:02d}-01 至 {year}-12-31 之间，而不是 {as_of.isoformat()}"
        )
    for other in others:
        if other.period > period:
            errors.setdefault("period", []).append(
                f"本轮（{period}）不能早于已报送的 {other.period} 轮：监控须按期间先后填报"
            )
        elif other.as_of > as_of:
            errors.setdefault("as_of", []).append(
                f"截止日期 {as_of.isoformat()} 早于上一轮（{other.period}）的截止日期 {other.as_of.isoformat()}"
            )


def _figures(
    session: Session,
    project: Project,
    target_set: TargetSet,
    data: dict[str, Any],
    errors: dict[str, list[str]],
) -> RoundFigures | None:
    settings = project.program.effective_settings
    match = PERIOD_RE.match(data.get("period") or "")
    year = int(match.group(1)) if match else data["as_of"].year
    try:
        figures = measure(
            list(target_set.lines), data, budget=project.budget_amount, year=year, settings=settings
        )
    except Problems as exc:
        for key, messages in exc.errors.items():
            errors.setdefault(key, []).extend(messages)
        return None
    if figures.has_red:
        missing = missing_purposes(session, project, "monitoring")
        if missing:
            errors.setdefault("evidence", []).append(
                f"本轮有红色预警，须先上传跟踪监控阶段的佐证材料：{'、'.join(missing)}"
            )
    return figures


def _apply(session: Session, found: MonitoringRound, figures: RoundFigures) -> None:
    for name in (
        "budget_executed",
        "budget_explanation",
        "budget_reason",
        "budget_measure",
        "execution_rate",
        "time_progress",
        "budget_warning",
        "forecast_executed",
        "forecast_rate",
        "forecast_warning",
    ):
        setattr(found, name, getattr(figures, name))
    if found.lines:
        found.lines.clear()
        session.flush()
    for line in figures.lines:
        found.lines.append(
            MonitoringLine(
                tenant_id=found.tenant_id,
                target_line_id=line.target_line.id,
                **{
                    name: getattr(line, name)
                    for name in (
                        "position",
                        "planned_value",
                        "actual_value",
                        "achievement",
                        "text",
                        "reason",
                        "measure",
                        "reason_category",
                        "likelihood",
                        "completion",
                        "warning",
                        "forecast_value",
                        "forecast_completion",
                        "forecast_warning",
                    )
                },
            )
        )


def _reported(session: Session, actor: Actor, project: Project, found: MonitoringRound, verb: str) -> None:
    """After a (re)report: the stage completes with the last period's round; audit and announce."""
    if found.period == final_period(project) and project.stage_row("monitoring").status != "approved":
        set_stage_status(session, project, "monitoring", "approved")
    session.flush()
    record(session, f"monitoring.{verb}", object_type="project", object_id=project.id, after=found.to_audit())
    announce(session, actor, "monitoring.reported", project=project, round=found)


def report(session: Session, actor: Actor, project_id: int, data: dict[str, Any]) -> MonitoringRound:
    """Report a new round (POST): 409 for a period already reported, 422 listing every problem."""
    project = _writable(session, actor, project_id)
    target_set = approved_set(session, project)
    assert target_set is not None  # _writable
    rounds = rounds_of(session, project)
    period = data.get("period")
    if any(r.period == period for r in rounds):
        raise Conflict(f"{period} 轮监控已填报；被退回的轮次请修改后重新报送")
    errors: dict[str, list[str]] = {}
    _timing_problems(project, period, data["as_of"], rounds, errors)
    figures = _figures(session, project, target_set, data, errors)
    if errors or figures is None:
        raise ValidationFailed(next(iter(errors.values()))[0], errors=errors)
    found = MonitoringRound(
        tenant_id=project.tenant_id,
        project_id=project.id,
        target_set_id=target_set.id,
        period=period,
        as_of=data["as_of"],
        status="reported",
        reported_by=actor.username,
        reported_at=utcnow(),
        lines=[],
    )
    _apply(session, found, figures)
    try:
        with session.begin_nested():  # the same period reported at the same moment: one wins
            session.add(found)
            session.flush()
    except IntegrityError:
        raise Conflict(f"{period} 轮监控已填报；被退回的轮次请修改后重新报送") from None
    _reported(session, actor, project, found, "report")
    return found


def correct(
    session: Session, actor: Actor, project_id: int, round_id: int, data: dict[str, Any]
) -> MonitoringRound:
    """Correct a returned round and report it again (PUT). It keeps the target version it was
    first measured against."""
    project = _writable(session, actor, project_id)
    found = find_round(session, project, round_id)
    if found.status == "confirmed":
        raise Conflict("已确认的监控轮次不能修改")
    if found.status != "returned":
        raise Conflict("监控轮次已报送、待财政确认，只有被退回的轮次可以修改后重新报送")
    if data.get("lock_version") is not None and data["lock_version"] != found.lock_version:
        raise StaleVersion(f"监控轮次已被修改（当前 lock_version {found.lock_version}），请刷新后重试")
    errors: dict[str, list[str]] = {}
    others = [r for r in rounds_of(session, project) if r.id != found.id]
    earlier = [r for r in others if r.period < found.period]
    later = [r for r in others if r.period > found.period]
    _timing_problems(project, found.period, data["as_of"], earlier, errors)
    for other in later:
        if other.as_of < data["as_of"]:
            errors.setdefault("as_of", []).append(
                f"截止日期 {data['as_of'].isoformat()} 晚于下一轮（{other.period}）的截止日期 {other.as_of.isoformat()}"
            )
    figures = _figures(session, project, found.target_set, {**data, "period": found.period}, errors)
    if errors or figures is None:
        raise ValidationFailed(next(iter(errors.values()))[0], errors=errors)
    found.as_of = data["as_of"]
    _apply(session, found, figures)
    found.status = "reported"
    found.reported_by = actor.username
    found.reported_at = utcnow()
    _reported(session, actor, project, found, "rereport")
    return found


# --- finance ----------------------------------------------------------------------------------


def _decidable(
    session: Session, actor: Actor, project_id: int, round_id: int
) -> tuple[Project, MonitoringRound]:
    project = get_project(session, actor, project_id)
    found = find_round(session, project, round_id)
    authorize(actor, "projects.finance", project=project)
    if found.status == "confirmed":
        raise Conflict(f"{found.period} 轮监控已确认，不能再确认或退回")
    if found.status == "returned":
        raise Conflict(f"{found.period} 轮监控已退回，待项目单位修改后重新报送")
    return project, found


def confirm(session: Session, actor: Actor, project_id: int, round_id: int) -> MonitoringRound:
    """Finance confirms a reported round: it is frozen from then on."""
    project, found = _decidable(session, actor, project_id, round_id)
    found.status = "confirmed"
    found.confirmed_by = actor.username
    found.confirmed_at = utcnow()
    session.flush()
    record(
        session,
        "monitoring.confirm",
        object_type="project",
        object_id=project.id,
        after={"period": found.period, "status": found.status},
    )
    announce(session, actor, "monitoring.confirmed", project=project, round=found)
    return found


def return_round(
    session: Session, actor: Actor, project_id: int, round_id: int, opinion: str
) -> MonitoringRound:
    """Finance returns a reported round with an opinion; the editors correct it (PUT). Returning
    the last period's round reopens the stage (the self-evaluation locks again) — refused once
    the self-evaluation has been submitted."""
    project, found = _decidable(session, actor, project_id, round_id)
    if not (opinion or "").strip():
        raise ValidationFailed("退回须写明意见", errors={"opinion": ["退回须写明意见，说明需要修改之处"]})
    if found.period == final_period(project) and project.stage_row("monitoring").status == "approved":
        if project.stage_row("self_evaluation").status not in ("locked", "draft"):
            raise Conflict("自评已提交，不能退回最后一轮监控")
        reopen_stage(session, project, "monitoring")
    found.status = "returned"
    found.return_opinion = opinion.strip()
    found.returned_by = actor.username
    found.returned_at = utcnow()
    session.flush()
    record(
        session,
        "monitoring.return",
        object_type="project",
        object_id=project.id,
        after={"period": found.period, "status": found.status, "opinion": found.return_opinion},
    )
    announce(session, actor, "monitoring.returned", project=project, round=found)
    return found
