"""The province dashboard in a browser (issue 15 item 1): nx.admin opens it — the summary cards, the
four ECharts charts drawn (an svg inside each container), the table grouped by city — filters by
逾期 (the content swapped in place, the URL bookmarkable), then exports it to Excel: the shared
progress bar reaches 100 % and the download gives the workbook of the filtered view."""

from __future__ import annotations

import re

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from tests.api.test_results import approved_self_evaluation
from tests.support.seeding import add_projects, program_with

from .helpers import assert_no_inline_script, go, settle, signed_in

pytestmark = pytest.mark.browser

CHARTS = ("chart-funnel", "chart-grades", "chart-execution", "chart-warnings")


def shot(page, name: str) -> None:
    page.screenshot(path=f"/tmp/jx-province-{name}.png", full_page=True)


def test_dashboard_charts_filter_and_export(fresh_page, api, runtime, unique, tmp_path):
    pid = program_with(api, runtime, unique, ["640104", "640105", "640100", "640200"])
    approved_self_evaluation(api, pid, unique)
    add_projects(runtime, pid, ["640105"], unique)
    nx = signed_in(fresh_page, "nx.admin")
    go(nx, f"/province/dashboard?program_id={pid}")
    assert_no_inline_script(nx)
    expect(nx.get_by_test_id("sum-tenants")).to_have_text("4")
    expect(nx.get_by_test_id("sum-overdue")).to_have_text("1")
    for chart in CHARTS:
        expect(nx.get_by_test_id(chart).locator("svg")).to_have_count(1)
    expect(nx.get_by_test_id("chart-funnel")).to_contain_text("事前评估")
    expect(nx.get_by_test_id("tenant-640104")).to_be_visible()
    expect(nx.get_by_test_id("tenant-640105").get_by_test_id("overdue")).to_have_text("事前评估逾期")
    shot(nx, "dashboard")

    # filter by 逾期: the content swaps, the URL is the bookmark, the charts are drawn again
    nx.get_by_test_id("overdue-filter").select_option("1")
    expect(nx.get_by_test_id("filtered")).to_be_visible()
    expect(nx).to_have_url(re.compile(r"overdue=1"))
    expect(nx.get_by_test_id("tenant-640104")).to_have_count(0)
    expect(nx.get_by_test_id("tenant-640105")).to_be_visible()
    expect(nx.get_by_test_id("sum-projects")).to_have_text("1")
    for chart in CHARTS:
        expect(nx.get_by_test_id(chart).locator("svg")).to_have_count(1)
    shot(nx, "filtered")

    # 导出 Excel: the shared progress bar to 100 %, then the download
    nx.get_by_test_id("export").click()
    bar = nx.get_by_test_id("job")
    expect(bar).to_have_attribute("data-status", "finished", timeout=120_000)
    expect(bar.get_by_test_id("job-status")).to_contain_text("100%")
    shot(nx, "exported")
    with nx.expect_download() as info:
        nx.get_by_test_id("export-download").click()
    download = info.value
    assert download.suggested_filename.startswith("试点汇总表_") and download.suggested_filename.endswith(
        ".xlsx"
    )
    saved = tmp_path / "dashboard.xlsx"
    download.save_as(saved)
    ws = load_workbook(saved)["汇总"]
    codes = {r[0] for r in ws.iter_rows(values_only=True) if r[0] in ("640104", "640105")}
    assert codes == {"640105"}

    # the bookmark opens the same filtered view
    go(nx, nx.url)
    settle(nx)
    expect(nx.get_by_test_id("overdue-filter")).to_have_value("1")
    expect(nx.get_by_test_id("tenant-640104")).to_have_count(0)
    assert nx.problems == [], nx.problems


def test_the_comparison_from_a_library_indicator(fresh_page, api, runtime, unique):
    """横向对比: from the indicator's page to its targets across tenants, the outlier marked in the
    table and in the box plot."""
    from tests.api.test_indicator_comparison import seed

    pid = program_with(api, runtime, unique, ["640104", "640105", "640106", "640121", "640202"])
    shared, _ = seed(runtime, pid, unique)
    nx = signed_in(fresh_page, "nx.admin")
    go(nx, f"/indicators/{shared}")
    nx.get_by_test_id("compare").click()
    settle(nx)
    nx.get_by_test_id("comparison-program").select_option(str(pid))
    nx.get_by_role("button", name="对比").click()
    settle(nx)
    assert_no_inline_script(nx)
    expect(nx.get_by_test_id("comparison-row")).to_have_count(7)
    outlier = nx.locator("[data-testid=comparison-row][data-outlier]")
    expect(outlier).to_have_count(1)
    expect(outlier).to_contain_text("900000")
    expect(nx.get_by_test_id("comparison-method")).to_contain_text("修正 Z 分数")
    # the box plot: drawn (svg), every value a point, the outlier the one red point
    box = nx.get_by_test_id("comparison-box")
    expect(box.locator("svg")).to_have_count(1)
    expect(box.locator('path[fill="#b3261e"]')).to_have_count(1)
    shot(nx, "comparison")
    assert nx.problems == [], nx.problems
