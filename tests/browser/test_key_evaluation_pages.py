"""The key evaluation form in the browser (issue 13 item 3): the granted evaluator opens the form
on the program's framework (四个一级指标, 20 items, unscored); scores typed show the total, the
grade and each dimension's subtotal live (key_evaluation.js), a weight changed away from 100 is
flagged, an item added and removed; 保存 and 提交; then xq.admin 审定通过 on the decision page and
the comparison with the self-evaluation shows the gap per level 1."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.api.test_key_evaluation import grant, through_self_evaluation
from tests.api.test_project_lifecycle import create_program

from .helpers import assert_no_inline_script, go, shot, signed_in

pytestmark = pytest.mark.browser


def test_the_live_total_then_submit_and_accept(fresh_page, live_server, api, runtime, unique):
    pid = through_self_evaluation(api, create_program(api, unique, 10), unique)
    grant(api, pid, ["read", "key_evaluation", "evidence_read"])
    page = signed_in(fresh_page, "eval.ningping")
    go(page, f"/projects/{pid}/evaluation")
    expect(page.get_by_test_id("key-form")).to_be_visible()
    assert_no_inline_script(page)
    expect(page.get_by_test_id("live-total")).to_have_text("0.00")
    expect(page.get_by_test_id("live-weights")).to_have_text("100.00")
    scores = page.locator("[data-key-score]")
    expect(scores).to_have_count(20)

    # every item at full marks but one: 100 − 3 + 1.5 = 98.50, 优; 决策's subtotal follows
    weights = page.locator("[data-key-weight]")
    for n in range(20):
        scores.nth(n).fill(weights.nth(n).input_value())
    expect(page.get_by_test_id("live-total")).to_have_text("100.00")
    scores.nth(0).fill("1.5")
    expect(page.get_by_test_id("live-total")).to_have_text("98.50")
    expect(page.get_by_test_id("live-grade")).to_have_text("优")
    expect(page.get_by_test_id("live-sub-决策")).to_have_text("13.50 / 15.00")
    # lower the 产出 scores: 良, then 中
    for n in range(11, 15):
        scores.nth(n).fill("0")
    expect(page.get_by_test_id("live-total")).to_have_text("63.50")
    expect(page.get_by_test_id("live-grade")).to_have_text("中")
    # a score above its weight is marked at once
    scores.nth(0).fill("16")
    expect(scores.nth(0)).to_have_class(re.compile("is-invalid"))
    scores.nth(0).fill("1.5")

    # an item added to 效益 moves the weight sum away from 100; removing it brings it back
    page.get_by_test_id("add-效益").click()
    section = page.get_by_test_id("section-效益")
    added = section.locator("[data-key-row]").last
    added.locator('input[name="item[]"]').fill("群众获得感")
    added.locator("[data-key-weight]").fill("5")
    expect(page.get_by_test_id("live-weights")).to_have_text("105.00")
    expect(page.get_by_test_id("live-weight-warning")).to_be_visible()
    added.locator("[data-key-remove]").click()
    expect(page.get_by_test_id("live-weights")).to_have_text("100.00")
    expect(page.get_by_test_id("live-weight-warning")).to_be_hidden()
    shot(page, "key-evaluation-live-total")

    # 提交 without bases: saved, and every missing basis named
    page.get_by_test_id("key-findings").fill("产出数量未达标")
    page.get_by_test_id("key-recommendations").fill("加强施工组织")
    page.get_by_test_id("key-submit").click()
    expect(page.get_by_test_id("form-errors")).to_contain_text("评分依据")
    for n in range(20):
        page.locator('textarea[name="basis[]"]').nth(n).fill("查阅资料、现场核查")
    page.get_by_test_id("key-submit").click()
    expect(page.get_by_test_id("key-status")).to_have_text("待财政审定")
    shown = api.as_user("xq.admin").get(f"/api/v1/projects/{pid}/evaluation").get_json()
    assert (shown["score"], shown["grade"], shown["status"]) == ("63.50", "中", "submitted")

    admin = signed_in(fresh_page, "xq.admin")
    go(admin, f"/projects/{pid}/evaluation/decision")
    admin.get_by_test_id("decision-accept").click()
    expect(admin.get_by_test_id("key-status")).to_have_text("已审定")
    go(admin, f"/projects/{pid}/evaluation/compare")
    expect(admin.get_by_test_id("compare-key-score")).to_have_text("63.50")
    expect(admin.get_by_test_id("compare-self-score")).to_have_text("90.83")
    expect(admin.get_by_test_id("compare-difference")).to_have_text("-27.33")
    expect(admin.get_by_test_id("compare-过程")).to_contain_text("自评不含此项")
