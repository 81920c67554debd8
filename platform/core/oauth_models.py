"""OAuth2 clients and tokens (the Authlib server in `jixiao.platform.web.oauth` uses them).

Tokens are stored only as SHA-256 digests: a stolen database dump yields no usable token."""

from __future__ import annotations

import hashlib
import time
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from jixiao.platform.core.db import Base, utcnow


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


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
