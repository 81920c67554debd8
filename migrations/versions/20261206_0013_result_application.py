"""Result application (结果应用): rectification notices and items, replies, the budget recommendation, disclosure.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import jixiao.platform.core.db

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

UTC = jixiao.platform.core.db.UTCDateTime


def _tenant_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["tenant_id"], ["tenants.id"], name=op.f(f"fk_{table}_tenant_id_tenants"), ondelete="RESTRICT"
    )


def _project_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["project_id"], ["projects.id"], name=op.f(f"fk_{table}_project_id_projects"), ondelete="CASCADE"
    )


def _indexes(table: str, *columns: str) -> None:
    with op.batch_alter_table(table, schema=None) as batch_op:
        for column in columns:
            batch_op.create_index(batch_op.f(f"ix_{table}_{column}"), [column], unique=False)


def upgrade() -> None:
    op.create_table(
        "rectification_notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("issued_by", sa.String(length=64), nullable=False),
        sa.Column("issued_at", UTC(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        _project_fk("rectification_notices"),
        _tenant_fk("rectification_notices"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rectification_notices")),
    )
    _indexes("rectification_notices", "project_id", "tenant_id")

    op.create_table(
        "rectification_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("notice_id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("closed_by", sa.String(length=64), nullable=True),
        sa.Column("closed_at", UTC(timezone=True), nullable=True),
        sa.Column("lock_version", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["notice_id"],
            ["rectification_notices.id"],
            name=op.f("fk_rectification_items_notice_id_rectification_notices"),
            ondelete="CASCADE",
        ),
        _project_fk("rectification_items"),
        _tenant_fk("rectification_items"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rectification_items")),
    )
    _indexes("rectification_items", "notice_id", "project_id", "tenant_id")

    op.create_table(
        "rectification_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=8), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("evidence_ids", sa.JSON(), nullable=False),
        sa.Column("author", sa.String(length=64), nullable=False),
        sa.Column("written_at", UTC(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["rectification_items.id"],
            name=op.f("fk_rectification_entries_item_id_rectification_items"),
            ondelete="CASCADE",
        ),
        _tenant_fk("rectification_entries"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rectification_entries")),
    )
    _indexes("rectification_entries", "item_id", "tenant_id")

    op.create_table(
        "result_applications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("budget_recommendation", sa.String(length=12), nullable=False),
        sa.Column("suggested_recommendation", sa.String(length=12), nullable=True),
        sa.Column("recommendation_reason", sa.Text(), nullable=False),
        sa.Column("grade", sa.String(length=2), nullable=True),
        sa.Column("grade_source", sa.String(length=16), nullable=True),
        sa.Column("disclosed", sa.Boolean(), nullable=False),
        sa.Column("disclosed_by", sa.String(length=64), nullable=True),
        sa.Column("disclosed_at", UTC(timezone=True), nullable=True),
        sa.Column("public_self_score", sa.Numeric(precision=6, scale=2), nullable=True),
        sa.Column("public_self_grade", sa.String(length=2), nullable=True),
        sa.Column("public_key_grade", sa.String(length=2), nullable=True),
        sa.Column("public_findings", sa.Text(), nullable=False),
        sa.Column("decided_by", sa.String(length=64), nullable=False),
        sa.Column("decided_at", UTC(timezone=True), nullable=False),
        sa.Column("lock_version", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        _project_fk("result_applications"),
        _tenant_fk("result_applications"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_result_applications")),
        sa.UniqueConstraint("project_id", name=op.f("uq_result_applications_project_id")),
    )
    _indexes("result_applications", "disclosed", "tenant_id")


def downgrade() -> None:
    for table, indexes in (
        ("result_applications", ("disclosed", "tenant_id")),
        ("rectification_entries", ("item_id", "tenant_id")),
        ("rectification_items", ("notice_id", "project_id", "tenant_id")),
        ("rectification_notices", ("project_id", "tenant_id")),
    ):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in indexes:
                batch_op.drop_index(batch_op.f(f"ix_{table}_{column}"))
        op.drop_table(table)
