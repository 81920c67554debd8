"""The authorization code grant with PKCE as an integrator sees it (HTTP through the test client):
the consent page behind a page login, S256 only, exact redirect URIs, single-use short-lived codes
(a second use revokes what the first one issued), scopes no wider than the user's, confidential and
public clients, token introspection for resource servers, and the registration of clients by the
province admin (page and CLI).

Every request that could count as a failed login comes from its own client IP.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import time
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from sqlalchemy import update

from jixiao.platform.core.authz import ALL_SCOPES, ROLE_SCOPES, SCOPE_NAMES
from jixiao.platform.core.oauth_models import CODE_TTL_SECONDS, OAuthAuthorizationCode, register_client
from tests.api.test_oauth import _assert_401_json, _create_user, _me
from tests.api.test_security import _login, _meta_csrf
from tests.support.cli import run_cli

CB = "https://bgt.nx.example/oauth/callback"
FORM_CSRF = re.compile(r'name="csrf_token"\s+value="([^"]+)"')


# --- helpers ------------------------------------------------------------------------------------


def _ip() -> str:
    return f"10.{secrets.randbelow(256)}.{secrets.randbelow(256)}.{secrets.randbelow(254) + 1}"


def _browser(app: Any) -> Any:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = _ip()
    return client


def _signed_in(app: Any, username: str, password: str = "Demo@2026") -> Any:
    client = _browser(app)
    assert _login(client, username, password).status_code == 302
    return client


def _pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _register(
    runtime: Any, *, public: bool, scopes: str = "profile projects:read", uris: tuple[str, ...] = (CB,)
):
    with runtime.db.transaction(system="test: oauth clients add") as s:
        client, secret = register_client(
            s,
            None,
            name="宁夏预算管理一体化系统",
            redirect_uris=list(uris),
            scopes=scopes.split(),
            public=public,
        )
        return {"client_id": client.client_id, "secret": secret}


def _authorize_path(client_id: str, challenge: str | None, **extra: str | None) -> str:
    params: dict[str, str] = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": CB,
        "state": "st-" + secrets.token_hex(4),
    }
    if challenge is not None:
        params["code_challenge"] = challenge
        params["code_challenge_method"] = "S256"
    for key, value in extra.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = value
    return "/oauth/authorize?" + urlencode(params)


def _query(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def _decide(page: Any, path: str, decision: str = "allow") -> Any:
    shown = page.get(path)
    assert shown.status_code == 200, shown.get_data(as_text=True)[:500]
    csrf = FORM_CSRF.search(shown.get_data(as_text=True))
    assert csrf, "the consent form carries a csrf_token"
    return page.post(path, data={"csrf_token": csrf.group(1), "decision": decision})


def _code(page: Any, path: str) -> str:
    resp = _decide(page, path)
    assert resp.status_code == 302, resp.get_data(as_text=True)[:500]
    location = resp.headers["Location"]
    assert location.startswith(CB + "?"), location
    got = _query(location)
    assert got["state"] == parse_qs(urlsplit(path).query)["state"][0]
    return got["code"]


def _exchange(
    client: Any,
    reg: dict[str, Any],
    code: str,
    verifier: str | None,
    *,
    redirect_uri: str = CB,
    secret: str | None = None,
) -> Any:
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
    if verifier is not None:
        form["code_verifier"] = verifier
    headers = {}
    if secret is not None:
        raw = f"{reg['client_id']}:{secret}".encode()
        headers["Authorization"] = "Basic " + base64.b64encode(raw).decode()
    else:
        form["client_id"] = reg["client_id"]
    return client.post("/oauth/token", data=form, headers=headers, environ_base={"REMOTE_ADDR": _ip()})


def _introspect(client: Any, resource_server: dict[str, Any], token: str, hint: str | None = None) -> Any:
    form = {"token": token}
    if hint:
        form["token_type_hint"] = hint
    raw = f"{resource_server['client_id']}:{resource_server['secret']}".encode()
    return client.post(
        "/oauth/introspect", data=form, headers={"Authorization": "Basic " + base64.b64encode(raw).decode()}
    )


def _events(api: Any, user_id: int, action: str) -> list[dict[str, Any]]:
    resp = api.as_user("nx.admin").get(
        f"/api/v1/audit-events?object_type=user&object_id={user_id}&action={action}"
    )
    assert resp.status_code == 200, resp.get_json()
    items: list[dict[str, Any]] = resp.get_json()["items"]
    return items


def _refused_without_redirect(resp: Any) -> str:
    """An authorization request that must not go back to the client: a page, no Location."""
    assert resp.status_code == 400, (resp.status_code, resp.headers.get("Location"))
    assert "Location" not in resp.headers
    text = resp.get_data(as_text=True)
    assert "授权请求无效" in text and "code=" not in text
    return text


@pytest.fixture(scope="module")
def public(runtime: Any) -> dict[str, Any]:
    return _register(runtime, public=True)


@pytest.fixture(scope="module")
def confidential(runtime: Any) -> dict[str, Any]:
    return _register(runtime, public=False)


@pytest.fixture()
def user(api: Any) -> dict[str, Any]:
    return _create_user(api)


# --- the whole flow -----------------------------------------------------------------------------


def test_the_whole_flow_for_a_public_client_through_the_login_and_consent(app, api, public, user):
    verifier, challenge = _pkce()
    path = _authorize_path(public["client_id"], challenge)
    browser = _browser(app)
    # not logged in: the login page, coming back to the very request afterwards
    first = browser.get(path)
    assert first.status_code == 302
    to_login = urlsplit(first.headers["Location"])
    assert to_login.path == "/login"
    back = parse_qs(to_login.query)["next"][0]
    assert _same_request(back, path)
    login = browser.post(
        "/login?" + urlencode({"next": back}),
        data={
            "csrf_token": _meta_csrf_login(browser),
            "username": user["username"],
            "password": user["password"],
        },
    )
    assert login.status_code == 302 and _same_request(login.headers["Location"], path)
    # the consent page: the client's name, the scopes in Chinese, the account, 同意 / 拒绝
    page = browser.get(path)
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    html = page.get_data(as_text=True)
    assert "宁夏预算管理一体化系统" in html
    assert SCOPE_NAMES["profile"] in html and SCOPE_NAMES["projects:read"] in html
    assert SCOPE_NAMES["projects:write"] not in html  # the client was registered without it
    assert user["username"] in html
    assert ">同意<" in html and ">拒绝<" in html
    # browsers apply form-action to the redirect after the POST: the client's origin is allowed
    csp = page.headers["Content-Security-Policy"]
    assert "form-action 'self' https://bgt.nx.example" in csp
    assert "script-src 'self'" in csp
    code = _code(browser, path)
    resp = _exchange(app.test_client(), public, code, verifier)
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["token_type"].lower() == "bearer"
    assert set(body["scope"].split()) == {"profile", "projects:read"}
    assert body["refresh_token"]
    me = _me(app.test_client(), body["access_token"])
    assert me.status_code == 200
    assert me.get_json()["username"] == user["username"]
    assert me.get_json()["scopes"] == ["profile", "projects:read"]
    # the API answers the token within its scope
    projects = app.test_client().get(
        "/api/v1/projects", headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert projects.status_code == 200
    # the refresh token rotates like any other
    refreshed = _refresh_as(app.test_client(), public, body["refresh_token"])
    assert refreshed.status_code == 200, refreshed.get_json()
    assert refreshed.get_json()["scope"] == body["scope"]
    # audited: the consent and the token
    [authorized] = _events(api, user["id"], "oauth.authorized")
    assert authorized["after"]["client_id"] == public["client_id"]
    assert authorized["after"]["scope"] == ["profile", "projects:read"]
    issued = _events(api, user["id"], "oauth.token_issued")
    assert "authorization_code" in [e["after"]["grant_type"] for e in issued]


def _same_request(url: str, path: str) -> bool:
    a, b = urlsplit(url), urlsplit(path)
    return a.path == b.path and parse_qs(a.query) == parse_qs(b.query)


def _meta_csrf_login(browser: Any) -> str:
    match = FORM_CSRF.search(browser.get("/login").get_data(as_text=True))
    assert match
    return match.group(1)


def _refresh_as(client: Any, reg: dict[str, Any], refresh_token: str) -> Any:
    return client.post(
        "/oauth/token",
        data={"grant_type": "refresh_token", "client_id": reg["client_id"], "refresh_token": refresh_token},
        environ_base={"REMOTE_ADDR": _ip()},
    )


def test_refusing_returns_access_denied_and_issues_no_code(app, public):
    _, challenge = _pkce()
    path = _authorize_path(public["client_id"], challenge)
    resp = _decide(_signed_in(app, "xq.editor"), path, "deny")
    assert resp.status_code == 302
    location = resp.headers["Location"]
    assert location.startswith(CB + "?")
    got = _query(location)
    assert got["error"] == "access_denied"
    assert got["state"] == parse_qs(urlsplit(path).query)["state"][0]
    assert "code" not in got


def test_the_consent_form_needs_its_csrf_token(app, public):
    _, challenge = _pkce()
    path = _authorize_path(public["client_id"], challenge)
    page = _signed_in(app, "xq.editor")
    assert page.get(path).status_code == 200
    forged = page.post(path, data={"decision": "allow"})
    assert forged.status_code == 400 and "Location" not in forged.headers
    assert "CSRF" in forged.get_data(as_text=True)


# --- PKCE ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "extra",
    [
        {"code_challenge": None, "code_challenge_method": None},  # no PKCE at all
        {"code_challenge_method": "plain"},
        {"code_challenge_method": None},  # RFC 7636 would default to plain
    ],
    ids=["missing", "plain", "method-omitted"],
)
def test_pkce_is_required_with_s256_only(app, public, extra):
    _, challenge = _pkce()
    path = _authorize_path(public["client_id"], challenge, **extra)
    resp = _signed_in(app, "xq.editor").get(path)
    assert resp.status_code == 302
    got = _query(resp.headers["Location"])
    assert resp.headers["Location"].startswith(CB + "?")
    assert got["error"] == "invalid_request"
    assert "code" not in got
    # and the same request is refused before the login too (no consent page is ever shown for it)
    anonymous = _browser(app).get(path)
    assert (
        anonymous.status_code == 302 and _query(anonymous.headers["Location"])["error"] == "invalid_request"
    )


def test_a_wrong_or_missing_verifier_gets_no_token(app, public):
    verifier, challenge = _pkce()
    code = _code(_signed_in(app, "xq.editor"), _authorize_path(public["client_id"], challenge))
    wrong = _exchange(app.test_client(), public, code, _pkce()[0])
    assert wrong.status_code == 400
    assert wrong.get_json()["error"] == "invalid_grant"
    assert "access_token" not in wrong.get_json()
    missing = _exchange(app.test_client(), public, code, None)
    assert missing.status_code == 400
    assert missing.get_json()["error"] == "invalid_request"
    assert "access_token" not in missing.get_json()
    # the plain comparison (verifier == challenge) is not accepted either
    plain = _exchange(app.test_client(), public, code, challenge)
    assert plain.status_code == 400 and "access_token" not in plain.get_json()


# --- single use, short life ---------------------------------------------------------------------


def test_a_reused_code_is_refused_and_revokes_the_tokens_issued_from_it(app, api, public, user):
    verifier, challenge = _pkce()
    code = _code(
        _signed_in(app, user["username"], user["password"]), _authorize_path(public["client_id"], challenge)
    )
    first = _exchange(app.test_client(), public, code, verifier)
    assert first.status_code == 200, first.get_json()
    tokens = first.get_json()
    rotated = _refresh_as(app.test_client(), public, tokens["refresh_token"])
    assert rotated.status_code == 200
    rotated_tokens = rotated.get_json()
    assert _me(app.test_client(), rotated_tokens["access_token"]).status_code == 200
    # the same code again (an attacker who saw it, or a replay): refused …
    again = _exchange(app.test_client(), public, code, verifier)
    assert again.status_code == 400
    assert again.get_json()["error"] == "invalid_grant"
    assert "access_token" not in again.get_json()
    # … and everything issued from it is revoked: the rotated pair too
    _assert_401_json(_me(app.test_client(), rotated_tokens["access_token"]))
    assert _refresh_as(app.test_client(), public, rotated_tokens["refresh_token"]).status_code == 400
    [event] = _events(api, user["id"], "oauth.code_reused")
    assert event["after"]["client_id"] == public["client_id"]
    assert event["after"]["revoked"] == 1  # the live pair (the first was already rotated)


def test_an_expired_code_is_refused(app, runtime, public):
    assert CODE_TTL_SECONDS <= 60
    verifier, challenge = _pkce()
    code = _code(_signed_in(app, "xq.editor"), _authorize_path(public["client_id"], challenge))
    digest = hashlib.sha256(code.encode()).hexdigest()
    with runtime.db.transaction(system="test: age a code") as s:
        result = s.execute(
            update(OAuthAuthorizationCode)
            .where(OAuthAuthorizationCode.code_hash == digest)
            .values(expires_at=int(time.time()) - 1)
        )
        assert result.rowcount == 1
    resp = _exchange(app.test_client(), public, code, verifier)
    assert resp.status_code == 400
    assert resp.get_json()["error"] == "invalid_grant"
    assert "access_token" not in resp.get_json()


def test_codes_are_stored_only_as_digests(app, runtime, public):
    _, challenge = _pkce()
    code = _code(_signed_in(app, "xq.editor"), _authorize_path(public["client_id"], challenge))
    with runtime.db.transaction(system="test: read codes") as s:
        rows = s.query(OAuthAuthorizationCode).all()
        dump = "\n".join(
            str(getattr(r, c.key)) for r in rows for c in OAuthAuthorizationCode.__table__.columns
        )
    assert code not in dump
    assert hashlib.sha256(code.encode()).hexdigest() in dump


# --- redirect URIs ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "redirect_uri",
    [
        CB + "/evil",  # a prefix match would accept it
        CB + "?next=https://evil.example",
        CB + "/",
        CB.upper(),
        CB[:-1],
        "https://evil.example/oauth/callback",
        None,  # must be named
    ],
)
def test_the_redirect_uri_must_be_a_registered_one_exactly(app, public, redirect_uri):
    _, challenge = _pkce()
    path = _authorize_path(public["client_id"], challenge, redirect_uri=redirect_uri)
    text = _refused_without_redirect(_signed_in(app, "xq.editor").get(path))
    assert "回调地址" in text
    _refused_without_redirect(_browser(app).get(path))  # before a login too


def test_the_token_request_must_repeat_the_redirect_uri(app, public):
    verifier, challenge = _pkce()
    code = _code(_signed_in(app, "xq.editor"), _authorize_path(public["client_id"], challenge))
    resp = _exchange(app.test_client(), public, code, verifier, redirect_uri=CB + "/other")
    assert resp.status_code == 400
    assert resp.get_json()["error"] == "invalid_grant"
    assert "access_token" not in resp.get_json()


# --- clients ------------------------------------------------------------------------------------


def test_a_confidential_client_must_authenticate_with_its_secret(app, confidential):
    verifier, challenge = _pkce()
    code = _code(_signed_in(app, "xq.editor"), _authorize_path(confidential["client_id"], challenge))
    for secret in (None, "not-the-secret"):
        refused = _exchange(app.test_client(), confidential, code, verifier, secret=secret)
        assert refused.status_code == 401, (secret, refused.get_json())
        assert refused.get_json()["error"] == "invalid_client"
        assert "access_token" not in refused.get_json()
    ok = _exchange(app.test_client(), confidential, code, verifier, secret=confidential["secret"])
    assert ok.status_code == 200, ok.get_json()
    assert _me(app.test_client(), ok.get_json()["access_token"]).get_json()["username"] == "xq.editor"


def test_a_public_client_has_no_secret(public, confidential):
    assert public["secret"] is None
    assert confidential["secret"] and len(confidential["secret"]) >= 32


def test_an_unknown_or_deactivated_client_gets_nothing(app, runtime, api):
    _, challenge = _pkce()
    text = _refused_without_redirect(
        _signed_in(app, "xq.editor").get(_authorize_path("no-such-client", challenge))
    )
    assert "未登记或已停用" in text
    token = app.test_client().post(
        "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": "x" * 43,
            "client_id": "no-such-client",
            "redirect_uri": CB,
        },
    )
    assert token.status_code in (400, 401) and token.get_json()["error"] == "invalid_client"
    # a client deactivated by the province admin: its tokens die, its codes are refused
    reg = _register(runtime, public=True)
    verifier, challenge = _pkce()
    code = _code(_signed_in(app, "xq.editor"), _authorize_path(reg["client_id"], challenge))
    issued = _exchange(app.test_client(), reg, code, verifier).get_json()
    admin = _signed_in(app, "nx.admin")
    resp = admin.post(
        f"/admin/oauth-clients/{reg['client_id']}/deactivate", data={"csrf_token": _meta_csrf(admin)}
    )
    assert resp.status_code == 302
    _assert_401_json(_me(app.test_client(), issued["access_token"]))
    _refused_without_redirect(_signed_in(app, "xq.editor").get(_authorize_path(reg["client_id"], challenge)))


def test_a_client_is_not_offered_the_other_grants(app, public):
    resp = app.test_client().post(
        "/oauth/token",
        data={
            "grant_type": "password",
            "client_id": public["client_id"],
            "username": "xq.editor",
            "password": "Demo@2026",
        },
        environ_base={"REMOTE_ADDR": _ip()},
    )
    assert resp.status_code in (400, 401)
    assert resp.get_json()["error"] in ("unauthorized_client", "invalid_client")
    assert "access_token" not in resp.get_json()


# --- scopes -------------------------------------------------------------------------------------


def test_the_scope_is_never_wider_than_the_users(app, runtime):
    everything = _register(runtime, public=True, scopes=" ".join(ALL_SCOPES))
    verifier, challenge = _pkce()
    page = _signed_in(app, "xq.editor")
    # scope omitted: what the editor's roles allow of the client's scopes — not the client's all
    shown = page.get(_authorize_path(everything["client_id"], challenge)).get_data(as_text=True)
    assert SCOPE_NAMES["admin"] not in shown.split("将获得以下权限")[1]
    code = _code(page, _authorize_path(everything["client_id"], challenge))
    body = _exchange(app.test_client(), everything, code, verifier).get_json()
    assert set(body["scope"].split()) == set(ROLE_SCOPES["project_editor"])
    assert "admin" not in body["scope"].split()
    # a named scope the user may not have: invalid_scope back to the client, no code
    resp = page.get(_authorize_path(everything["client_id"], challenge, scope="profile admin"))
    assert resp.status_code == 302
    got = _query(resp.headers["Location"])
    assert got["error"] == "invalid_scope" and "code" not in got and got["state"].startswith("st-")
    # a narrower one is narrower
    code = _code(page, _authorize_path(everything["client_id"], challenge, scope="profile"))
    assert _exchange(app.test_client(), everything, code, verifier).get_json()["scope"] == "profile"


def test_a_scope_outside_the_clients_registration_is_refused(app, public):
    _, challenge = _pkce()
    resp = _signed_in(app, "xq.editor").get(
        _authorize_path(public["client_id"], challenge, scope="projects:write")
    )
    assert resp.status_code == 302
    assert _query(resp.headers["Location"])["error"] == "invalid_scope"


# --- introspection (RFC 7662) -------------------------------------------------------------------


def test_introspection_tells_a_resource_server_about_a_token(app, public, confidential, user):
    verifier, challenge = _pkce()
    code = _code(
        _signed_in(app, user["username"], user["password"]), _authorize_path(public["client_id"], challenge)
    )
    tokens = _exchange(app.test_client(), public, code, verifier).get_json()
    client = app.test_client()
    resp = _introspect(client, confidential, tokens["access_token"])
    assert resp.status_code == 200, resp.get_json()
    info = resp.get_json()
    assert info["active"] is True
    assert info["scope"] == "profile projects:read"
    assert info["client_id"] == public["client_id"]
    assert info["username"] == user["username"]
    assert info["sub"] == str(user["id"])
    assert info["tenant"] == "640104"
    assert info["token_type"].lower() == "bearer"
    assert info["iat"] <= time.time() < info["exp"]
    refresh = _introspect(client, confidential, tokens["refresh_token"], "refresh_token").get_json()
    assert refresh["active"] is True and refresh["token_type"] == "refresh_token"
    # revoked, unknown: inactive and nothing else
    _revoke_as(client, public, tokens["access_token"])
    assert _introspect(client, confidential, tokens["access_token"]).get_json() == {"active": False}
    assert _introspect(client, confidential, secrets.token_urlsafe(32)).get_json() == {"active": False}


def _revoke_as(client: Any, reg: dict[str, Any], token: str) -> None:
    resp = client.post("/oauth/revoke", data={"token": token, "client_id": reg["client_id"]})
    assert resp.status_code == 200, resp.get_json()


def test_introspection_of_an_expired_token_is_inactive(app, runtime, api, confidential):
    from jixiao.platform.core.oauth_models import OAuthToken

    token = api.token("xq.dept")
    info = _introspect(app.test_client(), confidential, token).get_json()
    assert info["active"] is True and info["client_id"] == "jixiao-cli"
    fresh = (
        app.test_client()
        .post(
            "/oauth/token",
            data={
                "grant_type": "password",
                "client_id": "jixiao-cli",
                "username": "xq.dept",
                "password": "Demo@2026",
            },
            environ_base={"REMOTE_ADDR": _ip()},
        )
        .get_json()["access_token"]
    )
    with runtime.db.transaction(system="test: expire a token") as s:
        s.execute(
            update(OAuthToken)
            .where(OAuthToken.access_token_hash == hashlib.sha256(fresh.encode()).hexdigest())
            .values(issued_at=int(time.time()) - 30 * 24 * 3600)
        )
    assert _introspect(app.test_client(), confidential, fresh).get_json() == {"active": False}


def test_introspection_needs_a_confidential_client_with_its_secret(app, public, confidential, api):
    token = api.token("xq.editor")
    client = app.test_client()
    anonymous = client.post("/oauth/introspect", data={"token": token})
    assert anonymous.status_code == 401 and anonymous.get_json()["error"] == "invalid_client"
    wrong = _introspect(client, {**confidential, "secret": "not-the-secret"}, token)
    assert wrong.status_code == 401 and "active" not in wrong.get_json()
    as_public = client.post("/oauth/introspect", data={"token": token, "client_id": public["client_id"]})
    assert as_public.status_code == 401 and "active" not in as_public.get_json()
    posted = client.post(
        "/oauth/introspect",
        data={
            "token": token,
            "client_id": confidential["client_id"],
            "client_secret": confidential["secret"],
        },
    )
    assert posted.status_code == 200 and posted.get_json()["active"] is True


# --- registration -------------------------------------------------------------------------------


def test_the_province_admin_registers_a_client_on_the_page_and_sees_the_secret_once(app, api, unique):
    admin = _signed_in(app, "nx.admin")
    page = admin.get("/admin/oauth-clients")
    assert page.status_code == 200
    assert "登记接入系统" in page.get_data(as_text=True)
    name = f"绩效数据交换{unique}"
    resp = admin.post(
        "/admin/oauth-clients",
        data={
            "csrf_token": _meta_csrf(admin),
            "name": name,
            "redirect_uris": "https://bgt.nx.example/cb\r\nhttp://127.0.0.1:8765/cb",
            "scopes": ["profile", "reports:read"],
        },
    )
    assert resp.status_code == 200, resp.get_data(as_text=True)[:800]
    assert resp.headers["Cache-Control"] == "no-store"
    html = resp.get_data(as_text=True)
    client_id = re.search(r'data-testid="client-id">([0-9a-f]+)<', html).group(1)
    secret = re.search(r'data-testid="client-secret">([^<]+)<', html).group(1)
    assert "只显示这一次" in html
    listed = admin.get("/admin/oauth-clients").get_data(as_text=True)
    assert name in listed and client_id in listed and "https://bgt.nx.example/cb" in listed
    assert secret not in listed  # never again
    assert "查看试点报告" in listed  # scopes by their Chinese names
    events = api.as_user("nx.admin").get(
        f"/api/v1/audit-events?object_type=oauth_client&object_id={client_id}"
    )
    [event] = events.get_json()["items"]
    assert event["action"] == "oauth.client_create" and event["username"] == "nx.admin"
    assert event["after"]["public"] is False and secret not in str(event)
    # the secret works at introspection (a resource server is a confidential client)
    info = _introspect(app.test_client(), {"client_id": client_id, "secret": secret}, api.token("xq.editor"))
    assert info.status_code == 200 and info.get_json()["active"] is True


def test_the_registration_form_refuses_unsafe_redirect_uris_with_every_problem(app):
    admin = _signed_in(app, "nx.admin")
    resp = admin.post(
        "/admin/oauth-clients",
        data={
            "csrf_token": _meta_csrf(admin),
            "name": "",
            "redirect_uris": "http://bgt.nx.example/cb\nhttps://*.nx.example/cb\nhttps://bgt.nx.example/cb#x",
            "scopes": [],
        },
    )
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert "有 3 项需要修改" in html
    assert "须使用 https" in html and "通配符" in html and "片段" in html
    assert "请填写接入系统的名称" in html and "至少选择一个权限范围" in html
    assert 'data-testid="client-secret"' not in html


@pytest.mark.parametrize("username", ["xq.admin", "yc.admin", "xq.editor"])
def test_only_the_province_admin_manages_clients(app, public, username):
    page = _signed_in(app, username)
    assert page.get("/admin/oauth-clients").status_code == 403
    csrf = _meta_csrf(page)
    created = page.post(
        "/admin/oauth-clients",
        data={"csrf_token": csrf, "name": "越权", "redirect_uris": CB, "scopes": ["profile"]},
    )
    assert created.status_code == 403
    stopped = page.post(f"/admin/oauth-clients/{public['client_id']}/deactivate", data={"csrf_token": csrf})
    assert stopped.status_code == 403


def test_the_cli_registers_a_public_and_a_confidential_client(app, settings, real_services):
    confidential = run_cli(
        settings,
        real_services,
        "oauth", "clients", "add",
        "--name", "命令行登记的系统",
        "--redirect-uri", CB,
        "--redirect-uri", "https://bgt.nx.example/cb2",
        "--scope", "profile projects:read",
    )  # fmt: skip
    assert confidential.returncode == 0, confidential.stderr
    out = dict(line.split("=", 1) for line in confidential.stdout.split())
    assert re.fullmatch(r"[0-9a-f]{24}", out["client_id"]) and len(out["client_secret"]) >= 32
    public = run_cli(
        settings, real_services, "oauth", "clients", "add", "--name", "桌面端", "--redirect-uri",
        "http://127.0.0.1:7000/cb", "--public",
    )  # fmt: skip
    assert public.returncode == 0, public.stderr
    assert "client_id=" in public.stdout and "client_secret" not in public.stdout
    refused = run_cli(
        settings, real_services, "oauth", "clients", "add", "--name", "x", "--redirect-uri",
        "https://bgt.nx.example/*", "--scope", "profile payroll:write",
    )  # fmt: skip
    assert refused.returncode != 0
    assert "通配符" in refused.stderr and "payroll:write" in refused.stderr
    # the registered client works: a code for it, exchanged with its secret
    reg = {"client_id": out["client_id"], "secret": out["client_secret"]}
    verifier, challenge = _pkce()
    code = _code(_signed_in(app, "xq.editor"), _authorize_path(reg["client_id"], challenge))
    ok = _exchange(app.test_client(), reg, code, verifier, secret=reg["secret"])
    assert ok.status_code == 200, ok.get_json()
