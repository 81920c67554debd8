"""The authorization code grant with PKCE in the browser: the province admin registers an integrator's
client on 系统管理 → 接入系统 (the secret shown once); a user who is not logged in follows the
integrator's authorize link, logs in, reads on the consent page who asks for what (the scopes in
Chinese), and agrees — the browser lands on the registered redirect URI with a code, which the
integrator exchanges (with the PKCE verifier) for a token that the API accepts. Refusing lands
there with `error=access_denied`.

The redirect URI is an address of the live server itself that answers 404 (an integrator's callback
would be elsewhere): the test reads the code from the address bar.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from playwright.sync_api import expect

from jixiao.platform.core.authz import SCOPE_NAMES
from jixiao.platform.core.oauth_models import register_client

from .helpers import assert_no_inline_script, expect_document_status, go, settle, shot, signed_in

pytestmark = pytest.mark.browser

CALLBACK_PATH = "/integrator-callback"  # not a route of the app: 404, the code is in the address


def _pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _authorize_link(client_id: str, redirect_uri: str, challenge: str, state: str) -> str:
    return "/oauth/authorize?" + urlencode(
        {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "scope": "profile projects:read",
            "state": state,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
    )


def _params(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def test_register_a_client_then_authorize_it_through_login_and_consent(fresh_page, live_server, unique):
    callback = f"{live_server}{CALLBACK_PATH}"
    # 1. the province admin registers the integrator's confidential client
    admin = signed_in(fresh_page, "nx.admin")
    go(admin, "/admin/oauth-clients")
    expect(admin.get_by_role("heading", name="接入系统")).to_be_visible()
    name = f"宁夏预算管理一体化系统{unique}"
    admin.fill("#c-name", name)
    admin.fill("#c-redirect", callback)
    admin.get_by_label(SCOPE_NAMES["projects:read"], exact=True).check()
    admin.get_by_role("button", name="登记", exact=True).click()
    created = admin.get_by_test_id("client-created")
    expect(created).to_contain_text(name)
    client_id = admin.get_by_test_id("client-id").inner_text().strip()
    secret = admin.get_by_test_id("client-secret").inner_text().strip()
    assert len(client_id) == 24 and len(secret) >= 32
    expect(created).to_contain_text("只显示这一次")
    row = admin.get_by_test_id("client-row").filter(has_text=name)
    expect(row).to_contain_text("机密客户端")
    expect(row).to_contain_text(callback)
    expect(row).to_contain_text(SCOPE_NAMES["projects:read"])
    assert_no_inline_script(admin)
    shot(admin, "oauth-clients")
    go(admin, "/admin/oauth-clients")  # once more: the secret is gone
    expect(admin.get_by_test_id("client-row").filter(has_text=name)).to_have_count(1)
    assert secret not in admin.content()

    # 2. a user who is not logged in follows the integrator's link
    user = fresh_page()
    expect_document_status(user, 404)  # the callback address is not a page of the app
    verifier, challenge = _pkce()
    state = "st-" + secrets.token_hex(6)
    user.goto(_authorize_link(client_id, callback, challenge, state))
    expect(user.get_by_role("heading", name="用户登录")).to_be_visible()
    settle(user)
    user.fill("#username", "xq.editor")
    user.fill("#password", "Demo@2026")
    user.get_by_role("button", name="登录").click()

    # 3. the consent page: who asks, for what, in Chinese
    consent = user.get_by_test_id("consent")
    expect(consent).to_be_visible()
    expect(user.get_by_role("heading", name="授权接入系统")).to_be_visible()
    expect(user.get_by_test_id("consent-client")).to_have_text(name)
    expect(user.get_by_test_id("consent-scope")).to_have_text(
        [SCOPE_NAMES["profile"], SCOPE_NAMES["projects:read"]], use_inner_text=True
    )
    expect(user.get_by_test_id("consent-destination")).to_have_text(live_server)
    expect(consent).to_contain_text("xq.editor")
    assert_no_inline_script(user)
    shot(user, "oauth-consent")
    settle(user)
    user.get_by_role("button", name="同意").click()

    # 4. back at the integrator's registered address, with a code and the state
    user.wait_for_url(f"{callback}?**")
    got = _params(user.url)
    assert got["state"] == state and "error" not in got
    code = got["code"]

    # 5. the integrator exchanges the code with its secret and the verifier, and calls the API
    token = user.request.post(
        f"{live_server}/oauth/token",
        form={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": callback,
            "code_verifier": verifier,
        },
        headers={"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()},
    )
    assert token.status == 200, token.text()
    body = token.json()
    assert body["scope"] == "profile projects:read"
    me = user.request.get(
        f"{live_server}/api/v1/me", headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert me.status == 200, me.text()
    assert me.json()["username"] == "xq.editor"
    assert me.json()["scopes"] == ["profile", "projects:read"]
    # the code was for one use only
    again = user.request.post(
        f"{live_server}/oauth/token",
        form={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": callback,
            "code_verifier": verifier,
        },
        headers={"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()},
    )
    assert again.status == 400 and again.json()["error"] == "invalid_grant"
    assert admin.problems == [] and user.problems == []


def test_refusing_on_the_consent_page_returns_access_denied(fresh_page, live_server, runtime):
    callback = f"{live_server}{CALLBACK_PATH}"
    with runtime.db.transaction(system="test: oauth clients add") as s:
        client, _ = register_client(
            s,
            None,
            name="移动端填报助手",
            redirect_uris=[callback],
            scopes=["profile", "projects:read"],
            public=True,
        )
        client_id = client.client_id
    page = signed_in(fresh_page, "xq.editor")
    expect_document_status(page, 404)
    _, challenge = _pkce()
    go(page, _authorize_link(client_id, callback, challenge, "st-refuse"))
    expect(page.get_by_test_id("consent-client")).to_have_text("移动端填报助手")
    page.get_by_role("button", name="拒绝").click()
    page.wait_for_url(f"{callback}?**")
    got = _params(page.url)
    assert got["error"] == "access_denied" and got["state"] == "st-refuse"
    assert "code" not in got
    assert page.problems == []


def test_an_unregistered_redirect_uri_gets_a_page_not_a_redirect(fresh_page, live_server, runtime):
    with runtime.db.transaction(system="test: oauth clients add") as s:
        client, _ = register_client(
            s,
            None,
            name="回调测试",
            redirect_uris=[f"{live_server}{CALLBACK_PATH}"],
            scopes=["profile"],
            public=True,
        )
        client_id = client.client_id
    page = signed_in(fresh_page, "xq.editor")
    expect_document_status(page, 400)
    _, challenge = _pkce()
    go(page, _authorize_link(client_id, f"{live_server}{CALLBACK_PATH}/evil", challenge, "st-x"))
    expect(page.get_by_test_id("oauth-problem")).to_contain_text("回调地址")
    assert urlsplit(page.url).path == "/oauth/authorize"
    assert page.problems == []
