"""OAuth2 authorization code grant with PKCE: the codes (stored as digests, kept once spent so that a
second use is recognised), and the registered redirect URIs of a client.

Clients registered before this revision get no redirect URI (they keep their grants: password,
client_credentials, refresh_token).

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "oauth_authorization_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("redirect_uri", sa.Text(), nullable=False),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("code_challenge", sa.String(length=128), nullable=False),
        sa.Column("code_challenge_method", sa.String(length=10), nullable=False),
        sa.Column("issued_at", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.Integer(), nullable=False),
        sa.Column("used_at", sa.Integer(), nullable=False),
        sa.Column("family_id", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_oauth_authorization_codes_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oauth_authorization_codes")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_oauth_authorization_codes_code_hash")),
    )
    with op.batch_alter_table("oauth_authorization_codes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_oauth_authorization_codes_client_id"), ["client_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_oauth_authorization_codes_user_id"), ["user_id"], unique=False)

    # the existing clients get an empty list; the app always writes it (no default kept)
    with op.batch_alter_table("oauth_clients", schema=None) as batch_op:
        batch_op.add_column(sa.Column("redirect_uris", sa.JSON(), nullable=False, server_default="[]"))
    with op.batch_alter_table("oauth_clients", schema=None) as batch_op:
        batch_op.alter_column("redirect_uris", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("oauth_clients", schema=None) as batch_op:
        batch_op.drop_column("redirect_uris")

    with op.batch_alter_table("oauth_authorization_codes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_oauth_authorization_codes_user_id"))
        batch_op.drop_index(batch_op.f("ix_oauth_authorization_codes_client_id"))

    op.drop_table("oauth_authorization_codes")
