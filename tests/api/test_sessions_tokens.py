"""Sessions and tokens end on the server (OWASP ASVS V3, V2; OAuth 2.0 Security BCP).

* A reused (already rotated) refresh token revokes every token rotated from the same grant.
* A password reset by an administrator revokes the user's access and refresh tokens and ends their
  page sessions; a password change of one's own keeps the session it was made in.
* Deactivation ends everything; reactivation brings none of it back.
* A page session cookie copied before a logout no longer logs anyone in after it.

Every token request comes from its own client IP, so nothing here counts against the throttle.
"""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.api.test_oauth import _assert_401_json, _create_user, _issue, _me, _refresh
from tests.api.test_security import _login, _meta_csrf

COOKIE = "jixiao_session"


def _page_client(app: Any) -> Any:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = f"10.88.{secrets.randbelow(250)}.{secrets.randbelow(250) + 1}"
    return client


def _signed_in(app: Any, username: str, password: str) -> Any:
    client = _page_client(app)
    assert _login(client, username, password).status_code == 302
    assert client.get("/").status_code == 200
    return client


def _goes_to_login(resp: Any) -> bool:
    return resp.status_code == 302 and urlsplit(resp.headers["Location"]).path == "/login"


def _with_cookie(app: Any, value: str) -> Any:
    client = _page_client(app)
    client.set_cookie(COOKIE, value)
    return client


def _refused_refresh(client: Any, refresh_token: str) -> None:
    resp = _refresh(client, refresh_token)
    assert resp.status_code == 400, resp.get_json()
    assert resp.get_json()["error"] == "invalid_grant"
    assert "access_token" not in resp.get_json()


def _events(api: Any, user_id: int, action: str) -> list[dict[str, Any]]:
    resp = api.as_user("xq.admin").get(
        f"/api/v1/audit-events?object_type=user&object_id={user_id}&action={action}"
    )
    assert resp.status_code == 200, resp.get_json()
    items: list[dict[str, Any]] = resp.get_json()["items"]
    return items


@pytest.fixture()
def user(api: Any) -> dict[str, Any]:
    return _create_user(api)


# --- refresh token reuse ------------------------------------------------------------------------


def test_a_reused_refresh_token_revokes_the_whole_chain_of_its_grant(client, api, user):
    first = _issue(client, user["username"], user["password"])
    other_grant = _issue(client, user["username"], user["password"])  # e.g. a second computer
    rotated = _refresh(client, first["refresh_token"])
    assert rotated.status_code == 200, rotated.get_json()
    second = rotated.get_json()
    assert _me(client, second["access_token"]).status_code == 200
    # the spent refresh token comes back (a thief, or the victim after a thief): refused …
    _refused_refresh(client, first["refresh_token"])
    # … and what the first rotation produced is dead too: its access token and its refresh token
    _assert_401_json(_me(client, second["access_token"]))
    _refused_refresh(client, second["refresh_token"])
    # another grant of the same user is a different chain and keeps working
    assert _me(client, other_grant["access_token"]).status_code == 200
    assert _refresh(client, other_grant["refresh_token"]).status_code == 200
    # audited once, at the reuse (it revoked the chain's live pair); the chain's other token, revoked
    # by it but never rotated, is then simply refused: no second alarm
    events = _events(api, user["id"], "oauth.refresh_token_reused")
    assert [e["after"]["revoked"] for e in events] == [1]


# --- password reset, deactivation ---------------------------------------------------------------


def test_a_password_reset_by_an_admin_revokes_tokens_and_ends_page_sessions(app, client, api, user):
    issued = _issue(client, user["username"], user["password"])
    page = _signed_in(app, user["username"], user["password"])
    new_password = f"Re!{secrets.token_hex(4)}Set9"
    resp = api.as_user("xq.admin").patch(f"/api/v1/users/{user['id']}", json={"password": new_password})
    assert resp.status_code == 200, resp.get_json()
    _assert_401_json(_me(client, issued["access_token"]))
    _refused_refresh(client, issued["refresh_token"])
    assert _goes_to_login(page.get("/"))
    # the new password works, on both doors
    assert _me(client, _issue(client, user["username"], new_password)["access_token"]).status_code == 200
    assert _signed_in(app, user["username"], new_password).get("/").status_code == 200
    [event] = _events(api, user["id"], "auth.sessions_ended")
    assert event["after"] == {"reason": "password_reset", "web_sessions": 1, "oauth_tokens": 1}


def test_a_password_change_on_the_admin_page_ends_the_users_sessions(app, client, api, user):
    victim_page = _signed_in(app, user["username"], user["password"])
    issued = _issue(client, user["username"], user["password"])
    admin = _signed_in(app, "xq.admin", "Demo@2026")
    resp = admin.post(
        f"/admin/users/{user['id']}/edit",
        data={
            "csrf_token": _meta_csrf(admin),
            "display_name": user["display_name"],
            "roles": user["roles"],
            "email": "",
            "password": f"Pg!{secrets.token_hex(4)}Set9",
        },
    )
    assert resp.status_code == 302, resp.get_data(as_text=True)
    assert _goes_to_login(victim_page.get("/"))
    _assert_401_json(_me(client, issued["access_token"]))
    assert admin.get("/").status_code == 200  # the admin's own session is not touched


def test_changing_ones_own_password_keeps_this_session_and_ends_the_others(app, api, unique):
    username = f"xq.own{unique}"
    password = f"Own!{secrets.token_hex(4)}Pw7"
    created = api.as_user("xq.admin").post(
        "/api/v1/tenants/640104/users",
        json={
            "username": username,
            "display_name": "自助改密",
            "password": password,
            "roles": ["bureau_admin"],
        },
    )
    assert created.status_code == 201, created.get_json()
    uid = created.get_json()["id"]
    here = _signed_in(app, username, password)
    elsewhere = _signed_in(app, username, password)
    resp = here.post(
        f"/admin/users/{uid}/edit",
        data={
            "csrf_token": _meta_csrf(here),
            "display_name": "自助改密",
            "roles": ["bureau_admin"],
            "email": "",
            "password": f"New!{secrets.token_hex(4)}Pw7",
        },
    )
    assert resp.status_code == 302, resp.get_data(as_text=True)
    assert here.get("/").status_code == 200
    assert _goes_to_login(elsewhere.get("/"))
    [event] = _events(api, uid, "auth.sessions_ended")
    assert event["after"]["reason"] == "password_changed" and event["after"]["web_sessions"] == 1


def test_deactivation_ends_everything_and_reactivation_brings_nothing_back(app, client, api, user):
    issued = _issue(client, user["username"], user["password"])
    page = _signed_in(app, user["username"], user["password"])
    cookie = page.get_cookie(COOKIE).value
    admin = api.as_user("xq.admin")
    off = admin.patch(f"/api/v1/users/{user['id']}", json={"is_active": False})
    assert off.status_code == 200 and off.get_json()["is_active"] is False
    _assert_401_json(_me(client, issued["access_token"]))
    assert _goes_to_login(page.get("/"))
    on = admin.patch(f"/api/v1/users/{user['id']}", json={"is_active": True})
    assert on.status_code == 200 and on.get_json()["is_active"] is True
    # back in service, but the old token, the old refresh token and the old cookie stay dead
    _assert_401_json(_me(client, issued["access_token"]))
    _refused_refresh(client, issued["refresh_token"])
    assert _goes_to_login(_with_cookie(app, cookie).get("/"))
    # a fresh login works again
    assert _me(client, _issue(client, user["username"], user["password"])["access_token"]).status_code == 200
    [event] = _events(api, user["id"], "auth.sessions_ended")
    assert event["after"] == {"reason": "deactivated", "web_sessions": 1, "oauth_tokens": 1}


# --- logout -------------------------------------------------------------------------------------


def test_a_session_cookie_copied_before_logout_is_refused_after_it(app, api, user):
    page = _signed_in(app, user["username"], user["password"])
    cookie = page.get_cookie(COOKIE).value
    assert _with_cookie(app, cookie).get("/").status_code == 200  # the copy works while logged in
    out = page.post("/logout", data={"csrf_token": _meta_csrf(page)})
    assert out.status_code == 302
    assert _goes_to_login(page.get("/"))
    copy = _with_cookie(app, cookie)
    assert _goes_to_login(copy.get("/"))
    assert copy.get("/api/v1/me").status_code == 401
    [event] = _events(api, user["id"], "auth.logout")
    assert event["after"]["web_session"]


def test_a_refresh_token_revoked_by_a_password_change_is_refused_without_a_theft_alarm(client, api, user):
    issued = _issue(client, user["username"], user["password"])
    admin = api.as_user("xq.admin")
    reset = admin.patch(f"/api/v1/users/{user['id']}", json={"password": "Nq#7vw2!Lp"})
    assert reset.status_code == 200, reset.get_json()
    _refused_refresh(client, issued["refresh_token"])
    assert _events(api, user["id"], "oauth.refresh_token_reused") == []


def test_a_page_session_ends_after_its_lifetime(app, user, runtime):
    from datetime import timedelta

    from sqlalchemy import update

    from jixiao.platform.core.db import utcnow
    from jixiao.platform.core.oauth_models import WebSession

    client = _signed_in(app, user["username"], user["password"])
    with runtime.db.transaction(system="test: age the user's sessions") as s:
        s.execute(
            update(WebSession)
            .where(WebSession.user_id == user["id"])
            .values(created_at=utcnow() - timedelta(hours=13))
        )
    assert _goes_to_login(client.get("/"))
    with runtime.db.system_session("test") as s:
        reasons = {row.ended_reason for row in s.query(WebSession).filter_by(user_id=user["id"])}
    assert reasons == {"expired"}


def test_system_is_no_ones_login(api):
    resp = api.as_user("xq.admin").post(
        "/api/v1/tenants/640104/users",
        json={
            "username": "system",
            "display_name": "冒充系统",
            "password": "Lz#8kq2!Vw",
            "roles": ["project_editor"],
        },
    )
    assert resp.status_code == 422 and "保留" in str(resp.get_json()["errors"]["username"])
