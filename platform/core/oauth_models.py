"""OAuth2 clients and tokens (the Authlib server in `jixiao.platform.web.oauth` uses them), and the
server-side web sessions of the pages (`jixiao.platform.core.web_sessions`).

Tokens and session ids are stored only as SHA-256 digests: a stolen database dump yields no usable
token and no usable session. Every token produced by rotation from one original grant shares its
`family_id`, so reusing a spent refresh token can revoke the whole chain (OAuth 2.0 Security BCP).
Revoking is setting `*_revoked_at`; ending a web session is setting `ended_at` — rows are kept."""

from __future__ import annotations

import hashlib
import secrets
import time
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, ForeignKey, String, Text, case, or_, update
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from jixiao.platform.core.db import Base, utcnow


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_family_id() -> str:
    return secrets.token_hex(16)


class OAuthClient(Base):
    __tablename__ = "oauth_clients"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    client_secret_hash: Mapped[str | None] = mapped_column(String(200))  # argon2; None = public
    name: Mapped[str] = mapped_column(String(100))
    grant_types: Mapped[str] = mapped_column(String(200))  # space separated
    scope: Mapped[str] = mapped_column(Text)  # the most this client may ask for
    token_endpoint_auth_method: Mapped[str] = mapped_column(String(40))
    # client_credentials tokens act as this (service) user, within the client's scope.
    service_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    # --- Authlib ClientMixin -----------------------------------------------------------------
    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str | None:
        return None

    def get_allowed_scope(self, scope: str | None) -> str:
        if not scope:
            return ""
        allowed = set(self.scope.split())
        return " ".join(s for s in scope.split() if s in allowed)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return False

    def check_client_secret(self, client_secret: str) -> bool:
        if not self.client_secret_hash:
            return False
        from jixiao.tenants.passwords import verify_password

        return verify_password(self.client_secret_hash, client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        if endpoint == "token":
            return method == self.token_endpoint_auth_method
        return method in {self.token_endpoint_auth_method, "none", "client_secret_basic"}

    def check_response_type(self, response_type: str) -> bool:
        return False

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in self.grant_types.split()


class OAuthToken(Base):
    __tablename__ = "oauth_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_type: Mapped[str] = mapped_column(String(20), default="Bearer")
    access_token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    refresh_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    scope: Mapped[str] = mapped_column(Text, default="")
    issued_at: Mapped[int] = mapped_column(default=lambda: int(time.time()))
    expires_in: Mapped[int] = mapped_column(default=3600)
    refresh_expires_at: Mapped[int | None]
    access_token_revoked_at: Mapped[int] = mapped_column(default=0)
    refresh_token_revoked_at: Mapped[int] = mapped_column(default=0)
    # one value for the original grant and every token rotated from it
    family_id: Mapped[str] = mapped_column(String(32), index=True, default=new_family_id)
    # when its refresh token was spent on a rotation (0: never). Presenting such a token again is
    # reuse (theft); a token revoked otherwise (logout, password change) is merely refused.
    rotated_at: Mapped[int] = mapped_column(default=0, server_default="0")

    user = relationship("User", lazy="joined")

    # --- Authlib TokenMixin ------------------------------------------------------------------
    def check_client(self, client: OAuthClient) -> bool:
        return self.client_id == client.get_client_id()

    def get_scope(self) -> str:
        return self.scope

    def get_expires_in(self) -> int:
        return self.expires_in

    def is_expired(self) -> bool:
        return self.issued_at + self.expires_in < time.time()

    def is_revoked(self) -> bool:
        return bool(self.access_token_revoked_at)

    def is_refresh_usable(self) -> bool:
        if self.refresh_token_revoked_at or not self.refresh_token_hash:
            return False
        return self.refresh_expires_at is None or self.refresh_expires_at > time.time()

    def get_user(self):
        return self.user


def revoke_tokens(session: Session, *where: ColumnElement[bool]) -> int:
    """Revoke (access and refresh) every token matching `where` that is still live in some way;
    returns how many rows changed. Already revoked halves keep their first revocation time."""
    now = int(time.time())
    live = or_(OAuthToken.access_token_revoked_at == 0, OAuthToken.refresh_token_revoked_at == 0)
    values: dict[Any, Any] = {
        OAuthToken.access_token_revoked_at: case(
            (OAuthToken.access_token_revoked_at == 0, now), else_=OAuthToken.access_token_revoked_at
        ),
        OAuthToken.refresh_token_revoked_at: case(
            (OAuthToken.refresh_token_revoked_at == 0, now), else_=OAuthToken.refresh_token_revoked_at
        ),
    }
    result = session.execute(
        update(OAuthToken).where(live, *where).values(values).execution_options(synchronize_session="fetch")
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


class WebSession(Base):
    """One login on the pages. The signed Flask cookie carries a random token; only its digest is
    here. A session is live while `ended_at` is None: logout, a password change or reset and
    deactivation end it, and nothing brings it back."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]
    # logout | password_changed | password_reset | deactivated
    ended_reason: Mapped[str | None] = mapped_column(String(40))
