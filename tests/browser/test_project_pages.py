"""The pilot programme and project pages, the whole first half of the lifecycle in a browser:
the province sets up a programme → the county files a project → 事前评估 submitted and decided →
绩效目标 by template, with the inline quality check → 初审 → 复核 → frozen → adjustment with the
version diff; the walls (a sibling county 404, the city read-only)."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from playwright.sync_api import expect

from .helpers import assert_no_inline_script, expect_document_status, go, settle, shot, signed_in

pytestmark = pytest.mark.browser

CRITERIA = (
    "necessity",
    "economy",
    "target_reasonableness",
    "plan_effectiveness",
    "funding_compliance",
    "fiscal_affordability",
)


def _create_program(page: Any, name: str) -> str:
    page.locator("nav.navbar").get_by_role("link", name="试点", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("试点")
    settle(page)
    page.get_by_test_id("new-program").click()
    settle(page)
    form = page.get_by_test_id("program-form")
    # the tree: 全选 then none, then one county
    page.get_by_label("全选").check()
    expect(page.locator("[data-checked-count]")).to_contain_text("已选 27 / 27")
    page.get_by_label("全选").uncheck()
    expect(page.locator("[data-checked-count]")).to_contain_text("已选 0 / 27")
    # an empty form: every field's message at once
    expect_document_status(page, 422)
    form.get_by_test_id("save").click()
    expect(page.get_by_test_id("form-errors")).to_be_visible()
    expect(page.get_by_test_id("error-name")).to_contain_text("试点名称不能为空")
    expect(page.get_by_test_id("error-tenant_codes")).to_contain_text("至少选择一个参与地区")
    settle(page)
    page.fill("#f-name", name)
    page.fill("#f-start", "2026-01-01")
    page.fill("#f-end", "2027-12-31")
    page.fill("#f-limit", "5")
    page.fill("#f-deadline-assessment", "2026-12-31")
    page.fill("#f-deadline-targets", "2027-03-31")
    page.fill("#f-deadline-monitoring", "2027-09-30")
    page.fill("#f-deadline-self_evaluation", "2027-11-30")
    page.get_by_label(re.compile(r"^兴庆区")).check()
    expect(page.locator("[data-checked-count]")).to_contain_text("已选 1 / 27")
    assert_no_inline_script(page)
    shot(page, "programs-form")
    page.get_by_test_id("save").click()
    expect(page.get_by_test_id("program-name")).to_have_text(name)
    expect(page.get_by_test_id("limit")).to_have_text("5 个")
    expect(page.get_by_test_id("participants")).to_contain_text("兴庆区")
    expect(page.get_by_test_id("participants")).not_to_contain_text("西夏区")
    expect(page.get_by_test_id("settings-2")).to_contain_text("≥ 90%")
    expect(page.get_by_test_id("deadlines")).to_contain_text("1. 事前评估")
    expect(page.get_by_test_id("deadlines")).to_contain_text("2026年12月31日")
    settle(page)
    shot(page, "programs-detail")
    return page.url


def _create_project(page: Any, program: str, name: str) -> str:
    page.locator("nav.navbar").get_by_role("link", name="项目", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("试点项目")
    settle(page)
    page.get_by_test_id("new-project").click()
    settle(page)
    option = page.locator("#f-program_id option", has_text=program)
    page.select_option("#f-program_id", value=option.get_attribute("value"))
    page.fill("#f-name", name)
    page.fill("#f-department", "兴庆区住房和城乡建设局")
    page.fill("#f-implementing_unit", "兴庆区城市建设服务中心")
    page.fill("#f-budget_amount", "abc")
    page.select_option("#f-fund_source", "一般公共预算")
    page.select_option("#f-project_class", "工程基建")
    page.select_option("#f-start_year", "2026")
    page.select_option("#f-end_year", "2027")
    expect_document_status(page, 422)
    page.get_by_test_id("save").click()
    expect(page.get_by_test_id("error-budget_amount")).to_contain_text("金额")
    settle(page)
    page.fill("#f-budget_amount", "1250000")
    expect(page.locator('[data-money-preview="f-budget_amount"]')).to_have_text("1,250,000.00 元")
    shot(page, "projects-new")
    page.get_by_test_id("save").click()
    expect(page.get_by_test_id("project-name")).to_contain_text(name)
    expect(page.get_by_test_id("budget")).to_have_text("1,250,000.00 元")
    expect(page.get_by_test_id("step-assessment")).to_have_attribute("data-state", "current")
    expect(page.get_by_test_id("step-targets")).to_have_attribute("data-state", "locked")
    expect(page.get_by_test_id("current-stage")).to_have_text("事前评估")
    expect(page.get_by_test_id("countdown").first).to_contain_text(re.compile(r"剩余 \d+ 天"))
    settle(page)
    return page.url


def test_the_first_half_of_a_project_in_the_browser(fresh_page, live_server, api, unique):
    program = f"浏览器测试试点{unique}"
    name = f"老旧小区改造{unique}"

    nx = signed_in(fresh_page, "nx.admin")
    shot(nx, "navbar-nx-admin")
    _create_program(nx, program)

    # --- the county files a project and its ex-ante assessment ----------------------------------
    editor = signed_in(fresh_page, "xq.editor")
    project_url = _create_project(editor, program, name)
    assert_no_inline_script(editor)
    shot(editor, "project-detail-new")
    pid = re.search(r"/projects/(\d+)", project_url).group(1)

    go(editor, "/projects/?program=")
    row = editor.get_by_test_id("project-row").filter(has_text=name)
    expect(row.get_by_test_id("stage-badge")).to_have_text("填报中")
    expect(row).to_contain_text("1,250,000.00")
    expect(editor.get_by_test_id("project-table")).not_to_contain_text("地区")  # a county: no tenant column
    shot(editor, "projects-list-xq-editor")

    go(editor, f"/projects/{pid}/assessment")
    expect_document_status(editor, 422)
    editor.fill("#f-necessity-score", "90")
    editor.fill("#f-necessity-opinion", "群众改造需求迫切")
    editor.get_by_test_id("submit").click()  # incomplete: every gap at once
    expect(editor.get_by_test_id("form-errors")).to_be_visible()
    expect(editor.get_by_test_id("error-criteria.economy.score")).to_contain_text("投入经济性")
    expect(editor.get_by_test_id("error-summary")).to_be_visible()
    settle(editor)
    for key in CRITERIA:
        editor.fill(f"#f-{key}-score", "85")
        editor.fill(f"#f-{key}-opinion", "符合要求")
    editor.fill("#f-summary", "项目必要、方案可行，建议予以支持")
    editor.get_by_test_id("save-draft").click()
    expect(editor.locator(".alert-success")).to_contain_text("草稿已保存")
    settle(editor)
    shot(editor, "assessment-form")
    editor.get_by_test_id("submit").click()
    expect(editor.get_by_test_id("submitted-note")).to_be_visible()
    expect(editor.locator("#f-summary")).to_have_count(0)  # read-only for the editor now
    expect(editor.get_by_test_id("score-economy")).to_have_text("85")
    expect(editor.get_by_test_id("decision-form")).to_have_count(0)

    admin = signed_in(fresh_page, "xq.admin")
    go(admin, f"/projects/{pid}")
    admin.get_by_test_id("panel-action").click()
    settle(admin)
    expect_document_status(admin, 422)
    admin.get_by_test_id("decide").click()
    expect(admin.get_by_test_id("error-opinion")).to_contain_text("请填写财政审核意见")
    settle(admin)
    admin.get_by_label("予以支持").check()
    admin.fill("#f-opinion", "同意立项，按程序设置绩效目标")
    shot(admin, "assessment-decision")
    admin.get_by_test_id("decide").click()
    expect(admin.get_by_test_id("step-assessment")).to_have_attribute("data-state", "done")
    expect(admin.get_by_test_id("step-targets")).to_have_attribute("data-state", "current")

    # --- targets: template, inline check, fix, submit -------------------------------------------
    go(editor, f"/projects/{pid}/targets")
    expect(editor.get_by_test_id("template-select").locator("option:checked")).to_contain_text("工程基建类")
    # pick a line from the library (an overlay panel; search as you type), then remove it again
    editor.get_by_test_id("open-picker").click()
    expect(editor.get_by_test_id("picker-panel")).to_be_visible()
    editor.get_by_test_id("library-search").press_sequentially("px", delay=40)
    pick = editor.get_by_test_id("picker-results").get_by_role("button", name="选用").first
    expect(pick).to_be_visible()
    pick.click()
    expect(editor.get_by_test_id("line")).to_have_count(1)
    expect(editor.get_by_test_id("line-name").first).to_have_value(re.compile("培训|参训"))
    editor.get_by_test_id("picker-panel").get_by_role("button", name="关闭").click()
    expect(editor.get_by_test_id("picker-panel")).to_be_hidden()
    editor.get_by_test_id("line").first.get_by_role("button", name=re.compile("删除")).click()
    expect(editor.get_by_test_id("line")).to_have_count(0)
    editor.get_by_test_id("apply-template").click()
    expect(editor.get_by_test_id("line")).to_have_count(10)
    # a template on an empty set: the weights shared out, no rule message before the user acts
    expect(editor.get_by_test_id("weight-total")).to_contain_text("100 / 100")
    expect(editor.get_by_test_id("violations")).to_have_count(0)
    settle(editor)
    editor.fill("#f-overall_goal", "完成 12000 平方米老旧小区改造，惠及居民 3000 户")
    editor.fill("#f-midterm_goal", "两年内完成辖区老旧小区改造，居住环境明显改善")
    weights = editor.get_by_test_id("line-weight")
    for n in range(10):
        weights.nth(n).fill("10" if n else "5")
    expect(editor.get_by_test_id("weight-total")).to_contain_text("95 / 100")
    editor.evaluate("window.__jxSameDocument = true")
    editor.get_by_test_id("check").click()
    violations = editor.get_by_test_id("violations")
    expect(violations).to_contain_text("各指标权重之和须为 100，当前为 95")
    expect(violations).not_to_contain_text("总体目标")
    assert editor.evaluate("window.__jxSameDocument") is True, "检查 reloaded the page"
    shot(editor, "targets-check")
    editor.get_by_test_id("line-weight").first.fill("")
    editor.get_by_test_id("check").click()
    expect(editor.get_by_test_id("line-messages-1")).to_contain_text("权重须为大于 0 的数")
    editor.get_by_test_id("line-weight").first.fill("10")
    editor.get_by_test_id("check").click()
    expect(editor.get_by_test_id("check-passed")).to_be_visible()
    assert_no_inline_script(editor)
    shot(editor, "targets-editor")
    editor.get_by_test_id("submit").click()
    expect(editor.get_by_test_id("set-status")).to_contain_text("待初审")
    expect(editor.get_by_test_id("targets-form")).to_have_count(0)

    # --- 初审 and 复核 --------------------------------------------------------------------------
    plan = b"%PDF-1.4\n% implementation plan\n%%EOF\n"
    uploaded = api.as_user("xq.editor").post(
        f"/api/v1/projects/{pid}/evidence",
        data={"file": (io.BytesIO(plan), "实施方案（2026）.pdf"), "stage": "targets", "purpose": "实施方案"},
        content_type="multipart/form-data",
    )
    assert uploaded.status_code == 201, uploaded.get_json()
    dept = signed_in(fresh_page, "xq.dept")
    go(dept, f"/projects/{pid}/targets/review")
    beside = dept.get_by_test_id("evidence-beside")  # the reviewer sees the files beside the targets
    expect(beside).to_contain_text("佐证材料（绩效目标）")
    expect(beside.get_by_test_id("evidence-row")).to_contain_text("实施方案（2026）.pdf")
    expect(beside.get_by_test_id("download")).to_have_count(1)
    expect(beside.get_by_test_id("delete")).to_have_count(0)
    expect_document_status(dept, 422)
    dept.get_by_test_id("return").click()  # a return needs a comment
    expect(dept.get_by_test_id("form-errors")).to_contain_text("退回须")
    settle(dept)
    dept.get_by_test_id("comment-completeness").fill("指标完整，覆盖产出、成本、效益和满意度")
    shot(dept, "targets-review-first")
    dept.get_by_test_id("approve").click()
    expect(dept.locator(".alert-success")).to_contain_text("初审通过")

    go(admin, f"/projects/{pid}/targets/review")
    expect(admin.get_by_test_id("reviews")).to_contain_text("指标完整")
    admin.get_by_test_id("comment-feasibility").fill("目标可行")
    admin.get_by_test_id("approve").click()
    expect(admin.locator(".alert-success")).to_contain_text("复核通过")
    expect(admin.get_by_test_id("step-targets")).to_have_attribute("data-state", "done")
    expect(admin.get_by_test_id("step-monitoring")).to_have_attribute("data-state", "current")
    shot(admin, "project-detail-monitoring")

    # --- frozen; an adjustment makes version 2 with its diff ------------------------------------
    go(editor, f"/projects/{pid}/targets")
    expect(editor.get_by_test_id("frozen-note")).to_be_visible()
    expect(editor.get_by_test_id("targets-form")).to_have_count(0)
    expect(editor.locator("input[name=line_weight]")).to_have_count(0)
    expect(editor.get_by_test_id("step-monitoring")).to_have_attribute("data-state", "current")
    shot(editor, "targets-frozen")
    editor.select_option("#f-reason", "政策变化")
    editor.fill("#f-explanation", "上级下达新增改造任务")
    editor.get_by_test_id("adjust").click()
    expect(editor.get_by_test_id("set-status")).to_contain_text("填报中")
    expect(editor.get_by_test_id("adjustment-note")).to_contain_text("政策变化")
    editor.get_by_test_id("line-value").first.fill("15000")
    editor.get_by_test_id("save-draft").click()
    expect(editor.locator(".alert-success")).to_contain_text("草稿已保存")
    settle(editor)
    editor.get_by_test_id("tab-versions").click()
    v2 = editor.get_by_test_id("version-2")
    expect(v2).to_contain_text("政策变化")
    expect(v2.get_by_test_id("diff-changed")).to_contain_text("新建建筑面积")
    expect(v2.get_by_test_id("diff-changed")).to_contain_text(re.compile(r"指标值：\s*12000\s*→\s*15000"))
    expect(editor.get_by_test_id("version-1")).to_contain_text("已审核通过")
    shot(editor, "targets-versions")

    go(editor, f"/projects/{pid}/targets/print")
    expect(editor.get_by_test_id("declaration")).to_contain_text("项目支出绩效目标申报表")
    expect(editor.get_by_test_id("declaration")).to_contain_text("1,250,000.00")
    expect(editor.get_by_test_id("declaration-lines")).to_contain_text("经济成本")
    editor.emulate_media(media="print")
    shot(editor, "targets-declaration-print")
    editor.emulate_media(media="screen")

    # --- the walls ------------------------------------------------------------------------------
    sibling = signed_in(fresh_page, "xx.admin")
    expect_document_status(sibling, 404)
    for path in ("", "/assessment", "/targets", "/targets/versions", "/targets/print"):
        response = sibling.goto(f"{live_server}/projects/{pid}{path}")
        assert response is not None and response.status == 404, path
        settle(sibling)
    expect(sibling.locator("h1")).to_contain_text("404")

    city = signed_in(fresh_page, "yc.admin")
    go(city, "/projects/?program=")
    city_row = city.get_by_test_id("project-row").filter(has_text=name)
    expect(city_row.get_by_test_id("tenant")).to_have_text("兴庆区")
    expect(city_row).to_contain_text("只读")
    shot(city, "projects-list-yc-admin")
    go(city, f"/projects/{pid}")
    expect(city.get_by_test_id("read-only-badge")).to_be_visible()
    go(city, f"/projects/{pid}/targets")
    expect(city.get_by_test_id("targets-form")).to_have_count(0)
    expect(city.get_by_test_id("adjust-form")).to_have_count(0)
    expect(city.get_by_test_id("targets-view")).to_be_visible()

    for pg in (nx, editor, admin, dept, sibling, city):
        assert pg.problems == []
