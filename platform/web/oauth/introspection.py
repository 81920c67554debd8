"""Token introspection (RFC 7662) at `POST /oauth/introspect`, for resource servers.

The caller is a registered, active, confidential client authenticating with its secret
(`client_secret_basic` or `client_secret_post`); a public client or a wrong secret is 401
`invalid_client`. Any token of this server may be asked about (the resource server is rarely the
client the token was issued to). The answer is `{"active": false}` — and nothing else — for an
unknown, expired or revoked token, a token whose user is deactivated, and a refresh token already
rotated; otherwise `active`, `scope`, `client_id`, `username`, `sub` (the user id), `token_type`,
`exp`, `iat` and the user's tenant code `tenant` (empty for an evaluator).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from authlib.oauth2.rfc7662 import IntrospectionEndpoint
from sqlalchemy import select

from jixiao.platform.core.oauth_models import OAuthClient, OAuthToken, token_digest

from ..context import system_db
from .server import authorization, bp


@dataclass(frozen=True)
class _Found:
    """A token row and which of its two tokens was presented."""

    row: OAuthToken
    kind: str  # access_token | refresh_token

    def is_expired(self) -> bool:
        if self.kind == "access_token":
            return self.row.is_expired()
        expires = self.row.refresh_expires_at
        return expires is not None and expires < time.time()

    def is_revoked(self) -> bool:
        if self.kind == "access_token":
            return self.row.is_revoked()
        return bool(self.row.refresh_token_revoked_at)


class Introspection(IntrospectionEndpoint):
    CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

    def query_token(self, token_string: str, token_type_hint: str | None) -> _Found | None:
        digest = token_digest(token_string)
        session = system_db("oauth introspection")
        kinds = [
            ("access_token", OAuthToken.access_token_hash),
            ("refresh_token", OAuthToken.refresh_token_hash),
        ]
        if token_type_hint == "refresh_token":
            kinds.reverse()
        for kind, column in kinds:
            row = session.execute(select(OAuthToken).where(column == digest)).scalar_one_or_none()
            if row is not None:
                return _Found(row, kind)
        return None

    def check_permission(self, token: _Found, client: OAuthClient, request: Any) -> bool:
        return True  # every confidential client is a resource server of this platform

    def create_introspection_payload(self, token: _Found | None) -> dict[str, Any]:
        if token is None or token.is_expired() or token.is_revoked():
            return {"active": False}
        user = token.row.user
        if token.row.user_id is not None and (user is None or not user.is_active):
            return {"active": False}
        return self.introspect_token(token)

    def introspect_token(self, token: _Found) -> dict[str, Any]:
        row = token.row
        user = row.user
        payload: dict[str, Any] = {
            "active": True,
            "scope": row.scope,
            "client_id": row.client_id,
            "token_type": row.token_type if token.kind == "access_token" else "refresh_token",
            "iat": row.issued_at,
            "exp": row.issued_at + row.expires_in if token.kind == "access_token" else row.refresh_expires_at,
        }
        if user is not None:
            payload["username"] = user.username
            payload["sub"] = str(user.id)
            payload["tenant"] = user.tenant.code if user.tenant is not None else ""
        return {k: v for k, v in payload.items() if v is not None}


@bp.post("/introspect")
def introspect_token() -> Any:
    """RFC 7662 token introspection (form-encoded `token`, optional `token_type_hint`)."""
    return authorization.create_endpoint_response(Introspection.ENDPOINT_NAME)
