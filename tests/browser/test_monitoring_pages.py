"""The monitoring pages in a browser (issue 12 item 8): the round form's badges turn as values are
typed (the same rules as the service) and mark reason and measure required, the server's message
shows on the line when they are missing; the chart of a line across rounds; finance confirms a
round and issues a 约谈 that the editor finds in the inbox and answers."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from tests.api.test_monitoring import approved_project, march_body, post_round, september_body
from tests.api.test_project_lifecycle import create_program

from .helpers import assert_no_inline_script, expect_document_status, go, shot, signed_in

pytestmark = pytest.mark.browser

LATER = (date.today() + timedelta(days=30)).isoformat()


@pytest.fixture()
def program_id(api, unique) -> int:
    return create_program(api, unique, 10)


def test_the_round_form_turns_a_line_red_and_the_server_names_it(fresh_page, api, program_id, unique):
    pid, _ = approved_project(api, program_id, unique)
    page = signed_in(fresh_page, "xq.editor")
    go(page, f"/projects/{pid}/monitoring")
    assert_no_inline_script(page)
    form = page.get_by_test_id("round-form")
    expect(form).to_be_visible()
    page.get_by_test_id("as-of").fill("2023-03-31")
    page.get_by_test_id("budget-executed").fill("300000.00")
    expect(page.get_by_test_id("budget-live")).to_contain_text("执行率 24.00% · 序时进度 24.66%")
    expect(page.get_by_test_id("budget-badge")).to_have_text("绿色")
    for n, (planned, actual) in enumerate(
        [("2", "2"), ("300000", "280000"), ("2000", "1300"), ("90", "92")], 1
    ):
        page.get_by_test_id(f"planned-{n}").fill(planned)
        page.get_by_test_id(f"actual-{n}").fill(actual)
    # 1300 of 2000 planned: 65 % — red, reason and measure now required
    badge = page.get_by_test_id("badge-3")
    expect(badge).to_have_text("红色")
    expect(badge).to_have_attribute("data-warning", "red")
    expect(page.get_by_test_id("completion-3")).to_have_text("完成率 65.00%")
    expect(page.get_by_test_id("reason-3")).to_have_attribute("required", "")
    expect(page.get_by_test_id("measure-3")).to_have_attribute("required", "")
    expect(page.get_by_test_id("why-hint-3")).to_contain_text("红色预警")
    # the `<=` line under its plan is met; a green line asks for nothing
    expect(page.get_by_test_id("badge-2")).to_have_text("绿色")
    expect(page.get_by_test_id("reason-1")).not_to_have_attribute("required", "")
    # typing more turns it yellow (1500 / 2000 = 75 %), then back to red
    page.get_by_test_id("actual-3").fill("1500")
    expect(badge).to_have_text("黄色")
    page.get_by_test_id("actual-3").fill("1300")
    expect(badge).to_have_text("红色")
    shot(page, "monitoring-round-form-red")

    expect_document_status(page, 422)
    page.get_by_test_id("report-round").click()
    page.wait_for_load_state("load")
    message = page.get_by_test_id("line-error-3-reason")
    expect(message).to_contain_text("「受益居民户数」为红色预警（完成率 65.00%），须填写偏差原因和纠偏措施")
    expect(page.get_by_test_id("line-error-3-measure")).to_be_visible()
    expect(page.get_by_test_id("actual-3")).to_have_value("1300")
    expect(page.get_by_test_id("badge-3")).to_have_text("红色")  # drawn again on the re-rendered form

    page.get_by_test_id("reason-3").fill("部分小区居民意见未统一，开工推迟")
    page.get_by_test_id("category-3").select_option("其他")
    page.get_by_test_id("likelihood-3").select_option("有可能")
    page.get_by_test_id("measure-3").fill("街道逐户协调，10 月底前全部开工")
    page.get_by_test_id("report-round").click()
    page.wait_for_url(f"**/projects/{pid}/monitoring/2023-03")
    expect(page.get_by_test_id("round-status")).to_have_text("已报送")
    expect(page.get_by_test_id("view-badge-3")).to_have_text("红色")
    expect(page.get_by_test_id("round-view")).to_contain_text("部分小区居民意见未统一")
    assert page.problems == []


def test_the_chart_of_a_line_across_rounds(fresh_page, api, program_id, unique):
    pid, ids = approved_project(api, program_id, unique)
    assert post_round(api, pid, march_body(ids)).status_code == 201
    assert post_round(api, pid, september_body(ids)).status_code == 201
    page = signed_in(fresh_page, "yc.admin")  # the city above reads it too
    go(page, f"/projects/{pid}/monitoring")
    chart = page.get_by_test_id("chart")
    expect(chart.locator("svg")).to_have_count(1)
    for name in ("目标值", "计划值", "实际值", "预测值"):
        expect(chart).to_contain_text(name)
    expect(chart).to_contain_text("改造小区数量（个）")
    expect(chart).to_contain_text("2023年09月")
    page.get_by_test_id("chart-line").select_option("受益居民户数")
    expect(chart).to_contain_text("受益居民户数（户）")
    expect(chart).to_have_attribute("data-line", "受益居民户数")
    assert_no_inline_script(page)
    shot(page, "monitoring-chart")
    assert page.problems == []


def test_finance_confirms_and_issues_a_talk_the_editor_answers(fresh_page, api, program_id, unique):
    pid, ids = approved_project(api, program_id, unique)
    assert post_round(api, pid, march_body(ids)).status_code == 201
    finance = signed_in(fresh_page, "xq.admin")
    go(finance, f"/projects/{pid}/monitoring/2023-03")
    finance.get_by_test_id("confirm-round").click()
    finance.wait_for_load_state("load")
    expect(finance.get_by_test_id("round-status")).to_have_text("已确认")
    expect(finance.get_by_test_id("confirm-round")).to_have_count(0)
    finance.get_by_test_id("issue-kind").select_option("约谈")
    talk = f"受益户数严重滞后（{unique}），请说明原因并提交整改方案"  # other tests close theirs
    finance.get_by_test_id("issue-text").fill(talk)
    finance.get_by_test_id("issue-deadline").fill(LATER)
    finance.get_by_test_id("issue-correction").click()
    finance.wait_for_load_state("load")
    article = finance.locator("article.jx-correction").first
    expect(article).to_contain_text("约谈")
    expect(article.get_by_test_id("correction-status")).to_have_text("待答复")
    assert finance.problems == []

    editor = signed_in(fresh_page, "xq.editor")
    go(editor, "/corrections")
    row = editor.locator("[data-testid^=inbox-row-]").filter(has_text=f"受益户数严重滞后（{unique}）")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("待答复")
    # the filter swaps the list in place: closed ones only → not there
    editor.get_by_test_id("status-filter").select_option("closed")
    editor.wait_for_url("**/corrections?status=closed")
    editor.wait_for_load_state("networkidle")
    expect(
        editor.locator("[data-testid^=inbox-row-]").filter(has_text=f"受益户数严重滞后（{unique}）")
    ).to_have_count(0, timeout=15_000)
    editor.get_by_test_id("status-filter").select_option("open")
    row = editor.locator("[data-testid^=inbox-row-]").filter(has_text=f"受益户数严重滞后（{unique}）")
    expect(row).to_have_count(1)
    row.locator("a").first.click()
    editor.wait_for_load_state("load")
    reply = editor.get_by_test_id("reply-form")
    reply.get_by_test_id("reply-text").fill("已约谈施工单位，增派人员，10 月底前全部开工")
    reply.get_by_test_id("reply").click()
    editor.wait_for_load_state("load")
    article = editor.locator("article.jx-correction").first
    expect(article.get_by_test_id("correction-status")).to_have_text("已答复")
    expect(article).to_contain_text("已约谈施工单位")
    assert_no_inline_script(editor)
    shot(editor, "monitoring-correction-answered")
    assert editor.problems == []
