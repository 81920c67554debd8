"""A page left open after the session ended (logged out in another tab): the next htmx click
takes the whole page to the login — not a login form swapped into the queue — and signing in
comes back to where the user was."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .helpers import settle, signed_in

pytestmark = pytest.mark.browser


def test_an_expired_session_goes_to_the_login_and_back(fresh_page, live_server):
    page = signed_in(fresh_page, "xq.editor")
    expect(page.get_by_test_id("tab-todo")).to_be_visible()
    page.context.clear_cookies()  # as if logged out elsewhere
    page.get_by_test_id("tab-done").click()
    expect(page).to_have_url(re.compile(r"/login\?next=%2F$|/login\?next=/$"))
    settle(page)
    expect(page.locator("nav.navbar")).to_have_count(1)  # one page, not a page inside a page
    page.fill("#username", "xq.editor")
    page.fill("#password", "Demo@2026")
    page.click("button[type=submit]")
    expect(page).to_have_url(f"{live_server}/")
    expect(page.get_by_test_id("tab-todo")).to_be_visible()
    assert page.problems == [], page.problems


def test_keyboard_focus_stays_on_the_tab_after_the_swap(fresh_page, live_server):
    page = signed_in(fresh_page, "xq.editor")
    page.get_by_test_id("tab-done").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("tab-done")).to_have_attribute("aria-current", "page")
    expect(page.get_by_test_id("tab-done")).to_be_focused()
    page.get_by_test_id("tab-todo").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("tab-todo")).to_have_attribute("aria-current", "page")
    expect(page.get_by_test_id("tab-todo")).to_be_focused()
    assert page.problems == [], page.problems
