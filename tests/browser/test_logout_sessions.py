"""Logging out ends the session on the server: a second browser given the cookies captured before
the logout (a stolen cookie) lands on the login page, not in the user's workspace."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .helpers import go, settle, shot, signed_in

pytestmark = pytest.mark.browser


def test_cookies_captured_before_logout_no_longer_log_in(fresh_page, live_server):
    page = signed_in(fresh_page, "xq.editor")
    captured = page.context.cookies()
    assert any(c["name"] == "jixiao_session" for c in captured), captured

    # while the session lives, the copied cookies are as good as the original (the attack works) …
    thief = fresh_page()
    thief.context.add_cookies(captured)
    go(thief, "/")
    expect(thief.get_by_test_id("who")).to_contain_text("xq.editor")

    # … the user logs out …
    page.get_by_role("button", name="退出").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.get_by_text("已安全退出")).to_be_visible()

    # … and a third browser given the same captured cookies is sent to the login page
    late = fresh_page()
    late.context.add_cookies(captured)
    go(late, "/")
    expect(late).to_have_url(re.compile(r"/login\?next="))
    expect(late.get_by_role("heading", name="用户登录")).to_be_visible()
    expect(late.get_by_test_id("who")).to_have_count(0)
    shot(late, "logout-copied-cookie")
    # the thief's open page is logged out too
    thief.reload()
    settle(thief)
    expect(thief.get_by_role("heading", name="用户登录")).to_be_visible()
    for p in (page, thief, late):
        assert p.problems == [], p.problems
