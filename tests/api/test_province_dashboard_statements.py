"""The province dashboard's SQL statements do not grow with the data (issue 17 target 5): the API
and the page, each without and with a city filter, send as many statements for a program of 2
tenants with a project each as for one of 20 tenants with two projects each, one of them carried
through its self-evaluation (rounds, lines, reviews: every fact the dashboard reads). At 3,000
counties the count is the same (benchmarks/dashboard.py prints it at 30 and 3,000)."""

from __future__ import annotations

from tests.api.test_province_dashboard import counties, counting
from tests.api.test_report_pages import browser
from tests.api.test_results import approved_self_evaluation
from tests.support.seeding import add_projects, program_with


def test_the_api_and_the_page_send_as_many_statements_for_20_tenants_as_for_2(app, api, runtime, unique):
    few, many = counties(runtime, 2), counties(runtime, 20)
    assert len(many) == 20 and "640104" in many  # 兴庆区 (银川市), where the worked example lives
    small = program_with(api, runtime, unique + "a", few)
    large = program_with(api, runtime, unique + "b", many)
    add_projects(runtime, small, few, unique)
    add_projects(runtime, large, many + many, unique + "2")  # two projects each
    approved_self_evaluation(api, large, unique)  # and one with every fact
    nx = api.as_user("nx.admin")
    page, _ = browser(app, "nx.admin")
    requests = {
        "API": lambda program: nx.get(f"/api/v1/province/dashboard?program_id={program}"),
        "API, a city": lambda program: nx.get(f"/api/v1/province/dashboard?program_id={program}&city=640100"),
        "page": lambda program: page.get(f"/province/dashboard?program_id={program}"),
        "page, a city": lambda program: page.get(f"/province/dashboard?program_id={program}&city=640100"),
    }
    for name, get in requests.items():
        get(small)  # the token, the session, the caches: warm
        counts = []
        for program in (small, large):
            with counting(runtime) as seen:
                got = get(program)
            assert got.status_code == 200, (name, got.status_code)
            counts.append(len(seen))
        assert counts[0] == counts[1], (name, counts)
    body = nx.get(f"/api/v1/province/dashboard?program_id={large}").get_json()
    assert sum(len(t["projects"]) for t in body["tenants"]) == 41
    assert body["totals"]["grades"]["优"] == 1
