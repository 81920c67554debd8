"""The spot-check workbench in a browser (issue 15 item 4): nx.reviewer draws every approved target
set of a program with a seed, reviews one project on the four aspects — the empty form refused with
each problem beside its field — and sends a finding; xq.editor sees 须整改 on the project's
overview, answers it; nx.reviewer closes it (整改完成) and the overview says so."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.support.seeding import approved_targets, program_with

from .helpers import assert_no_inline_script, expect_document_status, go, shot, signed_in

pytestmark = pytest.mark.browser

ASPECTS = {
    "completeness": "指标齐全",
    "relevance": "与项目内容相关",
    "appropriateness": "数量目标偏低",
    "feasibility": "可以实现",
}


def test_draw_review_answer_and_close(fresh_page, api, runtime, unique):
    program_id = program_with(api, runtime, unique, ["640104", "640105"])
    approved_targets(
        runtime, program_id, unique, [("640104", "100", "个"), ("640105", "120", "个")], prefix="抽查页"
    )

    nx = signed_in(fresh_page, "nx.reviewer")
    go(nx, f"/spot-checks?program_id={program_id}")
    assert_no_inline_script(nx)
    expect(nx.get_by_test_id("available")).to_have_text("2")
    expect(nx.get_by_test_id("no-checks")).to_be_visible()
    nx.get_by_test_id("draw-share").fill("100")
    nx.get_by_test_id("draw-seed").fill("2026")
    nx.get_by_test_id("draw").click()
    expect(nx.get_by_test_id("check-facts")).to_contain_text("2026")
    expect(nx.get_by_test_id("items-table").locator("tbody tr")).to_have_count(2)
    shot(nx, "spot-check-drawn")

    row = nx.get_by_test_id("items-table").locator("tbody tr", has_text="兴庆区")
    row.get_by_role("link", name="审查").click()
    expect(nx.get_by_test_id("target-lines")).to_contain_text("100")

    # nothing filled: refused, each problem beside its field
    expect_document_status(nx, 422)
    nx.get_by_test_id("result-rectify").check()
    nx.get_by_test_id("submit-review").click()
    expect(nx.get_by_test_id("review-form")).to_contain_text("请填写完整性审查意见")
    expect(nx.get_by_test_id("review-form")).to_contain_text("请写明发现的问题")

    for key, text in ASPECTS.items():
        nx.get_by_test_id(f"comment-{key}").fill(text)
    nx.get_by_test_id("result-rectify").check()
    nx.get_by_test_id("findings").fill("数量指标目标值低于上年实际，请说明或调整")
    nx.get_by_test_id("submit-review").click()
    expect(nx.get_by_test_id("item-result")).to_have_text("须整改")
    expect(nx.get_by_test_id("finding")).to_contain_text("数量指标目标值低于上年实际")
    item_url = nx.url

    xq = signed_in(fresh_page, "xq.editor")
    project_url = re.sub(r"/spot-checks/.*", "", item_url)  # the origin
    go(xq, f"{project_url}/projects")
    xq.get_by_role("link", name=re.compile(f"抽查页0{unique}")).first.click()
    aside = xq.get_by_test_id("spot-check-aside")
    expect(aside.get_by_test_id("spot-check-result")).to_have_text("须整改")
    aside.get_by_test_id("spot-check-link").click()
    xq.get_by_test_id("reply-text").fill("已将目标值调整为不低于上年实际")
    xq.get_by_test_id("send-reply").click()
    expect(xq.get_by_test_id("finding")).to_contain_text("已将目标值调整为不低于上年实际")
    expect(xq.get_by_test_id("reply-form")).to_have_count(0)

    go(nx, item_url)
    nx.get_by_test_id("close-finding").click()
    expect(nx.get_by_test_id("item-result")).to_have_text("整改完成")
    shot(nx, "spot-check-closed")
