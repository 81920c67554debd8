"""目标值参考 in the targets editor (issue 15 item 3): beside a line using a library indicator, the
distribution of the approved values of six other counties (工程基建); a warning while the editor
types a value far outside it (1000), gone again at 100; the indicator nobody else approved says why
nothing is shown; the 推荐指标 lists the indicator the six used, and 选用 adds it as a line with its
reference (fetched from the API with the page session; the saved lines' come with the page)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.support.seeding import approved_targets, library_indicator, program_with

from .helpers import assert_no_inline_script, go, shot, signed_in
from .test_targets_editor import _at_targets

pytestmark = pytest.mark.browser

SIX = [
    ("640105", "100", "个"),
    ("640106", "104", "个"),
    ("640121", "98", "个"),
    ("640202", "101", "个"),
    ("640205", "97", "个"),
    ("640221", "1000", "个"),
]


def test_the_distribution_and_the_warning_while_typing(fresh_page, live_server, api, runtime, unique):
    pid = _at_targets(api)  # a 兴庆区 工程基建 project at its targets
    seeded = program_with(api, runtime, unique, ["640105"])
    shared = library_indicator(runtime, unique, unit="个")
    alone = library_indicator(runtime, unique, unit="个", tag="x")
    approved_targets(runtime, seeded, unique, SIX, indicator_id=shared)
    saved = api.as_user("xq.editor").put(
        f"/api/v1/projects/{pid}/targets",
        json={
            "overall_goal": "完成改造",
            "indicators": [
                {"indicator_id": shared, "target_value": "100", "weight": "50"},
                {"indicator_id": alone, "target_value": "3", "weight": "50"},
            ],
        },
    )
    assert saved.status_code == 200, saved.get_json()

    page = signed_in(fresh_page, "xq.editor")
    fetched: list[str] = []
    page.on("request", lambda r: fetched.append(r.url) if "target-statistics" in r.url else None)
    go(page, f"/projects/{pid}/targets")
    first, second = page.get_by_test_id("line").nth(0), page.get_by_test_id("line").nth(1)
    reference = first.get_by_test_id("suggestion-distribution")
    expect(reference).to_have_text(
        "全省同类项目已批复目标值：6 个地区 · 中位数 100.5 个 · 四分位 98.5–103.25 个"
    )
    expect(second.get_by_test_id("suggestion-unavailable")).to_have_text(
        "同类项目不足 5 个地区，暂不显示参考值"
    )
    warning = first.get_by_test_id("suggestion-warning")
    expect(warning).to_be_hidden()  # 100 lies within
    assert fetched == []  # the saved lines' references come with the page

    value = first.get_by_test_id("line-value")
    value.fill("")
    value.press_sequentially("1000", delay=30)
    expect(warning).to_be_visible()
    expect(warning).to_contain_text("明显高于全省同类项目的通常范围（91.38–110.38 个）")
    assert "jx-value-outlier" in (value.get_attribute("class") or "")
    shot(page, "target-suggestion-warning")
    value.fill("")
    value.press_sequentially("100", delay=30)
    expect(warning).to_be_hidden()
    assert "jx-value-outlier" not in (value.get_attribute("class") or "")

    # 推荐指标: the indicator the six used, with how many; 选用 adds a line with its reference
    starting = page.get_by_test_id("starting-set")
    expect(starting).to_be_visible()
    starting.locator("summary").click()
    suggested = starting.get_by_test_id("suggested-indicator").filter(has_text=f"参考值测试指标{unique}")
    expect(suggested).to_have_count(1)
    expect(suggested.get_by_test_id("suggested-uses")).to_have_text("6 个地区 · 6 个项目选用")
    expect(suggested.get_by_role("button")).to_be_disabled()  # already on a line
    text = starting.inner_text()
    assert all(name not in text for name in ("西夏区", "金凤区", "永宁县", "大武口区", "惠农区", "平罗县"))
    assert_no_inline_script(page)
    assert page.problems == [], page.problems


def test_a_pick_from_the_starting_set_brings_its_reference(fresh_page, live_server, api, runtime, unique):
    pid = _at_targets(api)
    seeded = program_with(api, runtime, unique, ["640105"])
    shared = library_indicator(runtime, unique, unit="个", tag="p")
    approved_targets(runtime, seeded, unique, SIX, indicator_id=shared, prefix="推荐项目")

    page = signed_in(fresh_page, "xq.editor")
    fetched: list[str] = []
    page.on("request", lambda r: fetched.append(r.url) if "target-statistics" in r.url else None)
    go(page, f"/projects/{pid}/targets")
    starting = page.get_by_test_id("starting-set")
    assert starting.get_attribute("open") is not None  # an empty draft: open at once
    suggested = starting.get_by_test_id("suggested-indicator").filter(has_text=f"参考值测试指标{unique}p")
    suggested.get_by_role("button", name="选用").click()
    line = page.get_by_test_id("line")
    expect(line).to_have_count(1)
    expect(line.locator("input[name=line_name]")).to_have_value(f"参考值测试指标{unique}p")
    expect(line.get_by_test_id("suggestion-distribution")).to_contain_text("6 个地区 · 中位数 100.5 个")
    assert [f"/api/v1/indicators/{shared}/target-statistics?" in url for url in fetched] == [True]
    line.get_by_test_id("line-value").press_sequentially("1000", delay=30)
    expect(line.get_by_test_id("suggestion-warning")).to_be_visible()
    shot(page, "target-suggestion-starting-set")
    assert page.problems == [], page.problems
