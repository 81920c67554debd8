"""The reviewer's view of a resubmission (退回后重新提交): on the review page, the return's reasons and
what changed since the version that was returned — goals, lines added, removed and changed."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.api.test_project_lifecycle import create_program, lines, new_project, through_assessment

from .helpers import assert_no_inline_script, settle, shot, signed_in

pytestmark = pytest.mark.browser


def test_the_reviewer_sees_the_changes_since_the_return(fresh_page, live_server, api, unique):
    pid = new_project(api, create_program(api, unique, 10), unique)["id"]
    through_assessment(api, pid)
    editor, dept = api.as_user("xq.editor"), api.as_user("xq.dept")
    editor.put(
        f"/api/v1/projects/{pid}/targets", json={"overall_goal": "完成 12 个小区改造", "indicators": lines()}
    )
    assert editor.post(f"/api/v1/projects/{pid}/targets/submit").status_code == 200

    page = signed_in(fresh_page, "xq.dept")
    page.goto(f"{live_server}/projects/{pid}/targets/review")
    settle(page)
    expect(page.get_by_test_id("review-form")).to_be_visible()
    expect(page.get_by_test_id("resubmission")).to_have_count(0)  # a first submission: nothing to compare

    returned = dept.post(
        f"/api/v1/projects/{pid}/targets/reviews",
        json={"decision": "return", "comments": {"appropriateness": "成本指标应与预算一致"}},
    )
    assert returned.status_code == 200
    changed = lines(weights=(30, 20, 25, 25))
    changed[1]["target_value"] = "1200000"
    editor.put(
        f"/api/v1/projects/{pid}/targets",
        json={"overall_goal": "完成 12 个小区改造，惠及 3000 户", "indicators": changed[:3]},
    )
    editor.put(
        f"/api/v1/projects/{pid}/targets",
        json={"overall_goal": "完成 12 个小区改造，惠及 3000 户", "indicators": changed},
    )
    assert editor.post(f"/api/v1/projects/{pid}/targets/submit").status_code == 200

    page.goto(f"{live_server}/projects/{pid}/targets/review")
    settle(page)
    section = page.get_by_test_id("resubmission")
    expect(section).to_be_visible()
    expect(section).to_contain_text("兴庆区主管部门审核人")  # the reviewer by display name
    expect(section).not_to_contain_text("xq.dept")
    expect(section).to_contain_text("初审退回")
    expect(section.get_by_test_id("resubmission-reasons")).to_contain_text("适当性：成本指标应与预算一致")
    table = section.get_by_test_id("diff")
    expect(table).to_contain_text("总体目标")
    expect(table).to_contain_text("惠及 3000 户")
    rows = section.get_by_test_id("diff-changed")
    expect(rows.filter(has_text="项目总成本")).to_contain_text("1250000")
    expect(rows.filter(has_text="项目总成本")).to_contain_text("1200000")
    expect(rows.filter(has_text="受益居民户数")).to_contain_text("30")
    expect(rows.filter(has_text="受益居民户数")).to_contain_text("25")
    expect(page.get_by_test_id("review-form")).to_be_visible()  # and the reviewer decides beside it
    assert_no_inline_script(page)
    shot(page, "targets-resubmission-diff")
    assert page.problems == [], page.problems
