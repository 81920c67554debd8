"""A version of an evidence item is superseded by one newer version at most (no forks).

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

KEPT = sa.text("status IN ('current', 'superseded')")


def upgrade() -> None:
    # forks written before the index (two versions superseding the same item): the newest keeps the
    # link, the others become versions of their own, so that the index can be built
    op.execute(
        "UPDATE evidence SET supersedes_id = NULL "
        "WHERE status IN ('current', 'superseded') AND supersedes_id IS NOT NULL AND id NOT IN ("
        "SELECT newest FROM (SELECT MAX(id) AS newest FROM evidence "
        "WHERE status IN ('current', 'superseded') AND supersedes_id IS NOT NULL "
        "GROUP BY supersedes_id) AS kept)"
    )
    with op.batch_alter_table("evidence", schema=None) as batch_op:
        batch_op.create_index(
            "uq_evidence_superseded_once",
            ["supersedes_id"],
            unique=True,
            sqlite_where=KEPT,
            postgresql_where=KEPT,
        )


def downgrade() -> None:
    with op.batch_alter_table("evidence", schema=None) as batch_op:
        batch_op.drop_index("uq_evidence_superseded_once")
