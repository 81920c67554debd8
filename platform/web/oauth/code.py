"""The authorization code grant (RFC 6749 §4.1) with PKCE (RFC 7636), for the registered clients of
integrators (e.g. the province's 预算管理一体化 system): confidential ones authenticate with their
secret, public ones (no secret) are bound to the code by PKCE alone.

* PKCE is required of every client, with `S256` only: a missing `code_challenge`, a missing
  `code_challenge_method` (RFC 7636 would default it to `plain`) and `plain` are refused.
* The redirect URI must be one of the client's registered ones, compared exactly; the token request
  must repeat it.
* A code lives `CODE_TTL_SECONDS` (60 s) and is single-use: the exchange claims it with one
  conditional UPDATE; a code presented again is refused and the tokens issued from it (their whole
  refresh family) are revoked, as RFC 6749 §4.1.2 recommends.
* The scope is never wider than the user's roles allow, nor the client's registration: resolved at
  the consent (`_ScopeResolving`: a named scope the user may not have is `invalid_scope`) and
  narrowed again at the exchange to what the roles allow then.
"""

from __future__ import annotations

import time
from typing import Any

from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6749.errors import InvalidGrantError, InvalidRequestError, OAuth2Error
from authlib.oauth2.rfc7636 import CodeChallenge
from sqlalchemy import select, update

from jixiao.platform.core.audit import record
from jixiao.platform.core.authz import ALL_SCOPES, scopes_for_roles
from jixiao.platform.core.oauth_models import (
    CODE_TTL_SECONDS,
    OAuthAuthorizationCode,
    OAuthClient,
    new_family_id,
    token_digest,
)
from jixiao.tenants import service as tenants
from jixiao.tenants.models import User

from ..context import request_id, system_db
from .server import _ScopeResolving, revoke_family


class S256CodeChallenge(CodeChallenge):
    """PKCE with `S256` only, required at the authorization endpoint for every client."""

    DEFAULT_CODE_CHALLENGE_METHOD = "S256"
    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]
    CODE_CHALLENGE_METHODS = {"S256": CodeChallenge.CODE_CHALLENGE_METHODS["S256"]}

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("PKCE is required: missing 'code_challenge' (S256)")
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("PKCE: 'code_challenge_method' must be S256 ('plain' is not accepted)")
        super().validate_code_challenge(grant, redirect_uri)


class AuthorizationCodeGrant(_ScopeResolving, grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["none", "client_secret_basic", "client_secret_post"]

    def validate_authorization_request(self) -> str:
        redirect_uri: str = super().validate_authorization_request()
        user: User | None = self.request.user
        if user is not None:  # the consent page, once someone is logged in
            try:
                self.request.scope = self._resolve_scope(user)
            except OAuth2Error as error:
                error.redirect_uri = redirect_uri
                raise
        return redirect_uri

    def save_authorization_code(self, code: str, request: Any) -> None:
        session = system_db("oauth")
        user: User = request.user
        client: OAuthClient = request.client
        data = request.payload.data
        now = int(time.time())
        session.add(
            OAuthAuthorizationCode(
                code_hash=token_digest(code),
                client_id=client.client_id,
                user_id=user.id,
                redirect_uri=request.payload.redirect_uri,
                scope=request.scope or "",
                code_challenge=data["code_challenge"],
                code_challenge_method=data["code_challenge_method"],
                issued_at=now,
                expires_at=now + CODE_TTL_SECONDS,
            )
        )
        record(
            session,
            "oauth.authorized",
            object_type="user",
            object_id=user.id,
            after={
                "client_id": client.client_id,
                "client": client.name,
                "scope": (request.scope or "").split(),
            },
            tenant_id=user.tenant_id,
            actor=tenants.build_actor(session, user, request_id=request_id()),
        )
        session.commit()

    def query_authorization_code(self, code: str, client: OAuthClient) -> OAuthAuthorizationCode | None:
        session = system_db("oauth")
        row = session.execute(
            select(OAuthAuthorizationCode).where(
                OAuthAuthorizationCode.code_hash == token_digest(code),
                OAuthAuthorizationCode.client_id == client.client_id,
            )
        ).scalar_one_or_none()
        if row is None:
            return None
        if row.used_at:
            _code_reused(row)
            return None
        if row.is_expired():
            return None
        return row

    def validate_token_request(self) -> None:
        super().validate_token_request()  # client, code, redirect URI, then the PKCE verifier
        code: OAuthAuthorizationCode = self.request.authorization_code
        # claim the code: of two requests presenting it at once, one exchanges it, the other is reuse
        session = system_db("oauth")
        family_id = new_family_id()
        claimed = session.execute(
            update(OAuthAuthorizationCode)
            .where(OAuthAuthorizationCode.id == code.id, OAuthAuthorizationCode.used_at == 0)
            .values(used_at=int(time.time()), family_id=family_id)
            .execution_options(synchronize_session=False)
        ).rowcount  # type: ignore[attr-defined]
        if claimed != 1:
            session.rollback()
            fresh = session.get(OAuthAuthorizationCode, code.id)
            if fresh is not None:
                _code_reused(fresh)
            raise InvalidGrantError("Invalid 'code' in request.")
        code.family_id = family_id

    def authenticate_user(self, authorization_code: OAuthAuthorizationCode) -> User | None:
        user = authorization_code.user
        return user if user is not None and user.is_active else None

    def generate_token(self, user: Any = None, scope: Any = None, **kwargs: Any) -> Any:
        """The code's scope, narrowed to what the user's roles and the client allow now."""
        allowed = scopes_for_roles(user.roles) & set(self.request.client.scope.split())
        granted = set((scope or "").split()) & allowed
        narrowed = " ".join(s for s in ALL_SCOPES if s in granted)
        return grants.AuthorizationCodeGrant.generate_token(self, user=user, scope=narrowed, **kwargs)

    def delete_authorization_code(self, authorization_code: OAuthAuthorizationCode) -> None:
        """Kept, marked used (see `validate_token_request`): a second use must be recognised."""


def _code_reused(code: OAuthAuthorizationCode) -> None:
    """A spent code again: refuse it, and revoke every token issued from it (committed first)."""
    revoke_family(
        "oauth.code_reused", code.family_id, user=code.user, user_id=code.user_id, client_id=code.client_id
    )
