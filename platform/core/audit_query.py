"""Reading the audit trail (tenant-scoped through the walls) — used by the API and pages."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .actor import Actor
from .audit import AuditEvent
from .authz import authorize, policy, require_role
from .pagination import Page, paginate


@policy("audit.read", scope="profile")
def _may_read_audit(actor: Actor) -> None:
    """Admins and reviewers read the trail of their tenant and the tenants below it."""
    require_role(
        actor,
        "province_admin",
        "province_reviewer",
        "bureau_admin",
        "dept_reviewer",
        message="只有管理员和审核人可以查看审计日志",
    )


def list_events(
    session: Session,
    actor: Actor,
    *,
    object_type: str | None = None,
    object_id: str | None = None,
    user_id: int | None = None,
    username: str | None = None,
    action: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    page: int = 1,
    page_size: int = 50,
) -> Page[Any]:
    authorize(actor, "audit.read")
    stmt = select(AuditEvent).order_by(AuditEvent.id.desc())
    if object_type:
        stmt = stmt.where(AuditEvent.object_type == object_type)
    if object_id:
        stmt = stmt.where(AuditEvent.object_id == object_id)
    if user_id is not None:
        stmt = stmt.where(AuditEvent.user_id == user_id)
    if username:
        stmt = stmt.where(AuditEvent.username == username)
    if action:
        stmt = stmt.where(AuditEvent.action.startswith(action))
    if since:
        stmt = stmt.where(AuditEvent.at >= since)
    if until:
        stmt = stmt.where(AuditEvent.at < until)
    return paginate(session, stmt, page, page_size)
