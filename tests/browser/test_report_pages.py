"""The pilot report pages in a browser (issue 14): a county generates its report from the list and
watches the progress bar reach 100 % and the PDF appear in the page, then a new version; the province
scores a submitted report on the workbench — the running total against the pass mark as typed, a
score above its maximum refused beside its item — returns it, passes the next version, and publishes
a project of the accepted report as a 规范管理蓝本 that the case library shows."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.api.test_done_when_reports import CHECKLIST, generate
from tests.api.test_project_lifecycle import create_program
from tests.api.test_results import approved_self_evaluation

from .helpers import assert_no_inline_script, expect_document_status, go, settle, signed_in

pytestmark = pytest.mark.browser

SHOTS = "/tmp"


def shot(page, name: str) -> None:
    page.screenshot(path=f"{SHOTS}/jx-{name}.png", full_page=True)


# Chromium's PDF viewer in the preview frame: Playwright sees the frame's response as the viewer's
# stream, without its headers, and the viewer may abort the frame's own request (the inline route's
# bytes and CSP are checked through page.request instead), as in test_evidence_pages.
VIEWER_NOISE = (
    r"^page without CSP script-src 'self': 200 chrome-extension://",
    r"^request failed: chrome-extension://\S+ net::ERR_ABORTED$",
    r"^request failed: http://[^/]+/reports/\d+/versions/\d+/preview net::ERR_ABORTED$",
    r"^page without CSP script-src 'self': 200 http://[^/]+/reports/\d+/versions/\d+/preview$",
)


def problems(page) -> list[str]:
    return [p for p in page.problems if not any(re.search(noise, p) for noise in VIEWER_NOISE)]


@pytest.fixture()
def program_id(api, unique) -> int:
    return create_program(api, unique, 10)


def test_generate_with_the_progress_bar_and_the_pdf_in_the_page(fresh_page, api, program_id, unique):
    approved_self_evaluation(api, program_id, unique, "xq")
    admin = signed_in(fresh_page, "xq.admin")
    go(admin, f"/reports?program_id={program_id}")
    assert_no_inline_script(admin)
    shot(admin, "reports-index")
    admin.get_by_test_id(f"generate-{program_id}").click()
    settle(admin)
    bar = admin.get_by_test_id("job")
    expect(bar).to_have_attribute("data-status", "finished", timeout=120_000)
    expect(bar.get_by_test_id("job-status")).to_contain_text("100%")
    expect(admin.get_by_test_id("generated")).to_contain_text("第 1 版已生成")
    expect(admin.get_by_test_id("report-preview")).to_be_visible()
    expect(admin.get_by_test_id("version-1")).to_be_visible()
    expect(admin.get_by_test_id("submit-report")).to_be_visible()
    preview = admin.request.get(admin.get_by_test_id("report-preview").get_attribute("src"))
    assert preview.status == 200 and preview.body()[:5] == b"%PDF-"
    assert preview.headers["content-disposition"].startswith("inline")
    csp = preview.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'self'" in csp, csp
    shot(admin, "report-generated")

    # a new version: the bar again, then version 2 in the table and in the preview
    admin.get_by_test_id("regenerate").click()
    settle(admin)
    expect(admin.get_by_test_id("job")).to_have_attribute("data-status", "finished", timeout=120_000)
    expect(admin.get_by_test_id("version-2")).to_be_visible()
    expect(admin.locator("#jx-latest-title")).to_have_text("第 2 版预览")
    src = admin.get_by_test_id("report-preview").get_attribute("src") or ""
    assert src.endswith("/versions/2/preview"), src
    assert problems(admin) == [], admin.problems


def test_the_province_scores_returns_passes_and_publishes_a_case(fresh_page, api, program_id, unique):
    pid = approved_self_evaluation(api, program_id, unique, "xx")
    rid = generate(api, "xx.admin", program_id)["id"]
    assert api.as_user("xx.admin").post(f"/api/v1/pilot-reports/{rid}/submit").status_code == 200

    province = signed_in(fresh_page, "nx.admin")
    go(province, f"/reports/acceptance?program_id={program_id}")
    assert_no_inline_script(province)
    expect(province.get_by_test_id("tab-submitted")).to_have_attribute("aria-current", "page")
    shot(province, "workbench")
    province.get_by_test_id(f"accept-{rid}").click()
    settle(province)
    assert_no_inline_script(province)
    expect(province.get_by_test_id("accept-preview")).to_be_visible()

    # the running total as typed, against the pass mark (60)
    for n, top in enumerate(CHECKLIST.values(), start=1):
        province.get_by_test_id(f"score-{n}").fill(str(top * 0.8))
    expect(province.get_by_test_id("running-total")).to_have_text("80.00")
    expect(province.get_by_test_id("running-state")).to_contain_text("达到及格线 60")
    province.get_by_test_id("score-1").fill("16")
    expect(province.get_by_test_id("running-state")).to_contain_text("超出该项满分")
    shot(province, "accept-form")

    # refused: 422, the problem beside 事前绩效评估, what was typed kept
    expect_document_status(province, 422)
    province.get_by_test_id("outcome-pass").check()
    province.get_by_test_id("submit-acceptance").click()
    settle(province)
    expect(province.get_by_test_id("error-item.1")).to_contain_text("事前绩效评估")
    expect(province.get_by_test_id("score-1")).to_have_value("16")
    shot(province, "accept-422")

    # round 1: low scores, returned with an opinion
    for n in range(1, 7):
        province.get_by_test_id(f"score-{n}").fill("5")
    expect(province.get_by_test_id("running-total")).to_have_text("30.00")
    expect(province.get_by_test_id("running-state")).to_contain_text("低于及格线")
    province.get_by_test_id("outcome-return").check()
    province.get_by_test_id("accept-opinion").fill(f"请补充监控纠偏材料{unique}")
    province.get_by_test_id("submit-acceptance").click()
    settle(province)
    expect(province.get_by_test_id("report-status")).to_have_text("已退回")
    expect(province.get_by_test_id("round-1")).to_contain_text(f"请补充监控纠偏材料{unique}")
    expect(province.get_by_test_id("round-1").get_by_test_id("round-total")).to_have_text("30.00")

    # the county regenerates and resubmits (through the API); round 2 passes on the page
    generate(api, "xx.admin", program_id)
    assert api.as_user("xx.admin").post(f"/api/v1/pilot-reports/{rid}/submit").status_code == 200
    go(province, f"/reports/acceptance?program_id={program_id}")
    province.get_by_test_id(f"accept-{rid}").click()
    settle(province)
    expect(province.get_by_test_id("earlier-rounds")).to_contain_text("第 1 轮验收")
    for n, top in enumerate(CHECKLIST.values(), start=1):
        province.get_by_test_id(f"score-{n}").fill(str(top * 0.9))
    expect(province.get_by_test_id("running-total")).to_have_text("90.00")
    province.get_by_test_id("outcome-pass").check()
    province.get_by_test_id("accept-opinion").fill("同意通过验收")
    province.get_by_test_id("submit-acceptance").click()
    settle(province)
    expect(province.get_by_test_id("report-status")).to_have_text("已通过验收")
    expect(province.get_by_test_id("round-2").get_by_test_id("round-outcome")).to_have_text("通过")
    expect(province.get_by_test_id("reviews-of-1")).to_be_visible()

    # 发布为规范管理蓝本, then the case in the library
    row = province.get_by_test_id(f"case-project-{pid}")
    title = f"规范管理蓝本{unique}"
    row.get_by_test_id("case-title").fill(title)
    row.get_by_test_id("publish-case").click()
    settle(province)
    link = province.get_by_test_id(f"case-project-{pid}").get_by_test_id("case-link")
    expect(link).to_have_text(title)
    shot(province, "report-accepted")
    link.click()
    settle(province)
    expect(province.locator("h1")).to_have_text(title)
    expect(province.get_by_test_id("case-text")).to_contain_text("通过省级验收")
    go(province, "/indicators/cases")
    expect(province.get_by_text(title)).to_be_visible()
    # the 专报: the bar, then both files offered
    go(province, f"/reports/briefing?program_id={program_id}")
    province.get_by_test_id("start-briefing").click()
    settle(province)
    expect(province.get_by_test_id("job")).to_have_attribute("data-status", "finished", timeout=120_000)
    expect(province.get_by_test_id("briefing-pdf")).to_be_visible()
    expect(province.get_by_test_id("briefing-docx")).to_be_visible()
    shot(province, "briefing")
    assert problems(province) == [], province.problems
