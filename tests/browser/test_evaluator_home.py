"""The evaluator's home page: its grants (none in the demo: a clear empty state), never the
counters of a tenant it does not belong to."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.support.browser import login

from .helpers import assert_no_inline_script, shot

pytestmark = pytest.mark.browser


def test_evaluator_home_shows_its_grants_empty_state(page, live_server):
    login(page, "eval.ningping")
    expect(page).to_have_url(f"{live_server}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("宁夏绩评咨询有限公司")
    expect(page.get_by_test_id("roles")).to_have_text("第三方评价人员")
    empty = page.get_by_test_id("grants-empty")
    expect(empty).to_be_visible()
    expect(empty).to_contain_text("尚无项目授权")
    expect(empty).to_contain_text("项目所在财政局授权后，这里会列出您可以查看和评价的项目")
    # no tenant counters that mean nothing to an evaluator
    expect(page.get_by_text("概况")).to_have_count(0)
    expect(page.get_by_test_id("stat-programs")).to_have_count(0)
    expect(page.get_by_test_id("stat-shared-indicators")).to_have_count(0)
    expect(page.get_by_test_id("tasks-empty")).to_be_visible()
    shot(page, "home-evaluator")
    assert_no_inline_script(page)
    assert page.problems == [], "\n".join(page.problems)
