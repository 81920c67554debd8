"""Run Alembic from code (`jixiao db …`, tests): the scripts ship inside the wheel."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

import jixiao.migrations


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
