"""Notifications: one row per recipient, private to that recipient (DESIGN.md §4 walls).

A notification belongs to the tenant its item belongs to (`tenant_id`) and to one user
(`user_id`). Only the recipient reads it or marks it read; a user of the item's tenant may create
it (the editor who submits notifies the reviewers of the same tenant); the reminder job writes
through a system session. `dedupe_key` makes a notification idempotent per recipient: the deadline
reminder for (project, stage, deadline, threshold) is written once, however often the job runs.

A delivery is the outbound copy of a notification on a channel (email), written in the same
transaction and sent after commit by a job with retries — never inside the request.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, ForeignKey, Index, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from jixiao.platform.core.actor import Actor
from jixiao.platform.core.db import Base, utcnow
from jixiao.platform.core.tenancy import Walled

KINDS = {
    "task": "待办",
    "approved": "审核通过",
    "returned": "退回",
    "decided": "评估结论",
    "reminder": "截止提醒",
}
CHANNELS = ("email",)
DELIVERY_STATUSES = ("pending", "sending", "sent", "failed")


class _Private(Walled):
    """Read and updated by the recipient only; created by a user of the item's own tenant or of a
    tenant above it (the province accepting a county's pilot report)."""

    __wall_abstract__ = True

    user_id: Mapped[int]
    tenant_id: Mapped[int | None]

    @classmethod
    def wall_read_criteria(cls, actor: Actor) -> ColumnElement[bool]:
        return cls.user_id == actor.user_id if actor.user_id is not None else false()

    @classmethod
    def wall_write_criteria(cls, actor: Actor) -> ColumnElement[bool]:
        return cls.user_id == actor.user_id if actor.user_id is not None else false()

    def wall_may_write(self, actor: Actor) -> bool:
        if getattr(self, "id", None) is None:  # a new row: about an item of the actor's own tenant
            if actor.is_evaluator:  # … or of a project it holds a grant on (its 联审 returned …)
                return self.tenant_id in actor.granted_tenant_ids
            return self.tenant_id is not None and self.tenant_id in actor.readable_tenant_ids
        return actor.user_id is not None and self.user_id == actor.user_id


class Notification(_Private, Base):
    __tablename__ = "notifications"
    __wall_abstract__ = False
    __table_args__ = (
        UniqueConstraint("user_id", "dedupe_key"),
        Index("ix_notifications_user_unread", "user_id", "read_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenants.id", ondelete="RESTRICT"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    link: Mapped[str] = mapped_column(String(300), default="")
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    stage: Mapped[str | None] = mapped_column(String(20))
    dedupe_key: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]


class Delivery(_Private, Base):
    __tablename__ = "notification_deliveries"
    __wall_abstract__ = False

    id: Mapped[int] = mapped_column(primary_key=True)
    notification_id: Mapped[int] = mapped_column(
        ForeignKey("notifications.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenants.id", ondelete="RESTRICT"))
    channel: Mapped[str] = mapped_column(String(10), default="email")
    address: Mapped[str] = mapped_column(String(254))
    status: Mapped[str] = mapped_column(String(10), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
