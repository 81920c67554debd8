"""The province dashboard (issue 15 item 1) through HTTP: a project's stage, warnings, grade,
budget execution and the report's state per tenant, grouped by city, with totals; filters; a city
sees its branch, a county gets 403; and the number of SQL statements does not depend on the number
of tenants or projects (2 and 20 tenants answer with the same count)."""

from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import event, select

from jixiao.services.programs.models import Program, ProgramTenant
from jixiao.tenants.models import Tenant
from tests.api.test_results import approved_self_evaluation
from tests.support.seeding import add_projects, program_with


@contextmanager
def counting(runtime):
    seen: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(runtime.db.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(runtime.db.engine, "before_cursor_execute", count)


def counties(runtime, n: int) -> list[str]:
    with runtime.db.transaction(system="test: county codes") as s:
        return list(
            s.execute(
                select(Tenant.code).where(Tenant.level == "county").order_by(Tenant.code).limit(n)
            ).scalars()
        )


def test_the_dashboard_of_a_program(api, runtime, unique):
    pid = program_with(api, runtime, unique, ["640104", "640105", "640100", "640200"])
    project = approved_self_evaluation(api, pid, unique)
    add_projects(runtime, pid, ["640105"], unique)
    nx = api.as_user("nx.admin")
    got = nx.get(f"/api/v1/province/dashboard?program_id={pid}")
    assert got.status_code == 200, got.get_json()
    body = got.get_json()
    by_code = {t["code"]: t for t in body["tenants"]}
    assert set(by_code) == {"640104", "640105", "640100", "640200"}
    xq = by_code["640104"]
    assert xq["parent_code"] == "640100" and xq["report_status"] is None
    row = next(p for p in xq["projects"] if p["id"] == project)
    assert row["stage"] == "evaluation" and row["grade"] == "优" and row["score"] == "90.83"
    assert row["budget_execution_rate"] == "92.00"  # the self-evaluation's 1 150 000 of 1 250 000
    assert sum(row["warnings"].values()) == 4 and row["latest_period"].endswith("-09")
    late = next(p for p in by_code["640105"]["projects"])
    assert late["overdue"] and late["overdue_stages"] == ["assessment"]
    cities = {c["code"]: c for c in body["cities"]}
    assert cities["640100"]["totals"]["projects"] == 2 and cities["640200"]["totals"]["projects"] == 0
    assert body["totals"]["grades"]["优"] == 1 and body["totals"]["overdue"] == 1
    # filters
    only_late = nx.get(f"/api/v1/province/dashboard?program_id={pid}&overdue=true").get_json()
    assert [p["name"] for t in only_late["tenants"] for p in t["projects"]] == [late["name"]]
    graded = nx.get(f"/api/v1/province/dashboard?program_id={pid}&grade=优").get_json()
    assert [p["id"] for t in graded["tenants"] for p in t["projects"]] == [project]
    assert nx.get(f"/api/v1/province/dashboard?program_id={pid}&warning=purple").status_code == 422
    # a city: its branch; a county: 403
    yc = api.as_user("yc.admin").get(f"/api/v1/province/dashboard?program_id={pid}").get_json()
    assert {t["code"] for t in yc["tenants"]} == {"640100", "640104", "640105"}
    assert api.as_user("xq.admin").get(f"/api/v1/province/dashboard?program_id={pid}").status_code == 403


def test_the_statements_do_not_grow_with_tenants_or_projects(api, runtime, unique):
    few = counties(runtime, 2)
    many = counties(runtime, 20)
    assert len(many) == 20
    small = program_with(api, runtime, unique + "a", few)
    large = program_with(api, runtime, unique + "b", many)
    add_projects(runtime, small, few, unique)
    add_projects(runtime, large, many + many, unique + "2")  # two projects each
    nx = api.as_user("nx.admin")
    nx.get(f"/api/v1/province/dashboard?program_id={small}")  # the token, the caches: warm
    counts = []
    for program in (small, large):
        with counting(runtime) as seen:
            got = nx.get(f"/api/v1/province/dashboard?program_id={program}")
        assert got.status_code == 200
        counts.append(len(seen))
    assert sum(len(t["projects"]) for t in got.get_json()["tenants"]) == 40
    assert counts[0] == counts[1], counts
    with runtime.db.transaction(system="test: check") as s:
        assert s.execute(select(ProgramTenant).where(ProgramTenant.program_id == large)).scalars().all()
        assert s.get(Program, large) is not None


def test_the_answer_is_what_the_documented_schema_gives(api, runtime, unique):
    """The API writes the dashboard by hand (`dashboard_json`, for speed); the OpenAPI document
    describes `DashboardSchema`. Both must give the same JSON — on the demo's program, whose
    showcase has grades, key evaluations, reports and spot checks, and on a program with an
    overdue project and a graded one."""
    from datetime import date

    from sqlalchemy import func

    from jixiao.services.projects.models import Project
    from jixiao.services.province import dashboard
    from jixiao.services.province.schemas import DashboardSchema, dashboard_json
    from jixiao.tenants.models import User
    from jixiao.tenants.service import build_actor

    pid = program_with(api, runtime, unique, ["640104", "640105"])
    approved_self_evaluation(api, pid, unique)
    add_projects(runtime, pid, ["640105"], unique)
    with runtime.db.transaction(system="test: the dashboard's two writers") as s:
        nx = s.execute(select(User).where(User.username == "nx.admin")).scalar_one()
        actor = build_actor(s, nx)
        demo = (
            s.execute(  # the program of the showcase's projects
                select(Project.program_id).group_by(Project.program_id).order_by(func.count().desc())
            )
            .scalars()
            .first()
        )
        compared = 0
        for program_id in (demo, pid):
            s.info["actor"] = actor
            built = dashboard.build(s, actor, program_id, dashboard.Filters(), date.today())
            s.info.pop("actor")
            assert dashboard_json(built) == DashboardSchema().dump(built)
            compared += sum(len(t.projects) for t in built.tenants)
        assert compared >= 6
