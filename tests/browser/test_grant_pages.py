"""The grant dialog and the evaluator portal in a browser (issue 13 item 7): xq.admin opens
「授权第三方机构」 on a project's 第三方授权 tab, picks 宁夏绩评咨询有限公司 (its users come with htmx),
the actions (查看项目 always, ticked and fixed) and a date, and submits; the grant is listed; the
evaluator's home shows the project with its countdown and opens it; xq.admin revokes with a reason;
the evaluator then sees 已撤销 and the project answers 403 naming the revocation."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from jixiao.platform.core.clock import today_in
from tests.api.test_project_lifecycle import create_program, new_project, through_assessment

from .helpers import assert_no_inline_script, expect_document_status, go, shot, signed_in

pytestmark = pytest.mark.browser

ORG = "宁夏绩评咨询有限公司"


def test_the_grant_dialog_and_the_evaluator_portal(fresh_page, live_server, api, runtime, unique):
    program = create_program(api, unique, 10)
    project = new_project(api, program, unique)
    pid, name = project["id"], project["name"]
    through_assessment(api, pid)
    until = (today_in(runtime.settings.timezone) + timedelta(days=10)).isoformat()

    # --- the bureau admin grants through the dialog ----------------------------------------------
    admin = signed_in(fresh_page, "xq.admin")
    go(admin, f"/projects/{pid}")
    admin.get_by_test_id("tab-grants").click()
    expect(admin.get_by_test_id("grants-none")).to_contain_text("尚未授权任何第三方机构")
    dialog = admin.get_by_test_id("grant-dialog")
    expect(dialog).to_be_hidden()
    admin.get_by_test_id("open-grant-dialog").click()
    expect(dialog).to_be_visible()
    dialog.get_by_label("第三方机构").select_option(label=ORG)
    person = dialog.get_by_label("宁夏绩评咨询评价员（eval.ningping）")  # loaded with htmx
    expect(person).to_be_visible()
    expect(person).not_to_be_checked()  # none ticked: the whole organisation
    read = dialog.get_by_label(re.compile("^查看项目"))
    expect(read).to_be_checked()
    expect(read).to_be_disabled()
    dialog.get_by_label("重点评价").check()
    dialog.get_by_label("查看佐证材料").check()
    expect(dialog.get_by_test_id("expiry-hint")).to_contain_text("最晚 2100-12-31")
    dialog.get_by_label("授权截止日期").fill(until)
    shot(admin, "grant-dialog")
    dialog.get_by_test_id("grant-submit").click()
    expect(admin.get_by_role("alert").filter(has_text=f"已授权「{ORG}」")).to_be_visible()
    row = admin.get_by_test_id("grant-row")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(ORG)
    expect(row).to_contain_text("全机构")
    expect(row).to_contain_text("查看项目、重点评价、查看佐证材料")
    expect(row).to_contain_text(f"{until} 23:59")
    expect(row.get_by_test_id("grant-status")).to_contain_text("有效")
    expect(row.get_by_test_id("grant-status")).to_contain_text("剩余 10 天")
    assert_no_inline_script(admin)

    # --- the evaluator's portal --------------------------------------------------------------------
    evaluator = signed_in(fresh_page, "eval.ningping")
    nav = evaluator.locator("#jx-nav .navbar-nav.me-auto .nav-link")
    expect(nav).to_have_text(["首页", "我的授权"])
    mine = evaluator.get_by_test_id("grant").filter(has_text=name)
    expect(mine).to_have_attribute("data-status", "active")
    expect(mine.get_by_test_id("grant-countdown")).to_have_text("剩余 10 天")
    expect(mine.get_by_test_id("grant-actions")).to_contain_text("重点评价")
    expect(mine.get_by_test_id("grant-expiry")).to_contain_text(f"有效期至 {until} 23:59")
    shot(evaluator, "grant-evaluator-home")
    mine.get_by_role("link", name=name).click()
    expect(evaluator.get_by_test_id("project-name")).to_contain_text(name)
    expect(evaluator.get_by_test_id("tab-grants")).to_have_count(0)
    evaluator.get_by_test_id("tab-evidence").click()
    expect(evaluator).to_have_url(f"{live_server}/evidence/projects/{pid}")
    expect(evaluator.get_by_test_id("evidence-intro")).to_be_visible()
    assert_no_inline_script(evaluator)

    # --- revoked with a reason: 已撤销, and the project refuses with the reason --------------------
    admin.reload()
    row = admin.get_by_test_id("grant-row")
    row.get_by_label("撤销原因").fill("评价合同终止")
    row.get_by_test_id("revoke").click()  # the confirm question is accepted by `signed_in`
    expect(row.get_by_test_id("grant-status")).to_contain_text("已撤销")
    expect(row.get_by_test_id("grant-status")).to_contain_text("评价合同终止")
    expect(row.get_by_test_id("revoke")).to_have_count(0)

    go(evaluator, "/")
    gone = evaluator.get_by_test_id("grant").filter(has_text=name)
    expect(gone).to_have_attribute("data-status", "revoked")
    expect(gone.get_by_test_id("grant-countdown")).to_have_text("已撤销")
    expect(gone.get_by_test_id("grant-expiry")).to_contain_text("评价合同终止")
    expect(gone.get_by_role("link", name=name)).to_have_count(0)
    expect_document_status(evaluator, 403)
    go(evaluator, f"/projects/{pid}")
    expect(evaluator.get_by_role("heading", level=1)).to_contain_text("403")
    expect(evaluator.get_by_role("heading", level=1)).to_contain_text("撤销")
    shot(evaluator, "grant-revoked-403")

    for pg in (admin, evaluator):
        assert pg.problems == [], "\n".join(pg.problems)
