"""The self-evaluation form in the browser (issue 12 item 8): the worked example of DESIGN.md §6 typed
into the form shows 90.83 and 优 live, before anything is saved, with every line's points; changing
an actual changes the total; a line below its points asks for its reason; 提交, then 初审 by xq.dept
and 复核 by xq.admin on the review page."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.api.test_project_lifecycle import create_program, new_project, through_assessment
from tests.api.test_self_evaluation import WORKED, approved_targets, finish_monitoring

from .helpers import assert_no_inline_script, go, shot, signed_in

pytestmark = pytest.mark.browser


def _opened(api, runtime, unique) -> int:
    """A 兴庆区 project with the worked example's targets approved and monitoring complete (the
    September round reported through the API)."""
    pid: int = new_project(api, create_program(api, unique, 10), unique)["id"]
    through_assessment(api, pid)
    approved_targets(api, pid)
    finish_monitoring(api, pid)
    return pid


def test_the_live_score_then_first_and_final_review(fresh_page, live_server, api, runtime, unique):
    pid = _opened(api, runtime, unique)
    page = signed_in(fresh_page, "xq.editor")
    go(page, f"/projects/{pid}/self-evaluation")
    form = page.get_by_test_id("evaluation-form")
    expect(form).to_be_visible()
    expect(page.get_by_test_id("score-total")).to_have_text("0.00")  # nothing entered yet

    page.get_by_test_id("input-budget_executed").fill("1150000")
    actuals = page.get_by_test_id("input-actual")
    expect(actuals).to_have_count(len(WORKED))
    for n, row in enumerate(WORKED):
        actuals.nth(n).press_sequentially(row[6], delay=20)
    page.get_by_test_id("input-summary").fill("完成 80 个小区改造，居民满意度 85%")

    # live, before saving: the total, the grade, every line's points, the budget's
    expect(page.get_by_test_id("score-total")).to_have_text("90.83")
    expect(page.get_by_test_id("score-grade")).to_have_text("优")
    expect(page.get_by_test_id("earned")).to_have_text(["24.00", "18.18", "30.00", "9.44"])
    expect(page.get_by_test_id("available")).to_have_text(["30.00", "20.00", "30.00", "10.00"])
    expect(page.get_by_test_id("completion")).to_have_text(["80.00%", "90.91%", "100.00%", "94.44%"])
    expect(page.get_by_test_id("budget-earned")).to_have_text("9.20")
    expect(page.get_by_test_id("budget-rate")).to_have_text("92.00%")
    assert (
        api.as_user("xq.editor").get(f"/api/v1/projects/{pid}/self-evaluation").get_json()["budget_executed"]
        is None
    )

    # a line below its points asks for its reason (highlighted, not required); a line fully met does not
    lines = page.get_by_test_id("eval-line")
    expect(lines.nth(0).get_by_test_id("shortfall-prompt")).to_contain_text("请分析未完成原因")
    expect(lines.nth(2).get_by_test_id("shortfall-prompt")).to_be_hidden()
    border = lines.nth(0).get_by_test_id("input-reason").evaluate("el => getComputedStyle(el).borderTopColor")
    plain = lines.nth(2).get_by_test_id("input-reason").evaluate("el => getComputedStyle(el).borderTopColor")
    assert border != plain, (border, plain)
    shot(page, "self-evaluation-live-score")

    # changing an actual changes the total: 100 of 100 gives the line its 30 points
    actuals.nth(0).fill("100")
    expect(page.get_by_test_id("score-total")).to_have_text("96.83")
    expect(lines.nth(0).get_by_test_id("earned")).to_have_text("30.00")
    expect(lines.nth(0).get_by_test_id("shortfall-prompt")).to_be_hidden()
    # a value that cannot be scored is named beside its line
    actuals.nth(0).fill("八十")
    expect(lines.nth(0).get_by_test_id("line-messages")).to_contain_text("第 1 行「改造小区数量」")
    expect(page.get_by_test_id("score-errors")).to_be_visible()
    actuals.nth(0).fill("80")
    expect(page.get_by_test_id("score-total")).to_have_text("90.83")
    expect(lines.nth(0).get_by_test_id("line-messages")).to_be_hidden()
    lines.nth(0).get_by_test_id("input-reason").fill("两个小区因管线迁改延期")

    page.get_by_test_id("submit").click()  # the confirmation is accepted (signed_in)
    expect(page.get_by_test_id("evaluation-status")).to_contain_text("待初审")
    expect(page.get_by_test_id("score-total")).to_have_text("90.83")
    expect(page.get_by_test_id("evaluation-form")).to_have_count(0)  # read-only while reviewed
    assert_no_inline_script(page)
    assert page.problems == [], page.problems

    for username, level, after in (("xq.dept", "初审", "初审通过"), ("xq.admin", "复核", "复核通过")):
        reviewer = signed_in(fresh_page, username)
        go(reviewer, f"/projects/{pid}/self-evaluation/review")
        review = reviewer.get_by_test_id("review-form")
        expect(review).to_contain_text(f"{level}意见")
        expect(reviewer.get_by_test_id("score-total")).to_have_text("90.83")
        expect(reviewer.get_by_test_id("earned")).to_have_text(["24.00", "18.18", "30.00", "9.44"])
        expect(reviewer.get_by_test_id("eval-line").nth(0)).to_contain_text("两个小区因管线迁改延期")
        review.get_by_test_id("comment-completeness").fill("材料完整")
        shot(reviewer, f"self-evaluation-{level}")
        review.get_by_test_id("approve").click()
        expect(reviewer.get_by_text(after)).to_be_visible()
        assert_no_inline_script(reviewer)
        assert reviewer.problems == [], reviewer.problems

    go(page, f"/projects/{pid}/self-evaluation")
    expect(page.get_by_test_id("frozen-note")).to_contain_text("90.83 分，优")
    go(page, f"/projects/{pid}/self-evaluation/print")
    expect(page.get_by_test_id("sheet-total")).to_have_text("90.83")
    expect(page.get_by_test_id("sheet-grade")).to_have_text("优")
    expect(page.get_by_test_id("sign-first")).to_contain_text("通过")
    expect(page.get_by_test_id("sign-finance")).to_contain_text("通过")
    shot(page, "self-evaluation-print")
    assert page.problems == [], page.problems
