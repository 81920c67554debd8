"""Administration pages: a bureau admin creating a user, the city reading a county, the province."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from tests.support.browser import login

from .helpers import assert_no_inline_script, expect_document_status, settle, shot

pytestmark = pytest.mark.browser

INVALID = re.compile(r"\bis-invalid\b")
BEIJING = ZoneInfo("Asia/Shanghai")  # 宁夏's users read 北京时间

# DEMO.md: 宁夏回族自治区 and its real divisions (code, name, level, parent).
NINGXIA = [
    ("640000", "宁夏回族自治区", "省级", "—"),
    ("640100", "银川市", "市级", "640000"),
    ("640104", "兴庆区", "县级", "640100"),
    ("640105", "西夏区", "县级", "640100"),
    ("640106", "金凤区", "县级", "640100"),
    ("640121", "永宁县", "县级", "640100"),
    ("640122", "贺兰县", "县级", "640100"),
    ("640181", "灵武市", "县级", "640100"),
    ("640200", "石嘴山市", "市级", "640000"),
    ("640202", "大武口区", "县级", "640200"),
    ("640205", "惠农区", "县级", "640200"),
    ("640221", "平罗县", "县级", "640200"),
    ("640300", "吴忠市", "市级", "640000"),
    ("640302", "利通区", "县级", "640300"),
    ("640303", "红寺堡区", "县级", "640300"),
    ("640323", "盐池县", "县级", "640300"),
    ("640324", "同心县", "县级", "640300"),
    ("640381", "青铜峡市", "县级", "640300"),
    ("640400", "固原市", "市级", "640000"),
    ("640402", "原州区", "县级", "640400"),
    ("640422", "西吉县", "县级", "640400"),
    ("640423", "隆德县", "县级", "640400"),
    ("640424", "泾源县", "县级", "640400"),
    ("640425", "彭阳县", "县级", "640400"),
    ("640500", "中卫市", "市级", "640000"),
    ("640502", "沙坡头区", "县级", "640500"),
    ("640521", "中宁县", "县级", "640500"),
    ("640522", "海原县", "县级", "640500"),
]


def _open(page, link: str) -> None:  # type: ignore[no-untyped-def]
    """Follow a link of the navbar's 系统管理 menu, as a user does (the menu opened first)."""
    settle(page)
    nav = page.get_by_role("navigation")
    nav.get_by_test_id("nav-admin").click()
    nav.get_by_role("link", name=link, exact=True).click()


def _user_row(page, username: str):  # type: ignore[no-untyped-def]
    table = page.get_by_test_id("user-table")
    return table.locator("tbody tr").filter(has=page.get_by_role("cell", name=username, exact=True))


def test_bureau_admin_creates_user_after_fixing_weak_password(page, fresh_page, live_server, unique):
    username = f"xq.new{unique}"
    strong = "Xq@Strong2026"
    expect_document_status(page, 422)  # the form with its errors comes back as 422
    login(page, "xq.admin")
    expect(page.get_by_test_id("who")).to_contain_text("xq.admin")
    _open(page, "用户管理")
    expect(page).to_have_url(f"{live_server}/admin/users")
    expect(page.get_by_role("heading", level=1)).to_have_text("用户管理 640104 兴庆区")
    expect(_user_row(page, "xq.editor")).to_contain_text("项目单位填报人")
    expect(page.get_by_text("只读", exact=True)).to_have_count(0)
    shot(page, "users-xq-admin")

    page.get_by_label("用户名").fill(username)
    page.get_by_label("姓名").fill("王晓明")
    page.get_by_label("初始密码").fill("abc")
    page.get_by_label("项目单位填报人").check()
    settle(page)
    page.get_by_role("button", name="创建用户").click()

    expect(page.get_by_test_id("form-errors")).to_contain_text("请修改标红的项目后再提交。")
    password = page.get_by_label("初始密码")
    expect(password).to_have_class(INVALID)
    feedback = page.locator("#f-password ~ .invalid-feedback")
    expect(feedback).to_be_visible()
    expect(feedback).to_contain_text("密码长度至少 8 位")
    expect(feedback).to_contain_text("密码须包含大写字母、小写字母、数字、特殊符号中的至少三类")
    expect(password).to_have_value("")  # a password is never sent back
    # the other fields are fine and kept
    expect(page.get_by_label("用户名")).to_have_value(username)
    expect(page.get_by_label("用户名")).not_to_have_class(INVALID)
    expect(page.get_by_label("姓名")).to_have_value("王晓明")
    expect(page.get_by_label("项目单位填报人")).to_be_checked()
    expect(_user_row(page, "xq.editor")).to_have_count(1)  # the table is there …
    expect(_user_row(page, username)).to_have_count(0)  # … without the rejected user
    shot(page, "users-weak-password")
    assert_no_inline_script(page)

    password.fill(strong)
    settle(page)
    page.get_by_role("button", name="创建用户").click()
    expect(page).to_have_url(f"{live_server}/admin/users")
    expect(page.get_by_role("alert")).to_contain_text(f"已创建用户 王晓明（登录名 {username}）")
    expect(page.get_by_test_id("form-errors")).to_have_count(0)
    row = _user_row(page, username)
    expect(row).to_have_count(1)
    expect(row).to_contain_text("王晓明")
    expect(row).to_contain_text("项目单位填报人")
    expect(row).to_contain_text("启用")
    shot(page, "users-created")

    # the new user logs in in a browser of their own
    other = fresh_page()
    login(other, username, strong)
    expect(other).to_have_url(f"{live_server}/")
    expect(other.get_by_role("heading", level=1)).to_contain_text("兴庆区")
    expect(other.get_by_test_id("roles")).to_have_text("项目单位填报人")
    expect(other.get_by_test_id("who")).to_contain_text(username)
    assert page.problems == [], "\n".join(page.problems)
    assert other.problems == [], "\n".join(other.problems)


def test_last_login_is_shown_in_beijing_time(page):
    before = datetime.now(BEIJING)
    login(page, "xq.admin")
    expect(page.get_by_test_id("who")).to_contain_text("xq.admin")
    after = datetime.now(BEIJING)
    _open(page, "用户管理")
    expect(page.get_by_role("columnheader", name="最近登录")).to_be_visible()
    headers = [h.strip() for h in page.get_by_test_id("user-table").locator("thead th").all_inner_texts()]
    shown = (
        _user_row(page, "xq.admin").get_by_role("cell").nth(headers.index("最近登录")).inner_text().strip()
    )
    minute = before.replace(second=0, microsecond=0)
    allowed = []
    while minute <= after:
        allowed.append(f"{minute:%Y-%m-%d %H:%M}")
        minute += timedelta(minutes=1)
    assert shown in allowed, f"最近登录 shows {shown!r}; it is {after:%Y-%m-%d %H:%M} in Beijing"
    assert page.problems == [], "\n".join(page.problems)


def test_city_admin_reads_county_through_tenant_switcher(page, live_server):
    login(page, "yc.admin")
    expect(page.get_by_role("heading", level=1)).to_contain_text("银川市")
    expect(page.get_by_test_id("read-only-badge")).to_have_count(0)
    switcher = page.get_by_label("切换查看地区")
    expect(switcher.locator("option:checked")).to_have_text("640100 银川市")
    expect(switcher.locator("option[value='640104']")).to_have_text("640104 兴庆区（只读）")
    expect(switcher.locator("option[value='640200']")).to_have_count(0)  # another city: invisible
    expect(switcher.locator("option[value='640000']")).to_have_count(0)  # the province above: no

    settle(page)
    switcher.select_option("640104")  # submits itself (app.js): no button to press
    expect(page.get_by_test_id("read-only-badge")).to_have_text("上级只读查看")
    expect(page).to_have_url(f"{live_server}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("兴庆区")
    expect(page.get_by_label("切换查看地区").locator("option:checked")).to_have_text("640104 兴庆区（只读）")
    expect(page.get_by_test_id("roles")).to_have_text("财政局管理员")  # still who they are
    shot(page, "home-yc-admin-viewing-640104")

    _open(page, "用户管理")
    expect(page.get_by_role("heading", level=1)).to_have_text("用户管理 640104 兴庆区")
    expect(page.locator("main").get_by_text("只读", exact=True)).to_be_visible()
    for username in ("xq.admin", "xq.dept", "xq.editor"):
        expect(_user_row(page, username)).to_have_count(1)
    expect(_user_row(page, "yc.admin")).to_have_count(0)
    expect(page.get_by_test_id("user-form")).to_have_count(0)
    expect(page.get_by_text("新增用户")).to_have_count(0)
    expect(page.get_by_role("button", name="停用")).to_have_count(0)
    expect(page.get_by_role("button", name="创建用户")).to_have_count(0)
    shot(page, "users-yc-admin-viewing-640104")
    assert_no_inline_script(page)

    # back to their own city: writable again
    settle(page)
    page.get_by_label("切换查看地区").select_option("640100")
    expect(page.get_by_role("heading", level=1)).to_have_text("用户管理 640100 银川市")
    expect(page).to_have_url(f"{live_server}/admin/users")  # stays on the page it was switched on
    expect(_user_row(page, "yc.admin")).to_have_count(1)
    expect(page.get_by_test_id("user-form")).to_be_visible()
    assert page.problems == [], "\n".join(page.problems)


def test_province_admin_sees_all_divisions_and_evaluator_org(page, live_server):
    login(page, "nx.admin")
    expect(page.get_by_test_id("roles")).to_have_text("省财政厅管理员")
    shot(page, "home-nx-admin")

    _open(page, "行政区划")
    expect(page).to_have_url(f"{live_server}/admin/tenants")
    expect(page.get_by_role("heading", level=1)).to_have_text("行政区划（租户）")
    rows = page.get_by_test_id("tenant-table").locator("tbody tr")
    expect(rows.first).to_be_visible()
    settle(page)  # the whole table, not the first rows parsed
    cells = rows.evaluate_all("rows => rows.map(r => Array.from(r.cells).map(c => c.textContent))")
    table = [tuple(cell.strip() for cell in row) for row in cells]
    codes = [row[0] for row in table]
    assert len(codes) == len(set(codes)), "a division is listed twice"
    assert all(code.startswith("64") for code in codes), codes  # nothing outside 宁夏
    demo = {code for code, *_ in NINGXIA}
    # all 28, each with its name, level and parent (by name), in tree order (each city followed by
    # its counties), then its users, programs and projects
    names = {code: name for code, name, *_ in NINGXIA}
    expected = [(code, name, level, names.get(parent, "—")) for code, name, level, parent in NINGXIA]
    assert [row[:4] for row in table if row[0] in demo] == expected
    assert all(len(row) == 7 and all(cell.isdigit() for cell in row[4:]) for row in table), table[:3]
    counts = {row[0]: row[4:] for row in table}
    assert int(counts["640104"][0]) >= 3 and int(counts["640104"][1]) >= 1  # xq.*; the running pilot
    expect(page.get_by_test_id("tenant-count")).to_contain_text(f"共 {len(table)} 个地区")
    # names are indented by level (full-width spaces), so the tree reads at a glance
    indent = {level.strip(): len(name) - len(name.lstrip("\u3000")) for _, name, level, *_ in cells}
    assert indent["省级"] < indent["市级"] < indent["县级"], indent
    shot(page, "tenants-nx-admin")
    assert_no_inline_script(page)

    _open(page, "第三方机构")
    expect(page).to_have_url(f"{live_server}/admin/evaluator-orgs")
    expect(page.get_by_role("heading", level=1)).to_have_text("第三方机构")
    org = page.locator("table tbody tr").filter(
        has=page.get_by_role("cell", name="宁夏绩评咨询有限公司", exact=True)
    )
    expect(org).to_have_count(1)
    assert_no_inline_script(page)
    assert page.problems == [], "\n".join(page.problems)
