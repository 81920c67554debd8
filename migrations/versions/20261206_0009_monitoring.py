"""Monitoring rounds (双监控), their lines, and correction requests (纠偏/约谈/发函) with their thread.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import jixiao.platform.core.db

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "monitoring_rounds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("target_set_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("budget_executed", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("budget_explanation", sa.Text(), nullable=False),
        sa.Column("budget_reason", sa.Text(), nullable=False),
        sa.Column("budget_measure", sa.Text(), nullable=False),
        sa.Column("execution_rate", sa.Numeric(precision=24, scale=2), nullable=False),
        sa.Column("time_progress", sa.Numeric(precision=7, scale=2), nullable=False),
        sa.Column("budget_warning", sa.String(length=6), nullable=False),
        sa.Column("forecast_executed", sa.Numeric(precision=24, scale=2), nullable=True),
        sa.Column("forecast_rate", sa.Numeric(precision=24, scale=2), nullable=True),
        sa.Column("forecast_warning", sa.String(length=6), nullable=True),
        sa.Column("return_opinion", sa.Text(), nullable=True),
        sa.Column("reported_by", sa.String(length=64), nullable=False),
        sa.Column("reported_at", jixiao.platform.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("returned_by", sa.String(length=64), nullable=True),
        sa.Column("returned_at", jixiao.platform.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("confirmed_by", sa.String(length=64), nullable=True),
        sa.Column("confirmed_at", jixiao.platform.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("lock_version", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_monitoring_rounds_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["target_set_id"],
            ["target_sets.id"],
            name=op.f("fk_monitoring_rounds_target_set_id_target_sets"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_monitoring_rounds_tenant_id_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitoring_rounds")),
        sa.UniqueConstraint("project_id", "period", name=op.f("uq_monitoring_rounds_project_id_period")),
    )
    with op.batch_alter_table("monitoring_rounds", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_monitoring_rounds_project_id"), ["project_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_monitoring_rounds_target_set_id"), ["target_set_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_monitoring_rounds_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "corrections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=4), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("issued_by", sa.String(length=64), nullable=False),
        sa.Column("issued_at", jixiao.platform.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("closed_by", sa.String(length=64), nullable=True),
        sa.Column("closed_at", jixiao.platform.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("adjustment_target_set_id", sa.Integer(), nullable=True),
        sa.Column("lock_version", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["adjustment_target_set_id"],
            ["target_sets.id"],
            name=op.f("fk_corrections_adjustment_target_set_id_target_sets"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_corrections_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["monitoring_rounds.id"],
            name=op.f("fk_corrections_round_id_monitoring_rounds"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_corrections_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_corrections")),
    )
    with op.batch_alter_table("corrections", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_corrections_project_id"), ["project_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_corrections_round_id"), ["round_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_corrections_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "monitoring_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("target_line_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("planned_value", sa.String(length=100), nullable=False),
        sa.Column("actual_value", sa.String(length=100), nullable=False),
        sa.Column("achievement", sa.String(length=14), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("measure", sa.Text(), nullable=False),
        sa.Column("reason_category", sa.String(length=10), nullable=True),
        sa.Column("likelihood", sa.String(length=10), nullable=True),
        sa.Column("completion", sa.Numeric(precision=24, scale=2), nullable=True),
        sa.Column("warning", sa.String(length=6), nullable=False),
        sa.Column("forecast_value", sa.Numeric(precision=24, scale=2), nullable=True),
        sa.Column("forecast_completion", sa.Numeric(precision=24, scale=2), nullable=True),
        sa.Column("forecast_warning", sa.String(length=6), nullable=True),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["monitoring_rounds.id"],
            name=op.f("fk_monitoring_lines_round_id_monitoring_rounds"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["target_line_id"],
            ["target_lines.id"],
            name=op.f("fk_monitoring_lines_target_line_id_target_lines"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_monitoring_lines_tenant_id_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitoring_lines")),
    )
    with op.batch_alter_table("monitoring_lines", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_monitoring_lines_round_id"), ["round_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_monitoring_lines_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "correction_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("correction_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=8), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("evidence_ids", sa.JSON(), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=True),
        sa.Column("author", sa.String(length=64), nullable=False),
        sa.Column("written_at", jixiao.platform.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["correction_id"],
            ["corrections.id"],
            name=op.f("fk_correction_entries_correction_id_corrections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_correction_entries_tenant_id_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_correction_entries")),
    )
    with op.batch_alter_table("correction_entries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_correction_entries_correction_id"), ["correction_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_correction_entries_tenant_id"), ["tenant_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("correction_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_correction_entries_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_correction_entries_correction_id"))

    op.drop_table("correction_entries")
    with op.batch_alter_table("monitoring_lines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_monitoring_lines_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_monitoring_lines_round_id"))

    op.drop_table("monitoring_lines")
    with op.batch_alter_table("corrections", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_corrections_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_corrections_round_id"))
        batch_op.drop_index(batch_op.f("ix_corrections_project_id"))

    op.drop_table("corrections")
    with op.batch_alter_table("monitoring_rounds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_monitoring_rounds_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_monitoring_rounds_target_set_id"))
        batch_op.drop_index(batch_op.f("ix_monitoring_rounds_project_id"))

    op.drop_table("monitoring_rounds")
