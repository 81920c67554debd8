"""The demo province of DEMO.md: tenants, users, the evaluator organisation, the CLI client.

Idempotent: whatever already exists is left as it is, so running it twice changes nothing.
Capabilities add their own demo data (library, program) through `jixiao demo load` hooks."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from jixiao.platform.core.authz import ALL_SCOPES
from jixiao.platform.core.oauth_models import OAuthClient

from . import evaluators, service, users
from .divisions import DEMO_EVALUATOR_ORG, DEMO_EVALUATOR_USERS, DEMO_USERS, NINGXIA
from .models import EvaluatorOrg

CLI_CLIENT_ID = "jixiao-cli"


def ensure_cli_client(session: Session) -> OAuthClient:
    """The first-party public client for scripts and tests (password + refresh_token grants)."""
    client = session.execute(
        select(OAuthClient).where(OAuthClient.client_id == CLI_CLIENT_ID)
    ).scalar_one_or_none()
    if client is None:
        client = OAuthClient(
            client_id=CLI_CLIENT_ID,
            client_secret_hash=None,
            name="jixiao 命令行与脚本（第一方公共客户端）",
            grant_types="password refresh_token",
            scope=" ".join(ALL_SCOPES),
            token_endpoint_auth_method="none",
        )
        session.add(client)
        session.flush()
    return client


def load(session: Session, password: str) -> dict[str, int]:
    """Load tenants, users, evaluator org and client; returns what was created."""
    created = {"tenants": 0, "users": 0, "evaluator_orgs": 0}
    for code, name, level, parent in NINGXIA:
        if service.tenant_by_code(session, code) is None:
            service._insert_tenant(session, code=code, name=name, level=level, parent_code=parent, actor=None)
            created["tenants"] += 1
    for username, code, display_name, roles in DEMO_USERS:
        if service.find_login_user(session, username) is None:
            tenant = service.tenant_by_code(session, code)
            users._insert_user(
                session,
                None,
                username=username,
                display_name=display_name,
                password=password,
                roles=roles,
                tenant=tenant,
            )
            created["users"] += 1
    org = session.execute(
        select(EvaluatorOrg).where(EvaluatorOrg.name == DEMO_EVALUATOR_ORG)
    ).scalar_one_or_none()
    if org is None:
        org = evaluators.create_evaluator_org(session, None, name=DEMO_EVALUATOR_ORG, contact="张经理")
        created["evaluator_orgs"] += 1
    for username, display_name in DEMO_EVALUATOR_USERS:
        if service.find_login_user(session, username) is None:
            users._insert_user(
                session,
                None,
                username=username,
                display_name=display_name,
                password=password,
                roles=["evaluator"],
                org=org,
            )
            created["users"] += 1
    ensure_cli_client(session)
    return created
