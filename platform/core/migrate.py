"""Run Alembic from code (`jixiao db …`, tests): the scripts ship inside the wheel."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jixiao.migrations

from . import peek

if TYPE_CHECKING:
    from alembic.config import Config

VERSIONS = Path(jixiao.migrations.__file__).resolve().parent / "versions"

# Indexes that migrations create on PostgreSQL only (pg_trgm search; the row-level security
# policies' byte-wise subtree range, 0019), so the models do not declare them; autogenerate must
# neither drop them nor report them as drift.
DIALECT_ONLY_INDEXES = frozenset(
    f"ix_indicators_{column}_trgm" for column in ("name", "explanation", "name_pinyin", "name_initials")
) | {"ix_tenants_path_bytes"}


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """Alembic's filter for autogenerate and drift checks."""
    return not (type_ == "index" and reflected and compare_to is None and name in DIALECT_ONLY_INDEXES)


def alembic_config(database_url: str) -> Config:
    from alembic.config import Config  # alembic and the models: only when migrating

    here = Path(jixiao.migrations.__file__).resolve().parent
    cfg = Config(str(here / "alembic.ini"))
    cfg.set_main_option("script_location", str(here))
    cfg.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return cfg


def upgrade(database_url: str, revision: str = "head") -> None:
    from alembic import command

    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    from alembic import command

    command.downgrade(alembic_config(database_url), revision)


def current(database_url: str) -> None:
    from alembic import command

    command.current(alembic_config(database_url), verbose=True)


# --- at head? without Alembic -------------------------------------------------------------------

_ASSIGNMENT = re.compile(r"^(revision|down_revision)\s*(?::[^=]*)?=\s*(.+?)\s*$", re.MULTILINE)


def script_heads(versions: Path = VERSIONS) -> frozenset[str]:
    """The head revisions of the scripts, read from their `revision` and `down_revision` lines
    (what Alembic reads by importing each script; `test_startup` checks the two agree). Empty
    when a script can't be read so."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for script in versions.glob("*.py"):
        if script.name.startswith("_"):
            continue
        text = script.read_text(encoding="utf-8")
        found: dict[str, str] = {m.group(1): m.group(2) for m in _ASSIGNMENT.finditer(text)}
        try:
            revision = ast.literal_eval(found["revision"])
            down = ast.literal_eval(found["down_revision"])
        except (KeyError, ValueError, SyntaxError):
            return frozenset()
        if not isinstance(revision, str):
            return frozenset()
        revisions.add(revision)
        if isinstance(down, str):
            parents.add(down)
        elif isinstance(down, tuple | list):
            parents.update(str(d) for d in down)
    return frozenset(revisions - parents)


def at_head(database_url: str) -> bool:
    """True when the database is known to be at the scripts' one head (a quick read-only look:
    `jixiao db upgrade` then has nothing to do); False when it isn't, or can't be told."""
    heads = script_heads()
    found = peek.rows(database_url, [("SELECT version_num FROM alembic_version", ())])
    if found is None or len(heads) != 1:
        return False
    return {row[0] for row in found[0]} == heads
