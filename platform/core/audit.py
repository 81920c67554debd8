"""Append-only audit trail with a hash chain (DESIGN.md §4.5).

Services call `record(session, action, ...)` inside their unit of work. The events are chained at
commit time: the head row (`audit_head`) is locked, each pending event gets the next id and
`hash = sha256(prev_hash + canonical fields)`, and the head moves on — all in the same
transaction as the change it describes, so a rolled-back change leaves no event and a committed
change always has one. One global chain keeps verification simple; the head lock serialises
auditing commits, which is far below what a province's write rate needs.

The database refuses UPDATE and DELETE on `audit_events` (triggers, see the migration);
`verify(session)` walks the chain and names the first event whose hash does not match.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from types import SimpleNamespace
from typing import Any, cast

from sqlalchemy import JSON, ColumnElement, ForeignKey, String, event, false, insert, or_, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from .actor import Actor
from .db import Base, utcnow
from .tenancy import Walled, in_reach

GENESIS = "0" * 64


class AuditHead(Base):
    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(primary_key=True)  # always 1
    last_id: Mapped[int] = mapped_column(default=0)
    last_hash: Mapped[str] = mapped_column(String(64), default=GENESIS)


class AuditEvent(Walled, Base):
    __tablename__ = "audit_events"
    __wall_abstract__ = False

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    at: Mapped[datetime]
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenants.id", ondelete="RESTRICT"), index=True)
    user_id: Mapped[int | None] = mapped_column(index=True)
    username: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64), index=True)
    object_type: Mapped[str] = mapped_column(String(64))
    object_id: Mapped[str | None] = mapped_column(String(64))
    before: Mapped[Any | None] = mapped_column(JSON)
    after: Mapped[Any | None] = mapped_column(JSON)
    request_id: Mapped[str | None] = mapped_column(String(64))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    @classmethod
    def wall_read_criteria(cls, actor: Actor) -> ColumnElement[bool]:
        own = in_reach(cls.tenant_id, actor)
        if actor.is_province:
            return or_(own, cls.tenant_id.is_(None))
        return own

    @classmethod
    def wall_write_criteria(cls, actor: Actor) -> ColumnElement[bool]:
        return false()  # append-only

    def wall_may_write(self, actor: Actor) -> bool:
        return True  # inserts only; the before_flush hook below refuses updates and deletes


def _jsonable(value: Any) -> Any:
    if value is None:
        return None
    return json.loads(json.dumps(value, ensure_ascii=False, default=_default))


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, set | frozenset):
        return sorted(value)
    return str(value)


def _at_text(at: datetime) -> str:
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def event_hash(prev_hash: str, ev: AuditEvent) -> str:
    body = {
        "id": ev.id,
        "at": _at_text(ev.at),
        "tenant_id": ev.tenant_id,
        "user_id": ev.user_id,
        "username": ev.username,
        "action": ev.action,
        "object_type": ev.object_type,
        "object_id": ev.object_id,
        "before": ev.before,
        "after": ev.after,
        "request_id": ev.request_id,
    }
    canonical = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256((prev_hash + canonical).encode()).hexdigest()


def record(
    session: Session,
    action: str,
    *,
    object_type: str,
    object_id: Any = None,
    before: Any = None,
    after: Any = None,
    tenant_id: int | None = None,
    actor: Actor | None = None,
) -> None:
    """Queue an audit event for this unit of work; it is chained and written at commit."""
    actor = actor or session.info.get("actor")
    if not session.in_transaction():
        session.begin()  # so that a rollback before any SQL still discards this event
    transaction = session.get_nested_transaction() or session.get_transaction()
    pending: list[tuple[Any, AuditEvent]] = session.info.setdefault("audit_pending", [])
    pending.append(
        (
            transaction,
            AuditEvent(
                at=utcnow(),
                tenant_id=tenant_id if tenant_id is not None else (actor.tenant_id if actor else None),
                user_id=actor.user_id if actor else None,
                username=actor.username if actor else f"system:{session.info.get('system', '')}"[:64],
                action=action,
                object_type=object_type,
                object_id=None if object_id is None else str(object_id),
                before=_jsonable(before),
                after=_jsonable(after),
                request_id=actor.request_id if actor else None,
            ),
        )
    )


@event.listens_for(Session, "before_commit")
def _chain_pending(session: Session) -> None:
    pending = [ev for _transaction, ev in session.info.pop("audit_pending", [])]
    if not pending:
        return
    session.flush()
    last_id, last_hash = _take_head(session)
    for ev in pending:
        last_id += 1
        ev.id = last_id
        ev.prev_hash = last_hash
        ev.hash = last_hash = event_hash(last_hash, ev)
        session.add(ev)
    session.flush()
    _move_head(session, last_id, last_hash)


def _take_head(session: Session) -> tuple[int, str]:
    """The chain's last id and hash, its lock held to the commit. The lock is taken first (a no-op
    UPDATE locks the row on PostgreSQL and takes SQLite's write lock), then the row read:
    concurrent commits chain one after the other."""
    locked = session.execute(
        update(AuditHead)
        .where(AuditHead.id == 1)
        .values(last_id=AuditHead.last_id)
        .execution_options(synchronize_session=False)
    )
    if locked.rowcount == 0:  # type: ignore[attr-defined]
        session.add(AuditHead(id=1, last_id=0, last_hash=GENESIS))
        session.flush()
    head = session.execute(
        select(AuditHead.last_id, AuditHead.last_hash).where(AuditHead.id == 1).with_for_update()
    ).one()
    return int(head.last_id), str(head.last_hash)


def _move_head(session: Session, last_id: int, last_hash: str) -> None:
    session.execute(
        update(AuditHead)
        .where(AuditHead.id == 1)
        .values(last_id=last_id, last_hash=last_hash)
        .execution_options(synchronize_session=False)
    )


@dataclass(frozen=True)
class Entry:
    """One event of a batch for `record_many`, as `record` takes it."""

    action: str
    object_type: str
    object_id: Any
    after: Any
    before: Any = None
    tenant_id: int | None = None


def record_many(
    session: Session,
    actor: Actor,
    entries: Sequence[Entry],
    *,
    write: Callable[[list[dict[str, Any]]], Any] | None = None,
    batch: int = 1000,
) -> None:
    """Chain and write `entries` now, as rows rather than ORM objects (the Excel import's thousands
    of rows, issue 17); the head's lock is held from here to the commit, as `record`'s commit takes
    it. `before`/`after` must be JSON already: they are hashed as given. `write` inserts a batch of
    rows (default: an ORM bulk INSERT)."""
    if not entries:
        return
    insert_batch = write or (lambda rows: session.execute(insert(AuditEvent), rows))
    last_id, last_hash = _take_head(session)
    at = utcnow()
    rows = []
    for e in entries:
        last_id += 1
        row: dict[str, Any] = {
            "id": last_id,
            "at": at,
            "tenant_id": e.tenant_id if e.tenant_id is not None else actor.tenant_id,
            "user_id": actor.user_id,
            "username": actor.username,
            "action": e.action,
            "object_type": e.object_type,
            "object_id": None if e.object_id is None else str(e.object_id),
            "before": e.before,
            "after": e.after,
            "request_id": actor.request_id,
            "prev_hash": last_hash,
        }
        # the chain's own hash of the event (an ORM instance a row would cost more than the hash)
        row["hash"] = last_hash = event_hash(last_hash, cast(AuditEvent, SimpleNamespace(**row)))
        rows.append(row)
    for start in range(0, len(rows), batch):
        insert_batch(rows[start : start + batch])
    _move_head(session, last_id, last_hash)


@event.listens_for(Session, "after_soft_rollback")
def _drop_pending(session: Session, rolled_back: Any) -> None:
    """Forget the events of the transaction that was rolled back (a savepoint: only its own)."""
    pending: list[tuple[Any, AuditEvent]] = session.info.get("audit_pending", [])
    if not pending:
        return

    def inside(transaction: Any) -> bool:
        while transaction is not None:
            if transaction is rolled_back:
                return True
            transaction = transaction.parent
        return False

    session.info["audit_pending"] = [(t, ev) for t, ev in pending if not inside(t)]


@event.listens_for(Session, "before_flush")
def _append_only(session: Session, _ctx: Any, _instances: Any) -> None:
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, AuditEvent) and (obj in session.deleted or session.is_modified(obj)):
            raise RuntimeError("audit events are append-only")


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    broken_id: int | None = None
    reason: str = ""


def event_batches(
    session: Session, *, after: int, last: int | None = None, size: int = 1000
) -> Iterator[list[AuditEvent]]:
    """The events after id `after` (up to `last`) in id order, a batch at a time — the whole chain
    would not fit in memory; each batch leaves the session once the caller is done with it."""
    while last is None or after < last:
        stmt = select(AuditEvent).where(AuditEvent.id > after)
        if last is not None:
            stmt = stmt.where(AuditEvent.id <= last)
        rows = list(
            session.execute(stmt.order_by(AuditEvent.id).limit(size).execution_options(all_tenants=True))
            .scalars()
            .all()
        )
        if not rows:
            return
        yield rows
        after = rows[-1].id
        session.expunge_all()


def verify(
    session: Session, *, batch: int = 1000, on_progress: Callable[[int, int], None] | None = None
) -> VerifyResult:
    """Walk the whole chain in id order; name the first event that does not fit.

    `on_progress(checked, total)` is called after each batch (for a job's progress bar)."""
    total = session.execute(select(AuditHead.last_id).where(AuditHead.id == 1)).scalar_one_or_none() or 0
    prev = GENESIS
    expected_id = 0
    checked = 0
    for rows in event_batches(session, after=0, size=batch):
        for ev in rows:
            expected_id += 1
            if ev.id != expected_id:
                return VerifyResult(False, checked, ev.id, f"事件 {expected_id} 缺失（链条断裂）")
            if ev.prev_hash != prev:
                return VerifyResult(False, checked, ev.id, "prev_hash 与上一事件不符")
            if event_hash(prev, ev) != ev.hash:
                return VerifyResult(False, checked, ev.id, "内容与哈希不符（记录被修改）")
            prev = ev.hash
            checked += 1
        if on_progress is not None:
            on_progress(checked, max(total, checked))
    head = session.execute(select(AuditHead).where(AuditHead.id == 1)).scalar_one_or_none()
    if head is not None and (head.last_id != expected_id or head.last_hash != prev):
        return VerifyResult(
            False,
            checked,
            expected_id + 1 if head.last_id > expected_id else None,
            "链尾与记录不符（末尾事件被删除）",
        )
    return VerifyResult(True, checked)
