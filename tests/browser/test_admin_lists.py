"""The administration lists as the province admin reads them: the users of the whole province with
their filters (role, status, unit, a search) and counts, and the tenant hierarchy's filters."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.support.browser import login

from .helpers import assert_no_inline_script, settle, shot

pytestmark = pytest.mark.browser

CODES = re.compile(
    r"\b(province_admin|province_reviewer|bureau_admin|dept_reviewer|project_editor|evaluator|active|inactive)\b"
)


def _count(page, testid: str) -> tuple[int | None, int]:  # type: ignore[no-untyped-def]
    """(符合条件 M, 共 N) from a list's count line (M is None without filters)."""
    text = page.get_by_test_id(testid).inner_text()
    shown = re.search(r"符合条件 (\d+)", text)
    total = re.search(r"共 (\d+)", text)
    assert total, text
    return (int(shown.group(1)) if shown else None), int(total.group(1))


def test_province_admin_filters_the_users_of_the_province(page, live_server, api, unique):
    # one stopped user, so that the status filter has something to find
    created = api.as_user("xq.admin").post(
        "/api/v1/tenants/640104/users",
        json={
            "username": f"xq.gone{unique}",
            "display_name": f"已离职{unique}",
            "password": "Demo@2026",
            "roles": ["dept_reviewer"],
        },
    )
    assert created.status_code == 201, created.get_json()
    assert (
        api.as_user("xq.admin")
        .patch(f"/api/v1/users/{created.get_json()['id']}", json={"is_active": False})
        .status_code
        == 200
    )

    login(page, "nx.admin")
    settle(page)
    page.goto("/admin/users")
    expect(page.get_by_role("heading", level=1)).to_have_text("用户管理 640000 宁夏回族自治区")
    rows = page.get_by_test_id("user-row")
    expect(rows.first).to_be_visible()
    # every user of the province, with their unit: 共 N 人, the counties' users among them
    shown, total = _count(page, "user-count")
    assert shown is None and total >= 10, total
    headers = [h.strip() for h in page.get_by_test_id("user-table").locator("thead th").all_inner_texts()]
    assert headers[:7] == ["姓名", "登录名", "角色", "所属单位", "电子邮箱", "状态", "最近登录"], headers
    assert not CODES.search(page.get_by_test_id("user-table").inner_text())
    shot(page, "users-nx-admin")

    # role: only 项目单位填报人, from every county
    settle(page)
    page.get_by_test_id("role-filter").select_option("project_editor")  # submits itself
    expect(page).to_have_url(re.compile(r"role=project_editor"))
    expect(page.locator('[data-testid="user-row"][data-username="xq.editor"]')).to_have_count(1)
    expect(page.locator('[data-testid="user-row"][data-username="nx.admin"]')).to_have_count(0)
    shown, total_after = _count(page, "user-count")
    assert total_after == total and shown is not None and 2 <= shown < total
    if shown <= 50:
        expect(rows).to_have_count(shown)
    for roles in page.get_by_test_id("user-row").locator("td:nth-child(3)").all_inner_texts():
        assert "项目单位填报人" in roles, roles

    # and one unit: 西夏区's editors only
    settle(page)
    page.get_by_test_id("unit-filter").select_option("640105")
    expect(page).to_have_url(re.compile(r"unit=640105"))
    expect(page.locator('[data-testid="user-row"][data-username="xx.editor"]')).to_have_count(1)
    expect(page.locator('[data-testid="user-row"][data-username="xq.editor"]')).to_have_count(0)
    for unit in page.get_by_test_id("user-row").locator("td:nth-child(4)").all_inner_texts():
        assert unit.strip() == "西夏区", unit
    shown, _ = _count(page, "user-count")
    expect(rows).to_have_count(shown or 0)

    # status: the stopped user is found among the stopped ones
    page.get_by_test_id("reset-filters").click()
    expect(page).to_have_url(f"{live_server}/admin/users")
    settle(page)
    page.get_by_test_id("status-filter").select_option("inactive")
    expect(page.locator(f'[data-testid="user-row"][data-username="xq.gone{unique}"]')).to_have_count(1)
    for status in page.get_by_test_id("user-row").locator("td:nth-child(6)").all_inner_texts():
        assert status.strip() == "停用", status

    # the search box: by name
    page.get_by_test_id("reset-filters").click()
    settle(page)
    page.get_by_test_id("user-search").fill("兴庆区项目单位填报人")
    page.get_by_test_id("user-search").press("Enter")
    expect(page).to_have_url(re.compile(r"q="))
    expect(page.locator('[data-testid="user-row"][data-username="xq.editor"]')).to_have_count(1)
    assert _count(page, "user-count")[0] == rows.count()
    assert_no_inline_script(page)
    assert page.problems == [], "\n".join(page.problems)


def test_province_admin_filters_the_tenants(page, live_server):
    login(page, "nx.admin")
    settle(page)
    page.goto("/admin/tenants")
    _, total = _count(page, "tenant-count")
    assert total >= 28
    settle(page)
    page.get_by_test_id("level-filter").select_option("county")
    expect(page).to_have_url(re.compile(r"level=county"))
    settle(page)
    page.get_by_test_id("parent-filter").select_option("640100")
    expect(page).to_have_url(re.compile(r"parent=640100"))
    rows = page.get_by_test_id("tenant-table").locator("tbody tr")
    expect(rows).to_have_count(6)  # 兴庆区 西夏区 金凤区 永宁县 贺兰县 灵武市
    assert _count(page, "tenant-count") == (6, total)
    for parent in rows.locator("td:nth-child(4)").all_inner_texts():
        assert parent.strip() == "银川市", parent
    page.get_by_test_id("reset-filters").click()
    settle(page)
    page.get_by_test_id("tenant-search").fill("固原")
    page.get_by_test_id("tenant-search").press("Enter")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("640400")
    assert page.problems == [], "\n".join(page.problems)
