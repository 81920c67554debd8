"""Tenants, users and OAuth clients of a production install."""

from __future__ import annotations

import secrets

import click
from flask.cli import with_appcontext

from . import _rt, main

# each command imports the services it uses when it runs (the `jixiao` command starts light)

# --- tenants / clients -------------------------------------------------------------------------


@main.group("tenants")
def tenants_group() -> None:
    """Tenant provisioning."""


@tenants_group.command("bootstrap")
@click.option("--code", required=True, help="Province division code, e.g. 640000")
@click.option("--name", required=True, help="e.g. 宁夏回族自治区")
@click.option("--admin-username", required=True)
@click.option(
    "--password", envvar="JIXIAO_BOOTSTRAP_PASSWORD", prompt=True, hide_input=True, confirmation_prompt=True
)
@with_appcontext
def tenants_bootstrap(code: str, name: str, admin_username: str, password: str) -> None:
    """Create the province tenant and its first admin on a fresh install."""
    from jixiao.platform.core.errors import ValidationFailed
    from jixiao.tenants import demo, users

    rt = _rt()
    try:
        with rt.db.transaction(system="tenants bootstrap") as s:
            user = users.bootstrap_province(
                s, code=code, name=name, admin_username=admin_username, password=password
            )
            demo.ensure_cli_client(s)
    except ValidationFailed as exc:
        raise click.ClickException(f"{exc.message}: {exc.errors}") from None
    click.echo(f"已创建省级管理员 {user.username}")


@main.group("clients")
def clients_group() -> None:
    """OAuth2 machine clients."""


@clients_group.command("create")
@click.option("--name", required=True)
@click.option("--user", "username", required=True, help="The service user the client acts as.")
@click.option("--scope", default="", help="Space-separated; default: every scope.")
@with_appcontext
def clients_create(name: str, username: str, scope: str) -> None:
    """Register a confidential client for the client_credentials grant; prints the secret once."""
    from jixiao.platform.core import audit
    from jixiao.platform.core.authz import ALL_SCOPES
    from jixiao.platform.core.oauth_models import OAuthClient
    from jixiao.tenants import service
    from jixiao.tenants.passwords import hash_password

    rt = _rt()
    scopes = scope.split() or list(ALL_SCOPES)
    unknown = [s for s in scopes if s not in ALL_SCOPES]
    if unknown:
        raise click.ClickException(f"未知的权限范围：{' '.join(unknown)}")
    secret = secrets.token_urlsafe(32)
    client_id = "svc-" + secrets.token_hex(6)
    with rt.db.transaction(system="clients create") as s:
        user = service.find_login_user(s, username)
        if user is None:
            raise click.ClickException(f"用户 {username} 不存在")
        s.add(
            OAuthClient(
                client_id=client_id,
                client_secret_hash=hash_password(secret),
                name=name,
                grant_types="client_credentials",
                scope=" ".join(scopes),
                token_endpoint_auth_method="client_secret_basic",
                service_user_id=user.id,
            )
        )
        audit.record(
            s,
            "oauth.client_create",
            object_type="oauth_client",
            object_id=client_id,
            after={"name": name, "user": username, "scope": scopes},
            tenant_id=user.tenant_id,
        )
    click.echo(f"client_id={client_id}\nclient_secret={secret}")


@main.group("oauth")
def oauth_group() -> None:
    """The OAuth2 server."""


@oauth_group.group("clients")
def oauth_clients_group() -> None:
    """Clients of the authorization code grant (PKCE), registered by the province admin."""


@oauth_clients_group.command("add")
@click.option("--name", required=True, help="Shown to users on the consent page, e.g. 宁夏预算管理一体化系统")
@click.option(
    "--redirect-uri", "redirect_uris", multiple=True, required=True, help="Exact redirect URI (repeatable)."
)
@click.option("--public", is_flag=True, help="A public client (no secret; PKCE only), e.g. a desktop app.")
@click.option(
    "--scope", default="profile", show_default=True, help="Space-separated: the most it may ask for."
)
@with_appcontext
def oauth_clients_add(name: str, redirect_uris: tuple[str, ...], public: bool, scope: str) -> None:
    """Register a client; prints its client_id and, for a confidential client, its secret (once)."""
    from jixiao.platform.core.errors import ValidationFailed
    from jixiao.platform.core.oauth_models import register_client

    try:
        with _rt().db.transaction(system="oauth clients add") as s:
            client, secret = register_client(
                s, None, name=name, redirect_uris=list(redirect_uris), scopes=scope.split(), public=public
            )
            client_id = client.client_id
    except ValidationFailed as exc:
        problems = "；".join(p for field in exc.errors.values() for p in field)
        raise click.ClickException(f"{exc.message}：{problems}") from None
    click.echo(f"client_id={client_id}")
    if secret:
        click.echo(f"client_secret={secret}")
        click.echo("密钥只显示这一次，本平台只保存其摘要。", err=True)
