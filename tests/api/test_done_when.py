"""The issue's "done when", through HTTP as a client sees it."""

from __future__ import annotations


def test_password_grant_and_me_shows_tenant_and_roles(api):
    me = api.as_user("xq.editor").get("/api/v1/me")
    assert me.status_code == 200
    body = me.get_json()
    assert body["tenant"]["code"] == "640104"
    assert body["tenant"]["name"] == "兴庆区"
    assert body["roles"] == ["project_editor"]
    assert "projects:write" in body["scopes"] and "admin" not in body["scopes"]


def test_sibling_county_is_404_and_city_above_reads_it(api):
    assert api.as_user("xq.editor").get("/api/v1/tenants/640105").status_code == 404
    resp = api.as_user("yc.admin").get("/api/v1/tenants/640105")
    assert resp.status_code == 200
    assert resp.get_json()["name"] == "西夏区"


def test_user_created_by_bureau_admin_appears_in_audit(api, unique):
    admin = api.as_user("xq.admin")
    resp = admin.post(
        "/api/v1/tenants/640104/users",
        json={
            "username": f"xq.u{unique}",
            "display_name": "张三",
            "password": "Zhang@2026",
            "roles": ["project_editor"],
        },
    )
    assert resp.status_code == 201, resp.get_json()
    user_id = resp.get_json()["id"]
    events = admin.get(f"/api/v1/audit-events?object_type=user&object_id={user_id}").get_json()
    assert [e["action"] for e in events["items"]] == ["user.create"]
    assert events["items"][0]["username"] == "xq.admin"
    assert events["items"][0]["after"]["username"] == f"xq.u{unique}"
    # the sibling county's admin does not see that event
    other = (
        api.as_user("xx.admin").get(f"/api/v1/audit-events?object_type=user&object_id={user_id}").get_json()
    )
    assert other["total"] == 0
