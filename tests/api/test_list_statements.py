"""Every list endpoint of the API sends a bounded number of SQL statements, whatever the number of
rows it answers (issue 17: an N+1 must not come back unnoticed). For each GET of the OpenAPI
document that answers a list (an array, or a page of `items`):

* its handler sends no more statements than its budget (`BUDGET`, as Django's assertNumQueries:
  a statement per row adds one at the second row already — the showcase's lists have several);
* a paginated list sends as many statements for 100 rows as for 1;
* a new list route of the spec is a failure until it has a budget, and so is one this test cannot
  fill (`IDS` / `QUERY`).

Counted: the handler's statements once the caller is known (not authentication's, nor row-level
security's settings), so the same in both passes.

As the demo users who read each list, on the demo province and its showcase (兴庆区 640104)."""

from __future__ import annotations

import secrets
from typing import Any

import pytest
from sqlalchemy import text

from tests.support.lists import IDS, PARAM, QUERY, READERS, list_routes
from tests.support.seeding import approved_targets, program_with
from tests.support.statements import repeated, statements

# statements of each list's handler (lower one when a change makes a list cheaper)
BUDGET: dict[str, int] = {
    "/api/v1/audit-events": 2,
    "/api/v1/cases": 2,
    "/api/v1/corrections": 8,
    "/api/v1/evaluator-orgs": 2,
    "/api/v1/evidence/{evidence_id}/history": 2,
    "/api/v1/grants": 3,
    "/api/v1/indicator-framework": 1,
    "/api/v1/indicator-proposals": 2,
    "/api/v1/indicator-templates": 3,
    "/api/v1/indicators": 2,
    "/api/v1/indicators/{indicator_id}/versions": 2,
    "/api/v1/me/notifications": 3,
    "/api/v1/me/tasks": 45,  # each kind (KINDS) gathers per program: grows with programs (issue 17, open)
    "/api/v1/pilot-reports": 4,
    "/api/v1/programs": 3,
    "/api/v1/programs/{program_id}/spot-checks": 8,
    "/api/v1/projects": 4,
    "/api/v1/projects/{project_id}/corrections": 10,
    "/api/v1/projects/{project_id}/evidence": 4,
    "/api/v1/projects/{project_id}/grants": 6,
    "/api/v1/projects/{project_id}/monitoring-rounds": 9,
    "/api/v1/projects/{project_id}/rectification-notices": 10,
    "/api/v1/projects/{project_id}/spot-checks": 4,
    "/api/v1/projects/{project_id}/targets/versions": 6,
    "/api/v1/province/indicator-comparison": 3,
    "/api/v1/public/disclosures": 7,
    "/api/v1/rectification-notices/{notice_id}": 7,
    "/api/v1/spot-checks/{check_id}": 6,
    "/api/v1/target-rules": 0,
    "/api/v1/tenants": 2,
    "/api/v1/tenants/{code}/users": 4,
}


@pytest.fixture(scope="module")
def spec(app: Any) -> dict[str, Any]:
    return dict(app.test_client().get("/api/v1/openapi.json").get_json())


@pytest.fixture(scope="module")
def ids(api: Any, runtime: Any) -> dict[str, Any]:
    # a spot check (the demo draws none): 兴庆区's approved targets, drawn by the province's reviewer
    unique = secrets.token_hex(3)
    drawn_in = program_with(api, runtime, f"st{unique}", ["640104"])
    approved_targets(runtime, drawn_in, unique, [("640104", "100", "个")], prefix="语句计数")
    check = api.as_user("nx.reviewer").post(
        f"/api/v1/programs/{drawn_in}/spot-checks", json={"count": 1, "seed": 7}
    )
    assert check.status_code == 201, check.get_json()
    with runtime.db.transaction(system="test: the lists' objects") as s:
        return {name: s.execute(text(sql)).scalar() for name, sql in IDS.items()}


def _rows(body: Any) -> int:
    return len(body["items"]) if isinstance(body, dict) else len(body)


def test_every_list_route_can_be_filled(spec: dict[str, Any], ids: dict[str, Any]) -> None:
    missing = {name for path in list_routes(spec) for name in PARAM.findall(path) if ids.get(name) is None}
    assert missing == set(), f"list routes with a path parameter the guard cannot fill: {missing}"


def test_no_list_sends_a_statement_per_row(
    app: Any, api: Any, runtime: Any, spec: dict[str, Any], ids: dict[str, Any]
) -> None:
    problems, checked, rows_seen, measured = [], 0, 0, {}
    for path, paginated in sorted(list_routes(spec).items()):
        url = PARAM.sub(lambda m: str(ids[m.group(1)]), path)
        query = QUERY.get(path, "").format(**ids)
        for reader in ("anybody",) if path.startswith("/api/v1/public/") else READERS:
            client = app.test_client() if reader == "anybody" else api.as_user(reader)
            probe = client.get(f"{url}?{query}")
            if probe.status_code == 200:
                break
        else:
            problems.append(f"GET {url}: no demo user reads it ({probe.status_code})")
            continue
        sizes = (1, 100) if paginated else (None,)
        counts = []
        for size in sizes:
            qs = "&".join(q for q in (query, f"page_size={size}" if size else "") if q)
            client.get(f"{url}?{qs}")  # the same request once before: caches of the first use
            with statements(runtime.db.engine, handler_only=True) as seen:
                answer = client.get(f"{url}?{qs}")
            assert answer.status_code == 200, (url, answer.get_json())
            counts.append(len(seen))
            rows_seen += _rows(answer.get_json())
            budget = BUDGET.get(path)
            if budget is not None and len(seen) > budget:
                problems.append(
                    f"GET {url}?{qs} as {reader} ({_rows(answer.get_json())} rows): {len(seen)} statements, "
                    f"budget {budget}; repeated: {repeated(seen)}"
                )
        if paginated and counts[0] != counts[1]:
            problems.append(f"GET {url} as {reader}: {counts[0]} statements for 1 row, {counts[1]} for 100")
        measured[path] = max(counts)
        checked += 1
    unbudgeted = {p: n for p, n in measured.items() if p not in BUDGET}
    assert unbudgeted == {}, f"list routes without a statement budget (measured now): {unbudgeted}"
    assert checked >= 30 and rows_seen > 100, (checked, rows_seen)
    assert problems == [], "\n".join(problems)
