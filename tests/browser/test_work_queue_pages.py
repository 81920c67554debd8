"""The work queue (待办 / 已办) as every role's home page, and the notifications, in a browser:
a submission is in the 初审 reviewer's queue (overdue, in red) with a notification and the bell's
badge; the filters swap in place with a bookmarkable address; opening the notification marks it
read and lands on the review page; after the approval the item is 已办 and waits for 复核 at the
bureau; a sibling county sees none of it; a return reaches the editor with its reason; marking
read one by one (in place) and all at once; and the user form's optional e-mail address.

The database is shared by the whole test session: other tests give the same demo users items and
notifications, so rows are found by project id and badge counts are compared, never assumed.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.api.test_project_lifecycle import create_program, lines, new_project, through_assessment

from .helpers import assert_no_inline_script, expect_document_status, go, settle, shot, signed_in

pytestmark = pytest.mark.browser

RED = re.compile(r"rgb\((\d+), (\d+), (\d+)\)")


def _task_row(page: Any, pid: int) -> Any:
    return page.locator(f'[data-testid="task-row"][data-project-id="{pid}"]')


def _note(page: Any, nid: str) -> Any:
    return page.locator(f'[data-testid="notification-row"][data-notification-id="{nid}"]')


def _badge(page: Any) -> int:
    """The bell's unread count (no badge: 0)."""
    badge = page.get_by_test_id("unread-badge")
    if badge.count() == 0:
        return 0
    text = badge.inner_text().strip()
    assert text != "99+", "the test keeps its users below 100 unread"
    return int(text)


def _unread(api: Any, username: str) -> int:
    resp = api.as_user(username).get("/api/v1/me/notifications?unread=true&page_size=1")
    assert resp.status_code == 200, resp.get_json()
    return int(resp.get_json()["unread"])


def _keep_below_99(api: Any, username: str) -> None:
    """A long test session piles up other tests' notifications: start from none unread, so that the
    badge is a number the test can count and a note read here is still on the list's first page
    (unread ones come first)."""
    if _unread(api, username) > 0:
        assert api.as_user(username).post("/api/v1/me/notifications/read-all").status_code == 200


def _is_red(locator: Any) -> bool:
    found = RED.match(locator.evaluate("el => getComputedStyle(el).color"))
    assert found, "no rgb() colour"
    r, g, b = (int(x) for x in found.groups())
    return r > 150 and g < 100 and b < 100


def test_queue_notifications_review_and_return(fresh_page, live_server, api, unique):
    program_id = create_program(api, unique, 10)  # deadlines in 2022: every item is overdue
    project = new_project(api, program_id, unique)
    pid, name = project["id"], project["name"]
    through_assessment(api, pid)
    for username in ("xq.dept", "xq.admin", "xq.editor"):
        _keep_below_99(api, username)
    editor_api = api.as_user("xq.editor")
    saved = editor_api.put(
        f"/api/v1/projects/{pid}/targets", json={"overall_goal": "完成 12 个小区改造", "indicators": lines()}
    )
    assert saved.status_code == 200, saved.get_json()
    submitted = editor_api.post(f"/api/v1/projects/{pid}/targets/submit")
    assert submitted.status_code == 200, submitted.get_json()

    # --- 初审: the department reviewer's home is the queue ----------------------------------------
    dept = signed_in(fresh_page, "xq.dept")
    expect(dept).to_have_url(f"{live_server}/")
    expect(dept.get_by_test_id("tab-todo")).to_have_attribute("aria-current", "page")
    row = _task_row(dept, pid)
    expect(row).to_have_count(1)
    expect(row).to_have_attribute("data-kind", "review")
    expect(row).to_have_attribute("data-overdue", "yes")
    expect(row.get_by_test_id("task-kind")).to_have_text("待审核")
    expect(row.get_by_test_id("task-title")).to_have_text("初审绩效目标")
    expect(row).to_contain_text("兴庆区")
    expect(row).to_contain_text("绩效目标")
    # the submitter by name, the login name on hover
    expect(row.get_by_test_id("task-detail")).to_have_text("兴庆区项目单位填报人 提交")
    expect(row.locator(".jx-person")).to_have_attribute("title", "xq.editor")
    link = row.get_by_test_id("task-link")
    expect(link).to_have_text(name)
    expect(link).to_have_attribute("href", f"/projects/{pid}/targets/review")
    deadline = row.get_by_test_id("task-deadline")
    expect(deadline).to_contain_text("2022-12-31")
    expect(deadline).to_contain_text(re.compile(r"已逾期 \d+ 天"))
    assert _is_red(deadline.locator("[data-overdue]")), "an overdue deadline is shown in red"
    assert int(dept.get_by_test_id("task-count-review").inner_text()) >= 1
    assert int(dept.get_by_test_id("task-count-fill").inner_text()) == 0  # a reviewer fills nothing in
    # the overview is still there, beside the queue
    expect(dept.get_by_test_id("roles")).to_have_text("主管部门审核人")
    expect(dept.get_by_test_id("stat-programs")).to_be_visible()
    unread = _badge(dept)
    assert unread >= 1 and unread == _unread(api, "xq.dept")
    assert_no_inline_script(dept)
    shot(dept, "home-queue-xq-dept")

    # --- filters: swapped in place, the address follows (bookmarkable) ----------------------------
    dept.evaluate("window.__jxSameDocument = true")
    dept.get_by_test_id("kind-filter-review").click()
    expect(dept).to_have_url(f"{live_server}/?kind=review")
    expect(dept.get_by_test_id("kind-filter-review")).to_have_attribute("aria-current", "true")
    expect(row).to_have_count(1)
    expect(dept.locator('[data-testid="task-row"]:not([data-kind="review"])')).to_have_count(0)
    dept.get_by_test_id("overdue-filter").select_option("no")
    expect(dept).to_have_url(f"{live_server}/?kind=review&overdue=no")
    expect(row).to_have_count(0)
    expect(dept.locator('[data-testid="task-row"][data-overdue="yes"]')).to_have_count(0)
    # the swap is over (the filter bar is swapped with the list): choose on the new select, not the old
    expect(dept.locator(".htmx-request")).to_have_count(0)
    expect(dept.get_by_test_id("overdue-filter")).to_have_value("no")
    dept.get_by_test_id("overdue-filter").select_option("yes")
    expect(dept).to_have_url(f"{live_server}/?kind=review&overdue=yes")
    expect(row).to_have_count(1)
    assert dept.evaluate("window.__jxSameDocument") is True, "a filter reloaded the page"
    dept.reload()  # the address is the view
    settle(dept)
    expect(row).to_have_count(1)
    expect(dept.get_by_test_id("overdue-filter")).to_have_value("yes")
    expect(dept.get_by_test_id("kind-filter-review")).to_have_attribute("aria-current", "true")
    go(dept, "/?stage=assessment")  # a department reviewer acts on no assessment
    expect(dept.get_by_test_id("stage-filter")).to_have_value("assessment")
    expect(dept.get_by_test_id("task-row")).to_have_count(0)
    expect(dept.get_by_test_id("tasks-empty")).to_contain_text("暂无待办事项")
    shot(dept, "home-queue-filtered-empty")
    dept.get_by_test_id("reset-filters").click()
    expect(dept).to_have_url(f"{live_server}/")
    expect(row).to_have_count(1)
    go(dept, "/tasks?kind=review&stage=targets&bogus=1")  # the alias keeps its filters
    expect(dept).to_have_url(f"{live_server}/?kind=review&stage=targets")
    expect(row).to_have_count(1)

    # --- the notification: newest first, opened → read, on the review page -----------------------
    dept.get_by_test_id("bell").click()
    expect(dept).to_have_url(f"{live_server}/notifications")
    expect(dept.get_by_role("heading", level=1)).to_have_text("消息通知")
    first = dept.get_by_test_id("notification-row").first
    expect(first).to_contain_text(name)
    expect(first).to_have_attribute("data-read", "no")
    expect(first.get_by_test_id("notification-kind")).to_have_text("待办")
    expect(first.get_by_test_id("unread-mark")).to_be_visible()
    expect(first.get_by_test_id("notification-title")).to_contain_text(f"待办：{name} · 初审绩效目标")
    weight = first.get_by_test_id("notification-title").evaluate("el => getComputedStyle(el).fontWeight")
    assert int(weight) >= 600, "an unread notification is bold"
    nid = first.get_attribute("data-notification-id")
    assert nid
    expect(dept.get_by_test_id("bell")).to_have_attribute("aria-current", "page")
    assert_no_inline_script(dept)
    shot(dept, "notifications-xq-dept")
    before = _badge(dept)
    first.get_by_test_id("notification-title").click()
    expect(dept).to_have_url(f"{live_server}/projects/{pid}/targets/review")
    settle(dept)
    assert _badge(dept) == before - 1
    nav = dept.locator("nav.navbar")
    expect(nav.get_by_role("link", name="项目", exact=True)).to_have_attribute("aria-current", "page")
    go(dept, "/notifications")
    expect(_note(dept, nid)).to_have_attribute("data-read", "yes")
    expect(_note(dept, nid).get_by_test_id("mark-read")).to_have_count(0)
    expect(_note(dept, nid)).to_contain_text("已读于")

    # --- 初审 approved: gone from the queue, in 已办 -----------------------------------------------
    go(dept, f"/projects/{pid}/targets/review")
    dept.get_by_test_id("comment-completeness").fill("指标完整，同意报财政复核")
    dept.get_by_test_id("approve").click()
    expect(dept.locator(".alert-success")).to_contain_text("初审通过")
    go(dept, "/")
    expect(dept.get_by_test_id("work-queue")).to_be_visible()
    expect(row).to_have_count(0)
    dept.get_by_test_id("tab-done").click()
    expect(dept).to_have_url(f"{live_server}/?tab=done", timeout=15_000)  # the swap, then the address
    expect(dept.get_by_test_id("tab-done")).to_have_attribute("aria-current", "page")
    done = dept.locator(f'[data-testid="done-row"][data-project-id="{pid}"]')
    expect(done).to_have_count(1)
    expect(done).to_have_attribute("data-action", "targets.review")
    expect(done).to_contain_text("审核绩效目标")
    expect(done).to_contain_text("初审通过")
    expect(done.get_by_role("link", name=name)).to_have_attribute("href", f"/projects/{pid}/targets/review")
    shot(dept, "home-done-xq-dept")
    dept.reload()
    settle(dept)
    expect(done).to_have_count(1)  # ?tab=done is an address too

    # --- 复核 at the bureau; the item's notification marked read in place ------------------------
    admin = signed_in(fresh_page, "xq.admin")
    admin_row = _task_row(admin, pid)
    expect(admin_row).to_have_attribute("data-kind", "review")
    expect(admin_row.get_by_test_id("task-title")).to_have_text("复核绩效目标")
    expect(admin_row).to_have_attribute("data-overdue", "yes")
    shot(admin, "home-queue-xq-admin")
    before = _badge(admin)
    assert before >= 1 and before == _unread(api, "xq.admin")
    admin.get_by_test_id("bell").click()
    expect(admin).to_have_url(f"{live_server}/notifications")
    task_note = admin.get_by_test_id("notification-row").filter(has_text=f"待办：{name} · 复核绩效目标")
    expect(task_note).to_have_count(1)
    anid = task_note.get_attribute("data-notification-id")
    expect(_note(admin, anid)).to_have_attribute("data-read", "no")
    admin.evaluate("window.__jxSameDocument = true")
    _note(admin, anid).get_by_test_id("mark-read").click()
    expect(_note(admin, anid)).to_have_attribute("data-read", "yes")
    expect(_note(admin, anid).get_by_test_id("mark-read")).to_have_count(0)
    if before > 1:
        expect(admin.get_by_test_id("unread-badge")).to_have_text(str(before - 1))
    else:
        expect(admin.get_by_test_id("unread-badge")).to_have_count(0)
    assert admin.evaluate("window.__jxSameDocument") is True, "标为已读 reloaded the page"
    assert _unread(api, "xq.admin") == before - 1
    shot(admin, "notifications-marked-read")

    # --- a sibling county sees none of it -----------------------------------------------------------
    sibling = signed_in(fresh_page, "xx.admin")
    expect(sibling.get_by_test_id("work-queue")).to_be_visible()
    expect(_task_row(sibling, pid)).to_have_count(0)
    go(sibling, "/notifications")
    expect(sibling.get_by_test_id("notification-row").filter(has_text=name)).to_have_count(0)
    token = sibling.locator('meta[name="csrf-token"]').get_attribute("content")
    for action in ("read", "open"):  # someone else's notification does not exist for them
        response = sibling.request.post(
            f"{live_server}/notifications/{anid}/{action}", headers={"X-CSRFToken": token or ""}
        )
        assert response.status == 404, (action, response.status)

    # --- 复核 returns it with a reason: the editor hears it -------------------------------------
    reason = f"成本指标测算依据不足{unique}"
    go(admin, f"/projects/{pid}/targets/review")
    admin.get_by_test_id("comment-feasibility").fill(reason)
    admin.get_by_test_id("return").click()
    expect(admin.locator(".alert-warning")).to_contain_text("已退回绩效目标")
    go(admin, "/")
    expect(_task_row(admin, pid)).to_have_count(0)

    editor = signed_in(fresh_page, "xq.editor")
    editor_row = _task_row(editor, pid)
    expect(editor_row).to_have_attribute("data-kind", "revise")
    expect(editor_row.get_by_test_id("task-kind")).to_have_text("退回修改")
    expect(editor_row).to_contain_text(reason)
    expect(editor_row.get_by_test_id("task-link")).to_have_attribute("href", f"/projects/{pid}/targets")
    assert _badge(editor) >= 1
    editor.get_by_test_id("bell").click()
    expect(editor).to_have_url(f"{live_server}/notifications")
    returned = editor.get_by_test_id("notification-row").filter(has_text=f"{name} · 绩效目标被复核退回")
    expect(returned).to_have_count(1)
    expect(returned).to_have_attribute("data-read", "no")
    expect(returned.get_by_test_id("notification-kind")).to_have_text("退回")
    expect(returned.get_by_test_id("notification-body")).to_contain_text(f"退回原因：可行性：{reason}")
    assert_no_inline_script(editor)
    shot(editor, "notifications-returned-xq-editor")
    editor.get_by_test_id("mark-all-read").click()
    expect(editor.locator(".alert-success")).to_contain_text("条消息标为已读")
    expect(editor.locator('[data-testid="notification-row"][data-read="no"]')).to_have_count(0)
    expect(editor.get_by_test_id("unread-badge")).to_have_count(0)
    expect(editor.get_by_test_id("mark-all-read")).to_have_count(0)
    expect(editor.get_by_test_id("unread-summary")).to_have_text("没有未读消息")
    assert _unread(api, "xq.editor") == 0

    # --- the bell follows new notifications without a reload (htmx polls it every 60 s) ----------
    editor.clock.install()
    go(editor, "/projects/")
    expect(editor.get_by_test_id("unread-badge")).to_have_count(0)
    client = api.as_user("xq.editor")
    assert client.post(f"/api/v1/projects/{pid}/targets/submit").status_code == 200
    again = api.as_user("xq.dept").post(
        f"/api/v1/projects/{pid}/targets/reviews",
        json={"decision": "return", "comments": {"relevance": "再次退回"}},
    )
    assert again.status_code == 200, again.get_json()
    editor.clock.fast_forward("01:05")
    expect(editor.get_by_test_id("unread-badge")).to_have_text("1")
    expect(editor.get_by_test_id("bell")).not_to_have_class(re.compile(r"\bactive\b"))

    # --- an evaluator without grants (a new organisation's: the demo evaluator holds other tests'
    # grants): an empty queue ----------------------------------------------------------------------
    province = api.as_user("nx.admin")
    org = province.post("/api/v1/evaluator-orgs", json={"name": f"宁夏评估事务所{unique}"})
    assert org.status_code == 201, org.get_json()
    newcomer = province.post(
        f"/api/v1/evaluator-orgs/{org.get_json()['id']}/users",
        json={"username": f"eval.q{unique}", "display_name": "新机构评价员", "password": "Eval@2026ok"},
    )
    assert newcomer.status_code == 201, newcomer.get_json()
    evaluator = signed_in(fresh_page, f"eval.q{unique}", "Eval@2026ok")
    expect(evaluator.get_by_test_id("tasks-empty")).to_contain_text("暂无待办事项")
    expect(evaluator.get_by_test_id("task-row")).to_have_count(0)
    shot(evaluator, "home-queue-empty-evaluator")

    for pg in (dept, admin, sibling, editor, evaluator):
        assert pg.problems == [], "\n".join(pg.problems)


def test_user_form_takes_an_optional_email(fresh_page, live_server, unique):
    username = f"xq.mail{unique}"
    address = f"{username}@czj.xq.test"
    admin = signed_in(fresh_page, "xq.admin")
    go(admin, "/admin/users")
    expect_document_status(admin, 422)
    admin.get_by_label("用户名").fill(username)
    admin.get_by_label("姓名").fill("邮件测试")
    admin.get_by_label("初始密码").fill("Mail@2026ok")
    admin.get_by_label("电子邮箱", exact=True).fill("不是邮箱")
    admin.get_by_label("主管部门审核人").check()
    admin.get_by_role("button", name="创建用户").click()
    expect(admin.get_by_test_id("form-errors")).to_be_visible()
    expect(admin.locator("#f-email ~ .invalid-feedback")).to_contain_text("电子邮箱格式不正确")
    expect(admin.get_by_label("电子邮箱", exact=True)).to_have_value("不是邮箱")  # kept to be corrected
    settle(admin)
    admin.get_by_label("初始密码").fill("Mail@2026ok")
    admin.get_by_label("电子邮箱", exact=True).fill(address)
    admin.get_by_role("button", name="创建用户").click()
    expect(admin.locator(".alert-success")).to_contain_text(f"已创建用户 邮件测试（登录名 {username}）")
    user_row = (
        admin.get_by_test_id("user-table")
        .locator("tbody tr")
        .filter(has=admin.get_by_role("cell", name=username, exact=True))
    )
    expect(user_row.get_by_test_id("user-email")).to_have_text(address)
    expect(
        admin.get_by_test_id("user-table")
        .locator("tbody tr")
        .filter(has=admin.get_by_role("cell", name="xq.editor", exact=True))
        .get_by_test_id("user-email")
    ).to_have_text("—")
    shot(admin, "users-with-email")

    # an existing user's address: corrected in place, a bad one refused with the rule, cleared
    editor_row = (
        admin.get_by_test_id("user-table")
        .locator("tbody tr")
        .filter(has=admin.get_by_role("cell", name="xq.dept", exact=True))
    )
    editor_row.get_by_test_id("email-edit").locator("summary").click()
    editor_row.get_by_test_id("email-input").fill("xq.dept@")
    editor_row.get_by_test_id("email-input").evaluate(
        "el => el.type = 'text'"
    )  # past the browser's own check
    editor_row.get_by_test_id("email-save").click()
    expect(admin.locator(".alert-danger")).to_contain_text("电子邮箱格式不正确：xq.dept@")
    settle(admin)
    editor_row.get_by_test_id("email-edit").locator("summary").click()
    editor_row.get_by_test_id("email-input").fill("dept@czj.xq.test")
    editor_row.get_by_test_id("email-save").click()
    expect(admin.locator(".alert-success")).to_contain_text(
        "已更新 兴庆区主管部门审核人（xq.dept）的电子邮箱"
    )
    expect(editor_row.get_by_test_id("user-email")).to_have_text("dept@czj.xq.test")
    settle(admin)
    editor_row.get_by_test_id("email-edit").locator("summary").click()
    editor_row.get_by_test_id("email-input").fill("")
    editor_row.get_by_test_id("email-save").click()
    expect(admin.locator(".alert-success")).to_contain_text(
        "已清除 兴庆区主管部门审核人（xq.dept）的电子邮箱"
    )
    expect(editor_row.get_by_test_id("user-email")).to_have_text("—")

    # the new user: nothing to read yet
    newcomer = signed_in(fresh_page, username, "Mail@2026ok")
    expect(newcomer.get_by_test_id("unread-badge")).to_have_count(0)
    newcomer.get_by_test_id("bell").click()
    expect(newcomer).to_have_url(f"{live_server}/notifications")
    expect(newcomer.get_by_test_id("notifications-empty")).to_be_visible()
    expect(newcomer.get_by_test_id("mark-all-read")).to_have_count(0)
    assert_no_inline_script(newcomer)
    shot(newcomer, "notifications-empty")

    # leave no extra reviewer (with an address) behind for the tests that follow
    settle(admin)
    user_row.get_by_role("button", name="停用").click()
    expect(admin.locator(".alert-success")).to_contain_text(f"已停用用户 邮件测试（登录名 {username}）")
    for pg in (admin, newcomer):
        assert pg.problems == [], "\n".join(pg.problems)


def test_the_bell_never_takes_a_page_down(client, monkeypatch):
    """A failing unread count leaves the bell without a badge; the page itself is served."""
    from jixiao.services.notifications import service as notifications

    login_page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', login_page)
    assert token, "no CSRF token on the login form"
    signed_in = client.post(
        "/login", data={"username": "xq.editor", "password": "Demo@2026", "csrf_token": token.group(1)}
    )
    assert signed_in.status_code == 302, signed_in.status_code

    def broken(*_args: Any, **_kwargs: Any) -> int:
        raise RuntimeError("the count is unavailable")

    monkeypatch.setattr(notifications, "unread_count", broken)
    for path in ("/", "/notifications", "/projects/"):
        response = client.get(path)
        html = response.get_data(as_text=True)
        assert response.status_code == 200, path
        assert 'data-testid="bell"' in html and 'data-testid="unread-badge"' not in html, path
