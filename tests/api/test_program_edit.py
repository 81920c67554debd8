"""A live program: the province edits it (PATCH, optimistic lock, audited, participants with
projects kept) and a program past its end accepts no new project (issue: a newcomer's first hour)."""

from __future__ import annotations

import secrets
from datetime import date, timedelta
from typing import Any

PROGRAMS = "/api/v1/programs"
PROJECTS = "/api/v1/projects"


def _ok(resp: Any, status: int = 200) -> Any:
    assert resp.status_code == status, (resp.status_code, resp.get_json())
    return resp.get_json()


def _program(api: Any, **overrides: Any) -> dict[str, Any]:
    body = {
        "name": f"可编辑试点{secrets.token_hex(3)}",
        "start": "2026-01-01",
        "end": "2099-12-31",
        "tenant_codes": ["640104", "640105"],
        "max_projects_per_tenant": 5,
        "deadlines": {"assessment": "2098-01-31"},
        **overrides,
    }
    created: dict[str, Any] = _ok(api.as_user("nx.admin").post(PROGRAMS, json=body), 201)
    return created


def _project(api: Any, program_id: int, user: str = "xq.editor") -> Any:
    return api.as_user(user).post(
        PROJECTS,
        json={
            "program_id": program_id,
            "name": f"编辑试点项目{secrets.token_hex(3)}",
            "department": "住房和城乡建设局",
            "implementing_unit": "城市建设服务中心",
            "budget_amount": "1,250,000",
            "fund_source": "一般公共预算",
            "project_class": "工程基建",
            "years": [2027],
        },
    )


def test_the_province_edits_a_program_and_it_is_audited(api):
    program = _program(api)
    nx = api.as_user("nx.admin")
    changes = {
        "version": program["version"],
        "name": program["name"] + "（调整）",
        "end": "2099-06-30",
        "deadlines": {"assessment": "2098-02-28", "targets": "2098-06-30"},
        "tenant_codes": ["640104", "640105", "640106"],
        "settings": {"target_weights_total": 100, "reminders": {"days_before": [7, 3]}},
    }
    edited = _ok(nx.patch(f"{PROGRAMS}/{program['id']}", json=changes))
    assert edited["name"].endswith("（调整）") and edited["end"] == "2099-06-30"
    assert edited["deadlines"] == {"assessment": "2098-02-28", "targets": "2098-06-30"}
    assert edited["tenant_codes"] == ["640104", "640105", "640106"]
    assert edited["settings"]["reminders"]["days_before"] == [7, 3]
    assert edited["version"] == program["version"] + 1
    # the county that joined sees it now
    assert _ok(api.as_user("yc.admin").get(f"{PROGRAMS}/{program['id']}"))["name"] == edited["name"]
    events = _ok(nx.get(f"/api/v1/audit-events?object_type=program&object_id={program['id']}"))["items"]
    update = next(e for e in events if e["action"] == "program.update")
    assert update["before"]["name"] == program["name"] and update["after"]["name"] == edited["name"]
    assert "640106" in update["after"]["tenant_codes"] and "640106" not in update["before"]["tenant_codes"]


def test_a_stale_version_is_refused(api):
    program = _program(api)
    nx = api.as_user("nx.admin")
    _ok(
        nx.patch(
            f"{PROGRAMS}/{program['id']}",
            json={"version": program["version"], "name": program["name"] + "甲"},
        )
    )
    stale = nx.patch(f"{PROGRAMS}/{program['id']}", json={"version": program["version"], "name": "乙"})
    assert stale.status_code == 409 and "版本" in stale.get_json()["message"]


def test_every_bad_field_at_once_and_a_participant_with_projects_is_kept(api):
    program = _program(api)
    _ok(_project(api, program["id"]), 201)
    nx = api.as_user("nx.admin")
    resp = nx.patch(
        f"{PROGRAMS}/{program['id']}",
        json={
            "version": program["version"],
            "name": "",
            "start": "2100-01-01",
            "tenant_codes": ["640105"],
            "max_projects_per_tenant": 0,
        },
    )
    assert resp.status_code == 422, resp.get_json()
    errors = resp.get_json()["errors"]
    assert {"name", "end", "tenant_codes", "max_projects_per_tenant"} <= set(errors), errors
    assert "兴庆区" in str(errors["tenant_codes"]) and "不能移出" in str(errors["tenant_codes"])
    # nothing was written
    assert _ok(nx.get(f"{PROGRAMS}/{program['id']}"))["tenant_codes"] == ["640104", "640105"]


def test_only_the_province_admin_edits(api):
    program = _program(api)
    for user in ("yc.admin", "xq.admin", "nx.reviewer"):
        resp = api.as_user(user).patch(
            f"{PROGRAMS}/{program['id']}", json={"version": program["version"], "name": "越权"}
        )
        assert resp.status_code == 403, (user, resp.get_json())


def test_an_ended_program_accepts_no_new_project(api):
    yesterday = date.today() - timedelta(days=2)
    ended = _program(api, start="2024-01-01", end=yesterday.isoformat(), deadlines={})
    resp = _project(api, ended["id"])
    assert resp.status_code == 409
    assert yesterday.isoformat() in resp.get_json()["message"] and "结束" in resp.get_json()["message"]
    running = _program(api)
    made = _ok(_project(api, running["id"]), 201)
    assert made["budget_amount"] == "1250000.00"  # "1,250,000" is accepted as typed


def test_the_demo_program_is_live(api):
    programs = _ok(api.as_user("xq.editor").get(f"{PROGRAMS}?page_size=200"))["items"]
    demo = next(p for p in programs if p["name"] == "市县预算绩效一体化管理试点")
    assert date.fromisoformat(demo["end"]) > date.today()
    assert all(date.fromisoformat(d) > date.today() for d in demo["deadlines"].values())


def test_an_upload_names_every_problem_at_once(api):
    program = _program(api)
    made = _ok(_project(api, program["id"]), 201)
    resp = api.as_user("xq.editor").post(
        f"/api/v1/projects/{made['id']}/evidence",
        data={"stage": "nowhere"},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 422, resp.get_json()
    assert {"stage", "purpose", "file"} <= set(resp.get_json()["errors"]), resp.get_json()


def test_bad_settings_are_named_and_a_participant_change_is_a_new_version(api):
    program = _program(api)
    nx = api.as_user("nx.admin")
    bad = nx.patch(
        f"{PROGRAMS}/{program['id']}",
        json={"version": program["version"], "settings": {"max_target_lines": "x", "colour": "red"}},
    )
    assert bad.status_code == 422, bad.get_json()
    said = str(bad.get_json()["errors"]["settings"])
    assert "max_target_lines" in said and "colour" in said
    joined = _ok(
        nx.patch(
            f"{PROGRAMS}/{program['id']}",
            json={"version": program["version"], "tenant_codes": ["640104", "640105", "640106"]},
        )
    )
    assert joined["version"] == program["version"] + 1
    stale = nx.patch(
        f"{PROGRAMS}/{program['id']}",
        json={"version": program["version"], "tenant_codes": ["640104", "640105"]},
    )
    assert stale.status_code == 409
