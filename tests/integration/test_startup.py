"""A warm `make run` (issue 17 target 7): `jixiao db upgrade` at head and `jixiao demo load` of a
loaded demo find that out with a read-only look, without building the app; the app itself starts
without the libraries it needs only inside a function (the document engines python-docx,
matplotlib and WeasyPrint; pypinyin)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from jixiao.platform.core import migrate, peek
from jixiao.platform.core.audit import AuditEvent
from jixiao.platform.demo import loaded
from jixiao.tenants.models import EvaluatorOrg, Tenant, User
from tests.support.cli import clean_env

HEAVY = ("weasyprint", "matplotlib", "docx", "jixiao.platform.core.documents.docx", "pypinyin")


def cli_env(settings: Any, real_services: Any) -> dict[str, str]:
    env = clean_env(
        DATABASE_URL=settings.database_url,
        JIXIAO_INSTANCE=str(settings.instance_dir),
        SECRET_KEY=settings.secret_key,
    )
    if real_services is not None:
        env.update(real_services.env(settings))
    return env


def run_main(settings: Any, real_services: Any, *args: str) -> dict[str, Any]:
    """`jixiao ARGS` in a fresh interpreter; its output and which modules it imported."""
    script = (
        "import json, sys, contextlib, io\n"
        "from jixiao.platform.web.cli import main\n"
        "out = io.StringIO()\n"
        "with contextlib.redirect_stdout(out):\n"
        f"    main({list(args)!r}, standalone_mode=False)\n"
        "print(json.dumps({'out': out.getvalue(), 'modules': sorted(sys.modules)}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env=cli_env(settings, real_services),
        cwd=settings.instance_dir,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return result


def counts(runtime: Any) -> dict[str, int]:
    with runtime.db.transaction(system="test") as s:
        return {
            model.__name__: s.execute(select(func.count()).select_from(model)).scalar_one()
            for model in (Tenant, User, EvaluatorOrg, AuditEvent)
        }


def test_the_scripts_heads_are_alembics() -> None:
    from alembic.script import ScriptDirectory

    alembic = ScriptDirectory.from_config(migrate.alembic_config("sqlite://")).get_heads()
    assert migrate.script_heads() == frozenset(alembic) and len(alembic) == 1


def test_db_upgrade_at_head_does_not_build_the_app(settings: Any, runtime: Any, real_services: Any) -> None:
    assert migrate.at_head(settings.owner_database_url)
    done = run_main(settings, real_services, "db", "upgrade")
    assert "已是最新版本" in done["out"]
    assert "jixiao.platform.web.app" not in done["modules"] and "alembic" not in done["modules"]


def test_demo_load_of_a_loaded_demo_writes_nothing(settings: Any, runtime: Any, real_services: Any) -> None:
    assert loaded.missing(settings.database_url) == []
    before = counts(runtime)
    done = run_main(settings, real_services, "demo", "load")
    assert "已全部加载" in done["out"]
    # a few SELECTs on the driver itself: neither the app nor SQLAlchemy was imported
    assert "jixiao.platform.web.app" not in done["modules"] and "sqlalchemy" not in done["modules"]
    assert counts(runtime) == before  # not one audit event either


def test_the_look_cannot_write(settings: Any, runtime: Any) -> None:
    """The look's connection is read-only: a write fails (and the look says it can't tell)."""
    before = counts(runtime)
    assert peek.rows(settings.database_url, [("SELECT count(*) FROM tenants", ())]) == [[(before["Tenant"],)]]
    assert peek.rows(settings.database_url, [("DELETE FROM audit_events WHERE id < 0", ())]) is None
    assert peek.rows(settings.database_url, [("UPDATE tenants SET name = name WHERE id < 0", ())]) is None
    assert counts(runtime) == before


@pytest.mark.once
def test_an_empty_database_lacks_every_part(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    assert loaded.missing(url) is None  # no database: can't tell, so `demo load` loads
    assert not migrate.at_head(url)
    migrate.upgrade(url)
    assert migrate.at_head(url)
    found = loaded.missing(url)
    assert found is not None
    assert [line.split(":")[0] for line in found] == [
        "tenants", "users", "evaluator_orgs", "clients", "indicators", "templates", "programs",
        "showcase_programs",
    ]  # fmt: skip


@pytest.mark.once
def test_the_look_uses_the_loaders_names() -> None:
    from jixiao.platform import showcase
    from jixiao.services.indicators.demo import STARTER_LIBRARY
    from jixiao.services.programs.service import DEMO_PROGRAM
    from jixiao.tenants.demo import CLI_CLIENT_ID

    assert loaded.CLI_CLIENT_ID == CLI_CLIENT_ID
    assert loaded.DEMO_PROGRAM == DEMO_PROGRAM
    assert loaded.SHOWCASE_SUFFIX == showcase.SUFFIX
    assert loaded.STARTER_LIBRARY == STARTER_LIBRARY


def test_the_app_starts_without_the_heavy_libraries(settings: Any, runtime: Any, real_services: Any) -> None:
    """`jixiao --help` builds the app (to list its commands): no document engine, no pypinyin."""
    done = run_main(settings, real_services, "--help")
    assert "jixiao.platform.web.app" in done["modules"]
    assert [name for name in HEAVY if name in done["modules"]] == []


@pytest.mark.once
def test_the_dummy_hash_costs_what_a_users_hash_costs() -> None:
    """Login of an unknown user verifies the password against a hash written in the source (not
    made on import): at the hasher's own parameters, so it takes as long as a real one."""
    from jixiao.tenants import passwords, service

    assert not passwords._hasher.check_needs_rehash(service._DUMMY_HASH)
    assert passwords.verify_password(service._DUMMY_HASH, "not-a-real-password-Xy1!")
    assert not passwords.verify_password(service._DUMMY_HASH, "Demo@2026")
