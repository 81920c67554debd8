"""A grant: a bureau admin lets an evaluator organisation (optionally only some of its users) act on
one project of its own tenant, for a list of actions, until an expiry (DESIGN.md §1, §4; API.md
`grants`). Never edited: revoked, and granted again.

The walls learn the grants here: `with_grants` completes an evaluator's actor with its live grants
(loaded on every request, checked against the clock at that second), and `TenantOwned` then reads
exactly those projects' rows (platform/core/tenancy.py). A write that relies on them holds them:
`_hold_grants` re-reads them under a share lock at the request's first flush, so that a revocation
either waits for the write or, committed first, refuses it."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, event, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from jixiao.platform.core.actor import ACTOR_EXTENSIONS, Actor
from jixiao.platform.core.db import Base, utcnow
from jixiao.platform.core.errors import Forbidden
from jixiao.platform.core.tenancy import TenantOwned
from jixiao.services.projects.models import Project
from jixiao.tenants.models import EvaluatorOrg

ACTIONS = {
    "read": "查看项目",
    "joint_review": "联审",
    "key_evaluation": "重点评价",
    "evidence_read": "查看佐证材料",
    "evidence_write": "上传佐证材料",
}


class Grant(TenantOwned, Base):
    __tablename__ = "grants"
    __wall_abstract__ = False

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    evaluator_org_id: Mapped[int] = mapped_column(
        ForeignKey("evaluator_orgs.id", ondelete="RESTRICT"), index=True
    )
    user_ids: Mapped[list[int]] = mapped_column(JSON, default=list)  # empty: every user of the org
    actions: Mapped[list[str]] = mapped_column(JSON, default=list)
    expires_at: Mapped[datetime]
    granted_by: Mapped[str] = mapped_column(String(64))
    granted_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_by: Mapped[str | None] = mapped_column(String(64))
    revoked_at: Mapped[datetime | None]
    revoke_reason: Mapped[str | None] = mapped_column(Text)
    lock_version: Mapped[int] = mapped_column(Integer, default=1)

    project: Mapped[Project] = relationship(lazy="joined", viewonly=True)
    org: Mapped[EvaluatorOrg] = relationship(lazy="joined", viewonly=True)

    __mapper_args__ = {"version_id_col": lock_version}

    def live(self, now: datetime) -> bool:
        return self.revoked_at is None and self.expires_at > now

    def covers(self, user_id: int | None) -> bool:
        return not self.user_ids or user_id in self.user_ids

    def to_audit(self) -> dict[str, Any]:
        return {
            "project_id": self.project_id,
            "evaluator_org_id": self.evaluator_org_id,
            "user_ids": list(self.user_ids or []),
            "actions": list(self.actions or []),
            "expires_at": self.expires_at.isoformat(),
        }


def grants_of(session: Session, actor: Actor) -> list[Grant]:
    """Every grant ever made to the evaluator (its organisation; its own user where named), newest
    first — one explicit crossing of the walls: an evaluator has no tenant, and its grants lie in
    the tenants that made them."""
    if actor.evaluator_org_id is None:
        return []
    rows = session.execute(
        select(Grant)
        .where(Grant.evaluator_org_id == actor.evaluator_org_id)
        .order_by(Grant.granted_at.desc(), Grant.id.desc())
        .execution_options(all_tenants=True)
    ).scalars()
    return [g for g in rows if g.covers(actor.user_id)]


def with_grants(session: Session, actor: Actor) -> Actor:
    """An evaluator's actor with its live grants ((project, action) pairs; `read` is implied by
    any grant) — the walls then open exactly those projects."""
    if not actor.is_evaluator:
        return actor
    now = utcnow()
    live = session.execute(
        select(Grant.project_id, Grant.actions, Grant.user_ids, Grant.tenant_id)
        .where(
            Grant.evaluator_org_id == actor.evaluator_org_id,
            Grant.revoked_at.is_(None),
            Grant.expires_at > now,
        )
        .execution_options(all_tenants=True)
    ).all()
    mine = [row for row in live if not row.user_ids or actor.user_id in row.user_ids]
    pairs = {(row.project_id, action) for row in mine for action in {"read", *row.actions}}
    return dataclasses.replace(
        actor, grants=frozenset(pairs), granted_tenant_ids=frozenset(row.tenant_id for row in mine)
    )


def why_not(session: Session, actor: Actor, project_id: int) -> str | None:
    """For an evaluator a project is hidden from: why, when it once held a grant on it (revoked or
    expired, with the date) — None when it never did (then the project does not exist for it)."""
    if not actor.is_evaluator:
        return None
    mine = [g for g in grants_of(session, actor) if g.project_id == project_id]
    if not mine:
        return None
    last = mine[0]
    if last.revoked_at is not None:
        return f"对该项目的授权已于 {last.revoked_at.date().isoformat()} 被 {last.revoked_by} 撤销"
    return f"对该项目的授权已于 {last.expires_at.isoformat(timespec='seconds')} 到期"


def grantees(
    session: Session, project_id: int, action: str, exclude: tuple[str | None, ...] = ()
) -> list[Any]:
    """The active evaluator users holding a live grant of `action` on the project (whom a 联审 or a
    key evaluation to write concerns) — the evaluators' side of the notifications' `holders`."""
    from jixiao.tenants.models import User

    now = utcnow()
    grants = session.execute(
        select(Grant)
        .where(Grant.project_id == project_id, Grant.revoked_at.is_(None), Grant.expires_at > now)
        .execution_options(all_tenants=True)
    ).scalars()
    found: dict[int, Any] = {}
    for grant in grants:
        if action not in {"read", *grant.actions}:
            continue
        users = session.execute(
            select(User)
            .where(User.evaluator_org_id == grant.evaluator_org_id, User.is_active.is_(True))
            .execution_options(all_tenants=True)
        ).scalars()
        for user in users:
            if grant.covers(user.id) and user.username not in exclude:
                found[user.id] = user
    return [found[k] for k in sorted(found)]


ACTOR_EXTENSIONS.append(with_grants)


# --- a write through a grant holds it -----------------------------------------------------------

_HELD = "grants_held"


@event.listens_for(Session, "before_flush")
def _hold_grants(session: Session, _context: Any, _instances: Any) -> None:
    """An evaluator's actor carries the grants live when its request began (`with_grants`); before
    the request writes anything on a project it reached through them (`get_project` notes those in
    `grant_uses`), the grants are read again under a share lock (`FOR SHARE`, to the transaction's
    end). A revocation — an UPDATE of the grant's row — then waits until the write is committed; one
    that committed first is seen (the lock reads the newest row) and the write is refused (403,
    with the date and the revoker, as a request after the revocation is). The use completes before
    the revocation or not at all; never after it."""
    actor: Actor | None = session.info.get("actor")
    if actor is None or not actor.is_evaluator:
        return
    if not (session.new or session.dirty or session.deleted):
        return
    held: set[int] = session.info.setdefault(_HELD, set())
    projects = sorted(set(session.info.get("grant_uses", ())) - held)
    if not projects:
        return
    live = session.execute(
        select(Grant.project_id, Grant.actions, Grant.user_ids)
        .where(
            Grant.project_id.in_(projects),
            Grant.evaluator_org_id == actor.evaluator_org_id,
            Grant.revoked_at.is_(None),
            Grant.expires_at > utcnow(),
        )
        .order_by(Grant.id)
        .with_for_update(read=True)
        .execution_options(all_tenants=True)
    ).all()
    now_held = {
        (row.project_id, action)
        for row in live
        if not row.user_ids or actor.user_id in row.user_ids
        for action in {"read", *row.actions}
    }
    for project_id in projects:
        relied_on = {pair for pair in actor.grants if pair[0] == project_id}
        if not relied_on <= now_held:
            raise Forbidden(why_not(session, actor, project_id) or "对该项目的授权已撤销或到期，不能再操作")
    held.update(projects)


@event.listens_for(Session, "after_transaction_end")
def _forget_held_grants(session: Session, transaction: Any) -> None:
    if transaction.parent is None:  # the share locks end with the outermost transaction
        session.info.pop(_HELD, None)
