"""A live program in the browser (issue: a newcomer's first hour): the province edits a program on
its page; a program past its end is labelled 已结束 and offers no new project; a new project's
page shows no overdue badge, its stepper links the stages and says what opens a locked one; the
project form and the assessment name every problem in their first refusal."""

from __future__ import annotations

import secrets
from datetime import date, timedelta
from typing import Any

import pytest
from playwright.sync_api import expect

from jixiao.services.assessment.models import CRITERIA as CRITERION_NAMES
from tests.api.test_project_lifecycle import new_project

from .helpers import assert_no_inline_script, expect_document_status, go, settle, shot, signed_in

pytestmark = pytest.mark.browser

CRITERIA = tuple(CRITERION_NAMES)  # the six keys of API.md


def _program(api: Any, **overrides: Any) -> dict[str, Any]:
    body = {
        "name": f"页面编辑试点{secrets.token_hex(3)}",
        "start": date.today().isoformat(),
        "end": (date.today() + timedelta(days=700)).isoformat(),
        "tenant_codes": ["640104", "640105"],
        "max_projects_per_tenant": 5,
        "deadlines": {
            "assessment": (date.today() + timedelta(days=30)).isoformat(),
            "targets": (date.today() + timedelta(days=60)).isoformat(),
        },
        **overrides,
    }
    resp = api.as_user("nx.admin").post("/api/v1/programs", json=body)
    assert resp.status_code == 201, resp.get_json()
    created: dict[str, Any] = resp.get_json()
    return created


def test_the_province_edits_a_program_on_its_page(fresh_page, live_server, api):
    program = _program(api)
    new_project(api, program["id"], secrets.token_hex(3), years=(date.today().year,))  # 兴庆区 has one
    page = signed_in(fresh_page, "nx.admin")
    go(page, f"/programs/{program['id']}")
    page.get_by_test_id("edit-program").click()
    settle(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("编辑试点")
    expect(page.locator("#f-name")).to_have_value(program["name"])
    expect(page.locator("label[for='t-640104']")).to_contain_text("已有项目")
    assert_no_inline_script(page)
    shot(page, "program-edit")
    # a county with projects cannot leave, and every other problem is named with it
    expect_document_status(page, 422)
    page.locator("#t-640104").uncheck()
    page.fill("#f-name", "")
    page.fill("#f-s_completion_green", "0")
    page.get_by_test_id("save").click()
    expect(page.get_by_test_id("form-errors")).to_be_visible()
    expect(page.get_by_test_id("error-name")).to_contain_text("试点名称不能为空")
    expect(page.get_by_test_id("error-tenant_codes")).to_contain_text("兴庆区")
    expect(page.get_by_test_id("error-s_completion_green")).to_contain_text("正整数")
    settle(page)
    page.locator("#t-640104").check()
    page.locator("#t-640106").check()
    page.fill("#f-name", program["name"] + "（修订）")
    page.fill("#f-s_completion_green", "85")
    page.fill("#f-s_reminder_days", "7、3")
    page.get_by_test_id("save").click()
    settle(page)
    expect(page.get_by_test_id("program-name")).to_contain_text("（修订）")
    expect(page.get_by_text("已保存试点")).to_be_visible()
    saved = api.as_user("nx.admin").get(f"/api/v1/programs/{program['id']}").get_json()
    assert saved["tenant_codes"] == ["640104", "640105", "640106"]
    assert saved["settings"]["monitoring"]["completion_green"] == 85
    assert saved["settings"]["reminders"]["days_before"] == [7, 3]
    # the other admins see no edit button
    other = signed_in(fresh_page, "yc.admin")
    go(other, f"/programs/{program['id']}")
    expect(other.get_by_test_id("program-name")).to_be_visible()
    expect(other.get_by_test_id("edit-program")).to_have_count(0)


def test_an_ended_program_is_labelled_and_offers_no_project(fresh_page, live_server, api):
    ended = _program(
        api, start="2024-01-01", end=(date.today() - timedelta(days=3)).isoformat(), deadlines={}
    )
    page = signed_in(fresh_page, "xq.editor")
    go(page, "/programs/")
    row = page.locator("tr", has_text=ended["name"])
    expect(row).to_contain_text("已结束")
    go(page, f"/programs/{ended['id']}")
    expect(page.get_by_test_id("program-ended")).to_have_text("已结束")
    go(page, "/projects/new")
    expect(page.locator("#f-program_id option", has_text=ended["name"])).to_have_count(0)


def test_a_new_project_every_problem_at_once_and_a_calm_stepper(fresh_page, live_server, api):
    program = _program(api)
    page = signed_in(fresh_page, "xq.editor")
    go(page, f"/projects/new?program={program['id']}")
    expect(page.locator("#f-fund_source option").first).to_have_text("请选择…")
    expect_document_status(page, 422)
    page.get_by_test_id("save").click()
    expect(page.get_by_test_id("form-errors")).to_be_visible()
    for field in ("name", "department", "implementing_unit", "budget_amount", "fund_source", "project_class"):
        expect(page.get_by_test_id(f"error-{field}")).to_be_visible()
    settle(page)
    name = f"页面新建项目{secrets.token_hex(3)}"
    page.select_option("#f-program_id", str(program["id"]))
    page.fill("#f-name", name)
    page.fill("#f-department", "兴庆区住房和城乡建设局")
    page.fill("#f-implementing_unit", "兴庆区城市建设服务中心")
    page.fill("#f-budget_amount", "1,250,000")
    page.select_option("#f-fund_source", "一般公共预算")
    page.select_option("#f-project_class", "工程基建")
    page.get_by_test_id("save").click()
    settle(page)
    expect(page.get_by_role("heading", level=1)).to_contain_text(name)
    # live demo: nothing is overdue, later stages' deadlines are grey, a locked stage says what opens it
    expect(page.locator(".jx-badge-overdue, .jx-step-overdue, .jx-dot-overdue")).to_have_count(0)
    expect(page.locator("body")).not_to_contain_text("逾期")
    expect(page.get_by_test_id("step-opens-targets")).to_have_text("事前评估通过后开启")
    shot(page, "project-new-stepper")
    page.get_by_test_id("step-link-assessment").click()
    settle(page)
    # the assessment: one score of 120, everything else empty → every problem in one answer
    page.fill("#f-necessity-score", "120")
    page.get_by_test_id("submit").click()
    expect(page.get_by_test_id("form-errors")).to_be_visible()
    expect(page.get_by_test_id("error-criteria.necessity.score")).to_contain_text("0–100")
    for key in CRITERIA:
        expect(page.get_by_test_id(f"error-criteria.{key}.opinion")).to_be_visible()
        if key != "necessity":
            expect(page.get_by_test_id(f"error-criteria.{key}.score")).to_be_visible()
    expect(page.get_by_test_id("error-summary")).to_contain_text("摘要")
    expect(page.get_by_test_id("form-errors")).to_contain_text("共 13 处")
    shot(page, "assessment-every-problem")
