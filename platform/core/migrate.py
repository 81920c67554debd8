"""Run Alembic from code (`jixiao db …`, tests): the scripts ship inside the wheel."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config

import jixiao.migrations

# Indexes that migrations create on PostgreSQL only (pg_trgm search), so the models do not declare
# them; autogenerate must neither drop them nor report them as drift.
DIALECT_ONLY_INDEXES = frozenset(
    f"ix_indicators_{column}_trgm" for column in ("name", "explanation", "name_pinyin", "name_initials")
)


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """Alembic's filter for autogenerate and drift checks."""
    return not (type_ == "index" and reflected and compare_to is None and name in DIALECT_ONLY_INDEXES)


def alembic_config(database_url: str) -> Config:
    here = Path(jixiao.migrations.__file__).resolve().parent
    cfg = Config(str(here / "alembic.ini"))
    cfg.set_main_option("script_location", str(here))
    cfg.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return cfg


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    command.downgrade(alembic_config(database_url), revision)


def current(database_url: str) -> None:
    command.current(alembic_config(database_url), verbose=True)
