"""One unit of work for the whole showcase: every user's session (and a report job's, which opens its
own through `current_runtime().db`) joins the demo loader's connection and transaction, so that the
showcase commits with the rest of `jixiao demo load` or not at all — and SQLite never waits on a
second writer. The walls, the audit chain and the notifications run as in any request: each user's
session is a real `Session` with its actor, only bound to the loader's connection."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from jixiao.platform.core import runtime as runtime_module
from jixiao.platform.core.actor import Actor
from jixiao.platform.core.config import Settings
from jixiao.platform.core.db import Database
from jixiao.platform.core.runtime import Runtime


class JoinedDatabase(Database):
    """A `Database` whose sessions all join one connection's open transaction (commit = flush and
    chain the audit events; only the loader's own commit ends the transaction)."""

    def __init__(self, connection: Connection) -> None:  # no engine of its own
        self.connection = connection
        self.engine = connection.engine
        self.url = connection.engine.url.render_as_string(hide_password=False)

    def _joined(self) -> Session:
        return Session(bind=self.connection, expire_on_commit=False, join_transaction_mode="rollback_only")

    def session(self, actor: Actor) -> Session:
        session = self._joined()
        session.info["actor"] = actor
        return session

    def system_session(self, reason: str) -> Session:
        session = self._joined()
        session.info["system"] = reason
        return session

    def dispose(self) -> None:  # the loader owns the connection
        return None


def runtime_for(url: str) -> Runtime | None:
    """The installed runtime when it serves this database (the CLI, the app). A caller that loads
    the demo before installing its runtime gets, on SQLite, one built from the environment with the
    instance folder that `Settings.from_env` derives (the database file's folder, where the local
    object store lies too); on a server database nothing — its object store can't be guessed."""
    current = runtime_module.installed()
    if current is not None and current.db.url == url:
        return current
    if not url.startswith("sqlite:///"):
        return None
    instance = Path(url.removeprefix("sqlite:///")).resolve().parent
    return Runtime.build(Settings.from_env(database_url=url, instance_dir=instance))


@contextmanager
def joined_runtime(session: Session) -> Iterator[JoinedDatabase]:
    """Install, for the duration, a runtime whose database joins `session`'s transaction (its
    settings, jobs and object store those of the runtime serving that database)."""
    connection = session.connection()
    db = JoinedDatabase(connection)
    base = runtime_for(db.url)
    if base is None:
        raise LookupError("no runtime serves this database: install it before loading the demo")
    with runtime_module.temporarily(Runtime(base.settings, db, base.jobs, base.store)):
        yield db
