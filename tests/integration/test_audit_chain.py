"""The audit hash chain end to end (DESIGN.md §4.5), on the database of the current mode.

Every test gets its OWN fresh database (a SQLite file in ``tmp_path`` in embedded mode, a new
PostgreSQL database in real mode) migrated to head and loaded with the demo province, because
several tests tamper with the chain the way an operator with direct database access could:
drop/disable the append-only triggers, then edit or delete rows. ``audit.verify`` and the
``jixiao audit verify`` command must name the first event that no longer fits.
"""

from __future__ import annotations

import secrets
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

import jixiao.platform.models  # noqa: F401 - complete the mappers
from jixiao.platform.core import audit, migrate
from jixiao.platform.core.audit import GENESIS, AuditEvent, AuditHead
from jixiao.platform.core.db import Database
from jixiao.tenants import demo
from jixiao.tenants.models import EvaluatorOrg
from tests.support.cli import clean_env
from tests.support.services import MODE, PG_ADMIN_URL, fresh_postgres_database

DEMO_PASSWORD = "Demo@2026"


@dataclass
class Chain:
    url: str
    db: Database
    instance: Path

    def verify(self, **kwargs: int) -> audit.VerifyResult:
        session = self.db.system_session("test audit verify")
        try:
            return audit.verify(session, **kwargs)
        finally:
            session.close()

    def ids(self) -> list[int]:
        with self.db.engine.connect() as conn:
            return list(conn.execute(text("SELECT id FROM audit_events ORDER BY id")).scalars())

    def head(self) -> tuple[int, str]:
        with self.db.engine.connect() as conn:
            row = conn.execute(text("SELECT last_id, last_hash FROM audit_head WHERE id = 1")).one()
        return row.last_id, row.last_hash

    def cli(self, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        """The installed `jixiao` console script, as an operator runs it (with `env` added)."""
        settings = env or {}
        env = clean_env(*settings)
        env.update(DATABASE_URL=self.url, JIXIAO_INSTANCE=str(self.instance), SECRET_KEY="x", **settings)
        return subprocess.run(
            [str(Path(sys.executable).with_name("jixiao")), *args],
            capture_output=True,
            text=True,
            env=env,
            cwd=self.instance.parent,
            timeout=120,
            check=False,
        )


@contextmanager
def fresh_database_url(tmp_path: Path) -> Iterator[str]:
    """A brand-new, empty database of the current mode (never the session's shared one)."""
    if MODE == "real":
        with fresh_postgres_database("jixiao_audit") as url:
            yield url
    else:
        yield f"sqlite:///{tmp_path / 'audit.db'}"


@pytest.fixture(scope="module")
def template_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh database migrated to head with the demo province loaded, made once per module:
    each test works on its own copy of it (the demo's password hashing is the slow part)."""
    with fresh_database_url(tmp_path_factory.mktemp("audit-template")) as url:
        migrate.upgrade(url)
        db = Database(url)
        try:
            with db.transaction(system="test") as s:
                demo.load(s, DEMO_PASSWORD)
        finally:
            db.dispose()  # no connection may stay open on a PostgreSQL template
        yield url


@contextmanager
def copy_of(template: str, tmp_path: Path) -> Iterator[str]:
    if template.startswith("sqlite"):
        path = tmp_path / "audit.db"
        src = sqlite3.connect(make_url(template).database or "")
        dst = sqlite3.connect(path)
        try:
            src.backup(dst)
        finally:
            src.close()
            dst.close()
        yield f"sqlite:///{path}"
        return
    source = make_url(template).database
    name = f"{source}_{secrets.token_hex(3)}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{source}"'))
        yield template.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture()
def chain(template_url: str, tmp_path: Path) -> Iterator[Chain]:
    with copy_of(template_url, tmp_path) as url:
        db = Database(url)
        try:
            instance = tmp_path / "instance"
            instance.mkdir()
            yield Chain(url, db, instance)
        finally:
            db.dispose()


def test_template_is_a_fresh_migrated_demo(template_url: str) -> None:
    """The fixture's premise: its own database, not the session's, freshly migrated."""
    db = Database(template_url)
    try:
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
            actions = conn.execute(text("SELECT DISTINCT action FROM audit_events")).scalars().all()
    finally:
        db.dispose()
    assert "tenant.create" in actions
    assert not any(a.startswith("test.") for a in actions)


def disable_append_only(conn: Connection) -> None:
    """What an attacker with database access does first."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only"))
    else:
        conn.execute(text("DROP TRIGGER audit_events_no_update"))
        conn.execute(text("DROP TRIGGER audit_events_no_delete"))


# --------------------------------------------------------------------------- intact chain


def test_demo_chain_verifies(chain: Chain) -> None:
    ids = chain.ids()
    assert len(ids) > 10, "the demo load should have audited its tenants and users"
    assert ids == list(range(1, len(ids) + 1))

    result = chain.verify()
    assert result.ok, result
    assert result.checked == len(ids)
    assert result.broken_id is None
    # Small batches walk the same chain across batch boundaries.
    assert chain.verify(batch=7) == result

    with chain.db.engine.connect() as conn:
        first = conn.execute(text("SELECT prev_hash FROM audit_events WHERE id = 1")).scalar_one()
        last_hash = conn.execute(
            text("SELECT hash FROM audit_events WHERE id = :id"), {"id": ids[-1]}
        ).scalar_one()
    assert first == GENESIS
    assert chain.head() == (len(ids), last_hash)

    proc = chain.cli("audit", "verify")
    assert proc.returncode == 0, proc.stderr
    assert "审计链完整" in proc.stdout
    assert f"共校验 {len(ids)} 条" in proc.stdout


def test_events_of_a_rolled_back_change_vanish_without_a_gap(chain: Chain) -> None:
    before = chain.ids()[-1]

    class Boom(Exception):
        pass

    with pytest.raises(Boom), chain.db.transaction(system="test rollback") as s:
        audit.record(s, "test.rolled_back", object_type="test", object_id="x", after={"n": 1})
        s.flush()
        raise Boom
    assert chain.ids()[-1] == before

    with chain.db.transaction(system="test commit") as s:
        audit.record(s, "test.committed", object_type="test", object_id="y", after={"n": 2})
        audit.record(s, "test.committed", object_type="test", object_id="z", after={"n": 3})
    assert chain.ids() == list(range(1, before + 3))
    result = chain.verify()
    assert result.ok and result.checked == before + 2, result

    with chain.db.engine.connect() as conn:
        rows = conn.execute(
            text("SELECT username, action FROM audit_events WHERE id > :id ORDER BY id"), {"id": before}
        ).all()
    assert [tuple(r) for r in rows] == [("system:test commit", "test.committed")] * 2


# --------------------------------------------------------------------------- append-only


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_events SET username = 'mallory' WHERE id = 1",
        'UPDATE audit_events SET "after" = NULL',
        "DELETE FROM audit_events WHERE id = 1",
        "DELETE FROM audit_events",
    ],
)
def test_database_refuses_update_and_delete(chain: Chain, statement: str) -> None:
    before = chain.ids()
    with pytest.raises(DBAPIError, match="append-only"), chain.db.engine.begin() as conn:
        conn.execute(text(statement))
    assert chain.ids() == before
    assert chain.verify().ok


@pytest.mark.skipif(MODE != "real", reason="TRUNCATE is PostgreSQL's (SQLite's DELETE fires the trigger)")
def test_postgresql_refuses_truncate(chain: Chain) -> None:
    """TRUNCATE empties a table without firing row-level triggers: append-only must cover it too
    (a statement-level BEFORE TRUNCATE trigger)."""
    before = chain.ids()
    try:
        with chain.db.engine.begin() as conn:
            conn.execute(text("TRUNCATE audit_events"))
    except DBAPIError:
        truncated = False
    else:
        truncated = True
        # The chain still notices (the head remembers the last event)...
        result = chain.verify()
        assert not result.ok and result.broken_id == 1, result
    # ...but the database should have refused in the first place.
    assert not truncated, "TRUNCATE audit_events went through: the append-only trigger is row-level only"
    assert chain.ids() == before


def test_orm_refuses_to_modify_or_delete_an_event(chain: Chain) -> None:
    query = select(AuditEvent).where(AuditEvent.id == 2).execution_options(all_tenants=True)
    with pytest.raises(RuntimeError, match="append-only"), chain.db.transaction(system="test") as s:
        s.execute(query).scalar_one().username = "mallory"
    with pytest.raises(RuntimeError, match="append-only"), chain.db.transaction(system="test") as s:
        s.delete(s.execute(query).scalar_one())
    assert chain.verify().ok


# --------------------------------------------------------------------------- tampering


def test_edited_event_is_named(chain: Chain) -> None:
    total = len(chain.ids())
    n = total // 2
    with chain.db.engine.begin() as conn:
        disable_append_only(conn)
        edited = conn.execute(
            text('UPDATE audit_events SET "after" = :after WHERE id = :id'),
            {"after": '{"tampered": true}', "id": n},
        )
        assert edited.rowcount == 1

    result = chain.verify()
    assert not result.ok
    assert result.broken_id == n
    assert result.checked == n - 1
    assert "哈希" in result.reason
    assert chain.verify(batch=3) == result

    proc = chain.cli("audit", "verify")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert f"id={n}" in proc.stderr
    assert "审计链完整" not in proc.stdout


def test_edited_event_with_recomputed_hash_breaks_the_next_link(chain: Chain) -> None:
    """Fixing up the edited event's own hash does not help: the next event still points at the
    old one (and rewriting the whole tail is what the head row and backups are for)."""
    total = len(chain.ids())
    n = total // 2
    with chain.db.engine.begin() as conn:
        disable_append_only(conn)
        conn.execute(text("UPDATE audit_events SET username = 'mallory' WHERE id = :id"), {"id": n})
    session = chain.db.system_session("test")
    try:
        ev = session.execute(
            select(AuditEvent).where(AuditEvent.id == n).execution_options(all_tenants=True)
        ).scalar_one()
        forged = audit.event_hash(ev.prev_hash, ev)
    finally:
        session.close()
    with chain.db.engine.begin() as conn:
        conn.execute(text("UPDATE audit_events SET hash = :h WHERE id = :id"), {"h": forged, "id": n})

    result = chain.verify()
    assert not result.ok
    assert result.broken_id == n + 1
    assert result.checked == n
    assert "prev_hash" in result.reason

    proc = chain.cli("audit", "verify")
    assert proc.returncode == 1
    assert f"id={n + 1}" in proc.stderr


def test_deleted_last_event_is_detected(chain: Chain) -> None:
    last = chain.ids()[-1]
    with chain.db.engine.begin() as conn:
        disable_append_only(conn)
        conn.execute(text("DELETE FROM audit_events WHERE id = :id"), {"id": last})

    result = chain.verify()
    assert not result.ok
    assert result.broken_id == last
    assert result.checked == last - 1
    assert "末尾" in result.reason

    proc = chain.cli("audit", "verify")
    assert proc.returncode == 1
    assert f"id={last}" in proc.stderr


def test_deleted_middle_event_names_the_gap(chain: Chain) -> None:
    total = len(chain.ids())
    m = total // 2
    with chain.db.engine.begin() as conn:
        disable_append_only(conn)
        conn.execute(text("DELETE FROM audit_events WHERE id = :id"), {"id": m})

    result = chain.verify()
    assert not result.ok
    assert result.broken_id == m + 1  # the first event that no longer fits
    assert result.checked == m - 1
    assert f"事件 {m} 缺失" in result.reason

    proc = chain.cli("audit", "verify")
    assert proc.returncode == 1
    assert f"id={m + 1}" in proc.stderr
    assert f"事件 {m} 缺失" in proc.stderr


# --------------------------------------------------------------------------- concurrency


def test_concurrent_commits_chain_one_after_the_other(chain: Chain) -> None:
    """8 threads x 10 commits, each a real change plus its event: the head row lock
    (PostgreSQL) or the write lock with the busy timeout (SQLite) serialises the chaining."""
    threads, per_thread = 8, 10
    start = chain.ids()[-1]
    tag = secrets.token_hex(3)
    barrier = threading.Barrier(threads)

    def work(t: int) -> None:
        barrier.wait(timeout=30)
        for i in range(per_thread):
            with chain.db.transaction(system=f"test thread {t}") as s:
                s.add(EvaluatorOrg(name=f"并发测试机构-{tag}-{t}-{i}"))
                audit.record(
                    s,
                    "test.concurrent",
                    object_type="evaluator_org",
                    object_id=f"{t}-{i}",
                    after={"thread": t, "i": i},
                )

    with ThreadPoolExecutor(threads) as pool:
        for future in [pool.submit(work, t) for t in range(threads)]:
            future.result(timeout=120)

    total = start + threads * per_thread
    assert chain.ids() == list(range(1, total + 1))
    result = chain.verify()
    assert result.ok, result
    assert result.checked == total
    assert chain.head()[0] == total

    with chain.db.engine.connect() as conn:
        rows = conn.execute(
            text("SELECT id, object_id FROM audit_events WHERE action = 'test.concurrent' ORDER BY id")
        ).all()
        orgs = conn.execute(
            text("SELECT count(*) FROM evaluator_orgs WHERE name LIKE :p"), {"p": f"并发测试机构-{tag}-%"}
        ).scalar_one()
    assert orgs == threads * per_thread
    assert len({r.object_id for r in rows}) == threads * per_thread
    for t in range(threads):  # each thread's commits chained in the order it made them
        order = [int(r.object_id.split("-")[1]) for r in rows if r.object_id.startswith(f"{t}-")]
        assert order == list(range(per_thread))

    # No stale head: the session-level view agrees with the raw rows.
    session = chain.db.system_session("test")
    try:
        head = session.execute(select(AuditHead).where(AuditHead.id == 1)).scalar_one()
        assert head.last_id == total
    finally:
        session.close()
