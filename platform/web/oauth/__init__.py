"""OAuth2 server (Authlib).

Endpoints: `/oauth/token` (RFC 6749), `/oauth/revoke` (RFC 7009), `/oauth/authorize` (the consent
page of the authorization code grant), `/oauth/introspect` (RFC 7662); and bearer-token validation
for the API.

Grants: `password` (first-party public client `jixiao-cli` only), `client_credentials`
(registered machine clients acting as their service user), `authorization_code` with PKCE S256
(registered clients of integrators, confidential or public: `code`), `refresh_token` (rotating).
Every token rotated from one grant shares its `family_id`; presenting a refresh token that was
already rotated or revoked — or an authorization code already exchanged — revokes the whole family
(OAuth 2.0 Security BCP; RFC 6749 §4.1.2).
Scopes: omitted → every scope the user's roles allow (∩ the client's); named → each must be
allowed to the user, else `invalid_scope` naming it (Authlib would silently drop it).

Modules: `server` (token side, grants without a browser), `code` (authorization code + PKCE),
`consent` (the page), `introspection`.
"""

from __future__ import annotations

from flask import Flask

from jixiao.platform.core.authz import ALL_SCOPES

from . import consent, introspection, server  # noqa: F401 - consent: registers /oauth/authorize
from .code import AuthorizationCodeGrant, S256CodeChallenge
from .server import (
    CLI_CLIENT_ID,
    ClientCredentialsGrant,
    PasswordGrant,
    RefreshTokenGrant,
    Revocation,
    authorization,
    bearer_token,
    bp,
    protector,
)

__all__ = ["ALL_SCOPES", "CLI_CLIENT_ID", "authorization", "bearer_token", "bp", "init_oauth", "protector"]


def init_oauth(app: Flask, access_token_ttl: int) -> None:
    from ..views import oauth_clients

    app.config["OAUTH2_REFRESH_TOKEN_GENERATOR"] = True
    app.config["OAUTH2_TOKEN_EXPIRES_IN"] = {
        "password": access_token_ttl,
        "client_credentials": access_token_ttl,
        "authorization_code": access_token_ttl,
        "refresh_token": access_token_ttl,
    }
    authorization.init_app(app, query_client=server._client, save_token=server._save_token)
    authorization.register_grant(PasswordGrant)
    authorization.register_grant(ClientCredentialsGrant)
    authorization.register_grant(AuthorizationCodeGrant, [S256CodeChallenge(required=True)])
    authorization.register_grant(RefreshTokenGrant)
    authorization.register_endpoint(Revocation)
    authorization.register_endpoint(introspection.Introspection)
    # the province admin's page of registered clients (系统管理 → 接入系统)
    app.register_blueprint(oauth_clients.bp)
