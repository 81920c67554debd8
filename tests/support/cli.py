"""Running the installed `jixiao` command as an operator would, against a chosen database."""

from __future__ import annotations

import os

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
