"""The result-application pages in a browser (issue 13 items 4–5): finance issues a rectification
notice with two items on the tracker, the editor answers both, finance closes one and returns the
other with an opinion — each item's state, deadline and thread on the page; the result-application
panel asks for a reason once the choice differs from the suggestion; the public page, without a
login, shows the disclosed project in its plain printable layout and never an undisclosed one."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from tests.api.test_project_lifecycle import create_program
from tests.api.test_results import at_result_application

from .helpers import assert_no_inline_script, expect_document_status, go, shot, signed_in

pytestmark = pytest.mark.browser

LATER = (date.today() + timedelta(days=30)).isoformat()
SOONER = (date.today() + timedelta(days=10)).isoformat()


@pytest.fixture()
def program_id(api, unique) -> int:
    return create_program(api, unique, 10)


def test_the_rectification_tracker(fresh_page, api, runtime, program_id, unique):
    pid = at_result_application(api, runtime, program_id, unique)
    admin = signed_in(fresh_page, "xq.admin")
    go(admin, f"/projects/{pid}/results")
    assert_no_inline_script(admin)
    expect(admin.get_by_test_id("tab-rectification")).to_have_attribute("aria-current", "page")
    expect(admin.get_by_test_id("no-notices")).to_be_visible()
    # one item without its deadline: refused, the message beside it, what was typed kept
    expect_document_status(admin, 422)
    admin.get_by_test_id("item-1-text").fill("完善项目资金管理制度，明确支出审批流程")
    admin.get_by_test_id("item-1-deadline").fill(LATER)
    admin.get_by_test_id("item-2-text").fill("补充满意度调查样本，重新测算满意度")
    admin.get_by_test_id("issue-notice").click()
    admin.wait_for_load_state("load")
    expect(admin.get_by_test_id("error-items.2.deadline")).to_contain_text("第 2 项：请填写整改期限")
    expect(admin.get_by_test_id("item-1-text")).to_have_value("完善项目资金管理制度，明确支出审批流程")
    admin.get_by_test_id("item-2-deadline").fill(SOONER)
    admin.get_by_test_id("issue-notice").click()
    admin.wait_for_load_state("load")
    expect(admin.get_by_test_id("rect-summary")).to_contain_text("已销号 0 / 2 项")
    items = admin.locator("article.jx-item")
    expect(items).to_have_count(2)
    expect(items.nth(0).get_by_test_id("item-status")).to_have_text("待整改")
    expect(items.nth(1)).to_contain_text(f"整改期限 {SOONER}")

    editor = signed_in(fresh_page, "xq.editor")
    go(editor, f"/projects/{pid}/results")
    assert_no_inline_script(editor)
    expect(editor.get_by_test_id("issue-form")).to_have_count(0)  # editors do not issue
    for n, text in enumerate(("已修订资金管理办法并印发执行", "已补充调查样本 300 份"), start=0):
        item = editor.locator("article.jx-item").nth(n)
        item.get_by_test_id("reply-text").fill(text)
        item.get_by_test_id("reply").click()
        editor.wait_for_load_state("load")
        expect(editor.locator("article.jx-item").nth(n).get_by_test_id("item-status")).to_have_text("已答复")
    expect(editor.locator("article.jx-item").nth(0)).to_contain_text("已修订资金管理办法并印发执行")
    shot(editor, "results-tracker-answered")

    go(admin, f"/projects/{pid}/results")
    first, second = admin.locator("article.jx-item").nth(0), admin.locator("article.jx-item").nth(1)
    first.get_by_test_id("close-opinion").fill("整改到位")
    first.get_by_test_id("close-item").click()
    admin.wait_for_load_state("load")
    expect(admin.locator("article.jx-item").nth(0).get_by_test_id("item-status")).to_have_text("已销号")
    second = admin.locator("article.jx-item").nth(1)
    second.get_by_test_id("return-opinion").fill("样本仍不足，请按不低于 500 份补充")
    second.get_by_test_id("return-item").click()
    admin.wait_for_load_state("load")
    second = admin.locator("article.jx-item").nth(1)
    expect(second.get_by_test_id("item-status")).to_have_text("待整改")
    expect(second.get_by_test_id("entry-return")).to_contain_text("样本仍不足")
    expect(admin.get_by_test_id("rect-summary")).to_contain_text("已销号 1 / 2 项")
    shot(admin, "results-tracker-finance")

    # the result-application panel: a choice other than the suggestion asks for a reason
    go(admin, f"/projects/{pid}/results/application")
    assert_no_inline_script(admin)
    expect(admin.get_by_test_id("suggested")).to_have_text("优先保障")
    expect(admin.get_by_test_id("rec-prioritise")).to_be_checked()
    expect(admin.get_by_test_id("reason-box")).to_be_hidden()
    admin.get_by_test_id("rec-reduce").check()
    expect(admin.get_by_test_id("reason-box")).to_be_visible()
    admin.get_by_test_id("rec-prioritise").check()
    expect(admin.get_by_test_id("reason-box")).to_be_hidden()
    admin.get_by_test_id("disclose").check()
    admin.get_by_test_id("save-application").click()
    admin.wait_for_load_state("load")
    expect(admin.get_by_test_id("disclose")).to_be_checked()
    # the overview's card: the items closed of all, the recommendation; the stepper at its last stage
    go(admin, f"/projects/{pid}")
    expect(admin.get_by_test_id("panel-closed")).to_have_text("1")
    expect(admin.get_by_test_id("stage-panel")).to_contain_text("优先保障")
    expect(admin.get_by_test_id("step-result_application")).to_have_attribute("data-state", "current")
    assert admin.problems == [] and editor.problems == []


def test_the_public_page(fresh_page, api, runtime, program_id, unique):
    shown = at_result_application(api, runtime, program_id, unique)
    hidden = at_result_application(api, runtime, program_id, unique + "b")
    admin = api.as_user("xq.admin")
    for pid, disclose in ((shown, True), (hidden, False)):
        done = admin.put(
            f"/api/v1/projects/{pid}/result-application",
            json={"budget_recommendation": "prioritise", "disclose": disclose},
        )
        assert done.status_code == 200, done.get_json()
    page = fresh_page()  # nobody logged in
    response = page.goto("/public")
    assert response is not None and response.status == 200
    assert "set-cookie" not in response.headers
    page.wait_for_load_state("load")
    assert_no_inline_script(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("预算绩效评价结果公开")
    expect(page.locator(".navbar")).to_have_count(0)
    row = page.get_by_test_id(f"disclosure-{shown}")
    expect(row).to_contain_text(f"老旧小区改造{unique}")
    expect(row).to_contain_text("1,250,000.00")
    expect(row).to_contain_text("90.83")
    expect(row).to_contain_text("优先保障")
    expect(page.get_by_test_id(f"disclosure-{hidden}")).to_have_count(0)
    page.get_by_test_id("filter-tenant").select_option("640104")
    page.get_by_test_id("filter-year").select_option("2023")
    page.get_by_test_id("filter-apply").click()
    page.wait_for_load_state("load")
    assert "tenant=640104" in page.url and "year=2023" in page.url
    expect(page.get_by_test_id(f"disclosure-{shown}")).to_be_visible()
    shot(page, "results-public")
    page.emulate_media(media="print")
    expect(page.get_by_test_id("public-filter")).to_be_hidden()
    assert page.pdf(format="A4", landscape=True)[:4] == b"%PDF"
    assert page.problems == []
