"""Alembic migrations: every step up and down on both backends, and the schema equals the models.

The round trip runs on a fresh PostgreSQL database in the real pass and on a fresh SQLite file
once (embedded pass). After the upgrade, Alembic's autogenerate comparison between the migrated
database and `jixiao.platform.models.metadata` must be empty: a model change without its
migration fails here.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, pool, text
from sqlalchemy.engine import Engine

import jixiao.platform.models
from jixiao.platform.core import migrate
from tests.support.cli import clean_env
from tests.support.services import MODE, fresh_postgres_database

real_only = pytest.mark.skipif(MODE != "real", reason="PostgreSQL round trip: runs in the real pass")


def script_directory() -> ScriptDirectory:
    return ScriptDirectory.from_config(migrate.alembic_config("sqlite://"))


def revisions_base_to_head() -> list[str]:
    script = script_directory()
    heads = script.get_heads()
    assert len(heads) == 1, f"the migration history must have one head, found {heads}"
    revs = list(script.walk_revisions("base", "heads"))
    for rev in revs:
        assert not isinstance(rev.down_revision, tuple | list), f"unexpected merge point {rev.revision}"
    return [rev.revision for rev in reversed(revs)]


@contextmanager
def engine_for(url: str) -> Iterator[Engine]:
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        yield engine
    finally:
        engine.dispose()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def schema_diff(engine: Engine) -> list[object]:
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn,
            opts={
                "compare_type": True,
                "compare_server_default": True,
                "include_object": migrate.include_object,
            },
        )
        return list(compare_metadata(context, jixiao.platform.models.metadata))


def leftovers(engine: Engine) -> list[str]:
    """Every schema object besides alembic_version (tables, views, sequences, triggers, functions)."""
    insp = inspect(engine)
    found = [f"table {t}" for t in insp.get_table_names() if t != "alembic_version"]
    found += [f"view {v}" for v in insp.get_view_names()]
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            found += [f"sequence {s}" for s in insp.get_sequence_names()]
            found += [
                f"function {f}"
                for f in conn.execute(
                    text(
                        "SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
                        "WHERE n.nspname = 'public'"
                    )
                ).scalars()
            ]
            found += [
                f"type {t}"
                for t in conn.execute(
                    text(
                        "SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace "
                        "WHERE n.nspname = 'public' AND t.typtype = 'e'"
                    )
                ).scalars()
            ]
        else:
            found += [
                f"{kind} {name}"
                for kind, name in conn.execute(
                    text(
                        "SELECT type, name FROM sqlite_master "
                        "WHERE name NOT LIKE 'sqlite_%' AND tbl_name != 'alembic_version'"
                    )
                ).all()
                if kind != "table"
            ]
    return found


def assert_schema_matches_models(engine: Engine) -> None:
    tables = set(inspect(engine).get_table_names())
    assert set(jixiao.platform.models.metadata.tables) <= tables
    diff = schema_diff(engine)
    assert diff == [], f"the migrations and the models disagree (write a migration): {diff}"
    with engine.connect() as conn:
        heads = conn.execute(text("SELECT id, last_id FROM audit_head")).all()
    assert [tuple(r) for r in heads] == [(1, 0)], "the audit chain's head row is seeded exactly once"


def round_trip(url: str) -> None:
    revisions = revisions_base_to_head()
    with engine_for(url) as engine:
        assert current_revision(engine) is None

        for rev in revisions:  # up, one migration at a time
            migrate.upgrade(url, rev)
            assert current_revision(engine) == rev
        assert_schema_matches_models(engine)

        for expected in [*reversed(revisions[:-1]), None]:  # down, one at a time
            migrate.downgrade(url, "-1")
            assert current_revision(engine) == expected
        assert leftovers(engine) == [], "downgrade base must remove everything the migrations made"

        migrate.upgrade(url)  # and up again: the downgrades really undid everything
        assert current_revision(engine) == revisions[-1]
        assert_schema_matches_models(engine)


@real_only
@pytest.mark.real
def test_round_trip_on_postgresql() -> None:
    with fresh_postgres_database("jixiao_migrations") as url:
        round_trip(url)


@pytest.mark.once
def test_round_trip_on_sqlite(tmp_path: Path) -> None:
    round_trip(f"sqlite:///{tmp_path / 'migrations.db'}")


@pytest.mark.once
def test_schema_diff_notices_a_model_without_migration(tmp_path: Path) -> None:
    """The guard itself works: a table the migrations do not create shows up in the diff."""
    from sqlalchemy import Column, Integer, MetaData, Table

    url = f"sqlite:///{tmp_path / 'guard.db'}"
    migrate.upgrade(url)
    extra = MetaData()
    for table in jixiao.platform.models.metadata.tables.values():
        table.to_metadata(extra)
    Table("not_migrated", extra, Column("id", Integer, primary_key=True))
    with engine_for(url) as engine, engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), extra)
    assert [d[0] for d in diff if isinstance(d, tuple)] == ["add_table"]


# --------------------------------------------------------------------------- the CLI


@contextmanager
def fresh_database_url(tmp_path: Path) -> Iterator[str]:
    if MODE == "real":
        with fresh_postgres_database("jixiao_migrations_cli") as url:
            yield url
    else:
        yield f"sqlite:///{tmp_path / 'cli.db'}"


def run_jixiao(url: str, instance: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = clean_env()
    env.update(DATABASE_URL=url, JIXIAO_INSTANCE=str(instance), SECRET_KEY="x")
    return subprocess.run(
        [str(Path(sys.executable).with_name("jixiao")), *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=instance.parent,
        timeout=120,
        check=False,
    )


def test_db_cli_upgrade_and_downgrade(tmp_path: Path) -> None:
    head = revisions_base_to_head()[-1]
    instance = tmp_path / "instance"
    with fresh_database_url(tmp_path) as url, engine_for(url) as engine:
        up = run_jixiao(url, instance, "db", "upgrade")
        assert up.returncode == 0, up.stderr
        assert "数据库已迁移至 head" in up.stdout
        assert current_revision(engine) == head
        assert_schema_matches_models(engine)

        current = run_jixiao(url, instance, "db", "current")
        assert current.returncode == 0, current.stderr
        assert head in current.stdout + current.stderr

        down = run_jixiao(url, instance, "db", "downgrade", "base")
        assert down.returncode == 0, down.stderr
        assert "数据库已回退至 base" in down.stdout
        assert current_revision(engine) is None
        assert leftovers(engine) == []

        again = run_jixiao(url, instance, "db", "upgrade", head)
        assert again.returncode == 0, again.stderr
        assert current_revision(engine) == head
