"""Row-level security at province scale (issue 17): the policies read each setting once per statement,
and the subtree test uses an index.

The policies of 0017 called `current_setting(…)` inside each row's test — in the subtree subquery,
for each of a province's 3,000 tenants, several times per statement (a province reviewer's work
queue: 13 statements, 56 ms of database time with the policies against 25 ms as the owner). The
vocabulary (`rls.BYPASS`, `rls.ME`, `rls.subtree` …) now reads each setting in a scalar subquery,
which PostgreSQL evaluates once per statement, and the subtree's `path LIKE <path> || '/%'` is the
same set as a byte-wise range, which an index on `path COLLATE "C"` serves (a county's subtree:
one index probe instead of reading every tenant). The rules themselves are unchanged: this
re-creates 0017's policies, table by table, from its own specs.

Downgrade drops the index only: the policies keep this form, which means the same without it.

Revision ID: 0019
Revises: 0018
"""

from __future__ import annotations

import importlib

from alembic import op

from jixiao.platform.core import rls

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

INDEX = "ix_tenants_path_bytes"


def _specs() -> dict[str, rls.Spec]:
    """0017's specs: the tables behind the wall and who reads and writes their rows."""
    module = importlib.import_module("jixiao.migrations.versions.20261207_0017_row_level_security")
    return dict(module.SPECS)


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    if not _postgres():
        return
    op.execute(f'CREATE INDEX IF NOT EXISTS {INDEX} ON tenants (path COLLATE "C")')
    for table, spec in _specs().items():
        for statement in rls.policy_sql(table, spec):
            op.execute(statement)


def downgrade() -> None:
    if not _postgres():
        return
    op.execute(f"DROP INDEX IF EXISTS {INDEX}")
