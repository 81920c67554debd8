"""The actors of bearer tokens, kept between requests (issue 17: an API request was 8 SQL statements,
five of them to learn who is asking).

A tenant user's actor (roles, scopes, the subtree it reads, the lineage of its library) is a
function of rows that seldom change: its token, user, roles and the tenant hierarchy. Each process
keeps the actors it built, keyed by the token's digest, and stamps each with the *generation* — a
counter in Redis that every process sharing the database shares. A commit that changes one of
those rows (a revoked or rotated token, a disabled user, a changed role, a new or moved tenant)
increments the counter after it commits; every process's next request then sees a generation its
entries don't carry and builds the actor afresh. So a revoked token fails on its next request, in
every worker (tests/integration/test_actor_cache.py).

Not cached, by decision:
* evaluators: their grants expire by the clock and are read at each check (services/grants);
* sessions without Redis (embedded mode): a `jixiao` command in another process could not tell
  the server — the actor is built on each request there, as before;
* anything past the token's own expiry, or older than `ttl` seconds (a change made behind the
  app's back, e.g. by hand in psql, is seen within that bound).

If Redis cannot be read, the cache is skipped for that request (built from the database).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.orm import ORMExecuteState, Session

from .actor import Actor

log = logging.getLogger(__name__)

GENERATION_KEY = "jixiao:actors:generation"

# The rows an actor is built from, and the columns of theirs that don't shape it.
SHAPING_TABLES = frozenset({"oauth_tokens", "users", "user_roles", "tenants", "evaluator_orgs"})
NOT_SHAPING = {"users": frozenset({"last_login_at"})}
_CHANGED = "actor_rows_changed"


@dataclass(frozen=True)
class _Entry:
    actor: Actor
    generation: bytes
    expires_at: float


class ActorCache:
    """Per process, thread-safe, bounded (least recently used goes first)."""

    def __init__(self, redis: Any, *, ttl: float = 300.0, size: int = 2048) -> None:
        self.redis = redis
        self.ttl = ttl
        self.size = size
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._lock = threading.Lock()

    def generation(self) -> bytes | None:
        """The current generation; None when Redis cannot say (then nothing is cached or served)."""
        try:
            value = self.redis.get(GENERATION_KEY)
        except Exception:  # noqa: BLE001 - any Redis failure: fall back to the database
            log.warning("actor cache: Redis unreadable, building actors from the database", exc_info=True)
            return None
        return value if value is not None else b"0"

    def get(self, digest: str, generation: bytes, request_id: str | None) -> Actor | None:
        now = time.time()
        with self._lock:
            entry = self._entries.get(digest)
            if entry is None:
                return None
            if entry.generation != generation or entry.expires_at <= now:
                del self._entries[digest]
                return None
            self._entries.move_to_end(digest)
        return replace(entry.actor, request_id=request_id)

    def put(self, digest: str, actor: Actor, generation: bytes, token_expires_at: float) -> None:
        if actor.is_evaluator or actor.evaluator_org_id is not None:
            return
        entry = _Entry(
            replace(actor, request_id=None), generation, min(token_expires_at, time.time() + self.ttl)
        )
        with self._lock:
            self._entries[digest] = entry
            self._entries.move_to_end(digest)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def bump(self) -> None:
        """Every process's entries are stale from now on."""
        try:
            self.redis.incr(GENERATION_KEY)
        except Exception:  # noqa: BLE001
            # the change is committed; an entry may live on for at most `ttl` seconds
            log.error("actor cache: could not advance the generation after a change", exc_info=True)
        with self._lock:
            self._entries.clear()


def _shaping_change(obj: Any, how: str) -> bool:
    table = getattr(getattr(obj, "__table__", None), "name", None)
    if table not in SHAPING_TABLES:
        return False
    if how == "new":
        # a new token or user is nobody's cached actor yet; a new tenant widens its ancestors' reach
        return table == "tenants"
    if how == "deleted":
        return True
    ignored = NOT_SHAPING.get(table, frozenset())
    state = inspect(obj)
    return any(attr.key not in ignored and attr.history.has_changes() for attr in state.attrs)


def watch(target: Any, on_change: Callable[[], None]) -> None:
    """Call `on_change` after each commit, made through sessions of `target` (a sessionmaker),
    that changed a row an actor is built from."""

    def before_flush(session: Session, _ctx: Any, _instances: Any) -> None:
        if session.info.get(_CHANGED):
            return
        for bucket, how in ((session.new, "new"), (session.dirty, "dirty"), (session.deleted, "deleted")):
            if any(_shaping_change(obj, how) for obj in bucket):
                session.info[_CHANGED] = True
                return

    def bulk(state: ORMExecuteState) -> None:
        if (state.is_update or state.is_delete) and not state.session.info.get(_CHANGED):
            table = getattr(state.statement, "table", None)
            if getattr(table, "name", None) in SHAPING_TABLES:
                state.session.info[_CHANGED] = True

    def after_commit(session: Session) -> None:
        # (a rollback leaves the mark: the next commit then advances the generation for nothing,
        # which costs one rebuild per process and is never stale)
        if session.info.pop(_CHANGED, False):
            on_change()

    event.listen(target, "before_flush", before_flush)
    event.listen(target, "do_orm_execute", bulk)
    event.listen(target, "after_commit", after_commit)
