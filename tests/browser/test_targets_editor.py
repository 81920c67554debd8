"""The targets editor as a newcomer meets it (issue "A newcomer's first hour"): the editor opens
without a band of rule messages, 一键勾选 on an empty set and 平均分配权重 give weights that add up
to 100, a line's messages come when the user leaves it, the evidence the program requires is shown
with its state before 提交, the library picker is an overlay, the selects show their whole labels,
an adjustment asks for its 调整说明, and the 申报表 shows the approved version with a chooser."""

from __future__ import annotations

import io
import re
import secrets
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.api.test_project_lifecycle import CRITERIA  # a complete assessment

from .helpers import assert_no_inline_script, expect_document_status, go, shot, signed_in

pytestmark = pytest.mark.browser

PROJECTS = "/api/v1/projects"

REQUIRED = ["立项依据", "实施方案"]
EDITOR_NAME, DEPT_NAME, ADMIN_NAME = "兴庆区项目单位填报人", "兴庆区主管部门审核人", "兴庆区财政局管理员"

# The width the selected option's label needs inside its select (text + the select's own padding,
# the arrow included) against the width the select has.
LABEL_FITS = """select => {
  const style = getComputedStyle(select);
  const ctx = document.createElement('canvas').getContext('2d');
  ctx.font = style.font;
  const text = select.options[select.selectedIndex].text;
  const needed = ctx.measureText(text).width + parseFloat(style.paddingLeft) + parseFloat(style.paddingRight);
  return [text, Math.ceil(needed), select.clientWidth];
}"""


def _ok(resp: Any, status: int = 200) -> Any:
    assert resp.status_code == status, (resp.status_code, resp.get_json())
    return resp.get_json()


def _at_targets(api: Any) -> int:
    """A 兴庆区 工程基建 project in a program requiring 立项依据 and 实施方案, assessment approved."""
    program = _ok(
        api.as_user("nx.admin").post(
            "/api/v1/programs",
            json={
                "name": f"目标填报试点{secrets.token_hex(3)}",
                "start": "2022-08-01",
                "end": "2099-12-31",
                "tenant_codes": ["640104"],
                "max_projects_per_tenant": 20,
                "settings": {"evidence": {"required_purposes": {"targets": REQUIRED}}},
            },
        ),
        201,
    )
    editor = api.as_user("xq.editor")
    pid: int = _ok(
        editor.post(
            PROJECTS,
            json={
                "program_id": program["id"],
                "name": f"老旧小区改造{secrets.token_hex(3)}",
                "department": "住房和城乡建设局",
                "implementing_unit": "城市建设服务中心",
                "budget_amount": "1250000.00",
                "fund_source": "一般公共预算",
                "project_class": "工程基建",
                "years": [2026],
                "serves_public": True,
            },
        ),
        201,
    )["id"]
    _ok(editor.put(f"{PROJECTS}/{pid}/assessment", json={"criteria": CRITERIA, "summary": "建议支持"}))
    _ok(editor.post(f"{PROJECTS}/{pid}/assessment/submit"))
    _ok(
        api.as_user("xq.admin").post(
            f"{PROJECTS}/{pid}/assessment/decision", json={"conclusion": "support", "opinion": "同意"}
        )
    )
    return pid


def _upload(api: Any, pid: int, purpose: str) -> None:
    _ok(
        api.as_user("xq.editor").post(
            f"{PROJECTS}/{pid}/evidence",
            data={
                "file": (io.BytesIO(b"%PDF-1.4\n%%EOF\n"), f"{purpose}.pdf"),
                "stage": "targets",
                "purpose": purpose,
            },
            content_type="multipart/form-data",
        ),
        201,
    )


def _total(page: Any) -> str:
    return page.get_by_test_id("weight-total").inner_text()


def test_a_first_draft_in_the_editor(fresh_page, live_server, api):
    pid = _at_targets(api)
    page = signed_in(fresh_page, "xq.editor")
    go(page, f"/projects/{pid}/targets")

    # the evidence the program requires, before 提交 says so (E01)
    required = page.get_by_test_id("required-evidence")
    expect(required.get_by_test_id("required-evidence-item")).to_have_count(2)
    for purpose in REQUIRED:
        item = required.get_by_test_id("required-evidence-item").filter(has_text=purpose)
        expect(item).to_contain_text("未上传")
    upload = required.get_by_test_id("upload-evidence")
    expect(upload).to_have_attribute("href", f"/evidence/projects/{pid}#ev-h-targets")

    # the library picker is an overlay: the form does not move
    form_top = page.get_by_test_id("targets-form").bounding_box()["y"]
    page.get_by_test_id("open-picker").click()
    panel = page.get_by_test_id("picker-panel")
    expect(panel).to_be_visible()
    assert panel.evaluate("el => getComputedStyle(el).position") == "fixed"
    page.get_by_test_id("library-search").press_sequentially("满意度", delay=40)
    pick = page.get_by_test_id("picker-results").get_by_role("button", name="选用").first
    expect(pick).to_be_visible()
    assert page.get_by_test_id("targets-form").bounding_box()["y"] == form_top
    pick.click()
    expect(page.get_by_test_id("line")).to_have_count(1)
    expect(page.get_by_test_id("picked-note")).to_contain_text("已加入第 1 行")
    shot(page, "targets-picker-overlay")
    panel.get_by_role("button", name="关闭").click()
    expect(panel).to_be_hidden()

    # the selects show their whole labels
    row = page.get_by_test_id("line").first
    row.locator("select[name=line_level2]").select_option("服务对象满意度")
    row.locator("select[name=line_value_basis]").select_option("预算支出标准")
    for name in ("line_level2", "line_value_basis", "line_value_type", "line_direction"):
        text, needed, width = row.locator(f"select[name={name}]").evaluate(LABEL_FITS)
        assert needed <= width, f"「{text}」 needs {needed}px, its select is {width}px wide"

    # 平均分配权重 over three lines: 34 + 33 + 33 = 100
    page.get_by_test_id("add-line").click()
    page.get_by_test_id("add-line").click()
    expect(page.get_by_test_id("line")).to_have_count(3)
    expect(page.get_by_test_id("weight-total")).to_contain_text("0 / 100")
    page.get_by_test_id("distribute-weights").click()
    weights = page.get_by_test_id("line-weight")
    assert [weights.nth(n).input_value() for n in range(3)] == ["34", "33", "33"]
    expect(page.get_by_test_id("weight-total")).to_contain_text("100 / 100")

    # a line's messages when the user leaves it after editing it, the rule code only as a small tag
    second = page.get_by_test_id("line").nth(1)
    second.locator("input[name=line_name]").fill("受益居民户数")
    second.locator("input[name=line_weight]").fill("0")
    expect(page.get_by_test_id("line-messages-2")).to_have_count(0)  # not while typing
    page.locator("#f-overall_goal").click()  # leaves the line
    messages = page.get_by_test_id("line-messages-2")
    expect(messages).to_contain_text("权重须为大于 0 的数")
    expect(messages.locator(".jx-rule-tag").filter(has_text="T08")).to_have_count(1)
    expect(page.get_by_test_id("violations")).to_have_count(0)  # the set's rules wait for 检查
    assert_no_inline_script(page)
    shot(page, "targets-line-left")
    assert page.problems == [], page.problems


def test_a_template_on_an_empty_set_opens_without_rule_messages(fresh_page, live_server, api):
    pid = _at_targets(api)
    _upload(api, pid, "立项依据")
    page = signed_in(fresh_page, "xq.editor")
    go(page, f"/projects/{pid}/targets")
    required = page.get_by_test_id("required-evidence")
    expect(required.get_by_test_id("required-evidence-item").filter(has_text="立项依据")).to_contain_text(
        "已上传"
    )
    expect(required.get_by_test_id("required-evidence-item").filter(has_text="实施方案")).to_contain_text(
        "未上传"
    )
    # opening the editor: no band of rule messages
    expect(page.get_by_test_id("violations")).to_have_count(0)
    expect(page.get_by_test_id("form-errors")).to_have_count(0)
    page.get_by_test_id("apply-template").click()
    expect(page.get_by_test_id("line")).to_have_count(10)
    expect(page.locator(".alert-success")).to_contain_text("权重已平均分配")
    expect(page.get_by_test_id("weight-total")).to_contain_text("100 / 100")
    expect(page.get_by_test_id("violations")).to_have_count(0)
    expect(page.locator("[data-testid^=line-messages-]")).to_have_count(0)
    shot(page, "targets-template-applied")
    # 检查 then names what is left, and never the weights
    page.get_by_test_id("check").click()
    violations = page.get_by_test_id("violations")
    expect(violations).to_contain_text("年度总体目标")
    expect(violations).to_contain_text("实施方案")
    expect(violations).not_to_contain_text("权重")
    expect(violations).not_to_contain_text("。；")
    assert page.problems == [], page.problems


def _approved_then_adjusted(api: Any) -> int:
    pid = _at_targets(api)
    for purpose in REQUIRED:
        _upload(api, pid, purpose)
    editor = api.as_user("xq.editor")
    template = next(
        t
        for t in _ok(editor.get("/api/v1/indicator-templates?page_size=200"))["items"]
        if t["name"] == "工程基建类"
    )
    _ok(editor.post(f"{PROJECTS}/{pid}/targets/apply-template", json={"template_id": template["id"]}))
    current = _ok(editor.get(f"{PROJECTS}/{pid}/targets"))
    lines = [{k: v for k, v in line.items() if k != "id"} for line in current["indicators"]]
    for line in lines:
        line["target_value"] = line["target_value"] or "1"
        line["unit"] = line["unit"] or "个"
    _ok(
        editor.put(
            f"{PROJECTS}/{pid}/targets", json={"overall_goal": "完成 12 个小区改造", "indicators": lines}
        )
    )
    _ok(editor.post(f"{PROJECTS}/{pid}/targets/submit"))
    for reviewer in ("xq.dept", "xq.admin"):
        _ok(
            api.as_user(reviewer).post(
                f"{PROJECTS}/{pid}/targets/reviews", json={"decision": "approve", "comments": {}}
            )
        )
    return pid


def test_the_adjustment_and_the_declaration_of_the_approved_version(fresh_page, live_server, api):
    pid = _approved_then_adjusted(api)
    page = signed_in(fresh_page, "xq.editor")
    go(page, f"/projects/{pid}/targets")
    # an adjustment asks for its 调整说明, beside the field
    form = page.get_by_test_id("adjust-form")
    expect(form.locator("label[for=f-explanation]")).to_have_class(re.compile("jx-required"))
    expect_document_status(page, 422)
    form.locator("#f-explanation").fill("补助调整")
    page.get_by_test_id("adjust").click()
    expect(page.get_by_test_id("error-explanation")).to_contain_text("至少 10 个字")
    expect(page.locator("#f-explanation")).to_have_value("补助调整")  # kept for the correction
    page.locator("#f-explanation").fill("上级下达新增改造任务，数量指标相应调整")
    page.get_by_test_id("adjust").click()
    expect(page.get_by_test_id("adjustment-note")).to_contain_text("上级下达新增改造任务")
    page.get_by_test_id("line-value").first.fill("15")
    page.get_by_test_id("save-draft").click()
    expect(page.locator(".alert-success")).to_contain_text("草稿已保存")

    # the 申报表: the approved version by default, with its people by name; a chooser for the others
    go(page, f"/projects/{pid}/targets/print")
    expect(page.get_by_test_id("declaration-version")).to_contain_text("第 1 版 · 已审核通过")
    expect(page.get_by_test_id("version-select").locator("option:checked")).to_contain_text("第 1 版")
    expect(page.get_by_test_id("sign-submitter")).to_contain_text(EDITOR_NAME)
    expect(page.get_by_test_id("sign-first")).to_contain_text(DEPT_NAME)
    expect(page.get_by_test_id("sign-finance")).to_contain_text(ADMIN_NAME)
    expect(page.get_by_test_id("declaration")).not_to_contain_text("xq.")
    shot(page, "targets-declaration-approved")
    page.get_by_test_id("version-select").select_option("2")  # submits itself
    expect(page).to_have_url(re.compile(r"[?&]version=2\b"))
    expect(page.get_by_test_id("declaration-version")).to_contain_text("第 2 版 · 填报中")
    expect(page.get_by_test_id("declaration-lines")).to_contain_text("15")

    # the history names its reviewers by display name
    go(page, f"/projects/{pid}/targets/versions")
    reviews = page.get_by_test_id("version-1").get_by_test_id("version-reviews")
    expect(reviews).to_contain_text(DEPT_NAME)
    expect(reviews).to_contain_text(ADMIN_NAME)
    expect(reviews).not_to_contain_text("xq.")

    # the city above reads it: no write control on the targets pages
    city = signed_in(fresh_page, "yc.admin")
    go(city, f"/projects/{pid}/targets")
    expect(city.get_by_test_id("targets-view")).to_be_visible()
    for control in ("targets-form", "adjust-form", "distribute-weights", "upload-evidence", "go-review"):
        expect(city.get_by_test_id(control)).to_have_count(0)
    assert page.problems == [] and city.problems == [], (page.problems, city.problems)
