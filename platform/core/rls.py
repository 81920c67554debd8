"""The second wall (DESIGN.md §4): PostgreSQL row-level security on every table with a `tenant_id`.

The first wall is the ORM's (`tenancy.py`): it says precisely who reads and writes what. This one
holds when a query gets past the ORM — a forgotten criterion, a Core statement, a bug in an escape:
the app acts as a role that owns no table (`jixiao_app`, created by the migrations; `SET ROLE` on
each new connection, `Settings.db_role`), every such table has `ENABLE` and `FORCE ROW LEVEL
SECURITY`, and its policies read per-transaction settings that this module sets from the session
itself — the one place that knows whose session it is (`Database.session(actor)` /
`Database.system_session(reason)`):

* `jixiao.tenant_id`, `jixiao.tenant_path` — the actor's tenant and its materialised path: it reads
  its own tenant and everything below (`subtree`), and writes its own (`owner`), or its subtree
  where the ORM lets a tenant above write (`owner_and_above`);
* `jixiao.user_id`, `jixiao.province` — for users, notifications and the audit trail;
* `jixiao.projects`, `jixiao.granted_tenants` — an evaluator's live grants: it reads the rows of
  those projects only and writes in their tenants;
* `jixiao.bypass` — a system session, or one statement that crosses the walls on purpose
  (`.execution_options(all_tenants=True)`): greppable like `system_session(`.

What it does not stop: SQL of an attacker's own run on the app's connection (an injection), which
could set these settings as the app does — the app sends parameterised statements only, and a
second database role for system work would not change that (the app would have to be able to
switch to it). A session with neither an actor nor a system reason sets nothing and sees no
tenant's rows. This wall is coarser than the ORM's where the ORM is finer than a tenant (one's own
notifications, the roles that may write) — it is the tenant wall. SQLite has no such thing: there the ORM's wall is the
only one (README).

The policies are written by the migrations (`policy_sql`), one spec per table (`Spec`), frozen in
the migration that creates the table; `tests/integration/test_rls.py` fails when a table with a
`tenant_id` has none. A change of the vocabulary below re-applies them in a migration of its own
(0019: each setting read once per statement, the subtree as an indexed range).
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, event, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import ORMExecuteState, Session

from .actor import Actor

NAMES = (
    "jixiao.bypass",
    "jixiao.tenant_id",
    "jixiao.tenant_path",
    "jixiao.user_id",
    "jixiao.province",
    "jixiao.projects",
    "jixiao.granted_tenants",
)

# --- the policies' vocabulary (SQL fragments) -----------------------------------------------------
# Each setting is read in a scalar subquery — an InitPlan, evaluated once per statement rather than
# once per row (a province's subtree test over 3,000 tenants: 2.3 ms → 0.7 ms, several per statement).

BYPASS = "(SELECT current_setting('jixiao.bypass', true) = 'on')"
ME = "(SELECT nullif(current_setting('jixiao.tenant_id', true), '')::integer)"
PATH = "(SELECT nullif(current_setting('jixiao.tenant_path', true), ''))"
USER = "(SELECT nullif(current_setting('jixiao.user_id', true), '')::integer)"
PROVINCE = "(SELECT current_setting('jixiao.province', true) = 'on')"
PROJECTS = "(SELECT string_to_array(nullif(current_setting('jixiao.projects', true), ''), ',')::integer[])"
GRANTED = (
    "(SELECT string_to_array(nullif(current_setting('jixiao.granted_tenants', true), ''), ',')::integer[])"
)
# The paths below the actor's: `path LIKE <path> || '/%'` as a byte-wise range, which an index on
# `path COLLATE "C"` serves (0019) — a path is digits and '/', and '0' is the byte after '/'.
BELOW_FROM = "(SELECT nullif(current_setting('jixiao.tenant_path', true), '') || '/')"
BELOW_UPTO = "(SELECT nullif(current_setting('jixiao.tenant_path', true), '') || '0')"


def subtree(column: str = "tenant_id") -> str:
    """The actor's tenant or one below it (pilot data flows up) — `tenancy.in_reach`."""
    below = f'path COLLATE "C" >= {BELOW_FROM} AND path COLLATE "C" < {BELOW_UPTO}'
    return f"{column} IN (SELECT id FROM tenants WHERE id = {ME} OR ({below}))"


def lineage(column: str = "tenant_id") -> str:
    """The actor's tenant or one above it (the library flows down)."""
    return f"{column} IN (SELECT id FROM tenants WHERE {PATH} = path OR {PATH} LIKE path || '/%')"


def owner(column: str = "tenant_id") -> str:
    return f"{column} = {ME}"


def granted_tenant(column: str = "tenant_id") -> str:
    """A tenant of a project the evaluator holds a live grant on (the cast: `ANY` of the array the
    subquery returns, not of its rows)."""
    return f"{column} = ANY({GRANTED}::integer[])"


def granted_project(column: str = "project_id") -> str:
    return f"{column} = ANY({PROJECTS}::integer[])"


def via(column: str, parent_table: str, parent_column: str = "id") -> str:
    """An evaluator's rows through their parent (whose own policy applies in the subquery)."""
    return f"({PROJECTS} IS NOT NULL AND {column} IN (SELECT {parent_column} FROM {parent_table}))"


def null_for_province(column: str = "tenant_id") -> str:
    """Rows of no tenant (evaluators' users, system events): the province's."""
    return f"({column} IS NULL AND {PROVINCE})"


def is_user(column: str) -> str:
    return f"{column} = {USER}"


def shared_for_evaluator() -> str:
    """An evaluator reads the shared (province) library."""
    return f"(shared AND {ME} IS NULL AND {PROJECTS} IS NOT NULL)"


@dataclass(frozen=True)
class Spec:
    """One table's policy: who reads (`read`), who inserts/updates/deletes (`write`); each a list of
    alternatives from the vocabulary above. `append_only`: inserts only (the audit trail)."""

    read: tuple[str, ...]
    write: tuple[str, ...]
    append_only: bool = False


def _any(parts: Iterable[str]) -> str:
    return " OR ".join([BYPASS, *parts])


def policy_sql(table: str, spec: Spec) -> list[str]:
    """The statements that put `table` behind the wall (idempotent: drops its policies first)."""
    read, write = _any(spec.read), _any(spec.write)
    statements = [
        f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
        f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY",
        *drop_policy_sql(table),
        f"CREATE POLICY jixiao_read ON {table} FOR SELECT USING ({read})",
        f"CREATE POLICY jixiao_insert ON {table} FOR INSERT WITH CHECK ({write})",
    ]
    if not spec.append_only:
        statements += [
            f"CREATE POLICY jixiao_update ON {table} FOR UPDATE USING ({write}) WITH CHECK ({write})",
            f"CREATE POLICY jixiao_delete ON {table} FOR DELETE USING ({write})",
        ]
    return statements


def drop_policy_sql(table: str) -> list[str]:
    return [
        f"DROP POLICY IF EXISTS jixiao_{kind} ON {table}" for kind in ("read", "insert", "update", "delete")
    ]


def role_sql(role: str) -> list[str]:
    """The app's role: owns nothing, may use every table (the policies decide which rows)."""
    return [
        f"""DO $$ BEGIN
              IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') THEN
                CREATE ROLE {role} NOLOGIN;
              END IF;
            EXCEPTION WHEN duplicate_object THEN NULL;
            END $$""",
        # the owner may act as it (SET ROLE) when it is not a superuser
        f"""DO $$ BEGIN
              IF NOT pg_has_role(current_user, '{role}', 'MEMBER') THEN
                EXECUTE format('GRANT {role} TO %I', current_user);
              END IF;
            END $$""",
        f"GRANT USAGE ON SCHEMA public TO {role}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}",
        f"GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {role}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {role}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO {role}",
    ]


# --- the settings, from the session -----------------------------------------------------------------


def _ids(values: Iterable[int]) -> str:
    return ",".join(str(v) for v in sorted(values))


def settings_for(session: Session) -> tuple[str, ...]:
    """The values of `NAMES` for this session's transactions (cached per actor)."""
    if "system" in session.info:
        return ("on", "", "", "", "", "", "")
    actor: Actor | None = session.info.get("actor")
    if actor is None:
        return ("",) * len(NAMES)
    cached = session.info.get("_rls")
    if cached is not None and cached[0] is actor:
        return cached[1]
    values = (
        "",
        "" if actor.tenant_id is None else str(actor.tenant_id),
        actor.tenant_path or "",
        "" if actor.user_id is None else str(actor.user_id),
        "on" if actor.is_province else "",
        _ids(actor.granted_project_ids) if actor.is_evaluator else "",
        _ids(actor.granted_tenant_ids) if actor.is_evaluator else "",
    )
    session.info["_rls"] = (actor, values)
    return values


_SET = text("SELECT " + ", ".join(f"set_config('{name}', :v{i}, true)" for i, name in enumerate(NAMES)))
_CONN_KEY = "jixiao_rls"


def _apply(connection: Connection, values: tuple[str, ...]) -> None:
    connection.execute(_SET, {f"v{i}": value for i, value in enumerate(values)})
    connection.info[_CONN_KEY] = values


def ensure(session: Session) -> None:
    """Make the connection's settings this session's (sessions joining one connection, as the demo
    loader's do, take turns on it)."""
    values = settings_for(session)
    connection = session.connection()
    if connection.info.get(_CONN_KEY) != values:
        _apply(connection, values)


def across_walls(state: ORMExecuteState) -> Any:
    """One statement past both walls (`all_tenants=True`): bypass on for it alone. Its result is
    read whole before the bypass ends (relationship loads included)."""
    connection = state.session.connection()
    connection.execute(text("SELECT set_config('jixiao.bypass', 'on', true)"))
    try:
        return state.invoke_statement().freeze()()
    finally:
        connection.execute(text("SELECT set_config('jixiao.bypass', '', true)"))


_ENGINES: weakref.WeakSet[Engine] = weakref.WeakSet()


def enabled(session: Session) -> bool:
    """The session's database has the second wall (its engine went through `install`)."""
    found = session.info.get("rls")
    if found is None:
        bind = session.bind
        found = session.info["rls"] = bind is not None and bind.engine in _ENGINES
    return bool(found)


def install(engine: Engine, role: str) -> None:
    """Act as `role` on every new connection of `engine` (PostgreSQL)."""
    quoted = engine.dialect.identifier_preparer.quote(role)

    @event.listens_for(engine, "connect")
    def _set_role(dbapi_connection: Any, _record: Any) -> None:
        with dbapi_connection.cursor() as cursor:
            try:
                cursor.execute(f"SET ROLE {quoted}")
            except Exception as exc:
                dbapi_connection.rollback()
                raise RuntimeError(
                    f"cannot act as database role {role!r} ({exc}); run `jixiao db upgrade` with the "
                    "tables' owner first, or set JIXIAO_DB_ROLE"
                ) from exc
        dbapi_connection.commit()  # a session-level setting: not undone by the pool's rollback

    _ENGINES.add(engine)


@event.listens_for(Session, "after_begin")
def _after_begin(session: Session, _transaction: Any, connection: Connection) -> None:
    if enabled(session):
        _apply(connection, settings_for(session))


@event.listens_for(Session, "before_flush")
def _before_flush(session: Session, _ctx: Any, _instances: Any) -> None:
    if enabled(session):
        ensure(session)
