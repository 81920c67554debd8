"""The user form refuses with every problem at once — an empty username, a weak password, no role
and a bad e-mail address are all named in one answer — through the API (create and edit) and the
page (create and edit), each message in Chinese and free of API vocabulary codes; and the admin
lists answer their filters and show their counts."""

from __future__ import annotations

import re
import secrets
from typing import Any

from tests.api.test_security import _login, _meta_csrf

USERS = "/api/v1/tenants/640104/users"
CODE = re.compile(
    r"\b(province|city|county|province_admin|province_reviewer|bureau_admin|dept_reviewer|project_editor|evaluator)\b"
)
CJK = re.compile(r"[\u4e00-\u9fff]")
BAD = {"username": "", "display_name": "王晓明", "password": "abc", "roles": [], "email": "不是邮箱"}


def _client(app: Any) -> Any:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = f"10.78.{secrets.randbelow(250)}.{secrets.randbelow(250) + 1}"
    return client


def _page_client(app: Any, username: str) -> tuple[Any, str]:
    client = _client(app)
    assert _login(client, username, "Demo@2026").status_code == 302
    return client, _meta_csrf(client)


def _assert_every_problem(errors: dict[str, list[str]], fields: set[str]) -> None:
    assert fields <= set(errors), errors
    for field in fields:
        assert errors[field] and all(CJK.search(m) for m in errors[field]), (field, errors[field])
        assert not any(CODE.search(m) for m in errors[field]), (field, errors[field])


def test_api_create_names_every_problem_in_one_answer(api):
    before = api.as_user("xq.admin").get(USERS).get_json()["total"]
    resp = api.as_user("xq.admin").post(USERS, json=BAD)
    assert resp.status_code == 422, resp.get_json()
    body = resp.get_json()
    _assert_every_problem(body["errors"], {"username", "password", "roles", "email"})
    assert len(body["errors"]["password"]) >= 2  # too short and too few kinds of characters
    assert "display_name" not in body["errors"]  # the good field is not blamed
    assert "4" in body["message"]
    # a missing field and a role of another level are named beside the rest
    resp = api.as_user("xq.admin").post(USERS, json={"roles": ["province_admin"], "email": "x@"})
    errors = resp.get_json()["errors"]
    _assert_every_problem(errors, {"username", "display_name", "password", "roles", "email"})
    assert "省财政厅管理员" in errors["roles"][0]
    assert api.as_user("xq.admin").get(USERS).get_json()["total"] == before


def test_api_edit_names_every_problem_in_one_answer(api, unique):
    created = api.as_user("xq.admin").post(
        USERS,
        json={
            "username": f"xq.form{unique}",
            "display_name": "表单测试",
            "password": "Demo@2026",
            "roles": ["project_editor"],
        },
    )
    assert created.status_code == 201, created.get_json()
    uid = created.get_json()["id"]
    resp = api.as_user("xq.admin").patch(
        f"/api/v1/users/{uid}",
        json={"display_name": " ", "password": "abc", "roles": ["province_admin"], "email": "不是邮箱"},
    )
    assert resp.status_code == 422, resp.get_json()
    _assert_every_problem(resp.get_json()["errors"], {"display_name", "password", "roles", "email"})
    shown = api.as_user("xq.admin").get(f"/api/v1/users/{uid}").get_json()
    assert shown["display_name"] == "表单测试" and shown["roles"] == ["project_editor"]


def test_page_create_shows_every_problem_beside_its_field(app):
    client, csrf = _page_client(app, "xq.admin")
    resp = client.post(
        "/admin/users",
        data={
            "csrf_token": csrf,
            "username": "",
            "display_name": "王晓明",
            "password": "abc",
            "email": "不是邮箱",
        },
    )
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    for field in ("username", "password", "roles", "email"):
        assert f'data-testid="error-{field}"' in html, field
    assert 'data-testid="error-display_name"' not in html
    assert "有 4 项需要修改" in html
    assert 'value="王晓明"' in html  # what was right is kept


def test_page_edit_shows_every_problem_beside_its_field(app, api, unique):
    created = api.as_user("xq.admin").post(
        USERS,
        json={
            "username": f"xq.edit{unique}",
            "display_name": "编辑测试",
            "password": "Demo@2026",
            "roles": ["project_editor"],
        },
    )
    uid = created.get_json()["id"]
    client, csrf = _page_client(app, "xq.admin")
    page = client.get(f"/admin/users/{uid}/edit")
    assert page.status_code == 200 and "编辑测试" in page.get_data(as_text=True)
    resp = client.post(
        f"/admin/users/{uid}/edit",
        data={"csrf_token": csrf, "display_name": "", "password": "abc", "email": "不是邮箱"},
    )
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    for field in ("display_name", "password", "roles", "email"):
        assert f'data-testid="error-{field}"' in html, field
    ok = client.post(
        f"/admin/users/{uid}/edit",
        data={"csrf_token": csrf, "display_name": "编辑后", "roles": ["dept_reviewer"], "email": ""},
    )
    assert ok.status_code == 302
    shown = api.as_user("xq.admin").get(f"/api/v1/users/{uid}").get_json()
    assert shown["display_name"] == "编辑后" and shown["roles"] == ["dept_reviewer"]


def test_tenant_form_names_every_problem_and_offers_empty_selects(app):
    client, csrf = _page_client(app, "nx.admin")
    form = client.get("/admin/tenants").get_data(as_text=True)
    assert form.count("请选择…") >= 2  # level and parent start empty
    resp = client.post(
        "/admin/tenants", data={"csrf_token": csrf, "code": "12", "name": "", "level": "", "parent_code": ""}
    )
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert "行政区划代码须为 6 位数字" in html and "请填写名称" in html and "请选择级次" in html
    assert not CODE.search(
        html.split("<main", 1)[1]
        .split("</main>", 1)[0]
        .replace('value="province"', "")
        .replace('value="city"', "")
        .replace('value="county"', "")
    )


def test_read_only_mode_shows_no_write_control_on_admin_pages(app):
    client, csrf = _page_client(app, "nx.admin")
    assert client.post("/switch-tenant", data={"csrf_token": csrf, "code": "640104"}).status_code == 302
    users = client.get("/admin/users").get_data(as_text=True)
    assert "兴庆区" in users and 'data-testid="user-form"' not in users
    assert "停用</button>" not in users and 'data-testid="edit-user"' not in users
    tenants = client.get("/admin/tenants").get_data(as_text=True)
    assert 'data-testid="tenant-form"' not in tenants
    orgs = client.get("/admin/evaluator-orgs").get_data(as_text=True)
    assert "登记机构" not in orgs
    system = client.get("/admin/system/").get_data(as_text=True)
    assert (
        'data-testid="start-selfcheck"' in system
        and "disabled" in system.split('data-testid="start-selfcheck"')[0].rsplit("<button", 1)[1]
    )
    client.post("/switch-tenant", data={"csrf_token": csrf, "code": ""})
    own = client.get("/admin/users").get_data(as_text=True)
    assert 'data-testid="user-form"' in own
