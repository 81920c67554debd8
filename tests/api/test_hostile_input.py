"""Hostile input through the API (issue: robustness of the first half), each with the reproducer
that failed before its fix: ids past the columns, absurd JSON, sizes, control characters, the
evidence purpose, the spec's types and unknown query parameters."""

from __future__ import annotations

import pytest

from tests.api.test_project_lifecycle import create_program, new_project, through_assessment


@pytest.fixture()
def project(api, unique) -> dict:
    return new_project(api, create_program(api, unique, 10), unique)


@pytest.fixture()
def targets_project(api, project) -> dict:
    """A project whose targets stage is open."""
    through_assessment(api, project["id"])
    return project


# --- 1. integers of 2^63 and above ------------------------------------------------------------

BIG = 2**63


@pytest.mark.parametrize(
    "path",
    [
        f"/api/v1/projects/{BIG}",
        f"/api/v1/programs/{BIG}",
        f"/api/v1/indicators/{BIG}",
        f"/api/v1/evidence/{BIG}",
        f"/api/v1/projects/{BIG}/targets",
        f"/api/v1/me/notifications/{BIG}/read",
    ],
)
def test_a_path_id_past_64_bits_is_404(api, path):
    client = api.as_user("nx.admin")
    resp = client.post(path) if path.endswith("/read") else client.get(path)
    assert resp.status_code == 404, (path, resp.status_code)


def test_body_and_query_ids_past_64_bits_are_422(api, unique):
    editor = api.as_user("xq.editor")
    created = editor.post(
        "/api/v1/projects",
        json={
            "program_id": BIG,
            "name": f"大整数{unique}",
            "department": "住建局",
            "implementing_unit": "服务中心",
            "budget_amount": "1",
            "fund_source": "一般公共预算",
            "project_class": "会议",
            "years": [2027],
        },
    )
    assert created.status_code == 422 and "program_id" in str(created.get_json()["errors"])
    listed = editor.get(f"/api/v1/projects?program_id={BIG}")
    assert listed.status_code == 422, listed.get_json()
    pid = new_project(api, create_program(api, unique, 10), unique)["id"]
    picked = editor.post(f"/api/v1/projects/{pid}/targets/apply-template", json={"template_id": BIG})
    assert picked.status_code == 422, picked.get_json()
    saved = editor.put(
        f"/api/v1/projects/{pid}/targets", json={"overall_goal": "x", "indicators": [{"indicator_id": BIG}]}
    )
    assert saved.status_code == 422, saved.get_json()


# --- 2, 3. absurd JSON --------------------------------------------------------------------------


def test_deeply_nested_json_is_400(api):
    body = "[" * 5000 + "]" * 5000
    resp = api.as_user("nx.admin").post("/api/v1/indicators", data=body, content_type="application/json")
    assert resp.status_code == 400 and "嵌套" in resp.get_json()["message"]


def test_malformed_json_is_400(api):
    resp = api.as_user("nx.admin").post("/api/v1/indicators", data="{", content_type="application/json")
    assert resp.status_code == 400 and "JSON" in resp.get_json()["message"]


def test_a_lone_surrogate_is_refused(api, project):
    resp = api.as_user("xq.editor").put(
        f"/api/v1/projects/{project['id']}/targets",
        data='{"overall_goal": "\\ud800"}',
        content_type="application/json",
    )
    assert resp.status_code in (400, 422) and "代理项" in resp.get_json()["message"], resp.get_json()


# --- 7. sizes -------------------------------------------------------------------------------------


def test_a_json_body_over_the_cap_is_413(api, project):
    huge = '{"overall_goal": "' + "长" * (1024 * 1024) + '"}'  # 3 MiB of UTF-8
    resp = api.as_user("xq.editor").put(
        f"/api/v1/projects/{project['id']}/targets", data=huge, content_type="application/json"
    )
    assert resp.status_code == 413 and "MiB" in resp.get_json()["message"]


def test_text_fields_have_lengths_in_the_schema_and_the_spec(api, project, app):
    editor = api.as_user("xq.editor")
    goal = editor.put(f"/api/v1/projects/{project['id']}/targets", json={"overall_goal": "目" * 5001})
    assert goal.status_code == 422 and "overall_goal" in str(goal.get_json()["errors"])
    spec = app.test_client().get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    assert spec["ProjectCreate"]["properties"]["name"]["maxLength"] == 200
    assert spec["TargetsWrite"]["properties"]["overall_goal"]["maxLength"] == 5000
    assert spec["AssessmentDecision"]["properties"]["opinion"]["maxLength"] == 5000


# --- 8. the lines of a target set are capped ----------------------------------------------------


def test_a_target_set_has_at_most_the_programs_number_of_lines(api, targets_project):
    project = targets_project
    line = {
        "name": "指标",
        "level2": "数量",
        "value_type": "quantitative",
        "direction": ">=",
        "target_value": "1",
        "unit": "个",
        "weight": "1",
        "value_basis": "计划标准",
    }
    resp = api.as_user("xq.editor").put(
        f"/api/v1/projects/{project['id']}/targets", json={"overall_goal": "x", "indicators": [line] * 101}
    )
    assert resp.status_code == 422 and "至多 100 个" in str(resp.get_json()["errors"]["indicators"])


# --- 9. control characters ------------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["甲\x00乙", "甲\x1b[31m", "甲\u202e乙", "甲\r\n乙", "甲\n乙"])
def test_single_line_fields_refuse_control_characters(api, unique, bad):
    resp = api.as_user("nx.admin").post(
        "/api/v1/programs",
        json={"name": bad + unique, "start": "2026-01-01", "end": "2099-12-31", "tenant_codes": ["640104"]},
    )
    assert resp.status_code == 422 and "name" in str(resp.get_json()["errors"]), resp.get_json()


def test_multi_line_fields_take_newlines_and_tabs_only(api, targets_project):
    project = targets_project
    editor = api.as_user("xq.editor")
    path = f"/api/v1/projects/{project['id']}/targets"
    assert editor.put(path, json={"overall_goal": "第一行\r\n第二行\t说明"}).status_code == 200
    refused = editor.put(path, json={"overall_goal": "第一行\x00"})
    assert refused.status_code == 422 and "overall_goal" in str(refused.get_json()["errors"])


def test_a_page_form_with_a_nul_is_refused_not_a_server_error(app):
    client = app.test_client()
    page = client.get("/login")
    token = page.get_data(as_text=True).split('name="csrf_token" value="')[1].split('"')[0]
    resp = client.post("/login", data={"username": "xq\x00editor", "password": "x", "csrf_token": token})
    assert resp.status_code == 400


# --- 10. one schema for the evidence purpose ----------------------------------------------------


def test_a_direct_upload_slot_checks_the_purpose_length(api, project):
    resp = api.as_user("xq.editor").post(
        f"/api/v1/projects/{project['id']}/evidence/uploads",
        json={
            "filename": "a.pdf",
            "size": 10,
            "sha256": "0" * 64,
            "stage": "assessment",
            "purpose": "用" * 5000,
        },
    )
    assert resp.status_code == 422 and "purpose" in str(resp.get_json()["errors"])


# --- 11, sessions: the spec tells the truth; unknown query parameters --------------------------


def test_money_and_weights_are_strings_in_the_spec(app):
    spec = app.test_client().get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    assert spec["Project"]["properties"]["budget_amount"]["type"] == "string"
    assert spec["TargetLine"]["properties"]["weight"]["type"] == "string"


@pytest.mark.parametrize(
    "path", ["/api/v1/audit-events?user=xq.editor", "/api/v1/projects?colour=red", "/api/v1/me?x=1"]
)
def test_an_unknown_query_parameter_is_named(api, path):
    resp = api.as_user("xq.admin").get(path)
    assert resp.status_code == 422, (path, resp.status_code)
    assert path.split("?")[1].split("=")[0] in str(resp.get_json()["errors"])


# --- pages: numbers past the columns, years past reason -------------------------------------------


def _page_client(app):
    import secrets

    from tests.api.test_security import _login

    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = f"10.77.{secrets.randbelow(250)}.{secrets.randbelow(250) + 1}"
    assert _login(client, "xq.editor", "Demo@2026").status_code == 302
    return client


@pytest.mark.parametrize(
    "path",
    [
        f"/projects/?program={2**40}",
        f"/projects/?page={2**70}",
        f"/projects/new?program={2**40}",
        f"/notifications?page={2**64}",
    ],
)
def test_a_page_number_past_the_columns_reads_as_absent(app, path):
    assert _page_client(app).get(path).status_code == 200


def test_project_years_past_reason_are_refused_at_once(app, unique):
    from tests.api.test_security import _meta_csrf

    client = _page_client(app)
    token = _meta_csrf(client)
    for end_year, said in ((str(10**12), "实施年度"), ("900000", "2000–2100")):
        resp = client.post(
            "/projects/new",
            data={"csrf_token": token, "name": f"年度{unique}", "start_year": "2026", "end_year": end_year},
        )
        page = resp.get_data(as_text=True)
        assert resp.status_code == 422 and 'data-testid="error-years"' in page and said in page
