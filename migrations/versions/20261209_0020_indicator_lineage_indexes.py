"""Indexes on an indicator's lineage (issue 17): `derived_from_id` and `origin_id`.

The province's comparison of an indicator across the regions and the target form's suggestions
look up the indicators derived from, or originating in, a given one; and deleting an indicator has
PostgreSQL check that none refers to it (ON DELETE RESTRICT). Without an index each of these read
the whole library — 100,000 rows in a big province.

Revision ID: 0020
Revises: 0019
"""

from __future__ import annotations

from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

COLUMNS = ("derived_from_id", "origin_id")


def upgrade() -> None:
    for column in COLUMNS:
        op.create_index(f"ix_indicators_{column}", "indicators", [column])


def downgrade() -> None:
    for column in COLUMNS:
        op.drop_index(f"ix_indicators_{column}", table_name="indicators")
