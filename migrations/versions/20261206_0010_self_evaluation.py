"""Self-evaluation (自评): one per project, its lines and its reviews.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import jixiao.platform.core.db

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def _tenant_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["tenant_id"], ["tenants.id"], name=op.f(f"fk_{table}_tenant_id_tenants"), ondelete="RESTRICT"
    )


def upgrade() -> None:
    op.create_table(
        "self_evaluations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("target_set_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("review_level", sa.String(length=10), nullable=True),
        sa.Column("budget_executed", sa.Numeric(precision=18, scale=2), nullable=True),
        sa.Column("adjusted_budget", sa.Numeric(precision=18, scale=2), nullable=True),
        sa.Column("budget_reason", sa.Text(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("conclusion", sa.Text(), nullable=False),
        sa.Column("problems", sa.Text(), nullable=False),
        sa.Column("measures", sa.Text(), nullable=False),
        sa.Column("score", sa.Numeric(precision=6, scale=2), nullable=True),
        sa.Column("grade", sa.String(length=2), nullable=True),
        sa.Column("submitted_by", sa.String(length=64), nullable=True),
        sa.Column("submitted_at", jixiao.platform.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("approved_at", jixiao.platform.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", jixiao.platform.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", jixiao.platform.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("lock_version", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_self_evaluations_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["target_set_id"],
            ["target_sets.id"],
            name=op.f("fk_self_evaluations_target_set_id_target_sets"),
            ondelete="CASCADE",
        ),
        _tenant_fk("self_evaluations"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_self_evaluations")),
        sa.UniqueConstraint("project_id", name=op.f("uq_self_evaluations_project_id")),
    )
    with op.batch_alter_table("self_evaluations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_self_evaluations_target_set_id"), ["target_set_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_self_evaluations_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "self_evaluation_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("evaluation_id", sa.Integer(), nullable=False),
        sa.Column("target_line_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("actual_value", sa.String(length=100), nullable=True),
        sa.Column("achievement", sa.String(length=14), nullable=True),
        sa.Column("rate", sa.Numeric(precision=5, scale=2), nullable=True),
        sa.Column("shortfall_reason", sa.Text(), nullable=False),
        sa.Column("completion", sa.Numeric(precision=9, scale=2), nullable=True),
        sa.Column("available", sa.Numeric(precision=6, scale=2), nullable=True),
        sa.Column("earned", sa.Numeric(precision=6, scale=2), nullable=True),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["evaluation_id"],
            ["self_evaluations.id"],
            name=op.f("fk_self_evaluation_lines_evaluation_id_self_evaluations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["target_line_id"],
            ["target_lines.id"],
            name=op.f("fk_self_evaluation_lines_target_line_id_target_lines"),
            ondelete="CASCADE",
        ),
        _tenant_fk("self_evaluation_lines"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_self_evaluation_lines")),
        sa.UniqueConstraint(
            "evaluation_id",
            "target_line_id",
            name=op.f("uq_self_evaluation_lines_evaluation_id_target_line_id"),
        ),
    )
    with op.batch_alter_table("self_evaluation_lines", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_self_evaluation_lines_evaluation_id"), ["evaluation_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_self_evaluation_lines_target_line_id"), ["target_line_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_self_evaluation_lines_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "self_evaluation_reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("evaluation_id", sa.Integer(), nullable=False),
        sa.Column("level", sa.String(length=10), nullable=False),
        sa.Column("decision", sa.String(length=10), nullable=False),
        sa.Column("comments", sa.JSON(), nullable=False),
        sa.Column("reviewer", sa.String(length=64), nullable=False),
        sa.Column("reviewed_at", jixiao.platform.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("snapshot", sa.JSON(), nullable=True),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["evaluation_id"],
            ["self_evaluations.id"],
            name=op.f("fk_self_evaluation_reviews_evaluation_id_self_evaluations"),
            ondelete="CASCADE",
        ),
        _tenant_fk("self_evaluation_reviews"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_self_evaluation_reviews")),
    )
    with op.batch_alter_table("self_evaluation_reviews", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_self_evaluation_reviews_evaluation_id"), ["evaluation_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_self_evaluation_reviews_tenant_id"), ["tenant_id"], unique=False)


def downgrade() -> None:
    for table, indexes in (
        ("self_evaluation_reviews", ("evaluation_id", "tenant_id")),
        ("self_evaluation_lines", ("evaluation_id", "target_line_id", "tenant_id")),
        ("self_evaluations", ("target_set_id", "tenant_id")),
    ):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in indexes:
                batch_op.drop_index(batch_op.f(f"ix_{table}_{column}"))
        op.drop_table(table)
