"""Logging in and out of the pages, as a user of a county finance bureau sees it."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.support.browser import login

from .helpers import assert_no_inline_script, expect_document_status, settle, shot

pytestmark = pytest.mark.browser


def _create_user(api, username: str, password: str) -> None:  # type: ignore[no-untyped-def]
    resp = api.as_user("xq.admin").post(
        "/api/v1/tenants/640104/users",
        json={
            "username": username,
            "display_name": "李登录",
            "password": password,
            "roles": ["project_editor"],
        },
    )
    assert resp.status_code == 201, resp.get_json()


def _submit_login(page, username: str, password: str) -> None:  # type: ignore[no-untyped-def]
    settle(page)
    page.fill("#username", username)
    page.fill("#password", password)
    page.get_by_role("button", name="登录").click()


def test_wrong_password_shows_error_and_stays_on_login_page(page, live_server, api, unique):
    # a fresh user: failed logins are throttled per (username, IP), never burn a demo user's budget
    username = f"xq.wrong{unique}"
    _create_user(api, username, "Right@2026x")
    expect_document_status(page, 401)  # a failed login is answered 401 (the throttle counts those)

    page.goto("/login")
    expect(page.get_by_role("heading", name="用户登录")).to_be_visible()
    expect(page).to_have_title(re.compile("^登录"))
    shot(page, "login")
    assert_no_inline_script(page)

    _submit_login(page, username, "Wrong@2026x")
    error = page.get_by_test_id("login-error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("用户名或密码错误")
    expect(page).to_have_url(f"{live_server}/login")
    expect(page.get_by_role("heading", name="用户登录")).to_be_visible()
    expect(page.locator("#username")).to_have_value(username)  # kept for the retry
    expect(page.locator("#password")).to_have_value("")  # never echoed back
    expect(page.get_by_test_id("who")).to_have_count(0)  # nobody is logged in
    shot(page, "login-wrong-password")

    # an unknown username gets the very same message (no user enumeration)
    message = error.inner_text()
    _submit_login(page, f"nobody.{unique}", "Wrong@2026x")
    expect(page.locator("#password")).to_have_value("")  # the answer to this attempt has come
    expect(page.locator("#username")).to_have_value(f"nobody.{unique}")
    expect(page.get_by_test_id("login-error")).to_have_text(message)
    expect(page).to_have_url(f"{live_server}/login")
    assert_no_inline_script(page)
    assert page.problems == [], "\n".join(page.problems)


def test_editor_logs_in_to_own_county_and_logs_out(page, live_server):
    login(page, "xq.editor")
    expect(page).to_have_url(f"{live_server}/")
    expect(page.get_by_role("alert")).to_contain_text("欢迎，兴庆区项目单位填报人")
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_contain_text("兴庆区")
    expect(heading).to_contain_text("640104")
    expect(page.get_by_test_id("roles")).to_have_text("项目单位填报人")
    who = page.get_by_test_id("who")
    expect(who).to_be_visible()
    expect(who).to_contain_text("xq.editor")
    expect(who).to_contain_text("640104")
    expect(page.get_by_test_id("read-only-badge")).to_have_count(0)  # own county: not read-only
    nav = page.get_by_role("navigation")
    expect(nav.get_by_role("link", name="首页")).to_be_visible()
    expect(nav.get_by_role("link", name="用户管理")).to_have_count(0)  # not an administrator
    expect(page.get_by_label("切换查看地区")).to_have_count(0)  # a county has nothing below it
    shot(page, "home-xq-editor")
    assert_no_inline_script(page)

    settle(page)
    nav.get_by_role("button", name="退出").click()
    expect(page).to_have_url(f"{live_server}/login")
    expect(page.get_by_role("alert")).to_contain_text("已安全退出")
    expect(page.get_by_test_id("who")).to_have_count(0)
    expect(page.get_by_role("button", name="退出")).to_have_count(0)

    settle(page)
    page.goto("/")  # the session is gone: back to the login page
    expect(page).to_have_url(re.compile(r"/login\?next=%2F$"))
    expect(page.get_by_role("heading", name="用户登录")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("请先登录")
    assert page.problems == [], "\n".join(page.problems)


# Posts the login form `count` times at once with a wrong password (the same request as the button).
FAIL_LOGINS = """([username, count]) => {
  const form = document.querySelector("form");
  const body = new FormData(form);
  body.set("username", username);
  body.set("password", "Wrong@2026x");
  return Promise.all(Array.from({length: count}, () =>
    fetch(form.action, {method: "POST", body: new URLSearchParams(body)}).then(r => r.status)));
}"""


def test_login_is_throttled_after_five_failures(page, live_server, unique):
    username = f"nobody.t{unique}"
    expect_document_status(page, 401, 429)
    page.goto("/login")
    # four failures at once (argon2 is slow on purpose), then the fifth and the sixth as a user would
    assert page.evaluate(FAIL_LOGINS, [username, 4]) == [401] * 4
    _submit_login(page, username, "Wrong@2026x")
    expect(page.get_by_test_id("login-error")).to_contain_text("用户名或密码错误")
    _submit_login(page, username, "Wrong@2026x")
    # the form stays, with the reason in Chinese (the limit too, e.g. "15 分钟内最多 5 次")
    message = page.get_by_test_id("login-error")
    expect(message).to_contain_text("登录失败次数过多，请稍后再试")
    expect(page).to_have_url(f"{live_server}/login")
    expect(page.locator("#username")).to_have_value(username)
    assert re.findall(r"[A-Za-z]+", message.inner_text()) == [], message.inner_text()
    assert page.problems == [], "\n".join(page.problems)
