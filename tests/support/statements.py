"""Counting the SQL statements a request sends (issue 17's guard against N+1 queries).

    with statements(runtime.db.engine) as seen:
        client.get(...)
    assert len(seen) <= 3

`repeated(seen)` names the statements sent more than once with the same text in one request —
what a lazy load per row looks like, whatever the number of rows.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import g, has_request_context, request
from sqlalchemy import event

# row-level security's per-transaction settings (platform/core/rls.py): sent once per session
SETTINGS = "SELECT set_config("


@contextmanager
def statements(engine: Any, *, handler_only: bool = False) -> Iterator[list[str]]:
    """The statements sent meanwhile. `handler_only`: those of a request's handler — once the caller
    is known, so not authentication's (cached in the real pass, not in the embedded one) — and
    never row-level security's settings (PostgreSQL only)."""
    seen: list[str] = []

    def listener(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        if handler_only and (statement.startswith(SETTINGS) or not _in_handler()):
            return
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", listener)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", listener)


def _in_handler() -> bool:
    if not has_request_context():
        return False  # e.g. the embedded pass's job thread
    if g.get("actor") is not None:
        return True
    # before the caller is known: authentication's, unless the request names nobody (public routes)
    return not (request.headers.get("Authorization") or request.cookies)


def repeated(seen: list[str]) -> dict[str, int]:
    """Statements (but the settings) sent more than once, with how often."""
    counts = Counter(s for s in seen if not s.startswith(SETTINGS))
    return {" ".join(s.split())[:300]: n for s, n in counts.items() if n > 1}
