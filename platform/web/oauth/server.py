"""The token side of the OAuth2 server (Authlib): `/oauth/token` and `/oauth/revoke`, bearer-token
validation, and the grants without a browser.

Grants: `password` (first-party public client `jixiao-cli` only), `client_credentials`
(registered machine clients acting as their service user), `refresh_token` (rotating). Every token
rotated from one grant shares its `family_id`; presenting a refresh token that was already rotated
or revoked revokes the whole family (OAuth 2.0 Security BCP, refresh token reuse detection).
Scopes: omitted → every scope the user's roles allow (∩ the client's); named → each must be
allowed to the user, else `invalid_scope` naming it (Authlib would silently drop it).
"""

from __future__ import annotations

import time
from typing import Any

from authlib.integrations.flask_oauth2 import AuthorizationServer, ResourceProtector
from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6749.errors import (
    InvalidGrantError,
    InvalidScopeError,
    UnauthorizedClientError,
)
from authlib.oauth2.rfc6749.util import scope_to_list
from authlib.oauth2.rfc6750 import BearerTokenValidator
from authlib.oauth2.rfc7009 import RevocationEndpoint
from flask import Blueprint, request
from sqlalchemy import select, update

from jixiao.platform.core.audit import record
from jixiao.platform.core.authz import ALL_SCOPES, scopes_for_roles
from jixiao.platform.core.db import utcnow
from jixiao.platform.core.oauth_models import (
    OAuthAuthorizationCode,
    OAuthClient,
    OAuthToken,
    new_family_id,
    revoke_tokens,
    token_digest,
)
from jixiao.tenants import service as tenants
from jixiao.tenants.models import User

from ..context import request_id, runtime, system_db
from ..extensions import limiter, login_failed, login_ip_key, login_key

CLI_CLIENT_ID = "jixiao-cli"


class _Localized:
    """RFC 6749 keeps `error_description` ASCII; the Chinese explanation travels in `message`."""

    def __init__(self, description: str, message: str) -> None:
        super().__init__(description=description)  # type: ignore[call-arg]
        self.message = message

    def get_body(self) -> list[tuple[str, Any]]:
        return [*super().get_body(), ("message", self.message)]  # type: ignore[misc]


class ScopeRefused(_Localized, InvalidScopeError):
    pass


class BadCredentials(_Localized, InvalidGrantError):
    pass


class ClientRefused(_Localized, UnauthorizedClientError):
    pass


def _client(client_id: str) -> OAuthClient | None:
    return (
        system_db("oauth")
        .execute(
            select(OAuthClient).where(OAuthClient.client_id == client_id, OAuthClient.is_active.is_(True))
        )
        .scalar_one_or_none()
    )


def _save_token(token: dict[str, Any], oauth_request: Any) -> None:
    session = system_db("oauth")
    user: User | None = oauth_request.user
    client: OAuthClient = oauth_request.client
    refresh = token.get("refresh_token")
    settings_ttl = int(token.get("expires_in", 3600))
    rotated: OAuthToken | None = getattr(oauth_request, "refresh_token", None)  # refresh grant only
    # the code grant: the family its exchange claimed, so that a second use of the code revokes it
    code: OAuthAuthorizationCode | None = getattr(oauth_request, "authorization_code", None)
    if isinstance(rotated, OAuthToken):
        family_id = rotated.family_id
    elif isinstance(code, OAuthAuthorizationCode) and code.family_id:
        family_id = code.family_id
    else:
        family_id = new_family_id()
    row = OAuthToken(
        client_id=client.client_id,
        user_id=user.id if user else None,
        token_type=token.get("token_type", "Bearer"),
        access_token_hash=token_digest(token["access_token"]),
        refresh_token_hash=token_digest(refresh) if refresh else None,
        scope=token.get("scope", ""),
        issued_at=int(time.time()),
        expires_in=settings_ttl,
        refresh_expires_at=int(time.time()) + _refresh_ttl() if refresh else None,
        family_id=family_id,
    )
    session.add(row)
    if user is not None and oauth_request.payload.grant_type == "password":
        user.last_login_at = utcnow()
    record(
        session,
        "oauth.token_issued",
        object_type="user",
        object_id=user.id if user else None,
        after={
            "client_id": client.client_id,
            "grant_type": oauth_request.payload.grant_type,
            "scope": row.scope,
        },
        tenant_id=user.tenant_id if user else None,
        actor=tenants.build_actor(session, user, request_id=request_id()) if user else None,
    )
    session.commit()


def _refresh_ttl() -> int:
    return runtime().settings.refresh_token_ttl


class _ScopeResolving:
    """Mixin: compute the token's scope from the user's roles, the client and the request."""

    request: Any

    def _resolve_scope(self, user: User) -> str:
        requested = scope_to_list(self.request.payload.scope) or []
        by_roles = scopes_for_roles(user.roles)
        by_client = set(self.request.client.scope.split())
        if requested:
            unknown = [s for s in requested if s not in ALL_SCOPES]
            if unknown:
                raise ScopeRefused(
                    f"unknown scope: {' '.join(unknown)}", f"未知的权限范围：{' '.join(unknown)}"
                )
            refused = [s for s in requested if s not in by_roles or s not in by_client]
            if refused:
                raise ScopeRefused(
                    f"the roles of {user.username} do not allow scope: {' '.join(refused)}",
                    f"用户 {user.username} 的角色不能获得权限范围：{' '.join(refused)}",
                )
            wanted = set(requested)
        else:
            wanted = by_roles & by_client
        return " ".join(s for s in ALL_SCOPES if s in wanted)

    def generate_token(self, user: Any = None, scope: Any = None, **kwargs: Any) -> Any:
        user = user or self.request.user
        return super().generate_token(user=user, scope=self._resolve_scope(user), **kwargs)  # type: ignore[misc]


class PasswordGrant(_ScopeResolving, grants.ResourceOwnerPasswordCredentialsGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["none"]

    def validate_token_request(self) -> None:
        super().validate_token_request()
        if self.request.client.client_id != CLI_CLIENT_ID:
            raise ClientRefused(
                "the password grant is for the first-party client jixiao-cli only",
                "密码模式只允许第一方客户端 jixiao-cli 使用",
            )
        self._resolve_scope(self.request.user)  # refuse a bad scope before anything is issued

    def authenticate_user(self, username: str, password: str) -> User:
        user = tenants.authenticate(system_db("oauth"), username, password)
        if user is None:
            raise BadCredentials(
                "invalid username or password, or the account is disabled", "用户名或密码错误，或账号已停用"
            )
        return user


class ClientCredentialsGrant(_ScopeResolving, grants.ClientCredentialsGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

    def validate_token_request(self) -> None:
        super().validate_token_request()
        client: OAuthClient = self.request.client
        user = system_db("oauth").get(User, client.service_user_id) if client.service_user_id else None
        if user is None or not user.is_active:
            raise ClientRefused("the client has no active service user", "该客户端未绑定有效的服务账号")
        self.request.user = user
        self._resolve_scope(user)


class RefreshTokenGrant(grants.RefreshTokenGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["none", "client_secret_basic", "client_secret_post"]
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token: str) -> OAuthToken | None:
        session = system_db("oauth")
        row = session.execute(
            select(OAuthToken).where(OAuthToken.refresh_token_hash == token_digest(refresh_token))
        ).scalar_one_or_none()
        if row is None:
            return None
        if row.rotated_at:
            _revoke_family(row)  # a spent refresh token again: stolen, or a copy of a stolen one
            return None
        if not row.is_refresh_usable():
            return None  # revoked (logout, password change, deactivation) or expired
        # claim it atomically: of two requests presenting it at once, one rotates, the other is reuse
        now = int(time.time())
        claimed = session.execute(
            update(OAuthToken)
            .where(
                OAuthToken.id == row.id, OAuthToken.rotated_at == 0, OAuthToken.refresh_token_revoked_at == 0
            )
            .values(rotated_at=now, refresh_token_revoked_at=now, access_token_revoked_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        if claimed != 1:
            session.rollback()
            _revoke_family(session.get(OAuthToken, row.id) or row)
            return None
        session.refresh(row)
        return row

    def authenticate_user(self, refresh_token: OAuthToken) -> User | None:
        user = refresh_token.user
        return user if user is not None and user.is_active else None

    def revoke_old_credential(self, refresh_token: OAuthToken) -> None:
        now = int(time.time())
        refresh_token.access_token_revoked_at = now
        refresh_token.refresh_token_revoked_at = now
        system_db("oauth").commit()


def revoke_family(
    action: str, family_id: str | None, *, user: User | None, user_id: Any, client_id: str
) -> None:
    """Revoke every token issued within one grant's family — a spent refresh token or a spent
    authorization code presented again — and audit `action`; committed before the refusal."""
    session = system_db("oauth")
    revoked = revoke_tokens(session, OAuthToken.family_id == family_id) if family_id else 0
    record(
        session,
        action,
        object_type="user",
        object_id=user_id,
        after={"client_id": client_id, "family_id": family_id, "revoked": revoked},
        tenant_id=user.tenant_id if user else None,
        actor=tenants.build_actor(session, user, request_id=request_id()) if user else None,
    )
    session.commit()


def _revoke_family(reused: OAuthToken) -> None:
    revoke_family(
        "oauth.refresh_token_reused",
        reused.family_id,
        user=reused.user,
        user_id=reused.user_id,
        client_id=reused.client_id,
    )


class Revocation(RevocationEndpoint):
    CLIENT_AUTH_METHODS = ["none", "client_secret_basic", "client_secret_post"]

    def query_token(self, token_string: str, token_type_hint: str | None) -> OAuthToken | None:
        digest = token_digest(token_string)
        session = system_db("oauth")
        columns = [OAuthToken.access_token_hash, OAuthToken.refresh_token_hash]
        if token_type_hint == "refresh_token":
            columns.reverse()
        for column in columns:
            row = session.execute(select(OAuthToken).where(column == digest)).scalar_one_or_none()
            if row is not None:
                return row
        return None

    def revoke_token(self, token: OAuthToken, oauth_request: Any) -> None:
        now = int(time.time())
        token.access_token_revoked_at = now
        token.refresh_token_revoked_at = now
        session = system_db("oauth")
        record(
            session,
            "oauth.token_revoked",
            object_type="user",
            object_id=token.user_id,
            after={"client_id": token.client_id},
            tenant_id=token.user.tenant_id if token.user else None,
            actor=tenants.build_actor(session, token.user, request_id=request_id()) if token.user else None,
        )
        session.commit()


class _Validator(BearerTokenValidator):
    def authenticate_token(self, token_string: str) -> OAuthToken | None:
        return (
            system_db("oauth")
            .execute(select(OAuthToken).where(OAuthToken.access_token_hash == token_digest(token_string)))
            .scalar_one_or_none()
        )


authorization = AuthorizationServer()
protector = ResourceProtector()
protector.register_token_validator(_Validator())


def bearer_token() -> OAuthToken:
    """Validate the request's bearer token; raises OAuth2Error (mapped to 401) when it is not good."""
    token: OAuthToken = protector.validate_request(scopes=None, request=request)
    return token


bp = Blueprint("oauth", __name__, url_prefix="/oauth")


@bp.post("/token")
@limiter.limit(
    lambda: runtime().settings.login_limit,
    key_func=login_key,
    deduct_when=login_failed,
    exempt_when=lambda: request.form.get("grant_type") != "password",
)
@limiter.limit(
    "30 per 15 minutes",
    key_func=login_ip_key,
    deduct_when=login_failed,
    exempt_when=lambda: request.form.get("grant_type") != "password",
)
def issue_token() -> Any:
    """RFC 6749 token endpoint (form-encoded)."""
    return authorization.create_token_response()


@bp.post("/revoke")
def revoke_token() -> Any:
    """RFC 7009 revocation (access or refresh token); always 200 for an unknown token."""
    return authorization.create_endpoint_response(Revocation.ENDPOINT_NAME)
