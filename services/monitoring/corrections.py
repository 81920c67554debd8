"""Correction requests (纠偏/约谈/发函) on a monitoring round (no Flask).

Finance issues one (kind, text, deadline); the project's editors reply (a text, evidence files of
the project where they help) → answered; finance asks again (a new deadline) → open, or closes
it. An open request past its deadline (the province's calendar) is overdue. From a request
finance may open a target adjustment (the targets' own flow): the new version, once approved,
is what later rounds are measured against; earlier rounds keep theirs.

The thread itself — open a request, the editors' reply, ask again, close — is `open_request`,
`answer`, `ask` and `shut`, shared with the spot checks' findings (services/spotchecks), which are
the same requests written from above; each caller audits and announces in its own words.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from jixiao.platform.core.actor import Actor
from jixiao.platform.core.audit import record
from jixiao.platform.core.authz import authorize
from jixiao.platform.core.db import utcnow
from jixiao.platform.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from jixiao.platform.core.pagination import Page, paginate
from jixiao.services.evidence.models import Evidence
from jixiao.services.notifications.events import announce
from jixiao.services.projects.models import Project
from jixiao.services.projects.service import get_project
from jixiao.services.targets import chain

from .models import CORRECTION_KINDS, Correction, CorrectionEntry
from .service import find_round


def _marked(items: list[Correction], today: date) -> list[Correction]:
    for item in items:
        item.overdue = item.is_overdue(today)
    return items


def _find(session: Session, project: Project, round_id: int, correction_id: int) -> Correction:
    found = session.get(Correction, correction_id)
    if found is None or found.project_id != project.id or found.round_id != round_id:
        raise NotFound(f"纠偏要求 {correction_id} 不存在")
    return found


def _deadline_problem(deadline: date | None, today: date, errors: dict[str, list[str]]) -> None:
    if deadline is None:
        errors.setdefault("deadline", []).append("请填写答复期限")
    elif deadline < today:
        errors.setdefault("deadline", []).append(
            f"答复期限 {deadline.isoformat()} 已过（今天是 {today.isoformat()}），请选择今天或以后的日期"
        )


def _text_problem(text: str | None, field: str, label: str, errors: dict[str, list[str]]) -> str:
    cleaned = (text or "").strip()
    if not cleaned:
        errors.setdefault(field, []).append(f"请填写{label}")
    return cleaned


def _entry(found: Correction, actor: Actor, action: str, text: str, **extra: Any) -> CorrectionEntry:
    entry = CorrectionEntry(
        tenant_id=found.tenant_id,
        action=action,
        text=text,
        author=actor.username,
        written_at=utcnow(),
        **extra,
    )
    found.entries.append(entry)
    return entry


def _audit(session: Session, project: Project, found: Correction, verb: str, **after: Any) -> None:
    record(
        session,
        f"monitoring.correction_{verb}",
        object_type="project",
        object_id=project.id,
        after={"correction": found.id, "kind": found.kind, "status": found.status, **after},
    )


def _not_closed(found: Correction) -> None:
    if found.status == "closed":
        raise Conflict(f"该{found.kind}要求已关闭，不能再办理")


# --- reading ----------------------------------------------------------------------------------


def of_project(session: Session, actor: Actor, project_id: int, today: date) -> list[Correction]:
    """Every correction request of a project, newest first."""
    project = get_project(session, actor, project_id)
    stmt = (
        select(Correction)
        .where(Correction.project_id == project.id, Correction.round_id.is_not(None))
        .order_by(Correction.id.desc())
    )
    return _marked(list(session.execute(stmt).scalars()), today)


def inbox(
    session: Session,
    actor: Actor,
    today: date,
    *,
    status: str | None = None,
    overdue: bool | None = None,
    page: int = 1,
    page_size: int = 50,
) -> Page[Correction]:
    """The correction requests of the caller's tenant and those below it (the walls), newest first."""
    authorize(actor, "projects.read")
    stmt = select(Correction).where(Correction.round_id.is_not(None)).order_by(Correction.id.desc())
    if status:
        stmt = stmt.where(Correction.status == status)
    if overdue is True:
        stmt = stmt.where(Correction.status == "open", Correction.deadline < today)
    elif overdue is False:
        stmt = stmt.where((Correction.status != "open") | (Correction.deadline >= today))
    found = paginate(session, stmt, page, page_size)
    _marked(found.items, today)
    return found


def get_correction(
    session: Session, actor: Actor, project_id: int, round_id: int, correction_id: int, today: date
) -> Correction:
    project = get_project(session, actor, project_id)
    return _marked([_find(session, project, round_id, correction_id)], today)[0]


# --- finance ----------------------------------------------------------------------------------


def issue(
    session: Session, actor: Actor, project_id: int, round_id: int, data: dict[str, Any], today: date
) -> Correction:
    project = get_project(session, actor, project_id)
    found_round = find_round(session, project, round_id)
    authorize(actor, "projects.finance", project=project)
    errors: dict[str, list[str]] = {}
    if data.get("kind") not in CORRECTION_KINDS:
        errors["kind"] = [f"类型须为{'、'.join(CORRECTION_KINDS)}之一"]
    found = open_request(
        session,
        actor,
        project,
        kind=data["kind"],
        text=data.get("text"),
        deadline=data.get("deadline"),
        today=today,
        round_id=found_round.id,
        errors=errors,
    )
    _audit(session, project, found, "issue", period=found_round.period, deadline=found.deadline.isoformat())
    announce(session, actor, "correction.issued", project=project, round=found_round, correction=found)
    return _marked([found], today)[0]


def _finance_on_open(
    session: Session, actor: Actor, project_id: int, round_id: int, correction_id: int
) -> tuple[Project, Correction]:
    """The project and a correction not yet closed, for finance to act on (ask again, close, adjust)."""
    project = get_project(session, actor, project_id)
    found = _find(session, project, round_id, correction_id)
    authorize(actor, "projects.finance", project=project)
    _not_closed(found)
    return project, found


def ask_again(
    session: Session,
    actor: Actor,
    project_id: int,
    round_id: int,
    correction_id: int,
    data: dict[str, Any],
    today: date,
) -> Correction:
    project, found = _finance_on_open(session, actor, project_id, round_id, correction_id)
    ask(session, actor, found, data, today)
    _audit(session, project, found, "again", deadline=found.deadline.isoformat())
    announce(
        session, actor, "correction.again", project=project, round=found.monitoring_round, correction=found
    )
    return _marked([found], today)[0]


def close(
    session: Session,
    actor: Actor,
    project_id: int,
    round_id: int,
    correction_id: int,
    opinion: str | None,
    today: date,
) -> Correction:
    project, found = _finance_on_open(session, actor, project_id, round_id, correction_id)
    shut(session, actor, found, opinion)
    _audit(session, project, found, "close")
    announce(
        session, actor, "correction.closed", project=project, round=found.monitoring_round, correction=found
    )
    return _marked([found], today)[0]


def open_adjustment(
    session: Session,
    actor: Actor,
    project_id: int,
    round_id: int,
    correction_id: int,
    data: dict[str, Any],
    today: date,
) -> Correction:
    """A target adjustment from a correction request (finance): the targets' adjustment flow."""
    project, found = _finance_on_open(session, actor, project_id, round_id, correction_id)
    if found.adjustment_target_set_id is not None:
        raise Conflict(
            f"该{found.kind}要求已发起过目标调整（第 {found.adjustment.number if found.adjustment else '?'} 版）"
        )
    new = chain.adjust(
        session, actor, project.id, data.get("reason") or "其他", data.get("explanation"), as_finance=True
    )
    found.adjustment_target_set_id = new.id
    session.flush()
    session.refresh(found, ["adjustment"])
    _audit(session, project, found, "adjustment", target_version=new.number)
    return _marked([found], today)[0]


# --- the editors ------------------------------------------------------------------------------


def reply(
    session: Session,
    actor: Actor,
    project_id: int,
    round_id: int,
    correction_id: int,
    data: dict[str, Any],
    today: date,
) -> Correction:
    project = get_project(session, actor, project_id)
    found = _find(session, project, round_id, correction_id)
    ids = answer(session, actor, project, found, data)
    _audit(session, project, found, "reply", evidence_ids=ids)
    announce(
        session, actor, "correction.replied", project=project, round=found.monitoring_round, correction=found
    )
    return _marked([found], today)[0]


# --- the thread (shared with the spot checks' findings) ---------------------------------------


def open_request(
    session: Session,
    actor: Actor,
    project: Project,
    *,
    kind: str,
    text: str | None,
    deadline: date | None,
    today: date,
    round_id: int | None = None,
    spot_check_item_id: int | None = None,
    errors: dict[str, list[str]] | None = None,
) -> Correction:
    """A new request to the project's editors (validated: its text, a deadline not past, with the
    caller's own problems in `errors`). The caller has authorised it and audits and announces it."""
    errors = dict(errors or {})
    cleaned = _text_problem(text, "text", "要求的内容", errors)
    _deadline_problem(deadline, today, errors)
    if errors:
        raise ValidationFailed(next(iter(errors.values()))[0], errors=errors)
    assert deadline is not None
    found = Correction(
        tenant_id=project.tenant_id,
        project_id=project.id,
        round_id=round_id,
        spot_check_item_id=spot_check_item_id,
        kind=kind,
        text=cleaned,
        deadline=deadline,
        status="open",
        issued_by=actor.username,
        issued_at=utcnow(),
        entries=[],
    )
    session.add(found)
    _entry(found, actor, "request", cleaned, deadline=deadline)
    session.flush()
    return found


def answer(
    session: Session, actor: Actor, project: Project, found: Correction, data: dict[str, Any]
) -> list[int]:
    """The editors' reply (a text, the project's evidence files where they help) → answered; the
    evidence ids it cites."""
    authorize(actor, "projects.write", project=project)
    if not actor.has_role("project_editor"):
        raise Forbidden(f"只有项目单位填报人可以答复{found.kind}要求")
    _not_closed(found)
    errors: dict[str, list[str]] = {}
    text = _text_problem(data.get("text"), "text", "答复内容", errors)
    ids = list(dict.fromkeys(int(i) for i in data.get("evidence_ids") or []))
    if ids:
        present = set(
            session.execute(
                select(Evidence.id).where(
                    Evidence.id.in_(ids),
                    Evidence.project_id == project.id,
                    Evidence.status.in_(("current", "superseded")),
                )
            ).scalars()
        )
        unknown = [str(i) for i in ids if i not in present]
        if unknown:
            errors["evidence_ids"] = [f"佐证材料 {'、'.join(unknown)} 不存在或不属于本项目"]
    if errors:
        raise ValidationFailed(next(iter(errors.values()))[0], errors=errors)
    found.status = "answered"
    _entry(found, actor, "reply", text, evidence_ids=ids)
    session.flush()
    return ids


def ask(session: Session, actor: Actor, found: Correction, data: dict[str, Any], today: date) -> None:
    """Ask again with a new deadline → open (the issuer, authorised by the caller)."""
    _not_closed(found)
    errors: dict[str, list[str]] = {}
    text = _text_problem(data.get("text"), "text", "再次要求的内容", errors)
    _deadline_problem(data.get("deadline"), today, errors)
    if errors:
        raise ValidationFailed(next(iter(errors.values()))[0], errors=errors)
    found.status = "open"
    found.deadline = data["deadline"]
    _entry(found, actor, "again", text, deadline=data["deadline"])
    session.flush()


def shut(session: Session, actor: Actor, found: Correction, opinion: str | None) -> None:
    """Close the request (the issuer, authorised by the caller), with an optional opinion."""
    _not_closed(found)
    found.status = "closed"
    found.closed_by = actor.username
    found.closed_at = utcnow()
    _entry(found, actor, "close", (opinion or "").strip())
    session.flush()
