"""DEMO.md's finished program of last year (试点示范), as a newcomer finds it on the first visit:
兴庆区 and 西夏区 each with a project through every stage (a red March line and its correction,
the self-evaluation, the key evaluation, the rectification), both results disclosed on the public
page, 兴庆区's pilot report accepted and its project published as a case, 西夏区's report awaiting
the province's acceptance — and loading the demo again loads none of it twice."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from jixiao.platform.demo import load_all
from jixiao.services.programs.models import Program
from jixiao.services.projects.models import Project

SUFFIX = "预算绩效一体化管理试点示范"
STAGES = ["assessment", "targets", "monitoring", "self_evaluation", "evaluation", "result_application"]


def _program(api) -> dict:
    listed = api.as_user("nx.admin").get("/api/v1/programs", query_string={"page_size": 200}).get_json()
    found = [p for p in listed["items"] if p["name"].endswith(SUFFIX)]
    assert len(found) == 1, [p["name"] for p in listed["items"]]
    return found[0]


def _project(api, username: str, program_id: int) -> dict:
    listed = api.as_user(username).get("/api/v1/projects", query_string={"program_id": program_id}).get_json()
    assert listed["total"] == 1, listed
    return listed["items"][0]


def test_the_finished_program_is_last_years(api):
    program = _program(api)
    last_year = date.today().year - 1  # the first load's year, give or take a New Year's Eve
    assert program["name"] in {f"{y}年度{SUFFIX}" for y in (last_year, last_year + 1)}
    year = int(program["name"][:4])
    assert (program["start"], program["end"]) == (f"{year}-01-01", f"{year}-12-31")
    assert sorted(program["tenant_codes"]) == ["640104", "640105"]


def test_xingqings_project_has_every_stage_approved(api):
    program = _program(api)
    project = _project(api, "xq.editor", program["id"])
    year = program["start"][:4]
    assert project["years"] == [int(year)] and project["project_class"] == "工程基建"
    assert [(s["stage"], s["status"]) for s in project["stages"]] == [(s, "approved") for s in STAGES]
    assert not any(s["overdue"] for s in project["stages"])
    pid = project["id"]
    editor = api.as_user("xq.editor")
    targets = editor.get(f"/api/v1/projects/{pid}/targets").get_json()
    assert targets["status"] == "approved"
    assert sum(1 for line in targets["indicators"] if line["indicator_id"]) >= 5  # from the library
    rounds = editor.get(f"/api/v1/projects/{pid}/monitoring-rounds").get_json()
    rounds = rounds["items"] if isinstance(rounds, dict) else rounds
    assert [(r["period"], r["status"]) for r in rounds] == [
        (f"{year}-03", "confirmed"),
        (f"{year}-09", "confirmed"),
    ]
    march = rounds[0]
    red = [line for line in march["progress"] if line["warning"] == "red"]
    assert len(red) == 1 and red[0]["reason"] and red[0]["measure"]
    corrections = editor.get(f"/api/v1/projects/{pid}/corrections").get_json()
    corrections = corrections["items"] if isinstance(corrections, dict) else corrections
    assert [(c["kind"], c["status"]) for c in corrections] == [("纠偏", "closed")]
    own = editor.get(f"/api/v1/projects/{pid}/self-evaluation").get_json()
    assert (own["status"], own["grade"]) == ("approved", "优")
    key = editor.get(f"/api/v1/projects/{pid}/evaluation").get_json()
    assert key["status"] == "accepted" and key["grade"] == "优" and key["report"]
    shown = editor.get(f"/api/v1/projects/{pid}/result-application").get_json()
    assert shown["complete"] is True and shown["disclosed"] is True
    assert shown["budget_recommendation"] == "prioritise"
    notices = editor.get(f"/api/v1/projects/{pid}/rectification-notices").get_json()
    notices = notices["items"] if isinstance(notices, dict) else notices
    assert [(n["closed"], len(n["items"])) for n in notices] == [(1, 1)]
    # 西夏区's: every stage through as well, a lower grade
    other = _project(api, "xx.editor", program["id"])
    assert {s["status"] for s in other["stages"]} == {"approved"}
    assert api.as_user("xx.editor").get(f"/api/v1/projects/{other['id']}/self-evaluation").get_json()[
        "grade"
    ] in (
        "良",
        "中",
    )
    assert api.as_user("xx.admin").get(f"/api/v1/projects/{pid}").status_code == 404  # the walls hold


def test_the_public_page_lists_both_disclosed_results(api, client):
    program = _program(api)
    shown = client.get("/api/v1/public/disclosures", query_string={"page_size": 200})
    assert shown.status_code == 200
    names = {_project(api, u, program["id"])["name"] for u in ("xq.editor", "xx.editor")}
    listed = {row["project_name"]: row for row in shown.get_json()["items"] if row["project_name"] in names}
    assert set(listed) == names
    assert {row["tenant_code"] for row in listed.values()} == {"640104", "640105"}
    assert all(row["findings"] and row["budget_recommendation"] for row in listed.values())
    page = client.get("/public")
    assert page.status_code == 200 and all(name in page.get_data(as_text=True) for name in names)


def test_the_province_sees_one_report_accepted_one_to_accept_and_the_case(api):
    program = _program(api)
    admin = api.as_user("nx.admin")
    reports = admin.get("/api/v1/pilot-reports", query_string={"program_id": program["id"]}).get_json()[
        "items"
    ]
    by_tenant = {r["tenant_code"]: r for r in reports}
    assert by_tenant["640104"]["status"] == "accepted"
    assert by_tenant["640105"]["status"] == "submitted"
    detail = admin.get(f"/api/v1/pilot-reports/{by_tenant['640104']['id']}").get_json()
    assert detail["versions"] and detail["versions"][-1]["number"] == 1
    pdf = admin.get(f"/api/v1/pilot-reports/{detail['id']}/versions/1/files/pdf")
    if pdf.status_code == 302:  # S3: a presigned URL
        assert "X-Amz-Signature" in pdf.headers["Location"]
    else:
        assert pdf.status_code == 200 and pdf.get_data()[:5] == b"%PDF-"
    pid = _project(api, "xq.editor", program["id"])["id"]
    cases = admin.get("/api/v1/cases", query_string={"page_size": 200}).get_json()["items"]
    case = next(c for c in cases if c.get("project_id") == pid)
    assert "规范管理蓝本" in case["title"] and len(case["targets"]) == 7
    assert case["scores"]["self_grade"] == "优" and case["report_id"] == by_tenant["640104"]["id"]
    # the province's acceptance workbench has 西夏区's report to accept
    queue = admin.get("/api/v1/me/tasks", query_string={"kind": "accept"}).get_json()
    assert any(
        item["tenant_code"] == "640105" and item["link"] == f"/reports/{by_tenant['640105']['id']}"
        for item in queue["items"]
    )


def test_xq_admins_done_list_shows_last_years_work(api):
    done = api.as_user("xq.admin").get("/api/v1/me/tasks", query_string={"done": "true"})
    assert done.status_code == 200, done.get_json()
    items = done.get_json()["items"]
    assert items and all(item["kind"] == "done" and item["at"] for item in items)


def test_last_years_messages_are_there_and_read(api):
    program = _program(api)
    for username in ("xq.editor", "xq.admin", "xx.editor"):
        pid = _project(api, username, program["id"])["id"]
        mine = []
        for page in range(1, 50):  # other tests' notes come first: read every page
            listed = (
                api.as_user(username)
                .get("/api/v1/me/notifications", query_string={"page_size": 200, "page": page})
                .get_json()["items"]
            )
            mine += [n for n in listed if n["project_id"] == pid]
            if len(listed) < 200:
                break
        assert mine and all(n["read"] for n in mine), (username, mine)


def test_loading_again_loads_none_of_it_twice(runtime, settings):
    with runtime.db.transaction(system="test") as s:
        before = s.execute(select(func.count()).select_from(Project)).scalar_one()
    with runtime.db.transaction(system="test demo reload") as s:
        created = load_all(s, settings.demo_password, date(date.today().year + 2, 6, 1))
    assert created["showcase_programs"] == 0
    with runtime.db.transaction(system="test") as s:
        assert s.execute(select(func.count()).select_from(Project)).scalar_one() == before
        names = s.execute(select(Program.name).where(Program.name.endswith(SUFFIX))).scalars().all()
        assert len(names) == 1
