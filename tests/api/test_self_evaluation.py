"""The self-evaluation (自评) through HTTP (issue 12 item 4): closed until monitoring is complete; the
worked example of DESIGN.md §6 scores 90.83 and grades 优 with every point explained; a preview
saves nothing; a submit names every gap; 初审 → 复核 through the targets' chain (returns with the
reasons and the resubmission's diff, never one's own); the walls."""

from __future__ import annotations

import io
import threading

import pytest

from tests.api.test_project_lifecycle import create_program, new_project, through_assessment

# The target lines of the worked example (DESIGN.md §6): 产出 数量, 成本, 效益, 满意度.
WORKED = [
    ("改造小区数量", "数量", ">=", "100", "个", "30", "80"),
    ("项目总成本", "经济成本", "<=", "1000000", "元", "20", "1100000"),
    ("受益居民比例", "社会效益", ">=", "90", "%", "30", "95"),
    ("居民满意度", "服务对象满意度", ">=", "90", "%", "20", "85"),
]


@pytest.fixture()
def program_id(api, unique) -> int:
    return create_program(api, unique, 10)


def approved_targets(api, pid: int, tenant: str = "xq") -> list[int]:
    """The worked example's targets through 初审 and 复核; their line ids in order."""
    editor = api.as_user(f"{tenant}.editor")
    indicators = [
        {
            "name": name,
            "level2": level2,
            "value_type": "quantitative",
            "direction": direction,
            "target_value": target,
            "unit": unit,
            "weight": weight,
            "value_basis": "计划标准",
        }
        for name, level2, direction, target, unit, weight, _ in WORKED
    ]
    saved = editor.put(
        f"/api/v1/projects/{pid}/targets",
        json={"overall_goal": "完成 100 个小区改造", "indicators": indicators},
    )
    assert saved.status_code == 200, saved.get_json()
    assert editor.post(f"/api/v1/projects/{pid}/targets/submit").status_code == 200
    for who in (f"{tenant}.dept", f"{tenant}.admin"):
        done = api.as_user(who).post(f"/api/v1/projects/{pid}/targets/reviews", json={"decision": "approve"})
        assert done.status_code == 200, done.get_json()
    return [line["id"] for line in editor.get(f"/api/v1/projects/{pid}/targets").get_json()["indicators"]]


def finish_monitoring(api, pid: int, tenant: str = "xq") -> None:
    """Monitoring complete through the API: the round of the program's last period (September) of
    the project's year reported by the editor, every line on its annual target and the budget on
    序时进度 — which completes the stage and opens the self-evaluation."""
    editor = api.as_user(f"{tenant}.editor")
    project = editor.get(f"/api/v1/projects/{pid}").get_json()
    year = max(project["years"]) if "years" in project else project["end_year"]
    progress = []
    for line in editor.get(f"/api/v1/projects/{pid}/targets").get_json()["indicators"]:
        if line["value_type"] == "qualitative":
            progress.append(
                {"target_indicator_id": line["id"], "achievement": "achieved", "text": "按计划推进"}
            )
            continue
        value = line["target_value"].split(",")[0]
        progress.append({"target_indicator_id": line["id"], "planned_value": value, "actual_value": value})
    budget = float(project["budget_amount"]) * 0.8
    reported = editor.post(
        f"/api/v1/projects/{pid}/monitoring-rounds",
        json={
            "period": f"{year}-09",
            "as_of": f"{year}-09-30",
            "budget_executed": f"{budget:.2f}",
            "progress": progress,
        },
    )
    assert reported.status_code == 201, reported.get_json()


@pytest.fixture()
def targets(api, program_id, unique) -> tuple[int, list[int]]:
    """A 兴庆区 project with the worked example's targets approved (monitoring not yet complete)."""
    pid = new_project(api, program_id, unique)["id"]
    through_assessment(api, pid)
    return pid, approved_targets(api, pid)


@pytest.fixture()
def opened(api, targets) -> tuple[int, list[int]]:
    finish_monitoring(api, targets[0])
    return targets


def body(ids: list[int], *, skip: int | None = None, **changes) -> dict:
    lines = [
        {"target_indicator_id": line_id, "actual_value": row[6]}
        for n, (line_id, row) in enumerate(zip(ids, WORKED, strict=True))
        if n != skip
    ]
    return {
        "budget_executed": "1150000.00",
        "lines": lines,
        "summary": "完成 80 个小区改造，居民满意度 85%",
        "conclusion": "总体达到预期",
        "problems": "进度滞后",
        "measures": "加强调度",
        **changes,
    }


def path(pid: int, tail: str = "") -> str:
    return f"/api/v1/projects/{pid}/self-evaluation{tail}"


def test_the_worked_example_scores_90_83(api, opened):
    pid, ids = opened
    editor = api.as_user("xq.editor")
    saved = editor.put(path(pid), json=body(ids))
    assert saved.status_code == 200, saved.get_json()
    shown = saved.get_json()
    assert (shown["score"], shown["grade"]) == ("90.83", "优")
    assert shown["budget"] == {
        "budget": "1250000.00",
        "executed": "1150000.00",
        "rate": "92.00",
        "available": "10.00",
        "earned": "9.20",
    }
    points = [line["points"] for line in shown["lines"]]
    assert [p["earned"] for p in points] == ["24.00", "18.18", "30.00", "9.44"]
    assert [p["available"] for p in points] == ["30.00", "20.00", "30.00", "10.00"]
    assert [p["completion"] for p in points] == ["80.00", "90.91", "100.00", "94.44"]
    first = shown["lines"][0]
    assert (first["name"], first["level1"], first["level2"], first["direction"]) == (
        "改造小区数量",
        "产出",
        "数量",
        ">=",
    )
    assert (first["target_value"], first["unit"], first["value_type"]) == ("100", "个", "quantitative")
    assert shown["missing"] == [] and shown["status"] == "draft"
    again = editor.get(path(pid)).get_json()
    assert (again["score"], again["grade"], again["lines"][1]["actual_value"]) == ("90.83", "优", "1100000")


def test_a_preview_saves_nothing_and_a_partial_draft_lists_what_is_missing(api, opened):
    pid, ids = opened
    editor = api.as_user("xq.editor")
    preview = editor.post(path(pid, "/preview"), json=body(ids))
    assert preview.status_code == 200 and preview.get_json()["score"] == "90.83"
    assert editor.get(path(pid)).get_json()["budget_executed"] is None  # nothing saved
    partial = editor.put(path(pid), json=body(ids, skip=3, budget_executed=None))
    assert partial.status_code == 200, partial.get_json()
    shown = partial.get_json()
    assert shown["missing"] == ["居民满意度"] and shown["lines"][3]["points"]["earned"] == "0.00"
    assert shown["score"] == "72.18" and shown["budget"]["earned"] == "0.00"  # 24 + 18.18 + 30


def test_closed_until_monitoring_is_complete(api, runtime, targets):
    pid, ids = targets
    editor = api.as_user("xq.editor")
    for resp in (
        editor.get(path(pid)),
        editor.put(path(pid), json=body(ids)),
        editor.post(path(pid, "/submit")),
        editor.post(path(pid, "/preview"), json=body(ids)),
    ):
        assert resp.status_code == 409 and resp.get_json()["message"] == "跟踪监控尚未完成，不能填报自评"
    finish_monitoring(api, pid)
    assert editor.put(path(pid), json=body(ids)).status_code == 200


def test_bad_input_names_the_line(api, opened):
    pid, ids = opened
    editor = api.as_user("xq.editor")
    assert editor.put(path(pid), json=body(ids, skip=3)).status_code == 200
    gaps = editor.post(path(pid, "/submit"))
    assert gaps.status_code == 422
    assert "居民满意度" in gaps.get_json()["message"]
    assert gaps.get_json()["errors"] == {"lines.4.actual_value": ["第 4 行「居民满意度」：请填写实际完成值"]}

    wrong = body(ids)
    wrong["lines"][0]["actual_value"] = "八十"
    refused = editor.put(path(pid), json={**wrong, "budget_executed": "-5"})
    assert refused.status_code == 422
    errors = refused.get_json()["errors"]
    assert set(errors) == {"budget_executed", "lines.1.actual_value"}
    assert "改造小区数量" in errors["lines.1.actual_value"][0]
    huge = body(ids)
    huge["lines"][0]["actual_value"] = "1e9999999"
    assert set(editor.put(path(pid), json=huge).get_json()["errors"]) == {"lines.1.actual_value"}
    stranger = editor.put(path(pid), json={**body(ids), "lines": [{"target_indicator_id": 999999999}]})
    assert stranger.status_code == 422 and "999999999" in stranger.get_json()["errors"]["lines"][0]
    # a rate is for qualitative lines, inside the band of its achievement
    rated = body(ids)
    rated["lines"][2].update(achievement="achieved", rate="50")
    assert editor.put(path(pid), json=rated).status_code == 422
    assert editor.get(path(pid)).get_json()["missing"] == ["居民满意度"]  # nothing half-written


def test_a_rate_outside_its_band_is_refused(api, program_id, unique, runtime):
    pid = new_project(api, program_id, unique)["id"]
    through_assessment(api, pid)
    editor = api.as_user("xq.editor")
    qualitative = {
        "name": "群众获得感",
        "level2": "社会效益",
        "value_type": "qualitative",
        "direction": ">=",
        "target_value": "明显提升",
        "unit": "",
        "weight": "30",
        "value_basis": "计划标准",
    }
    indicators = [
        {
            "name": name,
            "level2": level2,
            "value_type": "quantitative",
            "direction": direction,
            "target_value": target,
            "unit": unit,
            "weight": weight,
            "value_basis": "计划标准",
        }
        for name, level2, direction, target, unit, weight, _ in WORKED
    ]
    indicators[2] = qualitative
    saved = editor.put(
        f"/api/v1/projects/{pid}/targets", json={"overall_goal": "目标", "indicators": indicators}
    )
    assert saved.status_code == 200, saved.get_json()
    assert editor.post(f"/api/v1/projects/{pid}/targets/submit").status_code == 200, "targets submit"
    for who in ("xq.dept", "xq.admin"):
        assert (
            api.as_user(who)
            .post(f"/api/v1/projects/{pid}/targets/reviews", json={"decision": "approve"})
            .status_code
            == 200
        )
    finish_monitoring(api, pid)
    ids = [line["id"] for line in editor.get(f"/api/v1/projects/{pid}/targets").get_json()["indicators"]]
    form = body(ids)
    form["lines"][2] = {"target_indicator_id": ids[2], "achievement": "partly", "rate": "85"}
    refused = editor.put(path(pid), json=form)
    assert refused.status_code == 422
    assert refused.get_json()["errors"]["lines.3.rate"] == [
        "第 3 行「群众获得感」：部分达成的得分率须在 60–80% 之间，而不是 85%"
    ]
    form["lines"][2]["rate"] = "75"
    shown = editor.put(path(pid), json=form).get_json()
    assert shown["lines"][2]["points"] == {"completion": None, "available": "30.00", "earned": "22.50"}
    form["lines"][2] = {"target_indicator_id": ids[2], "achievement": "achieved"}  # the band's midpoint, 90 %
    assert editor.put(path(pid), json=form).get_json()["lines"][2]["points"]["earned"] == "27.00"


def test_first_and_final_review_approve_it_and_open_the_key_evaluation(api, opened):
    pid, ids = opened
    editor, dept, admin = api.as_user("xq.editor"), api.as_user("xq.dept"), api.as_user("xq.admin")
    submitted = editor.post(path(pid, "/submit"), json=body(ids))
    assert submitted.status_code == 200, submitted.get_json()
    assert (submitted.get_json()["status"], submitted.get_json()["review_level"]) == ("submitted", "first")
    assert editor.put(path(pid), json=body(ids)).status_code == 409  # under review
    stages = {s["stage"]: s["status"] for s in editor.get(f"/api/v1/projects/{pid}").get_json()["stages"]}
    assert stages["self_evaluation"] == "submitted"
    assert editor.post(path(pid, "/reviews"), json={"decision": "approve"}).status_code == 403
    assert admin.post(path(pid, "/reviews"), json={"decision": "approve"}).status_code == 409  # 初审 first
    first = dept.post(
        path(pid, "/reviews"), json={"decision": "approve", "comments": {"completeness": "完整"}}
    )
    assert first.status_code == 200 and first.get_json()["review_level"] == "finance"
    assert dept.post(path(pid, "/reviews"), json={"decision": "approve"}).status_code == 409  # never twice
    final = admin.post(path(pid, "/reviews"), json={"decision": "approve"})
    assert final.status_code == 200 and final.get_json()["status"] == "approved"
    assert [r["level"] for r in final.get_json()["reviews"]] == ["first", "finance"]
    project = editor.get(f"/api/v1/projects/{pid}").get_json()
    stages = {s["stage"]: s["status"] for s in project["stages"]}
    assert stages["self_evaluation"] == "approved" and project["stage"] == "evaluation"
    frozen = editor.put(path(pid), json=body(ids))
    assert frozen.status_code == 409 and "冻结" in frozen.get_json()["message"]
    assert editor.get(path(pid)).get_json()["score"] == "90.83"


def test_a_return_goes_back_with_the_reasons_and_the_resubmission_shows_what_changed(api, opened):
    pid, ids = opened
    editor, dept = api.as_user("xq.editor"), api.as_user("xq.dept")
    assert editor.post(path(pid, "/submit"), json=body(ids)).status_code == 200
    assert dept.post(path(pid, "/reviews"), json={"decision": "return"}).status_code == 422  # say why
    returned = dept.post(
        path(pid, "/reviews"), json={"decision": "return", "comments": {"feasibility": "满意度调查样本不足"}}
    )
    assert returned.status_code == 200 and returned.get_json()["status"] == "returned"
    shown = editor.get(path(pid)).get_json()
    assert shown["reviews"][-1]["comments"]["feasibility"] == "满意度调查样本不足"
    stages = {s["stage"]: s["status"] for s in editor.get(f"/api/v1/projects/{pid}").get_json()["stages"]}
    assert stages["self_evaluation"] == "returned"
    changed = body(ids)
    changed["lines"][3]["actual_value"] = "88"
    redrafted = editor.put(path(pid), json=changed)
    assert redrafted.status_code == 200 and redrafted.get_json()["status"] == "draft"
    assert editor.post(path(pid, "/submit")).status_code == 200
    again = dept.get(path(pid)).get_json()
    diff = again["resubmission"]["diff"]
    assert again["resubmission"]["comments"] == {"feasibility": "满意度调查样本不足"}
    assert diff["changed"] == [
        {"target_indicator_id": ids[3], "name": "居民满意度", "fields": {"actual_value": ["85", "88"]}}
    ]
    assert diff["fields"] == {}


def test_the_submitter_never_reviews_their_own(api, opened):
    pid, ids = opened
    admin = api.as_user("xq.admin")  # a bureau admin may fill it in, then not 复核 it
    assert admin.post(path(pid, "/submit"), json=body(ids)).status_code == 200
    assert api.as_user("xq.dept").post(path(pid, "/reviews"), json={"decision": "approve"}).status_code == 200
    own = admin.post(path(pid, "/reviews"), json={"decision": "approve"})
    assert own.status_code == 403 and "自己" in own.get_json()["message"]


def test_the_walls(api, opened):
    pid, ids = opened
    assert api.as_user("xq.editor").put(path(pid), json=body(ids)).status_code == 200
    sibling = api.as_user("xx.admin")
    assert sibling.get(path(pid)).status_code == 404
    assert sibling.put(path(pid), json=body(ids)).status_code == 404
    assert sibling.post(path(pid, "/preview"), json=body(ids)).status_code == 404
    assert sibling.post(path(pid, "/submit")).status_code == 404
    assert sibling.post(path(pid, "/reviews"), json={"decision": "approve"}).status_code == 404
    for upper in ("yc.admin", "nx.admin"):
        reader = api.as_user(upper)
        shown = reader.get(path(pid))
        assert shown.status_code == 200 and shown.get_json()["score"] == "90.83"
        assert reader.put(path(pid), json=body(ids)).status_code == 403
        assert reader.post(path(pid, "/submit")).status_code == 403
    assert api.as_user("xq.editor").post(path(pid, "/submit")).status_code == 200
    for upper in ("yc.admin", "nx.admin"):
        refused = api.as_user(upper).post(path(pid, "/reviews"), json={"decision": "approve"})
        assert refused.status_code == 403


def test_a_draft_follows_a_target_adjustment_approved_meanwhile(api, opened):
    pid, ids = opened
    editor = api.as_user("xq.editor")
    assert editor.put(path(pid), json=body(ids)).get_json()["target_version"] == 1
    adjusted = editor.post(
        f"/api/v1/projects/{pid}/targets/adjustments",
        json={"reason": "政策变化", "explanation": "改造任务调减为 80 个小区，数量指标随之调整"},
    )
    assert adjusted.status_code == 201, adjusted.get_json()
    v2 = editor.get(f"/api/v1/projects/{pid}/targets").get_json()["indicators"]
    v2[0]["target_value"] = "80"
    fields = ("name", "level2", "value_type", "direction", "target_value", "unit", "weight", "value_basis")
    saved = editor.put(
        f"/api/v1/projects/{pid}/targets",
        json={
            "overall_goal": "完成 80 个小区改造",
            "indicators": [{f: line[f] for f in fields} for line in v2],
        },
    )
    assert saved.status_code == 200, saved.get_json()
    assert editor.post(f"/api/v1/projects/{pid}/targets/submit").status_code == 200
    for who in ("xq.dept", "xq.admin"):
        assert (
            api.as_user(who)
            .post(f"/api/v1/projects/{pid}/targets/reviews", json={"decision": "approve"})
            .status_code
            == 200
        )
    shown = editor.get(path(pid)).get_json()
    assert shown["target_version"] == 2 and shown["lines"][0]["target_value"] == "80"
    new_ids = [line["target_indicator_id"] for line in shown["lines"]]
    assert set(new_ids).isdisjoint(ids) and len(shown["missing"]) == 4
    assert editor.put(path(pid), json=body(ids)).status_code == 422  # the old version's lines
    resaved = editor.put(path(pid), json=body(new_ids)).get_json()
    assert resaved["lines"][0]["points"]["earned"] == "30.00" and resaved["score"] == "96.83"


def test_two_concurrent_approvals_one_wins(app, api, opened):
    pid, ids = opened
    assert api.as_user("xq.editor").post(path(pid, "/submit"), json=body(ids)).status_code == 200
    token = api.token("xq.dept")
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def approve() -> None:
        client = app.test_client()
        barrier.wait()
        resp = client.post(
            path(pid, "/reviews"), json={"decision": "approve"}, headers={"Authorization": f"Bearer {token}"}
        )
        statuses.append(resp.status_code)

    threads = [threading.Thread(target=approve) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [200, 409], statuses
    assert len(api.as_user("xq.editor").get(path(pid)).get_json()["reviews"]) == 1


def test_the_programs_required_evidence_is_asked_for_on_submit(api, unique):
    """A program requiring 自评报告 for the self-evaluation: the submit names it until it is uploaded
    (a program without the setting requires none — the other tests)."""
    program = create_program(api, unique, 10)
    province = api.as_user("nx.admin")
    current = province.get(f"/api/v1/programs/{program}").get_json()
    changed = province.patch(
        f"/api/v1/programs/{program}",
        json={
            "version": current["version"],
            "settings": {"evidence": {"required_purposes": {"self_evaluation": ["自评报告"]}}},
        },
    )
    assert changed.status_code == 200, changed.get_json()
    pid = new_project(api, program, unique)["id"]
    through_assessment(api, pid)
    ids = approved_targets(api, pid)
    finish_monitoring(api, pid)
    editor = api.as_user("xq.editor")
    refused = editor.post(path(pid, "/submit"), json=body(ids))
    assert refused.status_code == 422, refused.get_json()
    assert "自评报告" in refused.get_json()["errors"]["evidence"][0]
    uploaded = editor.post(
        f"/api/v1/projects/{pid}/evidence",
        data={
            "stage": "self_evaluation",
            "purpose": "自评报告",
            "file": (io.BytesIO(b"%PDF-1.7\n" + b"0" * 64), "自评报告.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert uploaded.status_code == 201, uploaded.get_json()
    # the refused submit saved nothing (all or nothing): the form is sent again
    assert editor.get(path(pid)).get_json()["budget_executed"] is None
    submitted = editor.post(path(pid, "/submit"), json=body(ids))
    assert submitted.status_code == 200, submitted.get_json()
    assert submitted.get_json()["status"] == "submitted"
