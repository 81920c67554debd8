"""Running the installed `jixiao` command as an operator would, against a chosen database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

# Settings that would point a CLI subprocess at something other than the database under test.
APP_SETTINGS = (
    "DATABASE_URL",
    "REDIS_URL",
    "S3_ENDPOINT",
    "S3_ACCESS_KEY",
    "S3_SECRET_KEY",
    "S3_BUCKET",
    "S3_PUBLIC_ENDPOINT",
    "JIXIAO_INSTANCE",
    "SECRET_KEY",
)


def clean_env(*also_drop: str, **overrides: str) -> dict[str, str]:
    """This process's environment without the app's settings (and `also_drop`), plus `overrides`."""
    drop = set(APP_SETTINGS) | set(also_drop)
    return {**{k: v for k, v in os.environ.items() if k not in drop}, **overrides}


def run_cli(settings: Any, real_services: Any, *args: str) -> subprocess.CompletedProcess[str]:
    """The installed `jixiao` command against the test session's database (and, in real mode, its
    Redis, S3 and SMTP), as an operator or a CronJob runs it."""
    env = clean_env(
        DATABASE_URL=settings.database_url,
        JIXIAO_INSTANCE=str(settings.instance_dir),
        SECRET_KEY=settings.secret_key,
    )
    if real_services is not None:
        env.update(real_services.env(settings))
    return subprocess.run(
        [str(Path(sys.executable).with_name("jixiao")), *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=os.fspath(settings.instance_dir),
        timeout=120,
        check=False,
    )
