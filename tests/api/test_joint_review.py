"""联审 (issue 13 item 2): where the program says so, the targets' chain runs 初审 → 复核 → 联审, the
last by a third-party evaluator holding a live `joint_review` grant on the project — in its 待办 and
notified the moment 复核 passes; without the grant (or for anyone else) the level is refused."""

from __future__ import annotations

from tests.api.test_grants import give, org_id  # noqa: F401 - fixture
from tests.api.test_project_lifecycle import new_project, through_assessment
from tests.api.test_work_queue import notes, review, submit_targets, tasks


def joint_program(api, unique: str) -> int:
    resp = api.as_user("nx.admin").post(
        "/api/v1/programs",
        json={
            "name": f"联审试点{unique}",
            "start": "2022-08-01",
            "end": "2099-12-31",
            "tenant_codes": ["640104", "640105", "640100"],
            "max_projects_per_tenant": 10,
            "settings": {"joint_review": {"stages": ["targets"]}},
        },
    )
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()["id"]


def test_the_targets_go_through_a_joint_review(api, unique, org_id):  # noqa: F811
    pid = new_project(api, joint_program(api, unique), unique)["id"]
    through_assessment(api, pid)
    submit_targets(api, pid)
    review(api, "xq.dept", pid, "approve")
    after_finance = review(api, "xq.admin", pid, "approve")
    assert after_finance["status"] == "submitted" and after_finance["review_level"] == "joint"

    evaluator = api.as_user("eval.ningping")
    path = f"/api/v1/projects/{pid}/targets/reviews"
    # no grant yet: the project does not exist for the evaluator
    assert evaluator.post(path, json={"decision": "approve"}).status_code == 404
    assert give(api, pid, org_id, ["read"]).status_code == 201
    refused = evaluator.post(path, json={"decision": "approve"})
    assert refused.status_code == 403 and "joint_review" in refused.get_json()["message"]
    assert api.as_user("xq.admin").post(path, json={"decision": "approve"}).status_code == 403

    assert give(api, pid, org_id, ["read", "joint_review"]).status_code == 201
    [item] = [t for t in tasks(api, "eval.ningping", pid) if t["kind"] == "review"]
    assert item["title"] == "联审绩效目标" and item["level"] == "joint"
    returned = evaluator.post(path, json={"decision": "return", "comments": {"feasibility": "进度安排过紧"}})
    assert returned.status_code == 200 and returned.get_json()["status"] == "returned"
    assert any("联审退回" in n["title"] for n in notes(api, "xq.editor", pid))

    submit_targets(api, pid, goal="完成 12 个小区改造，10 月底前全部开工")
    review(api, "xq.dept", pid, "approve")
    review(api, "xq.admin", pid, "approve")
    assert any("联审绩效目标" in n["title"] for n in notes(api, "eval.ningping", pid))
    passed = evaluator.post(path, json={"decision": "approve", "comments": {"relevance": "指标与目标相关"}})
    assert passed.status_code == 200 and passed.get_json()["status"] == "approved"
    stages = {
        s["stage"]: s["status"]
        for s in api.as_user("xq.editor").get(f"/api/v1/projects/{pid}").get_json()["stages"]
    }
    assert stages["targets"] == "approved" and stages["monitoring"] == "draft"


def test_without_the_setting_there_is_no_joint_level(api, unique):
    from tests.api.test_project_lifecycle import create_program

    pid = new_project(api, create_program(api, unique, 10), unique)["id"]
    through_assessment(api, pid)
    submit_targets(api, pid)
    review(api, "xq.dept", pid, "approve")
    assert review(api, "xq.admin", pid, "approve")["status"] == "approved"


def test_joint_review_stages_are_validated(api, unique):
    resp = api.as_user("nx.admin").post(
        "/api/v1/programs",
        json={
            "name": f"联审设置{unique}",
            "start": "2022-08-01",
            "end": "2099-12-31",
            "tenant_codes": ["640104"],
            "settings": {"joint_review": {"stages": ["assessment"]}},
        },
    )
    assert resp.status_code == 422 and "joint_review.stages" in str(resp.get_json()["errors"])
