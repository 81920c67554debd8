"""The evaluator's home page: its grants (an organisation without any: a clear empty state), never
the counters of a tenant it does not belong to.

The demo's eval.ningping holds the grants other tests give it, so the empty state is shown by an
evaluator of a new organisation of this test's own."""

from __future__ import annotations

import secrets

import pytest
from playwright.sync_api import expect

from tests.support.browser import login

from .helpers import assert_no_inline_script, shot

pytestmark = pytest.mark.browser

PASSWORD = "Eval@2026ok"


def test_evaluator_home_shows_its_grants_empty_state(page, live_server, api):
    suffix = f"{secrets.randbelow(10**6):06d}"
    province = api.as_user("nx.admin")
    org = province.post("/api/v1/evaluator-orgs", json={"name": f"宁夏评估事务所{suffix}"})
    assert org.status_code == 201, org.get_json()
    username = f"eval.new{suffix}"
    user = province.post(
        f"/api/v1/evaluator-orgs/{org.get_json()['id']}/users",
        json={"username": username, "display_name": "新机构评价员", "password": PASSWORD},
    )
    assert user.status_code == 201, user.get_json()
    login(page, username, PASSWORD)
    expect(page).to_have_url(f"{live_server}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"宁夏评估事务所{suffix}")
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
