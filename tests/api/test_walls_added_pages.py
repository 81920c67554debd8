"""Walls of the pages and routes added for the newcomer issue: a sibling county's user gets 404, the
city above reads only (issue: a newcomer's first hour)."""

from __future__ import annotations

import secrets

from tests.api.test_project_lifecycle import create_program, new_project, through_assessment
from tests.api.test_security import _login, _meta_csrf


def _page(app, username):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = f"10.66.{secrets.randbelow(250)}.{secrets.randbelow(250) + 1}"
    assert _login(client, username, "Demo@2026").status_code == 302
    return client, _meta_csrf(client)


def test_a_users_edit_page_sibling_404_city_above_reads_only(app, api, runtime):
    from sqlalchemy import select

    from jixiao.tenants.models import User

    with runtime.db.system_session("test: the demo editor's id") as s:
        uid = s.execute(select(User.id).where(User.username == "xq.editor")).scalar_one()
    sibling, token = _page(app, "xx.admin")
    assert sibling.get(f"/admin/users/{uid}/edit").status_code == 404
    assert (
        sibling.post(f"/admin/users/{uid}/edit", data={"csrf_token": token, "display_name": "改"}).status_code
        == 404
    )
    city, token = _page(app, "yc.admin")
    assert (
        city.post(f"/admin/users/{uid}/edit", data={"csrf_token": token, "display_name": "改"}).status_code
        == 403
    )
    with runtime.db.system_session("test") as s:
        assert s.get(User, uid).display_name == "兴庆区项目单位填报人"  # nothing changed


def test_a_targets_line_check_sibling_404_city_above_reads(app, api, unique):
    pid = new_project(api, create_program(api, unique, 10), unique)["id"]
    through_assessment(api, pid)
    row = {"line_name": "指标", "line_level2": "数量", "line_value_type": "quantitative"}
    sibling, token = _page(app, "xx.editor")
    assert (
        sibling.post(f"/projects/{pid}/targets/check-line", data={"csrf_token": token, **row}).status_code
        == 404
    )
    city, token = _page(app, "yc.admin")
    # the check saves nothing: the city above may read a line's messages as it reads the targets
    checked = city.post(f"/projects/{pid}/targets/check-line", data={"csrf_token": token, **row})
    assert checked.status_code == 200
    assert api.as_user("xq.editor").get(f"/api/v1/projects/{pid}/targets").get_json()["indicators"] == []


def test_a_programs_edit_page_is_the_provinces(app, api, unique):
    program = create_program(api, unique, 10)
    for username in ("xq.admin", "yc.admin"):
        client, token = _page(app, username)
        assert client.get(f"/programs/{program}/edit").status_code == 403
        assert (
            client.post(f"/programs/{program}/edit", data={"csrf_token": token, "name": "改"}).status_code
            == 403
        )
    sibling, _ = _page(app, "xx.admin")  # 西夏区 takes part in this program: reads it, may not edit it
    assert sibling.get(f"/programs/{program}").status_code == 200
