"""Database engine, sessions and the declarative base.

Sessions are always created for somebody: `Database.session(actor)` for a user's request or job,
`Database.system_session(reason)` for work that legitimately spans every tenant (migrations, the
demo loader, login look-ups, province aggregation). The tenancy walls (`tenancy.py`) read that
from `session.info`; a session created any other way refuses tenant-owned queries.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import DateTime, MetaData, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from . import rls
from .actor import Actor

if TYPE_CHECKING:
    from .actor_cache import ActorCache

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite drops tzinfo; we put it back)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime()}


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    # No server-side prepared statements (psycopg prepares a query after its 5th run on a
    # connection): PostgreSQL may then plan it once for any value — a generic plan that ignores how
    # selective this tenant's or this term's value is (12× slower for a county's search, issue 17);
    # planning each time is cheap beside that. tests/integration/test_prepared_plans.py.
    connect_args = {"prepare_threshold": None} if url.startswith("postgresql+psycopg") else {}
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10, connect_args=connect_args)


class Database:
    def __init__(self, url: str, role: str = "") -> None:
        self.url = url
        self.engine = make_engine(url)
        if role and self.engine.dialect.name == "postgresql":
            rls.install(self.engine, role)  # the second wall binds the app (platform/core/rls.py)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        # the actors of bearer tokens between requests (Runtime.build sets it when Redis is there)
        self.actor_cache: ActorCache | None = None

    def session(self, actor: Actor) -> Session:
        session = self.sessions()
        session.info["actor"] = actor
        return session

    def system_session(self, reason: str) -> Session:
        """A session that crosses the tenant walls on purpose. `reason` is kept for the audit trail
        and makes every escape greppable: `system_session(`."""
        session = self.sessions()
        session.info["system"] = reason
        return session

    @contextmanager
    def transaction(self, actor: Actor | None = None, *, system: str | None = None) -> Iterator[Session]:
        """One unit of work: commit on success, roll back on any error, always close."""
        if actor is None and system is None:
            raise ValueError("a transaction needs an actor or an explicit system reason")
        session = self.session(actor) if actor is not None else self.system_session(system or "")
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()
