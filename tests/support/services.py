"""The real services of the production mode, for `JIXIAO_TEST_MODE=real`.

PostgreSQL: a fresh database per test session (dropped at the end). Redis: the machine's server,
isolated by a unique queue name and rate-limit prefix. SeaweedFS: the `seaweed` fixture.
A real `jixiao worker` subprocess executes the jobs.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

MODE = os.environ.get("JIXIAO_TEST_MODE", "embedded").strip().lower()
CI = os.environ.get("CI", "").strip().lower() == "true"
PG_ADMIN_URL = os.environ.get("JIXIAO_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("JIXIAO_TEST_REDIS", "redis://127.0.0.1:6379/0")


def unavailable(message: str) -> None:
    """A missing service fails under CI=true and skips elsewhere — never silently."""
    if CI:
        pytest.fail(f"{message} — CI=true requires the real services", pytrace=False)
    pytest.skip(message)


@dataclass
class RealServices:
    database_url: str
    redis_url: str
    seaweed: Any
    queue_name: str

    def settings_overrides(self) -> dict[str, Any]:
        return {
            "database_url": self.database_url,
            "redis_url": self.redis_url,
            "s3_endpoint": self.seaweed.endpoint,
            "s3_access_key": self.seaweed.access_key,
            "s3_secret_key": self.seaweed.secret_key,
            "s3_bucket": self.seaweed.bucket,
            "s3_region": "us-east-1",
            "queue_name": self.queue_name,
        }

    def env(self, settings: Any) -> dict[str, str]:
        return {
            **os.environ,
            "DATABASE_URL": self.database_url,
            "REDIS_URL": self.redis_url,
            "S3_ENDPOINT": self.seaweed.endpoint,
            "S3_ACCESS_KEY": self.seaweed.access_key,
            "S3_SECRET_KEY": self.seaweed.secret_key,
            "S3_BUCKET": self.seaweed.bucket,
            "JIXIAO_QUEUE": self.queue_name,
            "JIXIAO_INSTANCE": str(settings.instance_dir),
            "SECRET_KEY": settings.secret_key,
            "JIXIAO_SMTP_URL": settings.smtp_url,
            "JIXIAO_MAIL_FROM": settings.mail_from,
        }

    def start_worker(self, settings: Any, repo: Path) -> subprocess.Popen[bytes]:
        exe = Path(sys.executable).with_name("jixiao")
        log = open(settings.instance_dir / "worker.log", "wb")  # noqa: SIM115 - closed with the process
        env = self.env(settings)
        env["PYTHONPATH"] = str(repo) + os.pathsep + env.get("PYTHONPATH", "")
        proc = subprocess.Popen([str(exe), "worker"], stdout=log, stderr=subprocess.STDOUT, env=env, cwd=repo)
        time.sleep(0.5)
        if proc.poll() is not None:
            pytest.fail(
                f"jixiao worker exited at start:\n{(settings.instance_dir / 'worker.log').read_text()}"
            )
        return proc

    @staticmethod
    def stop_worker(proc: subprocess.Popen[bytes]) -> None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


@contextmanager
def fresh_postgres_database(prefix: str = "jixiao_test") -> Iterator[str]:
    """CREATE a new database, yield its URL, DROP it afterwards."""
    from sqlalchemy import create_engine, text

    name = f"{prefix}_{secrets.token_hex(4)}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001
        admin.dispose()
        unavailable(f"PostgreSQL at {PG_ADMIN_URL} is not usable: {exc}")
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def require_real_services(seaweed: Any) -> Iterator[RealServices]:
    from redis import Redis

    try:
        Redis.from_url(REDIS_URL, socket_connect_timeout=3).ping()
    except Exception as exc:  # noqa: BLE001
        unavailable(f"Redis at {REDIS_URL} is not reachable: {exc}")
    with fresh_postgres_database() as url:
        yield RealServices(url, REDIS_URL, seaweed, f"jixiao-test-{secrets.token_hex(4)}")
