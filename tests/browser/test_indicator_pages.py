"""The indicator library pages (指标库): search as you type, the create form with its Chinese errors,
retiring, the walls between counties and upward read-only, the Excel import with its progress bar,
templates and co-building proposals."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from tests.support.browser import login

from .helpers import assert_no_inline_script, expect_document_status, settle, shot

pytestmark = pytest.mark.browser

INVALID = re.compile(r"\bis-invalid\b")
SEARCH = "名称/解释/拼音，如 培训、peixun、px"


def _login(page: Any, username: str) -> None:
    """Log in and let the home page finish loading (leaving earlier aborts its scripts)."""
    login(page, username)
    expect(page.get_by_test_id("who")).to_contain_text(username)
    settle(page)


def _go(page: Any, url: str) -> None:
    settle(page)
    page.goto(url)


def _open_library(page: Any) -> None:
    """Follow the navbar link, as a user does."""
    settle(page)
    page.locator("nav.navbar").get_by_role("link", name="指标库", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("指标库")


def _workbook(download: Any) -> Any:
    """A downloaded .xlsx (Playwright keeps it under a name without the extension)."""
    assert download.suggested_filename.endswith(".xlsx"), download.suggested_filename
    return load_workbook(io.BytesIO(Path(download.path()).read_bytes()))


def _rows(page: Any) -> Any:
    return page.get_by_test_id("indicator-table").locator("tbody tr")


def _names(page: Any) -> list[str]:
    return [n.strip() for n in _rows(page).locator("td:nth-child(2) a").all_inner_texts()]


def _search(page: Any, text: str) -> None:
    """Type into the search box as a user does (a key at a time), then wait for the table."""
    box = page.get_by_placeholder(SEARCH)
    box.fill("")
    box.press_sequentially(text, delay=40)
    expect(page).to_have_url(re.compile(r"[?&]q=" + re.escape(_quoted(text)) + r"(&|$)"))
    expect(page.get_by_test_id("results")).not_to_have_class(re.compile("htmx-request"))


def _quoted(text: str) -> str:
    from urllib.parse import quote

    return quote(text)


def _row(page: Any, name: str) -> Any:
    return _rows(page).filter(has=page.get_by_role("link", name=name, exact=True))


def test_search_as_you_type_finds_training_by_pinyin_initials(page, live_server):
    _login(page, "xq.editor")  # a project editor reads the library
    _open_library(page)
    expect(page).to_have_url(f"{live_server}/indicators/")
    expect(page.get_by_test_id("result-count")).to_contain_text("共")
    expect(page.get_by_test_id("new-indicator")).to_have_count(0)  # no write buttons for an editor
    expect(page.get_by_test_id("import-indicators")).to_have_count(0)
    expect(page.get_by_test_id("framework-tree")).to_contain_text("服务对象满意度")
    total = int(page.get_by_test_id("tree-all").locator(".badge").inner_text())
    assert total >= 60, total  # the starter library (DEMO.md)
    assert_no_inline_script(page)
    shot(page, "indicators-library-xq-editor")

    page.evaluate("window.__jxSameDocument = true")  # survives only if no full page load happens
    _search(page, "px")
    names = _names(page)
    assert names, "px found nothing"
    assert "培训期数" in names and "人均培训成本" in names, names
    assert "参训人数" in names, names  # a 培训 indicator by its 共性类别, like for 培训 itself
    found = page.get_by_test_id("result-count").inner_text()
    count = int(re.search(r"共 (\d+) 条", found).group(1))  # other tests add 培训 indicators: pages
    assert count >= len(names), found
    expect(page.get_by_test_id("tree-all").locator(".badge")).to_have_text(str(count))
    assert page.evaluate("window.__jxSameDocument") is True, "the table was not swapped in place"
    shot(page, "indicators-search-px")

    # full pinyin and Chinese find the same indicators
    _search(page, "peixun")
    assert sorted(_names(page)) == sorted(names)
    expect(page.get_by_test_id("result-count")).to_contain_text(f"共 {count} 条")
    _search(page, "培训")
    assert sorted(_names(page)) == sorted(names)  # pinyin matches the fields Chinese matches
    expect(page.get_by_test_id("result-count")).to_contain_text(f"共 {count} 条")

    # the framework tree filters too, keeping the search; the URL can be bookmarked
    _search(page, "px")
    page.get_by_test_id("tree-数量").click()
    expect(page).to_have_url(re.compile(r"q=px.*level2=|level2=.*q=px"))
    expect(page.get_by_test_id("tree-数量")).to_have_class(re.compile(r"\bactive\b"))
    quantity = _names(page)
    assert quantity and len(quantity) < count, quantity
    for row in _rows(page).all():
        expect(row.locator("td").nth(2)).to_have_text("数量")
    assert page.evaluate("window.__jxSameDocument") is True
    bookmark = page.url

    # the export asks for exactly these filters
    href = page.get_by_test_id("export").get_attribute("href")
    assert href is not None and href.startswith("/api/v1/indicators/export?"), href
    assert "q=px" in href and "level2=" in href and "status=active" in href, href
    with page.expect_download() as download:
        page.get_by_test_id("export").click()
    workbook = _workbook(download.value)
    sheet = workbook.worksheets[0]
    header = [c for c in next(sheet.iter_rows(max_row=1, values_only=True))]
    exported = [row[header.index("指标名称")] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert sorted(exported) == sorted(quantity)

    # the browser's back button returns to the search before the tree was clicked
    page.go_back()
    expect(page).to_have_url(re.compile(r"\?q=px$"))
    expect(page.get_by_test_id("result-count")).to_contain_text(f"共 {count} 条")
    expect(page.get_by_test_id("tree-all")).to_have_class(re.compile(r"\bactive\b"))
    page.go_forward()
    expect(page.get_by_test_id("tree-数量")).to_have_class(re.compile(r"\bactive\b"))

    # opening the bookmark shows the same page, filters in place
    _go(page, bookmark)
    expect(page.get_by_placeholder(SEARCH)).to_have_value("px")
    expect(page.get_by_test_id("tree-数量")).to_have_class(re.compile(r"\bactive\b"))
    assert sorted(_names(page)) == sorted(quantity)

    # printed: the table and what it was filtered by, without the tree, filters and buttons
    page.emulate_media(media="print")
    expect(page.get_by_test_id("framework-tree")).to_be_hidden()
    expect(page.get_by_test_id("export")).to_be_hidden()
    expect(page.get_by_text("筛选条件：二级指标 产出/数量；状态 在用；关键词「px」")).to_be_visible()
    shot(page, "indicators-print")
    page.emulate_media(media="screen")

    # nothing found: a sentence, not an empty table
    _search(page, "zzzq")
    expect(page.get_by_test_id("no-results")).to_contain_text("没有符合条件的指标")
    shot(page, "indicators-search-nothing")
    assert page.problems == [], "\n".join(page.problems)


def test_admin_creates_fixes_and_retires_an_indicator_others_see_it_or_not(
    page, fresh_page, live_server, unique
):
    name = f"培训后考核合格率{unique}"
    expect_document_status(page, 422)  # the form with its errors comes back as 422
    _login(page, "xq.admin")
    _open_library(page)
    settle(page)
    page.get_by_test_id("new-indicator").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("新建指标")
    assert_no_inline_script(page)
    shot(page, "indicators-new-form")

    page.get_by_label("指标名称").fill(name)
    page.get_by_label("二级指标").select_option("质量")
    page.get_by_label("指标类型").select_option("common")
    page.get_by_label("共性类别").fill("培训")
    page.get_by_label("值类型").select_option("quantitative")
    page.get_by_label("指标方向").select_option(">=")
    page.get_by_label("标准值", exact=True).fill("九十")  # not a number
    page.get_by_label("计量单位").fill("%")
    page.get_by_label("标准值依据").select_option("历史标准")
    page.get_by_label("指标解释").fill("培训结束后考核合格的学员占参训学员的比例。")
    page.get_by_label("第 1 行历史值").fill("88")
    page.get_by_label("第 2 行历史值").fill("九十一")  # not a number either
    settle(page)
    page.get_by_test_id("save").click()

    expect(page.get_by_test_id("form-errors")).to_contain_text("请修改标红的项目后再提交")
    standard = page.get_by_label("标准值", exact=True)
    expect(standard).to_have_class(INVALID)
    expect(page.locator("#f-standard_value ~ .invalid-feedback")).to_have_text(
        "定量指标的标准值须为数字，「九十」不是数字"
    )
    expect(page.get_by_test_id("error-historical_values")).to_contain_text("年的历史值「九十一」不是数字")
    expect(page.get_by_label("指标名称")).not_to_have_class(INVALID)
    expect(page.get_by_label("指标名称")).to_have_value(name)  # everything typed is kept
    expect(page.get_by_label("二级指标")).to_have_value("质量")
    expect(page.get_by_label("共性类别")).to_have_value("培训")
    expect(page.get_by_label("第 1 行历史值")).to_have_value("88")
    expect(page.get_by_label("第 1 行历史值")).not_to_have_class(INVALID)
    expect(page.get_by_label("第 2 行历史值")).to_have_class(INVALID)  # the row named by the message
    assert_no_inline_script(page)
    shot(page, "indicators-new-form-errors")

    standard.fill("90")
    page.get_by_label("第 2 行历史值").fill("91")
    settle(page)
    page.get_by_test_id("save").click()
    expect(page.get_by_role("alert")).to_contain_text("已新建指标 640104-CC-")
    expect(page.get_by_role("heading", level=1)).to_contain_text(name)
    detail_url = page.url
    assert re.search(r"/indicators/\d+$", detail_url), detail_url
    expect(page.get_by_test_id("standard")).to_have_text("≥90 %")
    expect(page.get_by_test_id("owner")).to_contain_text("兴庆区")
    expect(page.get_by_test_id("historical-values")).to_contain_text("88")
    expect(page.get_by_test_id("edit")).to_be_visible()
    expect(page.get_by_test_id("retire-form")).to_be_visible()
    expect(page.get_by_test_id("history")).to_contain_text("新建")
    assert_no_inline_script(page)
    shot(page, "indicators-detail-own")

    # in the list, found as a user finds it
    _open_library(page)
    _search(page, name)
    expect(_row(page, name)).to_contain_text("在用")
    expect(_row(page, name)).to_contain_text("兴庆区")

    # the city above reads it, without any action
    city = fresh_page()
    _login(city, "yc.admin")
    _open_library(city)
    _search(city, name)
    expect(_row(city, name)).to_have_count(1)
    settle(city)
    _row(city, name).get_by_role("link", name=name).click()
    expect(city.get_by_role("heading", level=1)).to_contain_text(name)
    expect(city.get_by_test_id("read-only-note")).to_contain_text("本单位只能查看")
    for action in ("edit", "derive", "retire-form", "propose-form"):
        expect(city.get_by_test_id(action)).to_have_count(0)
    expect(city.locator("main").get_by_role("button")).to_have_count(0)  # no 退出, 恢复, 推荐
    shot(city, "indicators-detail-yc-read-only")
    assert city.problems == [], "\n".join(city.problems)

    # a sibling county neither finds it nor opens it
    sibling = fresh_page()
    expect_document_status(sibling, 404)
    _login(sibling, "xx.admin")
    _open_library(sibling)
    _search(sibling, name)
    expect(sibling.get_by_test_id("no-results")).to_be_visible()
    settle(sibling)
    response = sibling.goto(detail_url)
    assert response is not None and response.status == 404
    expect(sibling.get_by_role("heading", level=1)).to_contain_text("404")
    assert sibling.problems == [], "\n".join(sibling.problems)

    # retire: a reason is required, then the badge says 已退出
    _go(page, detail_url)
    settle(page)
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_test_id("retire-form").get_by_role("button", name="退出指标").click()
    expect(page.locator("#f-retire-reason ~ .invalid-feedback")).to_have_text("请填写退出原因")
    settle(page)
    page.get_by_label("退出原因").fill("考核口径调整，改用新的合格标准")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_test_id("retire-form").get_by_role("button", name="退出指标").click()
    expect(page.get_by_role("alert")).to_contain_text("已退出，不能再被选用")
    expect(page.get_by_role("heading", level=1).get_by_test_id("status-badge")).to_have_text("已退出")
    expect(page.get_by_test_id("retired-note")).to_contain_text("考核口径调整，改用新的合格标准")
    expect(page.get_by_test_id("edit")).to_have_count(0)
    expect(page.get_by_role("button", name="恢复")).to_be_visible()
    history = page.get_by_test_id("history")
    expect(history).to_contain_text("退出")
    expect(history).to_contain_text("已退出")  # the diff: 状态 在用 → 已退出
    shot(page, "indicators-detail-retired")

    # the list hides it by default and shows it with its badge under 全部
    _open_library(page)
    _search(page, name)
    expect(page.get_by_test_id("no-results")).to_be_visible()
    page.get_by_label("状态").select_option("all")
    expect(_row(page, name).get_by_test_id("status-badge")).to_have_text("已退出")
    expect(page).to_have_url(re.compile(r"status=all"))
    shot(page, "indicators-list-retired")
    assert page.problems == [], "\n".join(page.problems)


def _template_workbook(page: Any, tmp_path: Path) -> Any:
    """The import template, downloaded through the page's link as a user does."""
    with page.expect_download() as download:
        page.get_by_test_id("import-template").click()
    assert download.value.suggested_filename.endswith(".xlsx")
    return _workbook(download.value)


def _fill(workbook: Any, rows: list[dict[str, str]], path: Path) -> Path:
    sheet = workbook.worksheets[0]
    header = [cell.value for cell in sheet[1]]
    sheet.delete_rows(2, sheet.max_row)  # the example row goes
    for values in rows:
        sheet.append([values.get(h or "", "") for h in header])
    workbook.save(path)
    return path


def _indicator_row(name: str, **changes: str) -> dict[str, str]:
    row = {
        "指标名称": name,
        "二级指标": "数量",
        "行业领域": "教育",
        "共性类别": "",
        "指标类型": "个性",
        "适用范围": "项目",
        "指标解释": "年度内完成的数量。",
        "指标出处": "年度工作计划",
        "值类型": "定量",
        "指标方向": "≥",
        "计量单位": "所",
        "标准值": "12",
        "标准值依据": "计划标准",
        "2023年历史值": "10",
        "2024年历史值": "11",
    }
    row.update(changes)
    return row


def test_admin_imports_an_excel_file_errors_by_row_then_success(page, live_server, unique, tmp_path):
    _login(page, "xq.admin")
    _open_library(page)
    settle(page)
    page.get_by_test_id("import-indicators").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("从 Excel 导入指标")
    assert_no_inline_script(page)
    first, second = f"薄弱学校改造数{unique}", f"校舍维修面积{unique}"

    bad = _fill(
        _template_workbook(page, tmp_path),
        [_indicator_row(first), _indicator_row(second, 标准值="很多", 二级指标="产量")],
        tmp_path / "bad.xlsx",
    )
    page.get_by_label("Excel 文件（.xlsx）").set_input_files(str(bad))
    expect(page.get_by_test_id("file-name")).to_have_text("bad.xlsx")
    page.evaluate("window.__jxSameDocument = true")
    settle(page)
    page.get_by_test_id("start-import").click()
    job = page.get_by_test_id("job")
    expect(job).to_be_visible()
    expect(job.get_by_role("progressbar")).to_be_visible()
    expect(job).to_have_attribute("data-status", "finished", timeout=20_000)
    expect(page.get_by_test_id("import-failed")).to_contain_text("未导入")
    errors = page.get_by_test_id("import-errors")
    expect(errors.locator("tbody tr").first).to_be_visible()
    rows = errors.locator("tbody tr")
    cells = [[c.strip() for c in r.locator("td").all_inner_texts()] for r in rows.all()]
    assert all(c[0] == "第 3 行" for c in cells), cells  # only the second data row is wrong
    columns = {c[1] for c in cells}
    assert {"二级指标", "标准值"} <= columns, cells
    assert page.evaluate("window.__jxSameDocument") is True  # submitted with htmx, polled in place
    shot(page, "indicators-import-errors")

    # nothing of the file was written
    _open_library(page)
    _search(page, first)
    expect(page.get_by_test_id("no-results")).to_be_visible()

    settle(page)
    page.get_by_role("link", name="导入").first.click()
    good = _fill(
        _template_workbook(page, tmp_path),
        [_indicator_row(first), _indicator_row(second, 标准值="1500", 计量单位="平方米")],
        tmp_path / "good.xlsx",
    )
    page.get_by_label("Excel 文件（.xlsx）").set_input_files(str(good))
    settle(page)
    page.get_by_test_id("start-import").click()
    expect(page.get_by_test_id("job").get_by_role("progressbar")).to_be_visible()
    expect(page.get_by_test_id("job")).to_have_attribute("data-status", "finished", timeout=20_000)
    expect(page.get_by_test_id("import-summary")).to_contain_text("新增 2 条，更新 0 条，未变 0 条")
    shot(page, "indicators-import-success")

    settle(page)
    page.get_by_test_id("import-summary").get_by_role("link", name="查看本单位指标").click()
    expect(page).to_have_url(re.compile(r"owner=own"))
    # the shared session database holds other tests' indicators too: narrow to these two
    _search(page, unique)
    expect(_row(page, first)).to_contain_text("兴庆区")
    expect(_row(page, second)).to_contain_text("1500 平方米")
    assert page.problems == [], "\n".join(page.problems)


def test_import_refuses_a_file_that_is_not_xlsx(page, tmp_path):
    _login(page, "xq.admin")
    _go(page, "/indicators/import")
    settle(page)
    fake = tmp_path / "指标.xlsx"
    fake.write_bytes("编码,名称\n1,培训期数\n".encode())
    page.get_by_label("Excel 文件（.xlsx）").set_input_files(str(fake))
    settle(page)
    page.get_by_test_id("start-import").click()
    expect(page.get_by_test_id("import-problem")).to_contain_text("不是 Excel (.xlsx) 文件")
    assert page.problems == [], "\n".join(page.problems)


def test_template_picks_indicators_by_search_and_refuses_a_retired_one(page, live_server, unique):
    expect_document_status(page, 422)
    _login(page, "xq.admin")
    _go(page, "/indicators/templates")
    expect(page.get_by_role("heading", level=1)).to_have_text("模板库")
    expect(page.get_by_test_id("template-table")).to_contain_text("培训类")
    assert_no_inline_script(page)
    shot(page, "indicators-templates")
    settle(page)
    page.get_by_test_id("template-table").get_by_role("link", name="培训类").click()
    expect(page.get_by_test_id("template-indicators")).to_contain_text("培训期数")
    expect(page.get_by_test_id("edit-template")).to_have_count(0)  # the province's: use, don't edit
    shot(page, "indicators-template-detail")

    # an own indicator, to be retired later
    own = f"专题讲座场次{unique}"
    _go(page, "/indicators/new")
    page.get_by_label("指标名称").fill(own)
    page.get_by_label("二级指标").select_option("数量")
    page.get_by_label("标准值", exact=True).fill("6")
    page.get_by_label("计量单位").fill("场")
    settle(page)
    page.get_by_test_id("save").click()
    expect(page.get_by_role("alert")).to_contain_text("已新建指标")
    own_url = page.url

    _go(page, "/indicators/templates")
    settle(page)
    page.get_by_test_id("new-template").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("新建模板")
    page.get_by_label("模板名称").fill(f"讲座培训类{unique}")
    page.get_by_label("适用项目类别").fill("培训")
    picker = page.get_by_test_id("picker-results")
    search = page.get_by_label("查找指标")
    search.press_sequentially("px", delay=40)
    expect(picker.get_by_text("培训期数")).to_be_visible()
    picker.locator("li").filter(has_text="培训期数").get_by_role("button", name="加入").click()
    search.fill("")
    search.press_sequentially(own, delay=20)
    expect(picker.get_by_text(own)).to_be_visible()
    picker.locator("li").filter(has_text=own).get_by_role("button", name="加入").click()
    picked = page.get_by_test_id("picked")
    expect(picked.locator("input:checked")).to_have_count(2)
    shot(page, "indicators-template-form")
    settle(page)
    page.get_by_test_id("save").click()
    expect(page.get_by_role("alert")).to_contain_text("（2 个指标）")
    template_url = page.url
    expect(page.get_by_test_id("template-indicators")).to_contain_text(own)

    # retire the own indicator; the template says so, and saving it names the retired one
    _go(page, own_url)
    page.get_by_label("退出原因").fill("讲座改为线上课程")
    settle(page)
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_test_id("retire-form").get_by_role("button", name="退出指标").click()
    expect(page.get_by_role("alert")).to_contain_text("已退出")
    _go(page, template_url)
    expect(page.get_by_text("模板中有 1 个指标已退出")).to_be_visible()
    settle(page)
    page.get_by_test_id("edit-template").click()
    settle(page)
    page.get_by_test_id("save").click()
    expect(page.get_by_test_id("form-errors")).to_be_visible()
    expect(page.get_by_test_id("error-indicator_ids")).to_contain_text(
        f"「{own}」已退出，不能选用（讲座改为线上课程）"
    )
    shot(page, "indicators-template-retired-error")
    page.get_by_test_id("picked").get_by_label(re.compile(own)).uncheck()  # the retired one goes
    settle(page)
    page.get_by_test_id("save").click()
    expect(page.get_by_role("alert")).to_contain_text("已保存模板")
    expect(page.get_by_test_id("template-indicators").locator("tbody tr")).to_have_count(1)
    expect(page.get_by_test_id("template-indicators")).to_contain_text("培训期数")
    assert page.problems == [], "\n".join(page.problems)


def test_county_proposes_an_indicator_city_must_give_a_reason_to_decline_and_accepts(
    page, fresh_page, unique
):
    expect_document_status(page, 422)
    name = f"社区健康讲座覆盖率{unique}"
    _login(page, "xq.admin")
    _go(page, "/indicators/new")
    page.get_by_label("指标名称").fill(name)
    page.get_by_label("二级指标").select_option("社会效益")
    page.get_by_label("行业领域").fill("卫生健康")
    page.get_by_label("标准值", exact=True).fill("80")
    page.get_by_label("计量单位").fill("%")
    settle(page)
    page.get_by_test_id("save").click()
    expect(page.get_by_role("alert")).to_contain_text("已新建指标")
    detail_url = page.url
    page.get_by_label("推荐理由").fill("辖区内普遍适用，可供其他区县参考")
    settle(page)
    page.get_by_role("button", name="推荐至上级").click()
    expect(page.get_by_role("alert")).to_contain_text("已向银川市推荐该指标")
    expect(page.get_by_test_id("pending-proposal")).to_contain_text("待处理")

    city = fresh_page()
    expect_document_status(city, 422)
    _login(city, "yc.admin")
    _go(city, "/indicators/proposals")
    row = city.get_by_test_id("incoming").locator("tbody tr").filter(has_text=name)
    expect(row).to_contain_text("兴庆区")
    settle(city)
    row.get_by_role("button", name="不予采纳").click()  # a reason is required
    row = city.get_by_test_id("incoming").locator("tbody tr").filter(has_text=name)
    expect(row.locator(".invalid-feedback")).to_have_text("不予采纳须说明理由")
    shot(city, "indicators-proposals-incoming")
    settle(city)
    row.get_by_role("button", name="采纳", exact=True).click()
    expect(city.get_by_role("alert")).to_contain_text(f"已采纳「{name}」")
    expect(city.get_by_test_id("incoming").locator("tbody tr").filter(has_text=name)).to_contain_text(
        "已采纳"
    )
    assert city.problems == [], "\n".join(city.problems)

    _go(page, "/indicators/proposals")
    expect(page.get_by_test_id("outgoing").locator("tbody tr").filter(has_text=name)).to_contain_text(
        "已采纳"
    )
    shot(page, "indicators-proposals-outgoing")
    _go(page, detail_url)
    expect(page.get_by_test_id("pending-proposal")).to_have_count(0)
    assert page.problems == [], "\n".join(page.problems)


def test_province_publishes_a_case_everyone_reads_it(page, fresh_page, unique):
    title = f"某县职业技能培训项目绩效目标{unique}"
    _login(page, "nx.admin")
    _go(page, "/indicators/cases")
    expect(page.get_by_role("heading", level=1)).to_have_text("案例库")
    settle(page)
    page.get_by_test_id("new-case").click()
    page.get_by_label("案例标题").fill(title)
    page.get_by_label("项目类别").fill("培训")
    page.get_by_label("案例说明").fill("一、项目概况\n二、绩效目标设置做法\n三、评价结果应用")
    search = page.get_by_label("查找指标")
    search.press_sequentially("职业技能", delay=30)
    picker = page.get_by_test_id("picker-results")
    expect(picker.get_by_text("职业技能培训人次")).to_be_visible()
    picker.locator("li").filter(has_text="职业技能培训人次").get_by_role("button", name="加入").click()
    shot(page, "indicators-case-form")
    settle(page)
    page.get_by_test_id("save").click()
    expect(page.get_by_role("alert")).to_contain_text(f"已发布案例「{title}」")
    expect(page.get_by_test_id("case-text")).to_contain_text("二、绩效目标设置做法")

    reader = fresh_page()
    _login(reader, "xx.editor")
    _go(reader, "/indicators/cases")
    expect(reader.get_by_test_id("new-case")).to_have_count(0)
    settle(reader)
    reader.get_by_role("link", name=title).click()
    expect(reader.get_by_role("heading", level=1)).to_have_text(title)
    expect(reader.get_by_text("职业技能培训人次")).to_be_visible()
    expect(reader.get_by_test_id("edit-case")).to_have_count(0)
    assert_no_inline_script(reader)
    shot(reader, "indicators-case-detail")
    assert reader.problems == [], "\n".join(reader.problems)
    assert page.problems == [], "\n".join(page.problems)


def test_derive_from_a_shared_indicator_then_edit_with_a_stale_version(page, unique):
    expect_document_status(page, 409)
    _login(page, "xq.admin")
    _open_library(page)
    _search(page, "培训期数")
    settle(page)
    _row(page, "培训期数").get_by_role("link", name="培训期数").click()
    expect(page.get_by_test_id("edit")).to_have_count(0)  # the province's: read, or derive
    settle(page)
    page.get_by_test_id("derive").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("派生本单位指标")
    expect(page.get_by_label("指标名称")).to_have_value("培训期数")  # pre-filled from the original
    expect(page.get_by_label("二级指标")).to_have_value("数量")
    page.get_by_label("指标名称").fill(f"培训期数（兴庆区）{unique}")
    page.get_by_label("标准值", exact=True).fill("8")
    shot(page, "indicators-derive-form")
    settle(page)
    page.get_by_test_id("save").click()
    expect(page.get_by_role("alert")).to_contain_text("已派生指标 640104-")
    expect(page.get_by_test_id("standard")).to_have_text("≥8 期")
    expect(page.get_by_test_id("derived-from")).to_contain_text("培训期数")
    edit_url = page.get_by_test_id("edit").get_attribute("href")
    assert edit_url

    # the same user in a second tab saves first; the first tab's save is then stale
    other = page.context.new_page()
    other.goto(edit_url)
    settle(page)
    page.get_by_test_id("edit").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("编辑指标")
    other.get_by_label("标准值", exact=True).fill("9")
    settle(other)
    other.get_by_test_id("save").click()
    expect(other.get_by_role("alert")).to_contain_text("（版本 2）")
    other.close()

    page.get_by_label("标准值", exact=True).fill("10")
    settle(page)
    page.get_by_test_id("save").click()
    expect(page.get_by_test_id("conflict")).to_contain_text(
        "指标已被修改（当前版本 2，您提交的是版本 1），请刷新后重试"
    )
    expect(page.get_by_label("标准值", exact=True)).to_have_value("10")  # what was typed stays
    shot(page, "indicators-edit-stale")
    settle(page)
    page.get_by_test_id("reload").click()
    expect(page.get_by_label("标准值", exact=True)).to_have_value("9")
    page.get_by_label("标准值", exact=True).fill("10")
    settle(page)
    page.get_by_test_id("save").click()
    expect(page.get_by_role("alert")).to_contain_text("（版本 3）")
    history = page.get_by_test_id("history")
    expect(history.locator("tbody > tr").first).to_contain_text("修改")
    expect(history.locator("tbody > tr").first).to_contain_text("标准值")
    expect(history.locator("tbody > tr").first).to_contain_text("9")
    expect(history.locator("tbody > tr").first).to_contain_text("10")
    shot(page, "indicators-detail-history")
    assert page.problems == [], "\n".join(page.problems)


def test_evaluator_reads_the_shared_library(page, live_server):
    """The evaluator's navigation is its portal only (issue 13); the shared library still reads by
    its address (an evaluator looking up an indicator's explanation while it evaluates)."""
    _login(page, "eval.ningping")
    settle(page)
    expect(page.locator("nav.navbar").get_by_role("link", name="指标库", exact=True)).to_have_count(0)
    page.goto(f"{live_server}/indicators/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("指标库")
    expect(page.get_by_test_id("new-indicator")).to_have_count(0)
    expect(_rows(page).first).to_contain_text("宁夏回族自治区")
    settle(page)
    page.get_by_role("link", name="共建共享").click()
    expect(page.get_by_text("第三方机构用户只能查看省级共享指标")).to_be_visible()
    assert page.problems == [], "\n".join(page.problems)
