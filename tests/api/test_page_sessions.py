"""Pages whose session ended while they were open: htmx fragments (queue tabs, filters, mark-read)
send the whole page to the login instead of swapping a login form into a fragment; a stale CSRF
token reloads the page; page numbers past the end show the last page, never a 500."""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.api.test_security import _login, _meta_csrf

HX = {"HX-Request": "true", "HX-Current-URL": "http://localhost/?kind=review"}


def _client(app: Any) -> Any:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = f"10.77.{secrets.randbelow(250)}.{secrets.randbelow(250) + 1}"
    return client


def test_an_htmx_fragment_without_a_session_sends_the_page_to_the_login(app):
    client = _client(app)
    fragment = client.get("/?tab=done", headers=HX)
    assert fragment.status_code == 204 and fragment.get_data() == b""
    target = urlsplit(fragment.headers["HX-Redirect"])
    assert target.path == "/login" and parse_qs(target.query)["next"] == ["/"]
    page = client.get("/?tab=done")  # a plain page: the usual redirect, coming back afterwards
    assert page.status_code == 302 and urlsplit(page.headers["Location"]).path == "/login"
    # the login form posts to the login (with next), wherever it is shown
    form = client.get("/login?next=/notifications").get_data(as_text=True)
    assert 'action="/login?next=/notifications"' in form or 'action="/login?next=%2Fnotifications"' in form


def test_a_stale_csrf_token_reloads_an_htmx_page_and_explains_a_plain_post(app):
    client = _client(app)
    assert _login(client, "xq.editor", "Demo@2026").status_code == 302
    csrf = _meta_csrf(client)
    ok = client.post("/notifications/read-all", headers={**HX, "X-CSRFToken": csrf})
    assert ok.status_code in (200, 302)
    stale = client.post("/notifications/read-all", headers={**HX, "X-CSRFToken": "not-the-token"})
    assert stale.status_code == 204 and stale.headers["HX-Refresh"] == "true"
    plain = client.post("/notifications/read-all", data={"csrf_token": "not-the-token"})
    assert plain.status_code == 400 and "请刷新页面后重试" in plain.get_data(as_text=True)


def test_page_numbers_past_the_end_show_the_last_page(app, api):
    client = _client(app)
    assert _login(client, "xq.editor", "Demo@2026").status_code == 302
    for path in ("/?tab=done&page=99999999999999999999", "/notifications?page=99999999999999999999"):
        resp = client.get(path)
        assert resp.status_code == 200, path
    huge = api.as_user("xq.editor").get("/api/v1/indicators?page=99999999999999999999")
    assert huge.status_code in (200, 422), huge.get_json()


def test_setting_an_email_on_the_user_page_stays_behind_the_walls(app, api):
    dept_id = next(
        u["id"]
        for u in api.as_user("xq.admin").get("/api/v1/tenants/640104/users").get_json()["items"]
        if u["username"] == "xq.dept"
    )
    for username, status in (("xx.admin", 404), ("yc.admin", 403)):  # a sibling; the city above
        client = _client(app)
        assert _login(client, username, "Demo@2026").status_code == 302
        resp = client.post(
            f"/admin/users/{dept_id}/email", data={"email": "x@evil.test", "csrf_token": _meta_csrf(client)}
        )
        assert resp.status_code == status, (username, resp.status_code)
    shown = api.as_user("xq.admin").get(f"/api/v1/users/{dept_id}").get_json()
    assert shown["email"] != "x@evil.test"
