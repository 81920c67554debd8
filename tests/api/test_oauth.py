"""The OAuth2 server as a client sees it: /oauth/token, /oauth/revoke and bearer tokens on the API.

Every token request comes from its own client IP (`REMOTE_ADDR`), so the failures these tests
provoke on purpose never count against the login throttle of the rest of the suite.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import time
from typing import Any

import pytest
from sqlalchemy import func, select, text, update

from jixiao.platform.core.authz import ROLE_SCOPES
from jixiao.platform.core.oauth_models import OAuthClient, OAuthToken
from jixiao.tenants.passwords import hash_password

CLI = "jixiao-cli"
DEMO_PASSWORD = "Demo@2026"
CJK = re.compile(r"[\u4e00-\u9fff]")
SERVICE_SCOPE = "profile projects:read"


# --- helpers ------------------------------------------------------------------------------------


def _ip() -> str:
    return f"10.{secrets.randbelow(256)}.{secrets.randbelow(256)}.{secrets.randbelow(254) + 1}"


def _post_token(client: Any, form: dict[str, str], *, auth: tuple[str, str] | None = None) -> Any:
    headers = {}
    if auth is not None:
        raw = f"{auth[0]}:{auth[1]}".encode()
        headers["Authorization"] = "Basic " + base64.b64encode(raw).decode()
    return client.post("/oauth/token", data=form, headers=headers, environ_base={"REMOTE_ADDR": _ip()})


def _password_grant(
    client: Any, username: str, password: str = DEMO_PASSWORD, scope: str | None = None, client_id: str = CLI
) -> Any:
    form = {"grant_type": "password", "client_id": client_id, "username": username, "password": password}
    if scope is not None:
        form["scope"] = scope
    return _post_token(client, form)


def _issue(client: Any, username: str, password: str = DEMO_PASSWORD, scope: str | None = None) -> dict:
    resp = _password_grant(client, username, password, scope)
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


def _refresh(client: Any, refresh_token: str) -> Any:
    return _post_token(
        client, {"grant_type": "refresh_token", "client_id": CLI, "refresh_token": refresh_token}
    )


def _revoke(client: Any, token: str, hint: str | None = None) -> Any:
    form = {"token": token, "client_id": CLI}
    if hint:
        form["token_type_hint"] = hint
    return client.post("/oauth/revoke", data=form, environ_base={"REMOTE_ADDR": _ip()})


def _me(client: Any, token: str) -> Any:
    return client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _create_user(api: Any, roles: list[str] | None = None) -> dict[str, Any]:
    """A throw-away user of 640104 (created by its bureau admin), with its password."""
    username = f"t.oauth.{secrets.token_hex(4)}"
    password = f"Qa!{secrets.token_hex(4)}Zz9"
    resp = api.as_user("xq.admin").post(
        "/api/v1/tenants/640104/users",
        json={
            "username": username,
            "display_name": "令牌测试用户",
            "password": password,
            "roles": roles or ["project_editor"],
        },
    )
    assert resp.status_code == 201, resp.get_json()
    return {**resp.get_json(), "password": password}


def _tokens_of(runtime: Any, user_id: int) -> int:
    with runtime.db.transaction(system="test: count tokens") as s:
        return s.execute(
            select(func.count()).select_from(OAuthToken).where(OAuthToken.user_id == user_id)
        ).scalar_one()


def _assert_401_json(resp: Any) -> None:
    assert resp.status_code == 401, resp.get_data(as_text=True)
    body = resp.get_json()
    assert body is not None, "401 must have a JSON body"
    assert body["code"] == 401
    assert body["message"] and CJK.search(body["message"])
    assert resp.headers.get("WWW-Authenticate", "").startswith("Bearer")


@pytest.fixture()
def user(api: Any) -> dict[str, Any]:
    return _create_user(api)


@pytest.fixture(scope="module")
def service(api: Any, runtime: Any) -> dict[str, Any]:
    """A confidential machine client bound to a service user, as `jixiao clients create` makes it."""
    svc_user = _create_user(api, ["project_editor"])
    secret = secrets.token_urlsafe(32)
    client_id = "svc-" + secrets.token_hex(6)
    with runtime.db.transaction(system="test: clients create") as s:
        s.add(
            OAuthClient(
                client_id=client_id,
                client_secret_hash=hash_password(secret),
                name="测试数据交换",
                grant_types="client_credentials",
                scope=SERVICE_SCOPE,
                token_endpoint_auth_method="client_secret_basic",
                service_user_id=svc_user["id"],
            )
        )
    return {"client_id": client_id, "secret": secret, "user": svc_user}


# --- password grant and scopes ------------------------------------------------------------------


def test_password_grant_issues_bearer_with_every_scope_of_the_roles(client, settings):
    resp = _password_grant(client, "xq.editor")
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["access_token"] and body["refresh_token"]
    assert body["token_type"].lower() == "bearer"
    assert body["expires_in"] == settings.access_token_ttl
    scopes = set(body["scope"].split())
    assert scopes == set(ROLE_SCOPES["project_editor"])
    assert "projects:write" in scopes and "admin" not in scopes
    me = _me(client, body["access_token"])
    assert me.status_code == 200
    assert me.get_json()["username"] == "xq.editor"
    assert set(me.get_json()["scopes"]) == scopes


def test_narrower_scope_gives_a_token_with_only_that_scope(client):
    body = _issue(client, "xq.editor", scope="profile projects:read")
    assert set(body["scope"].split()) == {"profile", "projects:read"}
    me = _me(client, body["access_token"])
    assert me.status_code == 200
    assert me.get_json()["scopes"] == ["profile", "projects:read"]
    assert me.get_json()["roles"] == ["project_editor"]


def test_scope_the_roles_do_not_allow_is_invalid_scope(client):
    resp = _password_grant(client, "xq.editor", scope="profile admin")
    assert resp.status_code == 400
    body = resp.get_json()
    assert body["error"] == "invalid_scope"
    assert "access_token" not in body
    assert "admin" in body["message"] and CJK.search(body["message"])


def test_unknown_scope_is_invalid_scope(client):
    resp = _password_grant(client, "xq.editor", scope="profile payroll:write")
    assert resp.status_code == 400
    body = resp.get_json()
    assert body["error"] == "invalid_scope"
    assert "access_token" not in body
    assert "payroll:write" in body["message"]


def test_wrong_password_is_invalid_grant_and_issues_nothing(client, runtime, user):
    resp = _password_grant(client, user["username"], "Wrong@2026pw")
    assert resp.status_code == 400
    body = resp.get_json()
    assert body["error"] == "invalid_grant"
    assert "access_token" not in body and "refresh_token" not in body
    assert CJK.search(body["message"])
    assert _tokens_of(runtime, user["id"]) == 0
    # an unknown user gets exactly the same answer: no user enumeration
    unknown = _password_grant(client, f"nobody.{secrets.token_hex(4)}", "Wrong@2026pw")
    assert unknown.status_code == resp.status_code
    assert unknown.get_json() == body


def test_password_grant_is_for_jixiao_cli_only(client, service):
    for client_id in ("no-such-client", service["client_id"]):
        resp = _password_grant(client, "xq.editor", client_id=client_id)
        assert resp.status_code in (400, 401), (client_id, resp.get_json())
        assert resp.get_json()["error"] in ("invalid_client", "unauthorized_client"), client_id
        assert "access_token" not in resp.get_json()
    # the confidential client authenticating properly still may not use the password grant
    form = {"grant_type": "password", "username": "xq.editor", "password": DEMO_PASSWORD}
    resp = _post_token(client, form, auth=(service["client_id"], service["secret"]))
    assert resp.status_code in (400, 401), resp.get_json()
    assert resp.get_json()["error"] in ("invalid_client", "unauthorized_client")
    assert "access_token" not in resp.get_json()


# --- client credentials -------------------------------------------------------------------------


def test_client_credentials_acts_as_the_service_user_within_the_client_scope(client, service):
    resp = _post_token(
        client, {"grant_type": "client_credentials"}, auth=(service["client_id"], service["secret"])
    )
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["token_type"].lower() == "bearer"
    assert set(body["scope"].split()) == set(SERVICE_SCOPE.split())
    me = _me(client, body["access_token"])
    assert me.status_code == 200
    assert me.get_json()["username"] == service["user"]["username"]
    assert me.get_json()["tenant"]["code"] == "640104"
    # the service user's roles allow projects:write, but the client does not
    assert me.get_json()["scopes"] == ["profile", "projects:read"]
    wider = _post_token(
        client,
        {"grant_type": "client_credentials", "scope": "profile projects:write"},
        auth=(service["client_id"], service["secret"]),
    )
    assert wider.status_code == 400
    assert wider.get_json()["error"] == "invalid_scope"


def test_client_credentials_with_a_wrong_secret_is_invalid_client(client, service):
    resp = _post_token(
        client, {"grant_type": "client_credentials"}, auth=(service["client_id"], "not-the-secret")
    )
    assert resp.status_code == 401
    assert resp.get_json()["error"] == "invalid_client"
    assert "access_token" not in resp.get_json()


# --- refresh and revoke -------------------------------------------------------------------------


def test_refresh_rotates_both_tokens(client):
    old = _issue(client, "xq.editor", scope="profile projects:read")
    resp = _refresh(client, old["refresh_token"])
    assert resp.status_code == 200, resp.get_json()
    new = resp.get_json()
    assert new["access_token"] != old["access_token"]
    assert new["refresh_token"] and new["refresh_token"] != old["refresh_token"]
    assert set(new["scope"].split()) == {"profile", "projects:read"}
    assert _me(client, new["access_token"]).status_code == 200
    # the old refresh token is spent, the old access token revoked
    again = _refresh(client, old["refresh_token"])
    assert again.status_code == 400
    assert again.get_json()["error"] == "invalid_grant"
    assert "access_token" not in again.get_json()
    _assert_401_json(_me(client, old["access_token"]))
    # a spent refresh token presented again revokes the whole chain of the grant (OAuth 2.0
    # security BCP): the token it was rotated into is refused too
    _assert_401_json(_me(client, new["access_token"]))
    assert _refresh(client, new["refresh_token"]).status_code == 400


def test_revoking_an_access_token_ends_it(client):
    issued = _issue(client, "xq.editor")
    assert _me(client, issued["access_token"]).status_code == 200
    resp = _revoke(client, issued["access_token"], "access_token")
    assert resp.status_code == 200
    _assert_401_json(_me(client, issued["access_token"]))


def test_revoking_a_refresh_token_stops_refresh(client):
    issued = _issue(client, "xq.editor")
    assert _revoke(client, issued["refresh_token"], "refresh_token").status_code == 200
    resp = _refresh(client, issued["refresh_token"])
    assert resp.status_code == 400
    assert resp.get_json()["error"] == "invalid_grant"
    assert "access_token" not in resp.get_json()


def test_revoking_an_unknown_token_is_200(client):
    assert _revoke(client, secrets.token_urlsafe(32)).status_code == 200
    assert _revoke(client, secrets.token_urlsafe(32), "refresh_token").status_code == 200


# --- bearer tokens on the API -------------------------------------------------------------------


def test_tampered_token_is_401_json_with_www_authenticate(client):
    token = _issue(client, "xq.editor")["access_token"]
    assert _me(client, token).status_code == 200
    i = len(token) // 2
    tampered = token[:i] + ("A" if token[i] != "A" else "B") + token[i + 1 :]
    _assert_401_json(_me(client, tampered))


def test_expired_token_is_401(client, runtime):
    token = _issue(client, "xq.editor")["access_token"]
    assert _me(client, token).status_code == 200
    with runtime.db.transaction(system="test: expire a token") as s:
        result = s.execute(
            update(OAuthToken)
            .where(OAuthToken.access_token_hash == _sha256(token))
            .values(issued_at=int(time.time()) - 30 * 24 * 3600)
        )
        assert result.rowcount == 1
    _assert_401_json(_me(client, token))


def test_no_token_is_401(client):
    _assert_401_json(client.get("/api/v1/me"))


def test_deactivated_users_token_stops_working(client, api, user):
    issued = _issue(client, user["username"], user["password"])
    assert _me(client, issued["access_token"]).status_code == 200
    resp = api.as_user("xq.admin").patch(f"/api/v1/users/{user['id']}", json={"is_active": False})
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["is_active"] is False
    _assert_401_json(_me(client, issued["access_token"]))
    # and it gets no new token either way
    refreshed = _refresh(client, issued["refresh_token"])
    assert refreshed.status_code == 400 and "access_token" not in refreshed.get_json()
    again = _password_grant(client, user["username"], user["password"])
    assert again.status_code == 400
    assert again.get_json()["error"] == "invalid_grant"


# --- storage and audit --------------------------------------------------------------------------


def test_tokens_are_stored_only_as_digests(client, runtime):
    issued = _issue(client, "xq.editor")
    access, refresh = issued["access_token"], issued["refresh_token"]
    with runtime.db.transaction(system="test: read oauth_tokens") as s:
        rows = s.execute(text("SELECT * FROM oauth_tokens")).mappings().all()
    assert any(row["access_token_hash"] == _sha256(access) for row in rows)
    assert any(row["refresh_token_hash"] == _sha256(refresh) for row in rows)
    dump = "\n".join(str(value) for row in rows for value in row.values())
    assert access not in dump
    assert refresh not in dump


def test_token_issue_is_audited_for_the_user(client, api, user):
    _issue(client, user["username"], user["password"])
    resp = api.as_user("xq.admin").get(
        f"/api/v1/audit-events?object_type=user&object_id={user['id']}&action=oauth.token_issued"
    )
    assert resp.status_code == 200, resp.get_json()
    events = resp.get_json()["items"]
    assert len(events) == 1
    event = events[0]
    assert event["action"] == "oauth.token_issued"
    assert event["username"] == user["username"]
    assert event["after"]["client_id"] == CLI
    assert event["after"]["grant_type"] == "password"


def test_a_refused_scope_with_the_right_password_does_not_count_as_a_failed_login(app, api, unique):
    """Trying scopes must not lock a script author out: only wrong credentials are throttled."""
    username = f"xq.sc{unique}"
    created = api.as_user("xq.admin").post(
        "/api/v1/tenants/640104/users",
        json={
            "username": username,
            "display_name": "脚本",
            "password": "Script@2026",
            "roles": ["project_editor"],
        },
    )
    assert created.status_code == 201
    client = app.test_client()
    form = {
        "grant_type": "password",
        "client_id": "jixiao-cli",
        "username": username,
        "password": "Script@2026",
    }
    env = {"REMOTE_ADDR": f"10.77.{int(unique[:2], 16)}.{int(unique[2:4], 16)}"}
    for _ in range(6):
        refused = client.post("/oauth/token", data={**form, "scope": "profile admin"}, environ_base=env)
        assert refused.status_code == 400 and refused.get_json()["error"] == "invalid_scope"
    assert client.post("/oauth/token", data=form, environ_base=env).status_code == 200
