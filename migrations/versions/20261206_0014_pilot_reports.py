"""Pilot reports (试点报告): versions, acceptance rounds and preliminary opinions; cases (规范管理蓝本)
carry the targets, scores and findings of the project they were published from.

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import jixiao.platform.core.db

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pilot_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("program_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("submitted_version", sa.Integer(), nullable=True),
        sa.Column("submitted_by", sa.String(length=64), nullable=True),
        sa.Column("submitted_at", jixiao.platform.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("accepted_at", jixiao.platform.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_job_id", sa.String(length=64), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", jixiao.platform.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("lock_version", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["program_id"],
            ["programs.id"],
            name=op.f("fk_pilot_reports_program_id_programs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_pilot_reports_tenant_id_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pilot_reports")),
        sa.UniqueConstraint("program_id", "tenant_id", name=op.f("uq_pilot_reports_program_id_tenant_id")),
    )
    with op.batch_alter_table("pilot_reports", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pilot_reports_program_id"), ["program_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_pilot_reports_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_pilot_reports_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "pilot_report_reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("round", sa.Integer(), nullable=True),
        sa.Column("checklist", sa.JSON(), nullable=False),
        sa.Column("total", sa.Numeric(precision=6, scale=2), nullable=True),
        sa.Column("pass_mark", sa.Numeric(precision=6, scale=2), nullable=True),
        sa.Column("outcome", sa.String(length=8), nullable=True),
        sa.Column("opinion", sa.Text(), nullable=False),
        sa.Column("author", sa.String(length=64), nullable=False),
        sa.Column("author_tenant_id", sa.Integer(), nullable=False),
        sa.Column("written_at", jixiao.platform.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_tenant_id"],
            ["tenants.id"],
            name=op.f("fk_pilot_report_reviews_author_tenant_id_tenants"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["pilot_reports.id"],
            name=op.f("fk_pilot_report_reviews_report_id_pilot_reports"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_pilot_report_reviews_tenant_id_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pilot_report_reviews")),
    )
    with op.batch_alter_table("pilot_report_reviews", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pilot_report_reviews_report_id"), ["report_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_pilot_report_reviews_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "pilot_report_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.String(length=64), nullable=False),
        sa.Column("generated_by", sa.String(length=64), nullable=False),
        sa.Column("generated_at", jixiao.platform.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("docx_key", sa.String(length=300), nullable=False),
        sa.Column("docx_size", sa.Integer(), nullable=False),
        sa.Column("docx_sha256", sa.String(length=64), nullable=False),
        sa.Column("pdf_key", sa.String(length=300), nullable=False),
        sa.Column("pdf_size", sa.Integer(), nullable=False),
        sa.Column("pdf_sha256", sa.String(length=64), nullable=False),
        sa.Column("project_names", sa.JSON(), nullable=False),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["pilot_reports.id"],
            name=op.f("fk_pilot_report_versions_report_id_pilot_reports"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_pilot_report_versions_tenant_id_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pilot_report_versions")),
        sa.UniqueConstraint("job_id", name=op.f("uq_pilot_report_versions_job_id")),
        sa.UniqueConstraint("report_id", "number", name=op.f("uq_pilot_report_versions_report_id_number")),
    )
    with op.batch_alter_table("pilot_report_versions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pilot_report_versions_report_id"), ["report_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_pilot_report_versions_tenant_id"), ["tenant_id"], unique=False)

    # the existing cases get empty values; the app always writes them (no default kept)
    with op.batch_alter_table("indicator_cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("source_report_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("targets", sa.JSON(), nullable=False, server_default="[]"))
        batch_op.add_column(sa.Column("scores", sa.JSON(), nullable=False, server_default="{}"))
        batch_op.add_column(sa.Column("findings", sa.Text(), nullable=False, server_default=""))
    with op.batch_alter_table("indicator_cases", schema=None) as batch_op:
        for column in ("targets", "scores", "findings"):
            batch_op.alter_column(column, server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("indicator_cases", schema=None) as batch_op:
        batch_op.drop_column("findings")
        batch_op.drop_column("scores")
        batch_op.drop_column("targets")
        batch_op.drop_column("source_report_id")

    with op.batch_alter_table("pilot_report_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pilot_report_versions_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_pilot_report_versions_report_id"))

    op.drop_table("pilot_report_versions")
    with op.batch_alter_table("pilot_report_reviews", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pilot_report_reviews_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_pilot_report_reviews_report_id"))

    op.drop_table("pilot_report_reviews")
    with op.batch_alter_table("pilot_reports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pilot_reports_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_pilot_reports_status"))
        batch_op.drop_index(batch_op.f("ix_pilot_reports_program_id"))

    op.drop_table("pilot_reports")
