"""抽查 (spot checks): draw, review, and the finding's thread (no Flask).

The province (admin or reviewer — its performance centre) or a city (its bureau admin) draws a
sample of the approved target sets in force of a program's active projects below it (the walls
bound the population to its branch; its own projects are not checked), stratified by tenant and
reproducible from the recorded seed (`sampling.py`). One draw per program and round: another is a
409 unless asked for as a new round. Each drawn item is reviewed once, on 完整性/相关性/适当性/
可行性; a result of 须整改 carries findings, which go to the project's editors as a request they
must answer — the monitoring correction requests' thread (`corrections.open_request/answer/ask/
shut`), of kind 抽查 — until the drawing tenant closes it (整改完成). Every step is audited and
announced."""

from __future__ import annotations

import secrets
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from jixiao.platform.core.actor import Actor
from jixiao.platform.core.audit import record
from jixiao.platform.core.authz import authorize, policy, require_role
from jixiao.platform.core.db import utcnow
from jixiao.platform.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from jixiao.services.monitoring import corrections
from jixiao.services.monitoring.models import SPOT_CHECK_KIND, Correction
from jixiao.services.notifications.events import announce
from jixiao.services.programs.service import get_program
from jixiao.services.projects.models import Project
from jixiao.services.projects.service import get_project
from jixiao.services.targets.models import TargetSet
from jixiao.tenants.models import Tenant

from . import sampling
from .models import ASPECTS, RESULTS, SpotCheck, SpotCheckItem

# who draws and reviews, by the level of the tenant that does
CHECKERS = {"province": ("province_admin", "province_reviewer"), "city": ("bureau_admin",)}
REPLY_DAYS = 30  # a finding's deadline when the review names none
MAX_SEED = 2**31 - 1


# --- policies -----------------------------------------------------------------------------------


@policy("spot_checks.draw", scope="reviews:write")
def _may_draw(actor: Actor) -> None:
    """The province's performance centre (admin, reviewer) or a city's bureau admin."""
    if actor.is_evaluator or actor.tenant_level not in CHECKERS:
        raise Forbidden("抽查由省级或市级财政部门开展")
    require_role(actor, *CHECKERS[actor.tenant_level], message="只有省级或市级财政部门的审核人员可以开展抽查")


@policy("spot_checks.read", scope="projects:read")
def _may_read_checks(actor: Actor) -> None:
    """The checks themselves: the province and the cities (a county sees its items on its projects)."""
    if actor.is_evaluator or actor.tenant_level not in CHECKERS:
        raise Forbidden("抽查工作台供省级和市级使用；县区在项目页查看本地区项目的抽查结果")


@policy("spot_checks.review", scope="reviews:write")
def _may_review(actor: Actor, *, item: SpotCheckItem) -> None:
    """Only the tenant that drew the check reviews it and follows its findings up."""
    _may_draw(actor)
    if item.checked_by_tenant_id != actor.tenant_id:
        raise Forbidden("只有开展该次抽查的单位可以审查和跟进")


# --- reading ------------------------------------------------------------------------------------


def list_checks(session: Session, actor: Actor, program_id: int) -> list[SpotCheck]:
    authorize(actor, "spot_checks.read")
    program = get_program(session, actor, program_id)
    stmt = select(SpotCheck).where(SpotCheck.program_id == program.id).order_by(SpotCheck.id.desc())
    return list(session.execute(stmt).scalars())


def get_check(session: Session, actor: Actor, check_id: int) -> SpotCheck:
    authorize(actor, "spot_checks.read")
    found = session.get(SpotCheck, check_id)
    if found is None:
        raise NotFound(f"抽查 {check_id} 不存在")
    return found


def get_item(session: Session, actor: Actor, check_id: int, item_id: int) -> SpotCheckItem:
    """A drawn item: its project's tenant and the tenants above read it (the walls)."""
    found = session.get(SpotCheckItem, item_id)
    if found is None or found.spot_check_id != check_id:
        raise NotFound(f"抽查项 {item_id} 不存在")
    get_project(session, actor, found.project_id)  # an evaluator's grant, a stopped project …
    return found


def of_project(session: Session, actor: Actor, project_id: int) -> list[SpotCheckItem]:
    """The spot checks a project was drawn in, newest first."""
    project = get_project(session, actor, project_id)
    stmt = (
        select(SpotCheckItem).where(SpotCheckItem.project_id == project.id).order_by(SpotCheckItem.id.desc())
    )
    return list(session.execute(stmt).scalars())


def population(session: Session, actor: Actor, program_id: int) -> list[tuple[int, int, str]]:
    """(project id, target set id, tenant code) of every active project of the program below the
    actor (the walls) whose targets have an approved version — the one in force."""
    in_force = (
        select(TargetSet.project_id, func.max(TargetSet.number).label("number"))
        .where(TargetSet.status == "approved")
        .group_by(TargetSet.project_id)
        .subquery()
    )
    stmt = (
        select(Project.id, TargetSet.id, Tenant.code)
        .join(TargetSet, TargetSet.project_id == Project.id)
        .join(
            in_force,
            (in_force.c.project_id == TargetSet.project_id) & (in_force.c.number == TargetSet.number),
        )
        .join(Tenant, Tenant.id == Project.tenant_id)
        .where(
            Project.program_id == program_id,
            Project.status == "active",
            Project.tenant_id != actor.tenant_id,
        )
        .order_by(Project.id)
    )
    return [(pid, sid, code) for pid, sid, code in session.execute(stmt).all()]


# --- the draw -----------------------------------------------------------------------------------


def _asked(data: dict[str, Any], available: int) -> tuple[Fraction | None, int | None, dict[str, list[str]]]:
    errors: dict[str, list[str]] = {}
    share_raw, count_raw = data.get("share"), data.get("count")
    if (share_raw is None) == (count_raw is None):
        errors["share"] = ["请填写抽查比例（share）或抽查数量（count），二者填其一"]
        return None, None, errors
    share: Fraction | None = None
    count: int | None = None
    if share_raw is not None:
        try:
            share = Fraction(str(Decimal(str(share_raw))))
        except (InvalidOperation, ValueError):
            errors["share"] = ["抽查比例须为 0 到 1 之间的数（如 0.5 表示 50%）"]
        else:
            if not 0 < share <= 1:
                errors["share"] = [f"抽查比例须大于 0 且不超过 1（100%），收到 {share_raw}"]
    else:
        count = int(str(count_raw))
        if count < 1:
            errors["count"] = ["抽查数量须至少为 1"]
        elif count > available:
            errors["count"] = [f"抽查数量 {count} 超过可抽查的项目数 {available}（已批复绩效目标的项目）"]
    if not errors and available == 0:
        errors["share" if share is not None else "count"] = [
            "本试点在本辖区内暂无已批复绩效目标的项目可供抽查"
        ]
    return share, count, errors


def draw(session: Session, actor: Actor, program_id: int, data: dict[str, Any]) -> SpotCheck:
    authorize(actor, "spot_checks.draw")
    program = get_program(session, actor, program_id)
    last = session.execute(
        select(func.max(SpotCheck.round)).where(
            SpotCheck.program_id == program.id, SpotCheck.tenant_id == actor.tenant_id
        )
    ).scalar()
    if last is not None and not data.get("new_round"):
        raise Conflict(f"本试点已开展第 {last} 轮抽查；如需再抽一轮，请选择「新一轮抽查」（new_round）")
    rows = population(session, actor, program.id)
    share, count, errors = _asked(data, len(rows))
    seed = data.get("seed")
    if seed is not None and not 0 <= int(seed) <= MAX_SEED:
        errors["seed"] = [f"随机种子须为 0 到 {MAX_SEED} 之间的整数"]
    if errors:
        raise ValidationFailed(next(iter(errors.values()))[0], errors=errors)
    seed = int(seed) if seed is not None else secrets.randbelow(MAX_SEED) + 1
    strata: dict[str, list[int]] = {}
    for pid, _, code in rows:
        strata.setdefault(code, []).append(pid)
    drawn = {
        pid
        for ids in sampling.draw(strata, sampling.size_of(len(rows), share=share, count=count), seed).values()
        for pid in ids
    }
    target_set_of = {pid: sid for pid, sid, _ in rows}
    projects = {
        p.id: p for p in session.execute(select(Project).where(Project.id.in_(sorted(drawn)))).scalars()
    }
    check = SpotCheck(
        tenant_id=actor.tenant_id,
        program_id=program.id,
        round=(last or 0) + 1,
        share=Decimal(share.numerator) / Decimal(share.denominator) if share is not None else None,
        count=count,
        seed=seed,
        population=len(rows),
        drawn_by=actor.username,
        drawn_at=utcnow(),
        items=[
            SpotCheckItem(
                tenant_id=projects[pid].tenant_id,
                project_id=pid,
                target_set_id=target_set_of[pid],
                checked_by_tenant_id=actor.tenant_id,
                status="pending",
                comments={},
            )
            for pid in sorted(drawn)
        ],
    )
    try:
        with session.begin_nested():  # two draws of the same round at the same moment: one wins
            session.add(check)
            session.flush()
    except IntegrityError:
        raise Conflict("本轮抽查刚由他人完成，请刷新后查看") from None
    record(
        session,
        "spot_check.draw",
        object_type="spot_check",
        object_id=check.id,
        after={
            "program": program.id,
            "round": check.round,
            "seed": seed,
            "share": str(check.share) if check.share is not None else None,
            "count": count,
            "population": check.population,
            "projects": sorted(drawn),
        },
    )
    announce(session, actor, "spot_check.drawn", project=None, check=check)
    return check


# --- the review ---------------------------------------------------------------------------------


def _reviewable(session: Session, actor: Actor, check_id: int, item_id: int) -> SpotCheckItem:
    item = get_item(session, actor, check_id, item_id)
    authorize(actor, "spot_checks.review", item=item)
    return item


def review(
    session: Session, actor: Actor, check_id: int, item_id: int, data: dict[str, Any], today: date
) -> SpotCheckItem:
    item = _reviewable(session, actor, check_id, item_id)
    if item.status != "pending":
        raise Conflict("该项目已审查，结论不能重复作出")
    errors: dict[str, list[str]] = {}
    result = str(data.get("result") or "")
    if result not in RESULTS:
        errors["result"] = ["审查结论须为 pass（通过）或 rectify（须整改）"]
    given = data.get("comments") or {}
    comments = {key: str(given.get(key) or "").strip() for key in ASPECTS}
    for key, name in ASPECTS.items():
        if not comments[key]:
            errors[f"comments.{key}"] = [f"请填写{name}审查意见"]
    findings = str(data.get("findings") or "").strip()
    deadline = data.get("deadline") or today + timedelta(days=REPLY_DAYS)
    if result == "rectify":
        if not findings:
            errors["findings"] = ["结论为须整改时，请写明发现的问题（findings）"]
        if deadline < today:
            errors["deadline"] = [f"答复期限 {deadline.isoformat()} 已过（今天是 {today.isoformat()}）"]
    if errors:
        raise ValidationFailed(next(iter(errors.values()))[0], errors=errors)
    item.status = result
    item.comments = comments
    item.findings = findings or None
    item.reviewed_by = actor.username
    item.reviewed_at = utcnow()
    session.flush()
    if result == "rectify":
        corrections.open_request(
            session,
            actor,
            item.project,
            kind=SPOT_CHECK_KIND,
            text=findings,
            deadline=deadline,
            today=today,
            spot_check_item_id=item.id,
        )
        session.refresh(item, ["finding"])
    record(
        session,
        "spot_check.review",
        object_type="project",
        object_id=item.project_id,
        tenant_id=item.tenant_id,
        after={
            "spot_check": check_id,
            "item": item.id,
            "result": result,
            "comments": comments,
            "findings": findings,
        },
    )
    announce(session, actor, "spot_check.reviewed", project=item.project, item=item)
    return item


# --- the finding's thread -----------------------------------------------------------------------


def _finding(item: SpotCheckItem) -> Correction:
    if item.finding is None:
        raise Conflict("该抽查项没有须整改的问题，无需答复")
    return item.finding


def _audit(session: Session, item: SpotCheckItem, verb: str, **after: Any) -> None:
    finding = item.finding
    record(
        session,
        f"spot_check.finding_{verb}",
        object_type="project",
        object_id=item.project_id,
        tenant_id=item.tenant_id,
        after={
            "spot_check": item.spot_check_id,
            "item": item.id,
            "correction": finding.id if finding else None,
            "status": finding.status if finding else None,
            **after,
        },
    )


def reply(session: Session, actor: Actor, check_id: int, item_id: int, data: dict[str, Any]) -> SpotCheckItem:
    """The project's editors answer the finding (a text, evidence files of the project)."""
    item = get_item(session, actor, check_id, item_id)
    ids = corrections.answer(session, actor, item.project, _finding(item), data)
    _audit(session, item, "reply", evidence_ids=ids)
    announce(session, actor, "spot_check.replied", project=item.project, item=item)
    return item


def ask_again(
    session: Session, actor: Actor, check_id: int, item_id: int, data: dict[str, Any], today: date
) -> SpotCheckItem:
    item = _reviewable(session, actor, check_id, item_id)
    finding = _finding(item)
    corrections.ask(session, actor, finding, data, today)
    _audit(session, item, "again", deadline=finding.deadline.isoformat())
    announce(session, actor, "spot_check.again", project=item.project, item=item)
    return item


def close(session: Session, actor: Actor, check_id: int, item_id: int, opinion: str | None) -> SpotCheckItem:
    """The drawing tenant is satisfied with the answer: 整改完成."""
    item = _reviewable(session, actor, check_id, item_id)
    corrections.shut(session, actor, _finding(item), opinion)
    _audit(session, item, "close")
    announce(session, actor, "spot_check.closed", project=item.project, item=item)
    return item
