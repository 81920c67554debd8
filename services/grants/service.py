"""Grants: made and revoked by the bureau admin of the project's tenant, read by it, the tenants
above and the province; an evaluator sees its own (no Flask).

Rules (issue 13): an evaluator organisation that exists, users of that organisation only, actions
from the vocabulary, an expiry in the future and at most one year past the program's end — every
problem named at once (422). Never edited: revoke and grant again. Each grant, revocation and each
request that relied on a grant is audited."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from jixiao.platform.core.actor import Actor
from jixiao.platform.core.audit import record
from jixiao.platform.core.authz import authorize, policy, require_role
from jixiao.platform.core.db import utcnow
from jixiao.platform.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from jixiao.services.projects.models import Project
from jixiao.services.projects.service import get_project
from jixiao.tenants.models import EvaluatorOrg, User

from .models import ACTIONS, Grant, grants_of


@policy("grants.write", scope="admin")
def _may_grant(actor: Actor, *, project: Project) -> None:
    """The bureau admin of the project's own tenant."""
    require_role(actor, "bureau_admin", message="只有本级财政局管理员可以授权第三方机构")
    if project.tenant_id != actor.tenant_id:
        raise Forbidden("上级单位对下级项目只读，不能授权")


@policy("grants.read", scope="projects:read")
def _may_read(actor: Actor) -> None:
    """Whoever reads the project (the walls decide); an evaluator its own grants."""


def expiry_of(value: datetime | date, zone: str) -> datetime:
    """A date means through the end of that day in the province; a time without a zone is the
    province's; stored in UTC."""
    tz = ZoneInfo(zone)
    if not isinstance(value, datetime):
        value = datetime.combine(value, time(23, 59, 59))
    if value.tzinfo is None:
        value = value.replace(tzinfo=tz)
    return value.astimezone(ZoneInfo("UTC"))


def problems(
    session: Session,
    project: Project,
    data: dict[str, Any],
    expires_at: datetime | None,
    now: datetime,
    zone: str,
) -> tuple[dict[str, list[str]], EvaluatorOrg | None]:
    errors: dict[str, list[str]] = {}
    org = session.get(EvaluatorOrg, data.get("evaluator_org_id") or 0)
    if org is None:
        errors["evaluator_org_id"] = [f"第三方机构 {data.get('evaluator_org_id')} 不存在"]
    actions = list(data.get("actions") or [])
    unknown = [a for a in actions if a not in ACTIONS]
    if unknown:
        allowed = "、".join(f"{k}（{v}）" for k, v in ACTIONS.items())
        errors["actions"] = [f"未知的授权事项：{'、'.join(map(str, unknown))}；可选：{allowed}"]
    elif not actions:
        errors["actions"] = ["请至少选择一项授权事项"]
    user_ids = list(dict.fromkeys(data.get("user_ids") or []))
    if org is not None and user_ids:
        members = set(
            session.execute(
                select(User.id)
                .where(User.id.in_(user_ids), User.evaluator_org_id == org.id, User.is_active.is_(True))
                .execution_options(all_tenants=True)
            ).scalars()
        )
        strangers = [u for u in user_ids if u not in members]
        if strangers:
            errors["user_ids"] = [f"用户 {'、'.join(map(str, strangers))} 不是「{org.name}」的在用账号"]
    if expires_at is None:
        errors["expires_at"] = ["请填写授权截止时间"]
    else:
        latest = expiry_of(
            project.program.end.replace(year=project.program.end.year + 1)
            if not (project.program.end.month == 2 and project.program.end.day == 29)
            else project.program.end + timedelta(days=365),
            zone,
        )
        if expires_at <= now:
            errors["expires_at"] = ["授权截止时间须晚于当前时间"]
        elif expires_at > latest:
            local = latest.astimezone(ZoneInfo(zone)).date().isoformat()
            errors["expires_at"] = [f"授权截止时间最晚为试点结束后一年（{local}）"]
    return errors, org


def grant(session: Session, actor: Actor, project_id: int, data: dict[str, Any], zone: str) -> Grant:
    project = get_project(session, actor, project_id)
    authorize(actor, "grants.write", project=project)
    raw = data.get("expires_at")
    expires_at = expiry_of(raw, zone) if raw is not None else None
    errors, org = problems(session, project, data, expires_at, utcnow(), zone)
    if errors:
        raise ValidationFailed(next(iter(errors.values()))[0], errors=errors)
    assert org is not None and expires_at is not None
    found = Grant(
        tenant_id=project.tenant_id,
        project_id=project.id,
        evaluator_org_id=org.id,
        user_ids=list(dict.fromkeys(data.get("user_ids") or [])),
        actions=[a for a in ACTIONS if a in set(data["actions"])],
        expires_at=expires_at,
        granted_by=actor.username,
    )
    session.add(found)
    session.flush()
    record(
        session,
        "grants.grant",
        object_type="project",
        object_id=project.id,
        after={"id": found.id, **found.to_audit()},
    )
    return found


def revoke(
    session: Session, actor: Actor, project_id: int, grant_id: int, reason: str | None = None
) -> Grant:
    project = get_project(session, actor, project_id)
    authorize(actor, "grants.write", project=project)
    found = session.get(Grant, grant_id)
    if found is None or found.project_id != project.id:
        raise NotFound(f"授权 {grant_id} 不存在")
    if found.revoked_at is not None:
        raise Conflict(f"该授权已于 {found.revoked_at.date().isoformat()} 撤销")
    found.revoked_at = utcnow()
    found.revoked_by = actor.username
    found.revoke_reason = (reason or "").strip() or None
    session.flush()
    record(
        session,
        "grants.revoke",
        object_type="project",
        object_id=project.id,
        after={"id": found.id, "reason": found.revoke_reason},
    )
    return found


def of_project(session: Session, actor: Actor, project_id: int) -> list[Grant]:
    """A project's grants, newest first (an evaluator: only its own)."""
    project = get_project(session, actor, project_id)
    authorize(actor, "grants.read")
    if actor.is_evaluator:
        return [g for g in grants_of(session, actor) if g.project_id == project.id]
    return list(
        session.execute(
            select(Grant)
            .where(Grant.project_id == project.id)
            .order_by(Grant.granted_at.desc(), Grant.id.desc())
        ).scalars()
    )


def listing(session: Session, actor: Actor) -> list[Grant]:
    """The caller's grants: an evaluator its own (its organisation's; an organisation admin sees
    its users' — the same list); a tenant the grants of its subtree (the province: all)."""
    authorize(actor, "grants.read")
    if actor.is_evaluator:
        return grants_of(session, actor)
    return list(session.execute(select(Grant).order_by(Grant.granted_at.desc(), Grant.id.desc())).scalars())
