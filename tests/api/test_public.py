"""The public disclosures (结果公开, issue 13 item 5): `/public` and `GET /api/v1/public/disclosures`
answer without a login, set no cookie and may be cached; they list what a tenant disclosed —
project, tenant, budget, self-evaluation score and grade, findings, rectification status — filtered
by tenant and year; an undisclosed project of the same tenant never appears, and withdrawing the
disclosure removes it."""

from __future__ import annotations

import pytest

from tests.api.test_project_lifecycle import create_program
from tests.api.test_results import at_result_application, issue

API = "/api/v1/public/disclosures"


@pytest.fixture(scope="module")
def two(api, runtime) -> tuple[int, int, str, str]:
    """Two 兴庆区 projects at the result application: the first disclosed (one rectification item
    open), the second decided but not disclosed."""
    import secrets

    first, second = secrets.token_hex(3), secrets.token_hex(3)
    program_id = create_program(api, first, 10)
    shown = at_result_application(api, runtime, program_id, first)
    hidden = at_result_application(api, runtime, program_id, second)
    assert issue(api, shown, 1).status_code == 201
    admin = api.as_user("xq.admin")
    for pid, disclose in ((shown, True), (hidden, False)):
        done = admin.put(
            f"/api/v1/projects/{pid}/result-application",
            json={"budget_recommendation": "prioritise", "disclose": disclose, "findings": f"主要发现{pid}"},
        )
        assert done.status_code == 200, done.get_json()
    return shown, hidden, f"老旧小区改造{first}", f"老旧小区改造{second}"


def listed(client, **query) -> list[dict]:
    resp = client.get(API, query_string={"page_size": 200, **query})
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()["items"]


def test_the_api_needs_no_login_sets_no_cookie_and_lists_only_disclosed(client, two):
    shown, hidden, _, _ = two
    resp = client.get(API, query_string={"page_size": 200})
    assert resp.status_code == 200
    assert "Set-Cookie" not in resp.headers
    assert resp.headers["Cache-Control"] == "public, max-age=300"
    page = resp.get_json()
    assert {"items", "total", "page", "page_size"} <= set(page)
    ids = [d["project_id"] for d in page["items"]]
    assert shown in ids and hidden not in ids
    found = next(d for d in page["items"] if d["project_id"] == shown)
    assert found["tenant_code"] == "640104" and found["tenant_name"]
    assert found["budget_amount"] == "1250000.00"
    assert (found["self_evaluation_score"], found["self_evaluation_grade"]) == ("90.83", "优")
    assert found["key_evaluation_grade"] is None
    assert found["findings"] == f"主要发现{shown}"
    assert found["rectification"] == {"items": 1, "closed": 0}
    assert found["budget_recommendation"] == "prioritise"


def test_filters_by_tenant_and_year(client, two):
    shown, hidden, _, _ = two
    assert shown in [d["project_id"] for d in listed(client, tenant_code="640104", year=2023)]
    assert shown not in [d["project_id"] for d in listed(client, tenant_code="640105")]
    assert shown not in [d["project_id"] for d in listed(client, year=2030)]
    assert hidden not in [d["project_id"] for d in listed(client, tenant_code="640104")]
    assert client.get(API, query_string={"year": "abc"}).status_code == 422


def test_the_page_needs_no_login_and_sets_no_cookie(client, two):
    shown, hidden, shown_name, hidden_name = two
    resp = client.get("/public")
    assert resp.status_code == 200
    assert "Set-Cookie" not in resp.headers
    assert resp.headers["Cache-Control"] == "public, max-age=300"
    html = resp.get_data(as_text=True)
    assert "预算绩效评价结果公开" in html and shown_name in html and hidden_name not in html
    assert "90.83" in html and "已整改 0 / 1 项" in html and "优先保障" in html
    assert "navbar" not in html  # its own plain layout, without the application's navigation
    filtered = client.get("/public", query_string={"tenant": "640105"}).get_data(as_text=True)
    assert shown_name not in filtered
    by_year = client.get("/public", query_string={"tenant": "640104", "year": "2023"}).get_data(as_text=True)
    assert shown_name in by_year


def test_withdrawing_removes_it_everywhere(api, client, runtime, unique):
    program_id = create_program(api, unique, 10)
    pid = at_result_application(api, runtime, program_id, unique)
    path = f"/api/v1/projects/{pid}/result-application"
    admin = api.as_user("xq.admin")
    assert admin.put(path, json={"budget_recommendation": "prioritise", "disclose": True}).status_code == 200
    assert pid in [d["project_id"] for d in listed(client)]
    assert admin.put(path, json={"budget_recommendation": "prioritise", "disclose": False}).status_code == 200
    assert pid not in [d["project_id"] for d in listed(client)]
    assert f"老旧小区改造{unique}" not in client.get("/public").get_data(as_text=True)
