"""The grant pages through HTTP (issue 13 item 7): the 第三方授权 tab of a project — the bureau admin's
「授权第三方机构」 form (a refused one comes back as typed, 422, naming each field), the users of the
chosen organisation (htmx), 撤销 with a reason — the walls (a sibling 404, the city above reads
without buttons, an editor sees no form and is refused, an evaluator has no such page) and the
evaluator's portal (its grants with the countdown and the project behind each live one; after
revocation 已撤销 and the project's 403 naming it; nothing but its portal in its navigation)."""

from __future__ import annotations

import html
import io
import re
from datetime import date, timedelta

import pytest

from jixiao.platform.core.clock import today_in
from tests.api.test_grants import give, org_id, projects  # noqa: F401 - fixtures
from tests.api.test_self_evaluation_pages import browser


@pytest.fixture()
def today(runtime) -> date:
    """Today in the province (the pages count days there, whatever the server's zone)."""
    return today_in(runtime.settings.timezone)


def in_a_week(today: date) -> str:
    return (today + timedelta(days=7)).isoformat()


def text(resp) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", resp.get_data(as_text=True)))


def test_the_admin_grants_and_revokes_on_the_page(app, api, org_id, projects, today):  # noqa: F811
    pid, _ = projects
    admin, token = browser(app, "xq.admin")
    page = admin.get(f"/projects/{pid}/grants")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert 'data-testid="grant-dialog"' in body and "授权第三方机构" in body
    assert 'data-testid="tab-grants"' in body and "尚未授权任何第三方机构" in text(page)
    assert re.search(rf'<option value="{org_id}"[^>]*>宁夏绩评咨询有限公司</option>', body)
    default = re.search(r'name="expires_at" value="([\d-]+)"', body).group(1)  # 30 days (no deadline)
    assert default == (today + timedelta(days=30)).isoformat()
    assert 'max="2100-12-31"' in body  # the program ends 2099-12-31: a year later at most

    # the users of the chosen organisation, for the htmx swap
    users = admin.get(
        f"/projects/{pid}/grants/users?evaluator_org_id={org_id}", headers={"HX-Request": "true"}
    )
    assert users.status_code == 200 and "eval.ningping" in text(users)
    user_id = int(re.search(r'name="user_ids" value="(\d+)"', users.get_data(as_text=True)).group(1))

    # refused: every problem named beside its field, the form as typed, nothing written
    refused = admin.post(
        f"/projects/{pid}/grants",
        data={
            "csrf_token": token,
            "evaluator_org_id": "",
            "actions": ["key_evaluation"],
            "expires_at": "2020-01-01",
        },
    )
    assert refused.status_code == 422
    shown = refused.get_data(as_text=True)
    assert 'data-testid="error-evaluator_org_id"' in shown and "请选择第三方机构" in text(refused)
    assert 'data-testid="error-expires_at"' in shown and "授权截止时间须晚于当前时间" in text(refused)
    assert 'value="key_evaluation" id="g-action-key_evaluation" checked' in shown
    assert 'value="2020-01-01"' in shown and "collapse show" in shown  # the dialog stays open
    unknown = admin.post(
        f"/projects/{pid}/grants",
        data={
            "csrf_token": token,
            "evaluator_org_id": str(org_id),
            "actions": ["everything"],
            "expires_at": "不是日期",
        },
    )
    assert unknown.status_code == 422
    assert "everything" in text(unknown) and 'data-testid="error-expires_at"' in unknown.get_data(
        as_text=True
    )
    assert api.as_user("xq.admin").get(f"/api/v1/projects/{pid}/grants").get_json()["total"] == 0

    made = admin.post(
        f"/projects/{pid}/grants",
        data={
            "csrf_token": token,
            "evaluator_org_id": str(org_id),
            "user_ids": [str(user_id)],
            "actions": ["key_evaluation", "evidence_read"],
            "expires_at": in_a_week(today),
        },
    )
    assert made.status_code == 303, text(made)[:2000]
    listed = admin.get(f"/projects/{pid}/grants")
    words = text(listed)
    assert "宁夏绩评咨询有限公司" in words and "查看项目、重点评价、查看佐证材料" in words
    assert "有效" in words and "剩余 7 天" in words and f"{in_a_week(today)} 23:59" in words
    assert "宁夏绩评咨询评价员（eval.ningping）" in words  # the one user named
    assert "已授权「宁夏绩评咨询有限公司」" in words  # the flash
    grant = api.as_user("xq.admin").get(f"/api/v1/projects/{pid}/grants").get_json()["items"][0]
    assert grant["actions"] == ["read", "key_evaluation", "evidence_read"] and grant["user_ids"] == [user_id]

    revoked = admin.post(
        f"/projects/{pid}/grants/{grant['id']}/revoke", data={"csrf_token": token, "reason": "评价合同终止"}
    )
    assert revoked.status_code == 303
    after = text(admin.get(f"/projects/{pid}/grants"))
    assert "已撤销" in after and "评价合同终止" in after and "兴庆区财政局管理员" in after
    again = admin.post(f"/projects/{pid}/grants/{grant['id']}/revoke", data={"csrf_token": token})
    assert again.status_code == 409 and "撤销" in text(again)


def test_the_walls_of_the_grant_page(app, api, org_id, projects, today):  # noqa: F811
    pid, _ = projects
    assert give(api, pid, org_id, ["read"]).status_code == 201
    form = {"evaluator_org_id": str(org_id), "actions": ["read"], "expires_at": in_a_week(today)}

    sibling, token = browser(app, "xx.admin")
    assert sibling.get(f"/projects/{pid}/grants").status_code == 404
    assert sibling.post(f"/projects/{pid}/grants", data={**form, "csrf_token": token}).status_code == 404

    city, token = browser(app, "yc.admin")
    read = city.get(f"/projects/{pid}/grants")
    assert (
        read.status_code == 200 and "宁夏绩评咨询有限公司" in text(read) and "上级单位只读查看" in text(read)
    )
    assert 'data-testid="grant-dialog"' not in read.get_data(as_text=True)
    assert 'data-testid="revoke"' not in read.get_data(as_text=True)
    assert city.post(f"/projects/{pid}/grants", data={**form, "csrf_token": token}).status_code == 403
    grant_id = api.as_user("xq.admin").get(f"/api/v1/projects/{pid}/grants").get_json()["items"][0]["id"]
    assert (
        city.post(f"/projects/{pid}/grants/{grant_id}/revoke", data={"csrf_token": token}).status_code == 403
    )

    editor, token = browser(app, "xq.editor")
    shown = editor.get(f"/projects/{pid}/grants")
    assert shown.status_code == 200 and "有效" in text(shown)
    assert 'data-testid="grant-dialog"' not in shown.get_data(as_text=True)
    refused = editor.post(f"/projects/{pid}/grants", data={**form, "csrf_token": token})
    assert refused.status_code == 403 and "不能" in text(refused)
    assert editor.get(f"/projects/{pid}/grants/users?evaluator_org_id={org_id}").status_code == 403
    # nothing but the first grant was written
    assert api.as_user("xq.admin").get(f"/api/v1/projects/{pid}/grants").get_json()["total"] == 1

    evaluator, token = browser(app, "eval.ningping")
    assert evaluator.get(f"/projects/{pid}/grants").status_code == 404
    assert evaluator.post(f"/projects/{pid}/grants", data={**form, "csrf_token": token}).status_code == 404


def test_the_evaluator_portal(app, api, org_id, projects, today):  # noqa: F811
    granted, other = projects
    name = api.as_user("xq.admin").get(f"/api/v1/projects/{granted}").get_json()["name"]
    other_name = api.as_user("xq.admin").get(f"/api/v1/projects/{other}").get_json()["name"]
    grant = give(api, granted, org_id, ["read", "evidence_read"], expires_at=in_a_week(today)).get_json()
    uploaded = api.as_user("xq.editor").post(
        f"/api/v1/projects/{granted}/evidence",
        data={
            "file": (io.BytesIO(b"%PDF-1.7\n" + b"0" * 256), "立项依据.pdf"),
            "stage": "assessment",
            "purpose": "立项依据",
        },
        content_type="multipart/form-data",
    )
    assert uploaded.status_code == 201, uploaded.get_json()
    evaluator, _ = browser(app, "eval.ningping")

    home = evaluator.get("/")
    body = home.get_data(as_text=True)
    item = re.search(
        rf'<li[^>]*data-testid="grant" data-status="active">(?:(?!</li>).)*?{re.escape(name)}.*?</li>',
        body,
        re.S,
    )
    assert item, "the granted project is on the evaluator's home"
    words = html.unescape(re.sub(r"<[^>]+>", " ", item.group(0)))
    assert "剩余 7 天" in words and "查看项目" in words and "查看佐证材料" in words
    assert f'href="/projects/{granted}"' in item.group(0)
    assert other_name not in body
    # nothing in its navigation but its portal
    nav = re.search(r'<ul class="navbar-nav me-auto">(.*?)</ul>', body, re.S).group(1)
    assert re.findall(r">([^<>]+)</a>", nav) == ["首页", "我的授权"]
    assert "我的授权" in text(evaluator.get("/grants/")) and name in text(evaluator.get("/grants/"))

    # the project itself, through the walls: the overview, its tabs, the evidence with evidence_read
    project = evaluator.get(f"/projects/{granted}")
    assert project.status_code == 200 and name in text(project)
    assert 'data-testid="tab-grants"' not in project.get_data(as_text=True)
    files = evaluator.get(f"/evidence/projects/{granted}")
    assert files.status_code == 200 and "立项依据.pdf" in text(files)
    for link in set(re.findall(rf'href="(/projects/{granted}/[^"]+)"', project.get_data(as_text=True))):
        assert evaluator.get(link).status_code in (200, 403, 409), link  # never a 500
    assert evaluator.get(f"/projects/{other}").status_code == 404

    assert (
        api.as_user("xq.admin")
        .delete(f"/api/v1/projects/{granted}/grants/{grant['id']}", json={"reason": "评价合同终止"})
        .status_code
        == 200
    )
    home = evaluator.get("/").get_data(as_text=True)
    item = re.search(rf'<li[^>]*data-status="revoked">(?:(?!</li>).)*?{re.escape(name)}.*?</li>', home, re.S)
    assert item and "已撤销" in item.group(0) and "评价合同终止" in item.group(0)
    assert f'href="/projects/{granted}"' not in item.group(0)
    refused = evaluator.get(f"/projects/{granted}")
    assert refused.status_code == 403 and "撤销" in text(refused)
