"""Per-request context: the runtime, the actor and the walled database session.

Handlers stay thin: `s = db(); result = service.fn(s, actor(), ...); s.commit()`.
"""

from __future__ import annotations

import uuid

from flask import current_app, g, has_request_context, request
from sqlalchemy.orm import Session

from jixiao.platform.core.actor import Actor
from jixiao.platform.core.runtime import Runtime


class Unauthenticated(Exception):
    def __init__(self, message: str = "需要登录或有效的访问令牌") -> None:
        super().__init__(message)
        self.message = message


def runtime() -> Runtime:
    rt: Runtime = current_app.extensions["jixiao"]
    return rt


def request_id() -> str:
    if "request_id" not in g:
        incoming = request.headers.get("X-Request-ID", "") if has_request_context() else ""
        g.request_id = incoming[:64] if incoming.isprintable() and incoming else uuid.uuid4().hex
    rid: str = g.request_id
    return rid


def actor() -> Actor:
    current: Actor | None = g.get("actor")
    if current is None:
        raise Unauthenticated()
    return current


def optional_actor() -> Actor | None:
    return g.get("actor")


def db() -> Session:
    """The request's session, walled for the current actor."""
    if "db" not in g:
        g.db = runtime().db.session(actor())
    session: Session = g.db
    return session


def system_db(reason: str) -> Session:
    """A request-scoped session that crosses the walls on purpose (login, token endpoint)."""
    key = "system_db"
    if key not in g:
        g.system_db = runtime().db.system_session(reason)
    session: Session = g.system_db
    return session


def close_sessions(_exc: BaseException | None = None) -> None:
    for key in ("db", "system_db"):
        session: Session | None = g.pop(key, None)
        if session is not None:
            session.rollback()
            session.close()


def record_grant_uses(status: int) -> None:
    """Audit each request that relied on an evaluator's grant (the projects it reached through one,
    noted by `projects.service.get_project`), in its own transaction: a read commits nothing else."""
    session: Session | None = g.get("db")
    uses = sorted(session.info.get("grant_uses", ())) if session is not None else []
    if not uses:
        return
    from jixiao.platform.core.audit import record

    assert session is not None
    # the request's own work is done (committed, or to be discarded as teardown would): the uses are
    # written in the same session — a second connection would wait on its lock (SQLite)
    session.rollback()
    session.info.pop("grant_uses", None)
    for project_id in uses:
        record(
            session,
            "grants.use",
            object_type="project",
            object_id=project_id,
            after={"method": request.method, "path": request.path, "status": status},
        )
    session.commit()
