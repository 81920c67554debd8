"""Writing a batch of the library's rows at once (the Excel import at province scale, issue 17). No
Flask.

The ORM's unit of work costs ~100 µs an object, and psycopg converts a long insertmanyvalues
statement character by character (12,121 indicators took ~10 s of CPU that way). On PostgreSQL a
batch therefore travels as ONE parameter, a JSON array, which `json_populate_recordset(NULL::<table>,
…)` turns back into rows of the table's own type (each value parsed as its column says) inside one
INSERT … SELECT or UPDATE. Elsewhere (SQLite, the embedded mode) the ORM's bulk INSERT and one
UPDATE statement executed for each row (executemany) do, as SQLite runs in-process.

The walls hold as for a flush: the session is the importer's own (`Database.session(actor)`, never
a system session), `_guard` applies the flush guard's rule (`wall_may_write`) to every tenant the
rows name, every UPDATE names the tenant whose rows it may change, and on PostgreSQL row-level
security checks each row inserted or updated (the statements run in the walled session).

The audit events of a batch are chained by `audit.record_many` (`write_audit_rows` inserts them as
batches do); the events `record` queues later in the transaction are chained after them at commit.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Table, bindparam, insert, text, update
from sqlalchemy.orm import Session

from jixiao.platform.core.actor import Actor
from jixiao.platform.core.audit import AuditEvent
from jixiao.platform.core.errors import WallViolation
from jixiao.platform.core.tenancy import Walled

BATCH = 1000  # rows per statement: a JSON parameter of ~0.5 MB


def _postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _table(model: type[Any]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON")


def with_defaults(model: type[Any], rows: Sequence[dict[str, Any]]) -> Sequence[dict[str, Any]]:
    """The rows (which all name the same columns) completed with the Python-side defaults
    (`default=`) of the columns they lack, as the ORM would — a JSON batch sends NULL for them."""
    if not rows:
        return rows
    given = rows[0].keys()
    fills = []
    for column in _table(model).columns:
        default = column.default
        if column.primary_key or column.key in given or default is None:
            continue
        if default.is_scalar or default.is_callable:
            fills.append((column.key, default.arg, default.is_callable))  # type: ignore[attr-defined]
    if not fills:
        return rows
    return [{**row, **{k: arg(None) if call else arg for k, arg, call in fills}} for row in rows]


def _guard(session: Session, model: type[Any], rows: Sequence[dict[str, Any]]) -> None:
    """The flush guard's rule (`tenancy._guard_writes`) for rows that no flush will see."""
    if "system" in session.info:
        raise WallViolation("bulk writes of the library run in the importer's session, not a system one")
    actor: Actor | None = session.info.get("actor")
    if actor is None:
        raise WallViolation(f"writing {model.__name__} in a session without an actor")
    if not issubclass(model, Walled):
        return
    for tenant_id in {row.get("tenant_id") for row in rows}:
        if not model(tenant_id=tenant_id).wall_may_write(actor):
            raise WallViolation(f"{actor.username} may not write {model.__name__} of tenant {tenant_id}")


def _records(session: Session, table: Table, columns: Sequence[str]) -> tuple[str, str]:
    """`(quoted table, json_populate_recordset(NULL::table, :rows))` for a PostgreSQL statement."""
    quoted = session.get_bind().dialect.identifier_preparer.format_table(table)
    return quoted, f"json_populate_recordset(NULL::{quoted}, CAST(:rows AS json))"


def _names(session: Session, names: Iterable[str]) -> list[str]:
    quote = session.get_bind().dialect.identifier_preparer.quote
    return [quote(n) for n in names]


def insert_rows(
    session: Session, model: type[Any], rows: Sequence[dict[str, Any]], *, returning: Sequence[str] = ()
) -> list[tuple[Any, ...]]:
    """INSERT the rows (complete them with `with_defaults` first); the `returning` columns of each
    row inserted, in no particular order."""
    if not rows:
        return []
    _guard(session, model, rows)
    table = _table(model)
    columns, named = list(rows[0]), rows[0].keys()
    if any(row.keys() != named for row in rows):
        raise ValueError("every row of a batch names the same columns")
    if not _postgres(session):
        stmt: Any = insert(model)
        if returning:
            stmt = stmt.returning(*[table.c[n] for n in returning])
            return [tuple(r) for r in session.execute(stmt, list(rows)).all()]
        session.execute(stmt, list(rows))
        return []
    quoted, records = _records(session, table, columns)
    names = ", ".join(_names(session, columns))
    sql = f"INSERT INTO {quoted} ({names}) SELECT {names} FROM {records}"
    if returning:
        sql += " RETURNING " + ", ".join(_names(session, returning))
    payload = json.dumps(list(rows), ensure_ascii=False, default=_json_default)
    result = session.execute(text(sql), {"rows": payload})
    return [tuple(r) for r in result.all()] if returning else []


def update_versioned(
    session: Session, model: type[Any], rows: Sequence[dict[str, Any]], columns: Sequence[str], tenant_id: int
) -> int:
    """UPDATE `columns` of each row (by `id`) of tenant `tenant_id` that is still at the row's
    `version`, bumping the version as the ORM's optimistic lock does; the number of rows changed
    (fewer than given: someone else changed one in between)."""
    if not rows:
        return 0
    _guard(session, model, [{"tenant_id": tenant_id}])
    table = _table(model)
    if not _postgres(session):  # one UPDATE, executed for each row (executemany)
        stmt = (
            update(model)
            .where(
                table.c.id == bindparam("row_id"),
                table.c.version == bindparam("row_version"),
                table.c.tenant_id == tenant_id,
            )
            .values({c: bindparam(f"new_{c}", type_=table.c[c].type) for c in columns})
            .values(version=table.c.version + 1)
            .execution_options(synchronize_session=False, dml_strategy="core_only")
        )
        params = [
            {"row_id": row["id"], "row_version": row["version"], **{f"new_{c}": row[c] for c in columns}}
            for row in rows
        ]
        return int(session.execute(stmt, params).rowcount)  # type: ignore[attr-defined]
    quoted = session.get_bind().dialect.identifier_preparer.format_table(table)
    names = ", ".join(_names(session, columns))
    taken = ", ".join(f"r.{n}" for n in _names(session, columns))
    # each row looks its own values up by id (a jsonb object: a binary search), so the plan is an
    # index scan of the ids whatever the table's statistics say — a join with the batch could be
    # planned as a nested loop over the whole library right after an import (stale statistics)
    mine = "CAST(:rows AS jsonb) -> CAST(t.id AS text)"
    sql = (
        f"UPDATE {quoted} AS t SET ({names}, version) = "
        f"(SELECT {taken}, t.version + 1 FROM jsonb_populate_record(NULL::{quoted}, {mine}) AS r) "
        f"WHERE t.id = ANY(CAST(:ids AS integer[])) AND t.tenant_id = :tenant "
        f"AND t.version = CAST({mine} ->> 'version' AS integer) RETURNING t.id"
    )
    keep = ["id", "version", *columns]
    payload = json.dumps(
        {str(row["id"]): {k: row[k] for k in keep} for row in rows}, ensure_ascii=False, default=_json_default
    )
    ids = [int(row["id"]) for row in rows]
    return len(session.execute(text(sql), {"rows": payload, "ids": ids, "tenant": tenant_id}).all())


def audit_writer(session: Session) -> Callable[[list[dict[str, Any]]], Any]:
    """`audit.record_many`'s `write`: the chained events inserted as a batch of rows."""
    return lambda rows: insert_rows(session, AuditEvent, rows)
