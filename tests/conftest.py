"""Test harness for both modes (DESIGN.md §3).

`JIXIAO_TEST_MODE=embedded` (default): SQLite file, local object folder, jobs in-process.
`JIXIAO_TEST_MODE=real`: a fresh PostgreSQL database, Redis with a real `jixiao worker` process,
and a real SeaweedFS S3 started by `tests.support.seaweed`. With `CI=true` a missing service
fails the run; elsewhere the real-mode session is skipped with the reason.

One database per test session, migrated to head and loaded with the demo province: tests rely on
the demo (DEMO.md) and create their own uniquely named data on top of it.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from jixiao.platform.core.config import Settings
from jixiao.platform.core.runtime import Runtime, install
from tests.support.api import ApiClient
from tests.support.services import (
    MODE,
    RealServices,
    require_real_services,
)
from tests.support.smtp import SmtpServer

pytest_plugins = ["tests.support.seaweed", "tests.support.browser"]

REPO = Path(__file__).resolve().parents[1]


def pytest_report_header(config: pytest.Config) -> str:
    return f"jixiao test mode: {MODE}"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mode-independent tests (packaging, data files, vendored assets) run once, in embedded mode.
    The newcomer's walk (`fresh_demo`) goes first, on the demo as `make run` loads it; the
    schemathesis run (`fuzz`) goes last: what it writes into the shared database is seen by no
    other test."""
    if MODE != "embedded":
        once = [item for item in items if item.get_closest_marker("once") is not None]
        if once:
            config.hook.pytest_deselected(items=once)
            items[:] = [item for item in items if item.get_closest_marker("once") is None]
    first = [item for item in items if item.get_closest_marker("fresh_demo") is not None]
    fuzz = [item for item in items if item.get_closest_marker("fuzz") is not None]
    last = [item for item in items if item.get_closest_marker("last") is not None]
    rest = [item for item in items if item not in first and item not in fuzz and item not in last]
    items[:] = first + rest + fuzz + last


@pytest.fixture(scope="session")
def real_services(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[RealServices | None]:
    if MODE != "real":
        yield None
        return
    seaweed = request.getfixturevalue("seaweed")
    with require_real_services(seaweed) as services:
        yield services


@pytest.fixture(scope="session")
def smtp() -> Iterator[SmtpServer]:
    """A real SMTP server the app's outbound channel sends to (users without an address get none)."""
    with SmtpServer() as server:
        yield server


@pytest.fixture(scope="session")
def settings(
    tmp_path_factory: pytest.TempPathFactory, real_services: RealServices | None, smtp: SmtpServer
) -> Settings:
    instance = tmp_path_factory.mktemp("instance")
    if real_services is None:
        return Settings.from_env(
            instance_dir=instance,
            database_url=f"sqlite:///{instance / 'jixiao.db'}",
            redis_url="",
            s3_endpoint="",
            secret_key="test-" + secrets.token_hex(16),
            queue_name="jixiao-test",
            smtp_url=smtp.url,
            mail_from="jixiao@czt.nx.test",
        )
    return Settings.from_env(
        instance_dir=instance,
        secret_key="test-" + secrets.token_hex(16),
        smtp_url=smtp.url,
        mail_from="jixiao@czt.nx.test",
        **real_services.settings_overrides(),
    )


@pytest.fixture(scope="session")
def runtime(settings: Settings, real_services: RealServices | None) -> Iterator[Runtime]:
    import jixiao.platform.models  # noqa: F401
    from jixiao.platform.core import migrate
    from jixiao.platform.demo import load_all

    migrate.upgrade(settings.database_url)
    rt = install(Runtime.build(settings))  # the demo's showcase generates reports through it
    with rt.db.transaction(system="test demo load") as s:
        load_all(s, settings.demo_password)
    worker = None
    if real_services is not None:
        worker = real_services.start_worker(settings, REPO)
    try:
        yield rt
    finally:
        if worker is not None:
            real_services.stop_worker(worker)
        rt.db.dispose()


@pytest.fixture(scope="session")
def app(runtime: Runtime):  # type: ignore[no-untyped-def]
    from jixiao.platform.core.logs import JsonFormatter
    from jixiao.platform.web.app import create_app

    application = create_app(runtime=runtime)
    application.config.update(TESTING=True)
    # every log line of the session, as production writes it: read by the last test of the run
    # (tests/integration/test_logs_of_the_run.py)
    run_log = logging.FileHandler(runtime.settings.instance_dir / "run.log", encoding="utf-8")
    run_log.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(run_log)
    # … and not on the terminal, where the in-process worker's lines would break pytest's progress
    # (a failing test still shows its own lines: pytest captures them)
    for handler in [h for h in root.handlers if getattr(h, "_jixiao", False)]:
        root.removeHandler(handler)
    return application


@pytest.fixture()
def client(app):  # type: ignore[no-untyped-def]
    return app.test_client()


@pytest.fixture(scope="session")
def api(app) -> ApiClient:  # type: ignore[no-untyped-def]
    """HTTP client that logs in demo users with the password grant (tokens cached per session)."""
    return ApiClient(app)


@pytest.fixture()
def unique() -> str:
    """A short unique suffix for names a test creates."""
    return secrets.token_hex(3)
