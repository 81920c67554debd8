"""Notifications (消息): writing them, who holds an item, reading and marking them read.

A notification is written in the same transaction as the change that causes it (`events.announce`
decides who hears of what; `reminders.remind` writes the deadline reminders), one row per recipient,
private to the recipient.

Outbound (email): when `JIXIAO_SMTP_URL` is set and the recipient has an address, a `Delivery` row
is written beside the notification and, after the commit, a job sends it with retries
(`jobs.deliver`); nothing is sent inside the request, and nothing leaves the machine by default.
Deliveries whose job never ran (Redis down at commit time) are picked up by `jixiao remind`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import CursorResult, event, func, select, tuple_, update
from sqlalchemy.orm import Session

from jixiao.platform.core.actor import Actor
from jixiao.platform.core.audit import record
from jixiao.platform.core.authz import authorize, policy
from jixiao.platform.core.db import utcnow
from jixiao.platform.core.errors import NotFound
from jixiao.platform.core.pagination import Page, paginate
from jixiao.platform.core.runtime import current_runtime
from jixiao.tenants.models import User, UserRole

from .models import Delivery, Notification

if TYPE_CHECKING:
    from jixiao.services.tasks.kinds import Task

log = logging.getLogger(__name__)

SYSTEM = Actor(
    user_id=None,
    username="system",
    tenant_id=None,
    tenant_code=None,
    tenant_level=None,
    roles=frozenset(),
    scopes=frozenset(),
)
OUTBOUND_KEY = "jixiao.outbound"


# --- who ----------------------------------------------------------------------------------------


def holders(session: Session, tenant_id: int, role: str, exclude: Iterable[str | None] = ()) -> list[User]:
    """The active users of a tenant holding a role, ordered by id (those who may not act on the item
    left out)."""
    left_out = {name for name in exclude if name}
    return [
        u for u in role_holders(session, {(tenant_id, role)})[(tenant_id, role)] if u.username not in left_out
    ]


def role_holders(session: Session, wanted: set[tuple[int, str]]) -> dict[tuple[int, str], list[User]]:
    """`holders` for many (tenant, role) pairs at once: the active users of each tenant holding each
    role, ordered by id — a query per thousand tenants, not one per item (the deadline reminders')."""
    found: dict[tuple[int, str], list[User]] = {pair: [] for pair in wanted}
    roles = sorted({role for _, role in wanted})
    for tenant_ids in chunks(sorted({tenant for tenant, _ in wanted})):
        rows = session.execute(
            select(User, UserRole.role)
            .join(UserRole, UserRole.user_id == User.id)
            .where(User.tenant_id.in_(tenant_ids), User.is_active.is_(True), UserRole.role.in_(roles))
            .order_by(User.id)
            # the recipients in the project's tenant, whoever acts — a granted evaluator too, who
            # sees no tenant's users: the tenants named bound the crossing
            .execution_options(all_tenants=True)
        ).all()
        for user, role in rows:  # (user, role) is unique: a user comes once per pair
            if (user.tenant_id, role) in found:
                found[(user.tenant_id, role)].append(user)
    return found


def by_username(session: Session, tenant_id: int, username: str | None) -> list[User]:
    if not username:
        return []
    return list(
        session.execute(
            select(User)
            .where(User.username == username, User.tenant_id == tenant_id, User.is_active.is_(True))
            .execution_options(all_tenants=True)  # bounded by the tenant, as `holders`
        ).scalars()
    )


def display_names(session: Session, usernames: Iterable[str | None]) -> dict[str, str]:
    """People as messages name them: the display name of each login name (one query; `system` is
    系统, an unknown name stays as it is)."""
    wanted = sorted({u for u in usernames if u and u != "system"})
    names = {"system": "系统"}
    if wanted:
        rows = session.execute(
            select(User.username, User.display_name).where(User.username.in_(wanted))
        ).all()
        names.update({u: d or u for u, d in rows})
    return {u: names.get(u, u) for u in [*wanted, "system"]}


def task_body(session: Session, task: Task) -> str:
    """A to-do item's detail for a notification: the submitter by display name."""
    names = display_names(session, [task.submitted_by])
    return task.describe(lambda u: names.get(u, u))


# --- writing ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Message:
    """What a notification says and where it points; `dedupe_key`: each user gets it once."""

    tenant_id: int | None
    kind: str
    title: str
    body: str = ""
    link: str = ""
    project_id: int | None = None
    stage: str | None = None
    dedupe_key: str | None = None


def notify(
    session: Session,
    users: Iterable[User],
    *,
    tenant_id: int | None,
    kind: str,
    title: str,
    body: str = "",
    link: str = "",
    project_id: int | None = None,
    stage: str | None = None,
    dedupe_key: str | None = None,
) -> list[Notification]:
    """One notification per user (each user once); with a `dedupe_key`, a user who already has that
    key gets nothing new. Email deliveries are queued for after the commit."""
    message = Message(tenant_id, kind, title, body, link, project_id, stage, dedupe_key)
    users = list(users)
    # (the unique constraint on user and key stops a concurrent run; the CronJob forbids one)
    told = already_told(session, {(u.id, dedupe_key) for u in users}) if dedupe_key is not None else set()
    return notify_all(session, [(message, [u for u in users if (u.id, dedupe_key) not in told])])


def notify_all(session: Session, batch: Iterable[tuple[Message, Iterable[User]]]) -> list[Notification]:
    """`notify` for many messages at once, written in one flush (the reminders of a province: thousands):
    one notification per message and user — each user once per message, or once per `dedupe_key`
    across the batch — and their email deliveries, queued for after the commit. Whoever already has
    a message's key is the caller's to leave out (`notify` asks per user; the reminders all at once)."""
    notes: list[tuple[Notification, User]] = []
    seen: set[tuple[int, object]] = set()
    for number, (message, users) in enumerate(batch):
        once = message.dedupe_key if message.dedupe_key is not None else number
        for user in users:
            if (user.id, once) in seen:
                continue
            seen.add((user.id, once))
            note = Notification(
                user_id=user.id,
                tenant_id=message.tenant_id,
                kind=message.kind,
                title=message.title[:200],
                body=message.body,
                link=message.link,
                project_id=message.project_id,
                stage=message.stage,
                dedupe_key=message.dedupe_key,
            )
            session.add(note)
            notes.append((note, user))
    session.flush()
    if current_runtime().settings.smtp_url:
        deliveries = [
            Delivery(
                notification_id=note.id,
                user_id=user.id,
                tenant_id=note.tenant_id,
                channel="email",
                address=user.email,
            )
            for note, user in notes
            if user.email
        ]
        if deliveries:
            session.add_all(deliveries)
            session.flush()
            session.info.setdefault(OUTBOUND_KEY, []).extend(deliveries)
            enqueue_after_commit(session)
    return [note for note, _ in notes]


def chunks(values: list[Any], size: int = 1000) -> Iterator[list[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def already_told(session: Session, pairs: set[tuple[int, str]]) -> set[tuple[int, str]]:
    """Which of these (user, dedupe key) pairs have their notification already: one query per 500
    pairs, on the pair's unique index (`notify`'s check, and the reminders' for all at once)."""
    found: set[tuple[int, str]] = set()
    for chunk in chunks(sorted(pairs), 500):
        rows = session.execute(
            select(Notification.user_id, Notification.dedupe_key)
            .where(tuple_(Notification.user_id, Notification.dedupe_key).in_(chunk))
            .execution_options(all_tenants=True)  # the writer may not read others' notifications
        ).all()
        found.update((user, key) for user, key in rows if key is not None)
    return found


def enqueue_after_commit(session: Session) -> None:
    if event.contains(session, "after_commit", _send_outbound):
        return
    event.listen(session, "after_commit", _send_outbound)
    event.listen(session, "after_soft_rollback", _forget_outbound)


def _forget_outbound(session: Session, _previous: Any) -> None:
    session.info.pop(OUTBOUND_KEY, None)


def _send_outbound(session: Session) -> None:
    pending: list[Delivery] = session.info.pop(OUTBOUND_KEY, [])
    if not pending:
        return
    from . import jobs  # the job module imports this one

    rt = current_runtime()
    for delivery in pending:
        try:
            rt.jobs.enqueue(jobs.deliver, SYSTEM, delivery.id, description=f"发送通知邮件 #{delivery.id}")
        except Exception:  # Redis unreachable: `jixiao remind` sends what stayed pending
            log.warning("could not queue notification delivery %s", delivery.id, exc_info=True)


# --- reading ------------------------------------------------------------------------------------


@policy("notifications.read", scope="profile")
def _may_read(actor: Actor) -> None:
    """Everyone reads their own notifications (the walls show no one else's)."""


@policy("notifications.write", scope="notifications:write")
def _may_write(actor: Actor) -> None:
    """Everyone marks their own notifications read."""


def list_notifications(
    session: Session, actor: Actor, *, unread: bool | None = None, page: int = 1, page_size: int = 50
) -> Page[Notification]:
    """The user's notifications, unread first, newest first."""
    authorize(actor, "notifications.read")
    stmt = select(Notification).where(Notification.user_id == actor.user_id)
    if unread is True:
        stmt = stmt.where(Notification.read_at.is_(None))
    elif unread is False:
        stmt = stmt.where(Notification.read_at.is_not(None))
    stmt = stmt.order_by(Notification.read_at.is_not(None), Notification.id.desc())
    return paginate(session, stmt, page, page_size)


def unread_count(session: Session, actor: Actor) -> int:
    if actor.user_id is None:
        return 0
    return int(
        session.execute(
            select(func.count(Notification.id)).where(
                Notification.user_id == actor.user_id, Notification.read_at.is_(None)
            )
        ).scalar_one()
    )


def mark_read(session: Session, actor: Actor, notification_id: int) -> Notification:
    authorize(actor, "notifications.write")
    note = session.get(Notification, notification_id)
    if note is None or note.user_id != actor.user_id:
        raise NotFound("消息不存在")
    if note.read_at is None:
        note.read_at = utcnow()
        session.flush()
        record(session, "notification.read", object_type="notification", object_id=note.id)
    return note


def newest_id(session: Session, actor: Actor) -> int | None:
    """The user's newest notification (the page's 全部标为已读 marks up to what was shown)."""
    return session.execute(
        select(func.max(Notification.id)).where(Notification.user_id == actor.user_id)
    ).scalar_one_or_none()


def mark_all_read(session: Session, actor: Actor, up_to: int | None = None) -> int:
    """Mark the user's unread notifications read — with `up_to`, only those up to that id, so that
    one arriving after the list was shown stays unread."""
    authorize(actor, "notifications.write")
    stmt = update(Notification).where(Notification.user_id == actor.user_id, Notification.read_at.is_(None))
    if up_to is not None:
        stmt = stmt.where(Notification.id <= up_to)
    result = session.execute(stmt.values(read_at=utcnow()))
    count = cast(CursorResult[Any], result).rowcount
    if count:
        record(
            session,
            "notification.read_all",
            object_type="user",
            object_id=actor.user_id,
            after={"count": count, "up_to": up_to},
        )
    return int(count or 0)
