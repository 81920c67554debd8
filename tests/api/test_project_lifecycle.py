"""The first half of the lifecycle through HTTP (issue "done when"): assessment → decision →
targets with every violation listed → fixed → 初审 → 复核 → frozen → adjustment → version 2 + diff."""

from __future__ import annotations

import threading

import pytest

CRITERIA = {
    key: {"score": "85", "opinion": "符合要求"}
    for key in (
        "necessity",
        "economy",
        "target_reasonableness",
        "plan_effectiveness",
        "funding_compliance",
        "fiscal_affordability",
    )
}


def create_program(api, unique: str, limit: int) -> int:
    """Tests bring their own program: the demo's allows only 2 projects per tenant."""
    resp = api.as_user("nx.admin").post(
        "/api/v1/programs",
        json={
            "name": f"测试试点{unique}",
            "start": "2022-08-01",
            "end": "2099-12-31",
            "tenant_codes": ["640104", "640105", "640100"],
            "max_projects_per_tenant": limit,
            "deadlines": {"assessment": "2022-10-31", "targets": "2022-12-31"},
        },
    )
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()["id"]


@pytest.fixture()
def program_id(api, unique) -> int:
    return create_program(api, unique, 10)


def new_project(api, program_id, unique, *, tenant="xq", project_class="工程基建", years=(2023,)) -> dict:
    resp = api.as_user(f"{tenant}.editor").post(
        "/api/v1/projects",
        json={
            "program_id": program_id,
            "name": f"老旧小区改造{unique}",
            "department": "住房和城乡建设局",
            "implementing_unit": "城市建设服务中心",
            "budget_amount": "1250000.00",
            "fund_source": "一般公共预算",
            "project_class": project_class,
            "years": list(years),
            "serves_public": True,
        },
    )
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def submit_assessment(api, project_id: int, tenant: str = "xq") -> None:
    editor = api.as_user(f"{tenant}.editor")
    assert (
        editor.put(
            f"/api/v1/projects/{project_id}/assessment", json={"criteria": CRITERIA, "summary": "建议支持"}
        ).status_code
        == 200
    )
    assert editor.post(f"/api/v1/projects/{project_id}/assessment/submit").status_code == 200


def through_assessment(api, project_id: int, tenant: str = "xq") -> None:
    submit_assessment(api, project_id, tenant)
    decided = api.as_user(f"{tenant}.admin").post(
        f"/api/v1/projects/{project_id}/assessment/decision",
        json={"conclusion": "support", "opinion": "同意"},
    )
    assert decided.status_code == 200, decided.get_json()


def lines(weights=(30, 20, 30, 20)) -> list[dict]:
    return [
        {
            "name": "改造小区数量",
            "level2": "数量",
            "value_type": "quantitative",
            "direction": ">=",
            "target_value": "12",
            "unit": "个",
            "weight": str(weights[0]),
            "value_basis": "计划标准",
        },
        {
            "name": "项目总成本",
            "level2": "经济成本",
            "value_type": "quantitative",
            "direction": "<=",
            "target_value": "1250000",
            "unit": "元",
            "weight": str(weights[1]),
            "value_basis": "预算支出标准",
        },
        {
            "name": "受益居民户数",
            "level2": "社会效益",
            "value_type": "quantitative",
            "direction": ">=",
            "target_value": "3000",
            "unit": "户",
            "weight": str(weights[2]),
            "value_basis": "计划标准",
        },
        {
            "name": "居民满意度",
            "level2": "服务对象满意度",
            "value_type": "quantitative",
            "direction": ">=",
            "target_value": "90",
            "unit": "%",
            "weight": str(weights[3]),
            "value_basis": "历史标准",
        },
    ]


def test_the_whole_first_half(api, program_id, unique):
    project = new_project(api, program_id, unique)
    pid = project["id"]
    assert project["stage"] == "assessment" and project["budget_amount"] == "1250000.00"
    assert [s["status"] for s in project["stages"]][:2] == ["draft", "locked"]
    editor, dept, admin = api.as_user("xq.editor"), api.as_user("xq.dept"), api.as_user("xq.admin")

    # skipping a stage is refused with the reason
    early = editor.put(f"/api/v1/projects/{pid}/targets", json={"overall_goal": "x", "indicators": []})
    assert early.status_code == 409 and "事前评估" in early.get_json()["message"]

    # an incomplete assessment lists every gap
    assert (
        editor.put(
            f"/api/v1/projects/{pid}/assessment",
            json={"criteria": {"necessity": CRITERIA["necessity"]}, "summary": ""},
        ).status_code
        == 200
    )
    gaps = editor.post(f"/api/v1/projects/{pid}/assessment/submit")
    assert gaps.status_code == 422 and len(gaps.get_json()["errors"]) >= 6
    through_assessment(api, pid)
    assert api.as_user("xq.editor").get(f"/api/v1/projects/{pid}").get_json()["stage"] == "targets"

    # 工程基建 without a 成本 line and weights summing to 90: every violation at once
    no_cost = [line for line in lines((30, 20, 40, 20)) if line["level2"] != "经济成本"]
    assert (
        editor.put(
            f"/api/v1/projects/{pid}/targets",
            json={"overall_goal": "完成 12 个小区改造", "indicators": no_cost},
        ).status_code
        == 200
    )
    refused = editor.post(f"/api/v1/projects/{pid}/targets/submit")
    assert refused.status_code == 422
    codes = {v["rule"] for v in refused.get_json()["errors"]["violations"]}
    assert {"T05", "T08"} <= codes, refused.get_json()

    # fixed → 初审 → 复核 → frozen
    draft = editor.put(
        f"/api/v1/projects/{pid}/targets", json={"overall_goal": "完成 12 个小区改造", "indicators": lines()}
    ).get_json()
    assert [line["weight"] for line in draft["indicators"]] == ["30.00", "20.00", "30.00", "20.00"]
    assert editor.post(f"/api/v1/projects/{pid}/targets/submit").status_code == 200
    own = api.as_user("xq.admin").post(
        f"/api/v1/projects/{pid}/targets/reviews", json={"decision": "approve"}
    )
    assert own.status_code == 409  # 复核 is not yet due: the chain is at 初审
    first = dept.post(
        f"/api/v1/projects/{pid}/targets/reviews",
        json={"decision": "approve", "comments": {"completeness": "完整"}},
    )
    assert first.status_code == 200 and first.get_json()["review_level"] == "finance"
    again = dept.post(f"/api/v1/projects/{pid}/targets/reviews", json={"decision": "approve"})
    assert again.status_code == 409
    final = admin.post(f"/api/v1/projects/{pid}/targets/reviews", json={"decision": "approve"})
    assert final.status_code == 200 and final.get_json()["status"] == "approved"
    frozen = editor.put(f"/api/v1/projects/{pid}/targets", json={"overall_goal": "改", "indicators": lines()})
    assert frozen.status_code == 409
    project = editor.get(f"/api/v1/projects/{pid}").get_json()
    assert project["stage"] == "monitoring"

    # adjustment → version 2 with a diff; version 1 stays readable
    adjusted = editor.post(
        f"/api/v1/projects/{pid}/targets/adjustments",
        json={"reason": "政策变化", "explanation": "上级补助政策调整，受益户数随之变化"},
    )
    assert adjusted.status_code == 201 and adjusted.get_json()["version"] == 2
    changed = lines()
    changed[0]["target_value"] = "15"
    assert (
        editor.put(
            f"/api/v1/projects/{pid}/targets",
            json={"overall_goal": "完成 15 个小区改造", "indicators": changed},
        ).status_code
        == 200
    )
    history = editor.get(f"/api/v1/projects/{pid}/targets/versions").get_json()
    assert [h["targets"]["version"] for h in history] == [2, 1]
    assert history[0]["diff"]["changed"][0]["fields"]["target_value"] == ["12", "15"]
    assert history[1]["targets"]["status"] == "approved"

    # the walls: a sibling county gets 404 on all of it, the city reads it
    sibling = api.as_user("xx.admin")
    for path in ("", "/assessment", "/targets", "/targets/versions"):
        assert sibling.get(f"/api/v1/projects/{pid}{path}").status_code == 404
    assert (
        sibling.post(f"/api/v1/projects/{pid}/targets/reviews", json={"decision": "approve"}).status_code
        == 404
    )
    city = api.as_user("yc.admin")
    assert city.get(f"/api/v1/projects/{pid}/targets").status_code == 200
    assert city.post(f"/api/v1/projects/{pid}/targets/reviews", json={"decision": "approve"}).status_code in (
        403,
        409,
    )


def test_a_returned_target_goes_back_with_the_comments(api, program_id, unique):
    pid = new_project(api, program_id, unique)["id"]
    through_assessment(api, pid)
    editor = api.as_user("xq.editor")
    editor.put(f"/api/v1/projects/{pid}/targets", json={"overall_goal": "目标", "indicators": lines()})
    assert editor.post(f"/api/v1/projects/{pid}/targets/submit").status_code == 200
    bare = api.as_user("xq.dept").post(f"/api/v1/projects/{pid}/targets/reviews", json={"decision": "return"})
    assert bare.status_code == 422  # a return must say why
    returned = api.as_user("xq.dept").post(
        f"/api/v1/projects/{pid}/targets/reviews",
        json={"decision": "return", "comments": {"feasibility": "受益户数偏高"}},
    )
    assert returned.status_code == 200 and returned.get_json()["status"] == "returned"
    shown = editor.get(f"/api/v1/projects/{pid}/targets").get_json()
    assert shown["reviews"][-1]["comments"]["feasibility"] == "受益户数偏高"
    assert editor.get(f"/api/v1/projects/{pid}").get_json()["stages"][1]["status"] == "returned"
    assert (
        editor.put(
            f"/api/v1/projects/{pid}/targets", json={"overall_goal": "目标", "indicators": lines()}
        ).status_code
        == 200
    )
    assert editor.post(f"/api/v1/projects/{pid}/targets/submit").status_code == 200


def test_two_concurrent_approvals_one_wins(app, api, program_id, unique):
    pid = new_project(api, program_id, unique)["id"]
    through_assessment(api, pid)
    editor = api.as_user("xq.editor")
    editor.put(f"/api/v1/projects/{pid}/targets", json={"overall_goal": "目标", "indicators": lines()})
    editor.post(f"/api/v1/projects/{pid}/targets/submit")
    token = api.token("xq.dept")
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def approve() -> None:
        client = app.test_client()
        barrier.wait()
        resp = client.post(
            f"/api/v1/projects/{pid}/targets/reviews",
            json={"decision": "approve"},
            headers={"Authorization": f"Bearer {token}"},
        )
        statuses.append(resp.status_code)

    threads = [threading.Thread(target=approve) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [200, 409], statuses
    reviews = editor.get(f"/api/v1/projects/{pid}/targets").get_json()["reviews"]
    assert len(reviews) == 1


def test_bad_projects_and_the_limit(api, unique):
    program_id = create_program(api, f"{unique}L", 2)
    editor = api.as_user("xx.editor")
    base = {
        "program_id": program_id,
        "department": "部门",
        "implementing_unit": "单位",
        "fund_source": "一般公共预算",
        "project_class": "培训",
        "years": [2023],
    }
    for budget in ("-5", "abc", 12.5):
        resp = editor.post("/api/v1/projects", json={**base, "name": f"坏{unique}", "budget_amount": budget})
        assert resp.status_code == 422 and "budget_amount" in resp.get_json()["errors"], budget
    made = []
    for n in range(3):
        made.append(
            editor.post(
                "/api/v1/projects", json={**base, "name": f"培训{unique}{n}", "budget_amount": "1000"}
            )
        )
    statuses = [r.status_code for r in made]
    existing = len([p for p in editor.get(f"/api/v1/projects?program_id={program_id}").get_json()["items"]])
    assert existing == 2 and statuses.count(409) >= 1
    assert "至多" in [r for r in made if r.status_code == 409][0].get_json()["message"]
