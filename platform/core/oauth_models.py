"""OAuth2 clients, authorization codes and tokens (the Authlib server in `jixiao.platform.web.oauth`
uses them), the registration of clients by the province admin, and the server-side web sessions of
the pages (`jixiao.platform.core.web_sessions`).

Tokens and session ids are stored only as SHA-256 digests: a stolen database dump yields no usable
token and no usable session. Every token produced by rotation from one original grant shares its
`family_id`, so reusing a spent refresh token can revoke the whole chain (OAuth 2.0 Security BCP).
Revoking is setting `*_revoked_at`; ending a web session is setting `ended_at` — rows are kept.
Authorization codes too are stored as digests and kept once spent (`used_at`), so that a code
presented a second time is recognised and the tokens issued from it revoked (RFC 6749 §4.1.2)."""

from __future__ import annotations

import hashlib
import secrets
import time
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import JSON, ColumnElement, ForeignKey, String, Text, case, or_, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from jixiao.platform.core.actor import Actor
from jixiao.platform.core.audit import record
from jixiao.platform.core.authz import ALL_SCOPES, authorize, policy, require_role
from jixiao.platform.core.db import Base, utcnow
from jixiao.platform.core.errors import Forbidden, NotFound, ValidationFailed
from jixiao.tenants.passwords import hash_password, verify_password

# An authorization code lives this long (RFC 6749 §4.1.2: "expire shortly after it is issued").
CODE_TTL_SECONDS = 60
FIRST_PARTY_CLIENT_ID = "jixiao-cli"


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
    # `none` for a public client (no secret: PKCE alone binds the code to it), else the only way
    # the client authenticates at the token endpoint (`client_secret_basic`)
    token_endpoint_auth_method: Mapped[str] = mapped_column(String(40))
    # the authorization code grant redirects only to one of these, compared exactly
    redirect_uris: Mapped[list[str]] = mapped_column(JSON, default=list)
    # client_credentials tokens act as this (service) user, within the client's scope.
    service_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    # --- Authlib ClientMixin -----------------------------------------------------------------
    def get_client_id(self) -> str:
        return self.client_id

    @property
    def is_public(self) -> bool:
        return self.token_endpoint_auth_method == "none"

    def get_default_redirect_uri(self) -> str | None:
        return None  # the authorization request must name its redirect_uri

    def get_allowed_scope(self, scope: str | None) -> str:
        if not scope:
            return ""
        allowed = set(self.scope.split())
        return " ".join(s for s in scope.split() if s in allowed)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        """Exactly one of the registered addresses: no prefix, no wildcard, no normalisation."""
        return redirect_uri in (self.redirect_uris or [])

    def check_client_secret(self, client_secret: str) -> bool:
        if not self.client_secret_hash:
            return False
        return verify_password(self.client_secret_hash, client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        if endpoint == "token":
            return method == self.token_endpoint_auth_method
        if endpoint == "introspection":  # resource servers: confidential clients, with their secret
            return not self.is_public and method in {"client_secret_basic", "client_secret_post"}
        return method in {self.token_endpoint_auth_method, "none", "client_secret_basic"}

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code" and self.check_grant_type("authorization_code")

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


class OAuthAuthorizationCode(Base):
    """One authorization code (RFC 6749 §4.1) with its PKCE challenge (RFC 7636, S256 only).

    Single use: the exchange sets `used_at` and `family_id` (the family of the tokens it issues)
    in one conditional UPDATE; a code presented again revokes that family."""

    __tablename__ = "oauth_authorization_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    client_id: Mapped[str] = mapped_column(String(64), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    redirect_uri: Mapped[str] = mapped_column(Text)
    scope: Mapped[str] = mapped_column(Text, default="")
    code_challenge: Mapped[str] = mapped_column(String(128))
    code_challenge_method: Mapped[str] = mapped_column(String(10))
    issued_at: Mapped[int] = mapped_column(default=lambda: int(time.time()))
    expires_at: Mapped[int]
    used_at: Mapped[int] = mapped_column(default=0)
    family_id: Mapped[str | None] = mapped_column(String(32))

    user = relationship("User", lazy="joined")

    # --- Authlib AuthorizationCodeMixin ------------------------------------------------------
    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_auth_time(self) -> int:
        return self.issued_at

    def is_expired(self) -> bool:
        return self.expires_at < time.time()


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


# --- registration by the province admin --------------------------------------------------------

CODE_GRANT_TYPES = "authorization_code refresh_token"
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]", "::1"})


@policy("oauth_clients.manage", scope="admin")
def _may_manage_clients(actor: Actor) -> None:
    """Only the province admin registers (and deactivates) the OAuth clients of integrators."""
    require_role(actor, "province_admin", message="只有省财政厅管理员可以登记接入系统（OAuth 客户端）")


def redirect_uri_problem(uri: str) -> str | None:
    """Why `uri` cannot be registered (None when it can): an absolute https address (http only on
    this machine's loopback, RFC 8252 §7.3), without fragment or wildcard."""
    if not uri or uri != uri.strip() or not uri.isprintable() or len(uri) > 500:
        return "回调地址须为不含空格和控制字符的完整网址（不超过 500 个字符）"
    try:
        parts = urlsplit(uri)
        host = parts.hostname
    except ValueError:
        return f"回调地址 {uri} 不是有效的网址"
    if parts.scheme not in ("https", "http") or not host:
        return f"回调地址 {uri} 须以 https:// 开头"
    if parts.scheme == "http" and host not in LOOPBACK_HOSTS:
        return f"回调地址 {uri} 须使用 https（http 只允许本机回环地址）"
    if parts.fragment or "#" in uri:
        return f"回调地址 {uri} 不能含片段（#…）"
    if "*" in uri:
        return f"回调地址 {uri} 不能含通配符：回调地址按原样逐字比对"
    if parts.username or parts.password:
        return f"回调地址 {uri} 不能含用户名或密码"
    return None


def register_client(
    session: Session,
    actor: Actor | None,
    *,
    name: str,
    redirect_uris: list[str],
    scopes: list[str],
    public: bool,
) -> tuple[OAuthClient, str | None]:
    """Register a client of the authorization code grant (PKCE); returns it and its secret (None
    for a public client). Only the secret's argon2 hash is stored: the caller shows it once.
    `actor` None: the command line (`jixiao oauth clients add`), audited as the system."""
    if actor is not None:
        authorize(actor, "oauth_clients.manage")
    errors: dict[str, list[str]] = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = ["请填写接入系统的名称（用户在授权页上看到的名称）"]
    elif len(name) > 100 or not name.isprintable():
        errors["name"] = ["名称不超过 100 个字符，且不能含控制字符"]
    uris = [u.strip() for u in redirect_uris if u.strip()]
    if not uris:
        errors["redirect_uris"] = ["至少填写一个回调地址"]
    else:
        problems = [p for p in (redirect_uri_problem(u) for u in uris) if p]
        if problems:
            errors["redirect_uris"] = problems
    unknown = [s for s in scopes if s not in ALL_SCOPES]
    if unknown:
        errors["scope"] = [f"未知的权限范围：{' '.join(unknown)}"]
    elif not scopes:
        errors["scope"] = ["至少选择一个权限范围"]
    if errors:
        raise ValidationFailed("接入系统的登记信息有误", errors=errors)
    secret = None if public else secrets.token_urlsafe(32)
    client = OAuthClient(
        client_id=secrets.token_hex(12),
        client_secret_hash=hash_password(secret) if secret else None,
        name=name,
        grant_types=CODE_GRANT_TYPES,
        scope=" ".join(s for s in ALL_SCOPES if s in scopes),
        token_endpoint_auth_method="none" if public else "client_secret_basic",
        redirect_uris=list(dict.fromkeys(uris)),
    )
    session.add(client)
    session.flush()
    record(
        session,
        "oauth.client_create",
        object_type="oauth_client",
        object_id=client.client_id,
        after={
            "name": client.name,
            "public": public,
            "redirect_uris": client.redirect_uris,
            "scope": client.scope.split(),
            "grant_types": client.grant_types.split(),
        },
        actor=actor,
    )
    return client, secret


def list_clients(session: Session, actor: Actor) -> list[OAuthClient]:
    authorize(actor, "oauth_clients.manage")
    return list(session.execute(select(OAuthClient).order_by(OAuthClient.id.desc())).scalars())


def deactivate_client(session: Session, actor: Actor, client_id: str) -> tuple[OAuthClient, int]:
    """Stop a client: no new authorization, no token exchange, and every live token of it revoked.
    The first-party `jixiao-cli` is not deactivated here (scripts and the demo depend on it)."""
    authorize(actor, "oauth_clients.manage")
    client = session.execute(
        select(OAuthClient).where(OAuthClient.client_id == client_id)
    ).scalar_one_or_none()
    if client is None:
        raise NotFound("接入系统不存在")
    if client.client_id == FIRST_PARTY_CLIENT_ID:
        raise Forbidden("第一方客户端 jixiao-cli 不能停用")
    was_active = client.is_active
    client.is_active = False
    revoked = revoke_tokens(session, OAuthToken.client_id == client.client_id)
    record(
        session,
        "oauth.client_deactivate",
        object_type="oauth_client",
        object_id=client.client_id,
        before={"is_active": was_active},
        after={"is_active": False, "revoked_tokens": revoked},
        actor=actor,
    )
    return client, revoked
