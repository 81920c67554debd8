"""Security as a browser or API client sees it: headers, page login + CSRF, throttling, bad input.

Each test that provokes failed logins does so from its own client IP (`REMOTE_ADDR`) and, when it
exhausts a limit, for its own fresh user: no demo user and no shared IP is ever throttled.
"""

from __future__ import annotations

import re
import secrets
from typing import Any
from urllib.parse import urlsplit

import pytest

DEMO_PASSWORD = "Demo@2026"
CJK = re.compile(r"[\u4e00-\u9fff]")
FORM_CSRF = re.compile(r'name="csrf_token"\s+value="([^"]+)"')
META_CSRF = re.compile(r'<meta\s+name="csrf-token"\s+content="([^"]+)"')
USERS = "/api/v1/tenants/640104/users"


# --- helpers ------------------------------------------------------------------------------------


def _ip() -> str:
    return f"10.{secrets.randbelow(256)}.{secrets.randbelow(256)}.{secrets.randbelow(254) + 1}"


def _browser(app: Any, ip: str | None = None) -> Any:
    """A test client with its own cookie jar, coming from its own IP."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = ip or _ip()
    return client


def _form_csrf(client: Any) -> str:
    resp = client.get("/login")
    assert resp.status_code == 200
    match = FORM_CSRF.search(resp.get_data(as_text=True))
    assert match, "the login form carries a csrf_token"
    return match.group(1)


def _login(client: Any, username: str, password: str, csrf: str | None = None) -> Any:
    token = csrf if csrf is not None else _form_csrf(client)
    return client.post("/login", data={"csrf_token": token, "username": username, "password": password})


def _meta_csrf(client: Any) -> str:
    resp = client.get("/")
    assert resp.status_code == 200, resp.status_code
    match = META_CSRF.search(resp.get_data(as_text=True))
    assert match, "pages carry <meta name=csrf-token>"
    return match.group(1)


def _password_grant(client: Any, username: str, password: str) -> Any:
    return client.post(
        "/oauth/token",
        data={
            "grant_type": "password",
            "client_id": "jixiao-cli",
            "username": username,
            "password": password,
        },
    )


def _new_user(api: Any) -> dict[str, Any]:
    username = f"t.sec.{secrets.token_hex(4)}"
    password = f"Sec!{secrets.token_hex(4)}Q7"
    resp = api.as_user("xq.admin").post(
        USERS,
        json={
            "username": username,
            "display_name": "安全测试用户",
            "password": password,
            "roles": ["project_editor"],
        },
    )
    assert resp.status_code == 201, resp.get_json()
    return {**resp.get_json(), "password": password}


def _user_count(api: Any) -> int:
    resp = api.as_user("xq.admin").get(USERS)
    assert resp.status_code == 200, resp.get_json()
    total: int = resp.get_json()["total"]
    return total


def _field_errors(body: dict[str, Any]) -> dict[str, Any]:
    """The per-field problems, whether or not they are grouped under the request location."""
    errors: dict[str, Any] = body.get("errors") or {}
    return errors.get("json", errors) if isinstance(errors.get("json"), dict) else errors


def _csp(resp: Any) -> dict[str, list[str]]:
    header = resp.headers.get("Content-Security-Policy", "")
    directives: dict[str, list[str]] = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            directives[words[0].lower()] = words[1:]
    return directives


def _is_login_redirect(resp: Any) -> bool:
    return resp.status_code == 302 and urlsplit(resp.headers["Location"]).path == "/login"


# --- headers and cookies ------------------------------------------------------------------------


def test_pages_carry_csp_and_anti_framing_headers(app):
    client = _browser(app)
    responses = {
        "GET /login": client.get("/login"),
        "401 login page": _login(client, "xq.editor", "Wrong@2026pw"),
        "404 page": client.get(f"/no-such-page-{secrets.token_hex(3)}"),
    }
    for label, resp in responses.items():
        assert "text/html" in resp.headers.get("Content-Type", ""), label
        csp = _csp(resp)
        assert csp.get("script-src") == ["'self'"], (label, resp.headers.get("Content-Security-Policy"))
        assert "unsafe-inline" not in resp.headers["Content-Security-Policy"], label
        assert csp.get("frame-ancestors") == ["'none'"], label
        assert resp.headers.get("X-Content-Type-Options") == "nosniff", label
        assert resp.headers.get("X-Frame-Options") == "DENY", label


def test_session_cookie_is_httponly_and_samesite_lax(app):
    resp = _browser(app).get("/login")
    cookies = [c for c in resp.headers.getlist("Set-Cookie") if c.startswith("jixiao_session=")]
    assert cookies, resp.headers.getlist("Set-Cookie")
    attributes = [a.strip().lower() for a in cookies[0].split(";")[1:]]
    assert "httponly" in attributes
    assert "samesite=lax" in attributes


# --- page login ---------------------------------------------------------------------------------


def test_page_login_with_csrf_redirects_home(app):
    client = _browser(app)
    resp = _login(client, "xq.editor", DEMO_PASSWORD)
    assert resp.status_code == 302
    assert urlsplit(resp.headers["Location"]).path == "/"
    home = client.get("/")
    assert home.status_code == 200
    assert "xq.editor" in home.get_data(as_text=True) or "兴庆区" in home.get_data(as_text=True)


def test_page_login_without_csrf_is_400_and_logs_nobody_in(app):
    client = _browser(app)
    client.get("/login")
    resp = client.post("/login", data={"username": "xq.editor", "password": DEMO_PASSWORD})
    assert resp.status_code == 400
    page = resp.get_data(as_text=True)
    assert "CSRF" in page and "表单已过期" in page
    assert _is_login_redirect(client.get("/"))


def test_page_login_with_a_wrong_password_is_401_with_a_message(app):
    client = _browser(app)
    resp = _login(client, "xq.editor", "Wrong@2026pw")
    assert resp.status_code == 401
    assert "用户名或密码错误" in resp.get_data(as_text=True)
    assert _is_login_redirect(client.get("/"))


def test_logout_ends_the_session(app):
    client = _browser(app)
    assert _login(client, "xq.editor", DEMO_PASSWORD).status_code == 302
    assert client.get("/").status_code == 200
    resp = client.post("/logout", data={"csrf_token": _meta_csrf(client)})
    assert _is_login_redirect(resp)
    assert _is_login_redirect(client.get("/"))
    assert client.get("/api/v1/me").status_code == 401


# --- throttling ---------------------------------------------------------------------------------


def test_page_login_throttles_failed_logins_only(app, api):
    victim, bystander = _new_user(api), _new_user(api)
    ip = _ip()
    client = _browser(app, ip)
    csrf = _form_csrf(client)
    assert _login(_browser(app, ip), victim["username"], victim["password"]).status_code == 302
    for attempt in range(4):
        assert _login(client, victim["username"], "Wrong@2026pw", csrf).status_code == 401, attempt
    # the 6th attempt: successes did not count, so it still logs in
    assert _login(_browser(app, ip), victim["username"], victim["password"]).status_code == 302
    assert _login(client, victim["username"], "Wrong@2026pw", csrf).status_code == 401
    # 5 failures: now even the right password is refused
    resp = _login(client, victim["username"], victim["password"], csrf)
    assert resp.status_code == 429
    assert "登录失败次数过多" in resp.get_data(as_text=True)
    assert _is_login_redirect(client.get("/"))
    # per (username, IP): another user from that IP, and the same user elsewhere, still log in
    assert _login(_browser(app, ip), bystander["username"], bystander["password"]).status_code == 302
    assert _login(_browser(app), victim["username"], victim["password"]).status_code == 302


def test_password_grant_throttles_failed_logins_only(app, api):
    victim = _new_user(api)
    client = _browser(app)
    assert _password_grant(client, victim["username"], victim["password"]).status_code == 200
    for attempt in range(4):
        resp = _password_grant(client, victim["username"], "Wrong@2026pw")
        assert resp.status_code == 400, attempt
        assert resp.get_json()["error"] == "invalid_grant"
    # the 6th attempt: successes did not count
    resp = _password_grant(client, victim["username"], victim["password"])
    assert resp.status_code == 200, resp.get_json()
    assert _password_grant(client, victim["username"], "Wrong@2026pw").status_code == 400
    # 5 failures: now even the right password is refused
    resp = _password_grant(client, victim["username"], victim["password"])
    assert resp.status_code == 429
    body = resp.get_json()
    assert body["code"] == 429
    assert "登录失败次数过多" in body["message"]
    assert "access_token" not in body


# --- the JSON API with the session cookie -------------------------------------------------------


def test_api_accepts_the_session_cookie_and_requires_csrf_on_writes(app, api):
    client = _browser(app)
    assert _login(client, "xq.admin", DEMO_PASSWORD).status_code == 302
    me = client.get("/api/v1/me")
    assert me.status_code == 200
    assert me.get_json()["username"] == "xq.admin"
    before = _user_count(api)
    username = f"t.sec.{secrets.token_hex(4)}"
    body = {
        "username": username,
        "display_name": "会话用户",
        "password": "Sess!on2026x",
        "roles": ["project_editor"],
    }
    refused = client.post(USERS, json=body)
    assert refused.status_code == 400
    assert CJK.search(refused.get_json()["message"])
    assert _user_count(api) == before
    created = client.post(USERS, json=body, headers={"X-CSRFToken": _meta_csrf(client)})
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["username"] == username
    assert _user_count(api) == before + 1


# --- bad input ----------------------------------------------------------------------------------


@pytest.fixture()
def admin(api: Any) -> Any:
    return api.as_user("xq.admin")


def _valid_user(unique: str) -> dict[str, Any]:
    return {
        "username": f"t.bad.{unique}",
        "display_name": "校验测试",
        "password": "Valid!2026pw",
        "roles": ["project_editor"],
    }


def test_malformed_json_is_400(admin, api, unique):
    before = _user_count(api)
    resp = admin.post(USERS, data='{"username": "t.bad', content_type="application/json")
    assert resp.status_code == 400
    assert CJK.search(resp.get_json()["message"])
    assert _user_count(api) == before


def test_non_json_body_is_415(admin, api, unique):
    before = _user_count(api)
    resp = admin.post(USERS, data="username=t.bad", content_type="text/plain")
    assert resp.status_code == 415
    assert resp.get_json()["code"] == 415 and resp.get_json()["message"]
    assert _user_count(api) == before


def test_unknown_field_is_422_naming_it(admin, api, unique):
    before = _user_count(api)
    resp = admin.post(USERS, json={**_valid_user(unique), "nickname": "小王"})
    assert resp.status_code == 422
    assert "nickname" in _field_errors(resp.get_json())
    assert _user_count(api) == before


def test_missing_fields_are_422_naming_each(admin, api):
    before = _user_count(api)
    resp = admin.post(USERS, json={})
    assert resp.status_code == 422
    errors = _field_errors(resp.get_json())
    assert {"username", "display_name", "password", "roles"} <= set(errors)
    assert _user_count(api) == before


def test_duplicate_username_is_422(admin, api, unique):
    before = _user_count(api)
    resp = admin.post(USERS, json={**_valid_user(unique), "username": "xq.editor"})
    assert resp.status_code == 422
    assert "username" in _field_errors(resp.get_json())
    assert _user_count(api) == before


def test_weak_password_lists_every_broken_rule(admin, api, unique):
    before = _user_count(api)
    username = f"w{unique}"
    # too short (7), at most two character classes, and it contains the username
    resp = admin.post(USERS, json={**_valid_user(unique), "username": username, "password": username})
    assert resp.status_code == 422
    problems = _field_errors(resp.get_json())["password"]
    assert len(problems) == 3, problems
    assert all(CJK.search(p) for p in problems)
    assert any("8" in p for p in problems)
    assert any("用户名" in p for p in problems)
    assert _user_count(api) == before


def test_unknown_tenant_is_404(admin, api, unique):
    before = _user_count(api)
    resp = admin.post("/api/v1/tenants/649999/users", json=_valid_user(unique))
    assert resp.status_code == 404
    assert resp.get_json()["code"] == 404
    assert _user_count(api) == before
