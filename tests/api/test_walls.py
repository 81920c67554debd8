"""The tenant walls through HTTP, as a client sees them (DESIGN.md §4, API.md "Tenants and users").

Another tenant's thing is 404 with the same message shape as a thing that does not exist (never
confirm existence); 403 only where the caller may see the thing but not do the action.
"""

from __future__ import annotations

import secrets
from typing import Any

import pytest
from sqlalchemy import select

from jixiao.tenants.models import Tenant, User

DEMO_CODES = {
    "640000",
    "640100",
    "640104",
    "640105",
    "640106",
    "640121",
    "640122",
    "640181",
    "640200",
    "640202",
    "640205",
    "640221",
    "640300",
    "640302",
    "640303",
    "640323",
    "640324",
    "640381",
    "640400",
    "640402",
    "640422",
    "640423",
    "640424",
    "640425",
    "640500",
    "640502",
    "640521",
    "640522",
}
YINCHUAN = {"640100", "640104", "640105", "640106", "640121", "640122", "640181"}
PASSWORD = "Walls@2026ok"


def _error(resp: Any, status: int) -> dict[str, Any]:
    assert resp.status_code == status, (resp.status_code, resp.get_json())
    body: dict[str, Any] = resp.get_json()
    assert body["code"] == status and body["message"], body
    return body


def _same_shape(body: dict[str, Any], other: dict[str, Any], token: str, other_token: str) -> None:
    """Two 404 bodies say the same thing, up to the identifier in the message."""
    assert set(body) == set(other)
    assert body["status"] == other["status"]
    assert body["message"].replace(token, other_token) == other["message"]


def _codes(resp: Any) -> list[str]:
    assert resp.status_code == 200, resp.get_json()
    return [t["code"] for t in resp.get_json()["items"]]


def _db_codes(runtime: Any, path_prefix: str | None = None) -> set[str]:
    with runtime.db.system_session("test: tenant codes") as s:
        stmt = select(Tenant.code)
        if path_prefix:
            stmt = stmt.where((Tenant.path == path_prefix) | Tenant.path.startswith(path_prefix + "/"))
        return set(s.execute(stmt).scalars())


def _user_id(runtime: Any, username: str) -> int:
    with runtime.db.system_session("test: user id") as s:
        return s.execute(select(User.id).where(User.username == username)).scalar_one()


@pytest.fixture(scope="module")
def xq_user(api: Any) -> dict[str, Any]:
    """A 640104 user created by xq.admin through the API (never a demo user: tests PATCH it)."""
    resp = api.as_user("xq.admin").post(
        "/api/v1/tenants/640104/users",
        json={
            "username": f"xq.w{secrets.token_hex(3)}",
            "display_name": "墙测用户",
            "password": PASSWORD,
            "roles": ["project_editor"],
        },
    )
    assert resp.status_code == 201, resp.get_json()
    body: dict[str, Any] = resp.get_json()
    assert body["tenant_code"] == "640104"
    return body


# --- one tenant -------------------------------------------------------------------------------


def test_county_editor_sees_own_tenant_and_its_ancestors_only(api):
    editor = api.as_user("xq.editor")
    assert editor.get("/api/v1/tenants/640104").get_json()["name"] == "兴庆区"
    assert editor.get("/api/v1/tenants/640100").status_code == 200  # its own city, for display
    assert editor.get("/api/v1/tenants/640000").status_code == 200  # and the province
    sibling = _error(editor.get("/api/v1/tenants/640105"), 404)
    other_city = _error(editor.get("/api/v1/tenants/640200"), 404)
    unknown = _error(editor.get("/api/v1/tenants/999999"), 404)
    _same_shape(sibling, unknown, "640105", "999999")
    _same_shape(other_city, unknown, "640200", "999999")


def test_city_admin_reads_its_whole_branch_and_nothing_else(api):
    city = api.as_user("yc.admin")
    for code in sorted(YINCHUAN):
        assert city.get(f"/api/v1/tenants/{code}").status_code == 200, code
    _error(city.get("/api/v1/tenants/640200"), 404)
    _error(city.get("/api/v1/tenants/640202"), 404)


def test_province_admin_reads_every_tenant(api):
    province = api.as_user("nx.admin")
    for code in sorted(DEMO_CODES):
        assert province.get(f"/api/v1/tenants/{code}").status_code == 200, code
    _error(province.get("/api/v1/tenants/999999"), 404)


# --- tenant lists -----------------------------------------------------------------------------


def test_tenant_list_of_a_county_user_is_itself(api):
    resp = api.as_user("xq.editor").get("/api/v1/tenants?page_size=100")
    assert _codes(resp) == ["640104"]
    assert resp.get_json()["total"] == 1


def test_tenant_list_of_a_city_admin_is_its_branch(api, runtime):
    resp = api.as_user("yc.admin").get("/api/v1/tenants?page_size=100")
    codes = _codes(resp)
    branch = _db_codes(runtime, "640000/640100")
    assert branch >= YINCHUAN  # other tests may add counties under 银川; the demo's 7 are there
    assert set(codes) == branch and len(codes) == len(branch)
    assert resp.get_json()["total"] == len(branch)
    assert not any(code.startswith(("6402", "6403", "6404", "6405")) for code in codes)
    assert "640000" not in codes


def test_tenant_list_of_the_province_is_everything_across_pages(api, runtime):
    province = api.as_user("nx.admin")
    everything = _db_codes(runtime)
    assert everything >= DEMO_CODES and len(everything) >= 28
    seen: list[str] = []
    page = 1
    while True:
        resp = province.get(f"/api/v1/tenants?page_size=100&page={page}")
        body = resp.get_json()
        assert body["total"] == len(everything)
        assert body["page"] == page and body["page_size"] == 100
        seen += _codes(resp)
        if not body["items"] or len(seen) >= body["total"]:
            break
        page += 1
    assert sorted(seen) == sorted(everything)
    small = province.get("/api/v1/tenants?page_size=10").get_json()
    assert small["total"] == len(everything) and len(small["items"]) == 10


# --- users of a tenant ------------------------------------------------------------------------


def test_listing_a_tenants_users(api):
    own = api.as_user("xq.admin").get("/api/v1/tenants/640104/users?page_size=200")
    assert own.status_code == 200, own.get_json()
    items = own.get_json()["items"]
    assert {"xq.admin", "xq.dept", "xq.editor"} <= {u["username"] for u in items}
    assert {u["tenant_code"] for u in items} == {"640104"}
    assert all("password" not in u and "password_hash" not in u for u in items)

    above = api.as_user("yc.admin").get("/api/v1/tenants/640104/users?page_size=200")
    assert above.status_code == 200  # reads down
    assert {u["username"] for u in above.get_json()["items"]} == {u["username"] for u in items}

    sibling = _error(api.as_user("xx.admin").get("/api/v1/tenants/640104/users"), 404)
    unknown = _error(api.as_user("xx.admin").get("/api/v1/tenants/999999/users"), 404)
    _same_shape(sibling, unknown, "640104", "999999")

    # same tenant, wrong role: the tenant is visible, so 403 is the honest answer
    _error(api.as_user("xq.editor").get("/api/v1/tenants/640104/users"), 403)
    # ...but a sibling's user list is 404 for the editor too (visibility is checked first)
    _error(api.as_user("xq.editor").get("/api/v1/tenants/640105/users"), 404)
    _error(api.as_user("eval.ningping").get("/api/v1/tenants/640104/users"), 404)


def _new_user(unique: str, tag: str) -> dict[str, Any]:
    return {
        "username": f"xq.{tag}{unique}",
        "display_name": "新用户",
        "password": PASSWORD,
        "roles": ["project_editor"],
    }


def _usernames_of_640104(api: Any) -> set[str]:
    resp = api.as_user("nx.admin").get("/api/v1/tenants/640104/users?page_size=200")
    assert resp.status_code == 200
    return {u["username"] for u in resp.get_json()["items"]}


def test_creating_users_in_a_county(api, unique):
    city = _error(
        api.as_user("yc.admin").post("/api/v1/tenants/640104/users", json=_new_user(unique, "c")), 403
    )
    assert "只读" in city["message"], city  # upper levels are read-only
    _error(api.as_user("xx.admin").post("/api/v1/tenants/640104/users", json=_new_user(unique, "s")), 404)
    _error(api.as_user("xq.editor").post("/api/v1/tenants/640104/users", json=_new_user(unique, "e")), 403)
    names = _usernames_of_640104(api)
    assert not {f"xq.c{unique}", f"xq.s{unique}", f"xq.e{unique}"} & names

    created = api.as_user("nx.admin").post("/api/v1/tenants/640104/users", json=_new_user(unique, "p"))
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["tenant_code"] == "640104"
    assert f"xq.p{unique}" in _usernames_of_640104(api)


# --- one user by id ---------------------------------------------------------------------------


def test_reading_a_county_user_by_id(api, xq_user):
    path = f"/api/v1/users/{xq_user['id']}"
    assert api.as_user("xq.admin").get(path).status_code == 200
    above = api.as_user("yc.admin").get(path)
    assert above.status_code == 200 and above.get_json()["username"] == xq_user["username"]
    assert api.as_user("nx.admin").get(path).status_code == 200
    sibling = _error(api.as_user("xx.admin").get(path), 404)
    unknown = _error(api.as_user("xx.admin").get("/api/v1/users/987654321"), 404)
    _same_shape(sibling, unknown, str(xq_user["id"]), "987654321")
    _error(api.as_user("eval.ningping").get(path), 404)


def test_a_project_editor_may_not_read_colleagues_by_id(api, xq_user):
    """Same rule as the tenant's user list (`users.read`: admins only): reading one user by id must
    not be a side door around it."""
    _error(api.as_user("xq.editor").get(f"/api/v1/users/{xq_user['id']}"), 403)


def test_evaluator_users_are_the_provinces(api, runtime):
    evaluator = _user_id(runtime, "eval.ningping")
    assert api.as_user("nx.admin").get(f"/api/v1/users/{evaluator}").status_code == 200
    for name in ("xq.admin", "yc.admin", "xx.admin"):
        _error(api.as_user(name).get(f"/api/v1/users/{evaluator}"), 404)


def test_changing_a_county_user(api, xq_user):
    path = f"/api/v1/users/{xq_user['id']}"
    _error(api.as_user("yc.admin").patch(path, json={"display_name": "上级改名"}), 403)
    _error(api.as_user("xx.admin").patch(path, json={"display_name": "邻居改名"}), 404)
    _error(api.as_user("xx.admin").patch("/api/v1/users/987654321", json={"display_name": "x"}), 404)
    _error(api.as_user("xq.editor").patch(path, json={"display_name": "同事改名"}), 403)
    unchanged = api.as_user("xq.admin").get(path).get_json()
    assert unchanged["display_name"] == xq_user["display_name"]

    ok = api.as_user("xq.admin").patch(path, json={"display_name": "本区改名"})
    assert ok.status_code == 200, ok.get_json()
    assert ok.get_json()["display_name"] == "本区改名"


# --- the audit trail --------------------------------------------------------------------------


def test_audit_event_of_a_county_write_flows_up_not_sideways(api, xq_user):
    query = f"/api/v1/audit-events?object_type=user&object_id={xq_user['id']}&action=user.create"
    for name in ("xq.admin", "yc.admin", "nx.admin"):
        resp = api.as_user(name).get(query)
        assert resp.status_code == 200, (name, resp.get_json())
        body = resp.get_json()
        assert body["total"] == 1, (name, body)
        event = body["items"][0]
        assert event["action"] == "user.create" and event["username"] == "xq.admin"
        assert event["after"]["username"] == xq_user["username"]
    sideways = api.as_user("xx.admin").get(query)
    assert sideways.status_code == 200
    assert sideways.get_json()["total"] == 0 and sideways.get_json()["items"] == []
    _error(api.as_user("xq.editor").get(query), 403)  # role
    _error(api.as_user("eval.ningping").get(query), 403)


# --- evaluator organisations ------------------------------------------------------------------


def test_evaluator_organisations(api, unique):
    listed = api.as_user("xq.admin").get("/api/v1/evaluator-orgs")
    assert listed.status_code == 200
    assert "宁夏绩评咨询有限公司" in {o["name"] for o in listed.get_json()["items"]}
    _error(api.as_user("xq.editor").get("/api/v1/evaluator-orgs"), 403)

    body = {"name": f"墙测评价机构{unique}", "contact": "李经理"}
    _error(api.as_user("xq.admin").post("/api/v1/evaluator-orgs", json=body), 403)
    created = api.as_user("nx.admin").post("/api/v1/evaluator-orgs", json=body)
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["name"] == body["name"]


def test_an_evaluator_without_grants_sees_no_tenant(api):
    evaluator = api.as_user("eval.ningping")
    listed = evaluator.get("/api/v1/tenants?page_size=100")
    assert listed.status_code == 200
    assert listed.get_json()["items"] == [] and listed.get_json()["total"] == 0
    for code in ("640104", "640100", "640000"):
        _error(evaluator.get(f"/api/v1/tenants/{code}"), 404)
