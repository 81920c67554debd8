"""The second wall: PostgreSQL row-level security on every table with a `tenant_id`, and the role
the app acts as (`jixiao_app`, owning nothing; platform/core/rls.py says how the policies read the
session's settings). SQLite: nothing (the ORM's wall is the only one there).

A table added later gets its policy in the migration that creates it (`rls.policy_sql` with its
own `Spec`); `tests/integration/test_rls.py` fails while one has none.

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

from alembic import op

from jixiao.platform.core import rls
from jixiao.platform.core.rls import (
    Spec,
    granted_project,
    granted_tenant,
    is_user,
    lineage,
    null_for_province,
    owner,
    shared_for_evaluator,
    subtree,
    via,
)

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

ROLE = "jixiao_app"  # Settings.db_role's default; another name: grant it the same by hand


def _writers(writers: str) -> tuple[str, str]:
    """Its owner writes a row (or its subtree, where the ORM lets a tenant above: `owner_and_above`),
    an evaluator in the tenants of its granted projects."""
    return (owner() if writers == "owner" else subtree(), granted_tenant())


def _project_row(writers: str = "owner") -> Spec:
    """A row of one project: its tenant and those above read it, an evaluator with a grant on the
    project too."""
    return Spec(read=(subtree(), granted_project()), write=_writers(writers))


def _child_row(column: str, parent: str, writers: str = "owner") -> Spec:
    return Spec(read=(subtree(), via(column, parent)), write=_writers(writers))


def _tenant_row(writers: str = "owner") -> Spec:
    """A tenant's own row of no project: an evaluator never reads it."""
    return Spec(read=(subtree(),), write=_writers(writers))


_LIBRARY = Spec(read=(subtree(), lineage(), shared_for_evaluator()), write=(owner(),))
_PRIVATE = Spec(
    read=(subtree(), is_user("user_id"), granted_tenant()),
    write=(subtree(), is_user("user_id"), granted_tenant()),
)

SPECS: dict[str, Spec] = {
    "assessments": _project_row(),
    "audit_events": Spec(
        read=(subtree(), null_for_province()),
        write=("tenant_id IS NULL", subtree(), lineage(), granted_tenant()),
        append_only=True,
    ),
    "correction_entries": _child_row("correction_id", "corrections", "owner_and_above"),
    "corrections": _project_row("owner_and_above"),
    "evidence": _project_row(),
    "grants": _project_row(),
    "indicator_cases": _LIBRARY,
    "indicator_proposals": Spec(
        read=(subtree(), subtree("target_tenant_id")), write=(owner(), owner("target_tenant_id"))
    ),
    "indicator_templates": _LIBRARY,
    "indicator_versions": _LIBRARY,
    "indicators": _LIBRARY,
    "key_evaluation_decisions": _project_row(),
    "key_evaluation_items": _project_row(),
    "key_evaluations": _project_row(),
    "monitoring_lines": _child_row("round_id", "monitoring_rounds"),
    "monitoring_rounds": _project_row(),
    "notification_deliveries": _PRIVATE,
    "notifications": _PRIVATE,
    "pilot_report_reviews": _tenant_row("owner_and_above"),
    "pilot_report_versions": _tenant_row(),
    "pilot_reports": _tenant_row("owner_and_above"),
    # a program's participants: whoever reads the program; written by the program's owner
    "program_tenants": Spec(
        read=("program_id IN (SELECT id FROM programs)",),
        write=(f"program_id IN (SELECT id FROM programs WHERE {owner()})",),
    ),
    "programs": Spec(read=(subtree(), lineage(), via("id", "projects", "program_id")), write=(owner(),)),
    "project_stages": _project_row(),
    "projects": Spec(read=(subtree(), granted_project("id")), write=(owner(), granted_tenant())),
    "rectification_entries": _child_row("item_id", "rectification_items"),
    "rectification_items": _project_row(),
    "rectification_notices": _project_row(),
    "result_applications": _project_row(),
    "self_evaluation_lines": _child_row("evaluation_id", "self_evaluations"),
    "self_evaluation_reviews": _child_row("evaluation_id", "self_evaluations"),
    "self_evaluations": _project_row(),
    "spot_check_items": _project_row("owner_and_above"),
    "spot_checks": _tenant_row(),
    "target_lines": _child_row("target_set_id", "target_sets"),
    "target_reviews": _child_row("target_set_id", "target_sets"),
    "target_sets": _project_row(),
    "users": Spec(
        read=(subtree(), null_for_province(), is_user("id")),
        write=(subtree(), null_for_province(), is_user("id")),
    ),
}


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    if not _postgres():
        return
    for statement in rls.role_sql(ROLE):
        op.execute(statement)
    # the trail is append-only for the app, whatever the policies say
    op.execute(f"REVOKE UPDATE, DELETE, TRUNCATE ON audit_events FROM {ROLE}")
    for table, spec in SPECS.items():
        for statement in rls.policy_sql(table, spec):
            op.execute(statement)


def downgrade() -> None:
    if not _postgres():
        return
    for table in SPECS:
        for statement in rls.drop_policy_sql(table):
            op.execute(statement)
        op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
    op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON TABLES FROM {ROLE}")
    op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON SEQUENCES FROM {ROLE}")
    op.execute(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {ROLE}")
    op.execute(f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {ROLE}")
    op.execute(f"REVOKE ALL ON SCHEMA public FROM {ROLE}")
    # the role stays: it is the cluster's, and other databases may use it
