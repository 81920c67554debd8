"""Key evaluation (重点评价) by a granted evaluator: items, scores, findings, decision.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import jixiao.platform.core.db

revision = "0012"
down_revision = "0011"
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


def _evaluation_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["evaluation_id"],
        ["key_evaluations.id"],
        name=op.f(f"fk_{table}_evaluation_id_key_evaluations"),
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.create_table(
        "key_evaluations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("evaluator_org_id", sa.Integer(), nullable=True),
        sa.Column("findings", sa.Text(), nullable=False),
        sa.Column("recommendations", sa.Text(), nullable=False),
        sa.Column("report_evidence_id", sa.Integer(), nullable=True),
        sa.Column("score", sa.Numeric(precision=6, scale=2), nullable=True),
        sa.Column("grade", sa.String(length=2), nullable=True),
        sa.Column("skip_reason", sa.Text(), nullable=False),
        sa.Column("saved_by", sa.String(length=64), nullable=True),
        sa.Column("submitted_by", sa.String(length=64), nullable=True),
        sa.Column("submitted_at", UTC(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decided_at", UTC(timezone=True), nullable=True),
        sa.Column("created_at", UTC(timezone=True), nullable=False),
        sa.Column("updated_at", UTC(timezone=True), nullable=False),
        sa.Column("lock_version", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        _project_fk("key_evaluations"),
        sa.ForeignKeyConstraint(
            ["evaluator_org_id"],
            ["evaluator_orgs.id"],
            name=op.f("fk_key_evaluations_evaluator_org_id_evaluator_orgs"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["report_evidence_id"],
            ["evidence.id"],
            name=op.f("fk_key_evaluations_report_evidence_id_evidence"),
            ondelete="RESTRICT",
        ),
        _tenant_fk("key_evaluations"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_key_evaluations")),
        sa.UniqueConstraint("project_id", name=op.f("uq_key_evaluations_project_id")),
    )
    with op.batch_alter_table("key_evaluations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_key_evaluations_evaluator_org_id"), ["evaluator_org_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_key_evaluations_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "key_evaluation_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("evaluation_id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("dimension", sa.String(length=4), nullable=False),
        sa.Column("group", sa.String(length=40), nullable=False),
        sa.Column("item", sa.String(length=100), nullable=False),
        sa.Column("weight", sa.Numeric(precision=6, scale=2), nullable=False),
        sa.Column("score", sa.Numeric(precision=6, scale=2), nullable=True),
        sa.Column("basis", sa.Text(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        _evaluation_fk("key_evaluation_items"),
        _project_fk("key_evaluation_items"),
        _tenant_fk("key_evaluation_items"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_key_evaluation_items")),
    )
    with op.batch_alter_table("key_evaluation_items", schema=None) as batch_op:
        for column in ("evaluation_id", "project_id", "tenant_id"):
            batch_op.create_index(batch_op.f(f"ix_key_evaluation_items_{column}"), [column], unique=False)

    op.create_table(
        "key_evaluation_decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("evaluation_id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("decision", sa.String(length=10), nullable=False),
        sa.Column("opinion", sa.Text(), nullable=False),
        sa.Column("decided_by", sa.String(length=64), nullable=False),
        sa.Column("decided_at", UTC(timezone=True), nullable=False),
        sa.Column("snapshot", sa.JSON(), nullable=True),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        _evaluation_fk("key_evaluation_decisions"),
        _project_fk("key_evaluation_decisions"),
        _tenant_fk("key_evaluation_decisions"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_key_evaluation_decisions")),
    )
    with op.batch_alter_table("key_evaluation_decisions", schema=None) as batch_op:
        for column in ("evaluation_id", "project_id", "tenant_id"):
            batch_op.create_index(batch_op.f(f"ix_key_evaluation_decisions_{column}"), [column], unique=False)


def downgrade() -> None:
    for table, indexes in (
        ("key_evaluation_decisions", ("evaluation_id", "project_id", "tenant_id")),
        ("key_evaluation_items", ("evaluation_id", "project_id", "tenant_id")),
        ("key_evaluations", ("evaluator_org_id", "tenant_id")),
    ):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in indexes:
                batch_op.drop_index(batch_op.f(f"ix_{table}_{column}"))
        op.drop_table(table)
