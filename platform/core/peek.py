"""A read-only look at the database without SQLAlchemy, for the start-up checks of `make run`
(`jixiao db upgrade` at head, `jixiao demo load` of a loaded demo): a few SELECTs on the driver
itself (sqlite3, psycopg), in a connection that cannot write, so that a warm restart doesn't
import the app to find that there is nothing to do (issue 17: a warm restart in < 3 s).

`rows` answers None whenever it can't tell — a URL it doesn't know, a database or a table that
isn't there, any error at all: the caller then does the real work, as it did before."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Sequence
from contextlib import closing
from pathlib import Path
from typing import Any
from urllib.parse import quote

log = logging.getLogger(__name__)

Query = tuple[str, Sequence[Any]]  # SQL with `?` placeholders, its parameters


def _sqlite_path(url: str) -> Path | None:
    """The file of `sqlite:///relative` or `sqlite:////absolute` (no query options, no memory)."""
    scheme, _, rest = url.partition("://")
    if scheme not in ("sqlite", "sqlite+pysqlite") or not rest.startswith("/") or "?" in rest:
        return None
    path = rest[1:]
    if path in ("", ":memory:"):
        return None
    return Path(path)


def _postgres_conninfo(url: str) -> str | None:
    """The libpq URI of a SQLAlchemy PostgreSQL URL (the driver name dropped)."""
    scheme, sep, rest = url.partition("://")
    if not sep or scheme.split("+")[0] not in ("postgresql", "postgres"):
        return None
    return f"postgresql://{rest}"


def _sqlite_rows(path: Path, queries: Sequence[Query]) -> list[list[tuple[Any, ...]]]:
    if not path.is_file():
        raise FileNotFoundError(path)
    uri = f"file:{quote(str(path.resolve()))}?mode=ro"  # the engine refuses any write
    with closing(sqlite3.connect(uri, uri=True, timeout=5)) as conn:
        return [conn.execute(sql, tuple(params)).fetchall() for sql, params in queries]


def _postgres_rows(conninfo: str, queries: Sequence[Query]) -> list[list[tuple[Any, ...]]]:
    import psycopg  # the server database only

    with psycopg.connect(conninfo, connect_timeout=5, prepare_threshold=None) as conn:
        conn.read_only = True  # every transaction of this connection: READ ONLY
        with conn.cursor() as cur:
            # past row-level security (platform/core/rls.py), for this transaction only
            cur.execute("SELECT set_config('jixiao.bypass', 'on', true)")
            found = []
            for sql, params in queries:
                cur.execute(sql.replace("?", "%s"), tuple(params))
                found.append(list(cur.fetchall()))
        conn.rollback()
        return found


def rows(url: str, queries: Sequence[Query]) -> list[list[tuple[Any, ...]]] | None:
    """The rows of each query, read in one read-only connection; None when it can't tell."""
    try:
        path = _sqlite_path(url)
        if path is not None:
            return _sqlite_rows(path, queries)
        conninfo = _postgres_conninfo(url)
        if conninfo is not None:
            return _postgres_rows(conninfo, queries)
    except Exception as exc:  # noqa: BLE001 - any doubt: the caller does the real work
        log.debug("read-only look at the database failed: %s: %s", type(exc).__name__, exc)
    return None
