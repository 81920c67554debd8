"""Monitoring (双监控) through HTTP (issue 12 items 1–3): rounds on approved targets with completion,
warnings and the year-end forecast; reason and measure for yellow/red; finance confirms or returns;
the last round completes the stage; correction requests (纠偏/约谈/发函) with replies, evidence,
overdue and a target adjustment; the walls.

The project: 2023, budget 1 250 000, the four lines of `lines()` (小区数量 ≥ 12 个, 总成本 ≤
1 250 000 元, 受益户数 ≥ 3000 户, 满意度 ≥ 90 %). 序时进度 at 2023-03-31 is 90/365 = 24.66 %, at
2023-09-30 273/365 = 74.79 %."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from sqlalchemy import update

from jixiao.services.monitoring.models import Correction
from tests.api.test_project_lifecycle import create_program, new_project, through_assessment
from tests.api.test_work_queue import review, submit_targets

PDF = b"%PDF-1.7\n" + b"0" * 2048
LATER = (date.today() + timedelta(days=30)).isoformat()


@pytest.fixture()
def program_id(api, unique) -> int:
    return create_program(api, unique, 10)


def approved_project(api, program_id, unique) -> tuple[int, dict[str, int]]:
    """A project whose targets passed 初审 and 复核; its line ids by name."""
    pid = new_project(api, program_id, unique)["id"]
    through_assessment(api, pid)
    submit_targets(api, pid)
    review(api, "xq.dept", pid, "approve")
    assert review(api, "xq.admin", pid, "approve")["status"] == "approved"
    targets = api.as_user("xq.editor").get(f"/api/v1/projects/{pid}/targets").get_json()
    return pid, {line["name"]: line["id"] for line in targets["indicators"]}


def progress(ids: dict[str, int], values: dict[str, tuple[str, str]], **extra: dict) -> list[dict]:
    return [
        {"target_indicator_id": ids[name], "planned_value": p, "actual_value": a, **extra.get(name, {})}
        for name, (p, a) in values.items()
    ]


MARCH = {
    "改造小区数量": ("2", "2"),
    "项目总成本": ("300000", "280000"),
    "受益居民户数": ("750", "375"),
    "居民满意度": ("90", "92"),
}
SEPTEMBER = {
    "改造小区数量": ("8", "8"),
    "项目总成本": ("900000", "850000"),
    "受益居民户数": ("2000", "1300"),
    "居民满意度": ("90", "91"),
}
EXPLAINED = {"reason": "部分小区居民意见未统一，开工推迟", "measure": "街道逐户协调，10 月底前全部开工"}


def march_body(ids, **overrides) -> dict:
    body = {
        "period": "2023-03",
        "as_of": "2023-03-31",
        "budget_executed": "300000.00",
        "progress": progress(ids, MARCH, 受益居民户数=EXPLAINED),
    }
    return body | overrides


def september_body(ids, explained: bool = True, **overrides) -> dict:
    body = {
        "period": "2023-09",
        "as_of": "2023-09-30",
        "budget_executed": "850000.00",
        "progress": progress(ids, SEPTEMBER, **({"受益居民户数": EXPLAINED} if explained else {})),
    }
    return body | overrides


def post_round(api, pid, body, user="xq.editor"):
    return api.as_user(user).post(f"/api/v1/projects/{pid}/monitoring-rounds", json=body)


def by_name(round_: dict) -> dict[str, dict]:
    return {line["name"]: line for line in round_["progress"]}


def test_a_march_round_already_flags_lines_that_will_end_red(api, program_id, unique):
    pid, ids = approved_project(api, program_id, unique)
    resp = post_round(api, pid, march_body(ids))
    assert resp.status_code == 201, resp.get_json()
    found = resp.get_json()
    assert found["status"] == "reported" and found["target_version"] == 1 and found["period"] == "2023-03"
    lines = by_name(found)
    # 2 of 2 planned: green now, but 2 / 24.66 % = 8.11 of 12 by December: red
    assert lines["改造小区数量"]["completion"] == "100.00" and lines["改造小区数量"]["warning"] == "green"
    assert lines["改造小区数量"]["forecast"] == {"value": "8.11", "completion": "67.59", "warning": "red"}
    # at half the plan: red now and red at year end
    assert lines["受益居民户数"]["completion"] == "50.00" and lines["受益居民户数"]["warning"] == "red"
    assert lines["受益居民户数"]["forecast"]["warning"] == "red"
    # a `<=` line under its plan is met; a rate (%) is a level, forecast to stay where it is
    assert (
        lines["项目总成本"]["completion"] == "100.00"
        and lines["项目总成本"]["forecast"]["warning"] == "green"
    )
    assert lines["居民满意度"]["forecast"] == {"value": "92.00", "completion": "102.22", "warning": "green"}
    budget = found["budget"]
    assert budget["amount"] == "1250000.00" and budget["executed"] == "300000.00"
    assert (budget["execution_rate"], budget["time_progress"], budget["warning"]) == (
        "24.00",
        "24.66",
        "green",
    )
    assert budget["forecast"] == {"value": "1216666.67", "completion": "97.33", "warning": "green"}
    assert found["warning"] == "red" and found["forecast_warning"] == "red"
    # read back: the list and the round itself, for the city above too
    listed = api.as_user("xq.editor").get(f"/api/v1/projects/{pid}/monitoring-rounds").get_json()
    assert [r["id"] for r in listed] == [found["id"]]
    again = api.as_user("yc.admin").get(f"/api/v1/projects/{pid}/monitoring-rounds/{found['id']}")
    assert (
        again.status_code == 200 and by_name(again.get_json())["改造小区数量"]["forecast"]["warning"] == "red"
    )
    # the stage is not complete after March
    assert api.as_user("xq.editor").get(f"/api/v1/projects/{pid}").get_json()["stage"] == "monitoring"


def test_a_red_september_line_needs_reason_and_measure_then_finance_confirms(api, program_id, unique):
    pid, ids = approved_project(api, program_id, unique)
    assert post_round(api, pid, march_body(ids)).status_code == 201
    refused = post_round(api, pid, september_body(ids, explained=False))
    assert refused.status_code == 422
    errors = refused.get_json()["errors"]
    assert set(errors) == {"progress.3.reason", "progress.3.measure"}, errors
    assert (
        "「受益居民户数」为红色预警（完成率 65.00%），须填写偏差原因和纠偏措施" in errors["progress.3.reason"]
    )
    half = september_body(ids, explained=False)
    half["progress"][2]["reason"] = "居民意见未统一"
    assert set(post_round(api, pid, half).get_json()["errors"]) == {"progress.3.measure"}
    assert len(api.as_user("xq.editor").get(f"/api/v1/projects/{pid}/monitoring-rounds").get_json()) == 1

    resp = post_round(api, pid, september_body(ids))
    assert resp.status_code == 201, resp.get_json()
    found = resp.get_json()
    line = by_name(found)["受益居民户数"]
    assert (line["completion"], line["warning"], line["reason"]) == ("65.00", "red", EXPLAINED["reason"])
    assert found["budget"]["time_progress"] == "74.79" and found["budget"]["warning"] == "green"
    # the last period's round completes monitoring: the self-evaluation opens
    project = api.as_user("xq.editor").get(f"/api/v1/projects/{pid}").get_json()
    stages = {s["stage"]: s["status"] for s in project["stages"]}
    assert project["stage"] == "self_evaluation" and stages["monitoring"] == "approved"
    assert stages["self_evaluation"] == "draft"

    rid = found["id"]
    base = f"/api/v1/projects/{pid}/monitoring-rounds/{rid}"
    assert api.as_user("xq.editor").post(f"{base}/confirm").status_code == 403
    editing = api.as_user("xq.editor").put(
        base, json={k: v for k, v in september_body(ids).items() if k != "period"}
    )
    assert editing.status_code == 409  # awaiting finance: only a returned round is corrected
    confirmed = api.as_user("xq.admin").post(f"{base}/confirm")
    assert confirmed.status_code == 200 and confirmed.get_json()["status"] == "confirmed"
    assert confirmed.get_json()["confirmed_by"] == "xq.admin"
    assert api.as_user("xq.admin").post(f"{base}/confirm").status_code == 409
    frozen = api.as_user("xq.editor").put(
        base, json={k: v for k, v in september_body(ids).items() if k != "period"}
    )
    assert frozen.status_code == 409 and frozen.get_json()["message"] == "已确认的监控轮次不能修改"
    assert api.as_user("xq.admin").post(f"{base}/return", json={"opinion": "再核实"}).status_code == 409


def test_a_returned_round_is_corrected_and_reported_again(api, program_id, unique):
    pid, ids = approved_project(api, program_id, unique)
    rid = post_round(api, pid, september_body(ids)).get_json()["id"]
    base = f"/api/v1/projects/{pid}/monitoring-rounds/{rid}"
    admin = api.as_user("xq.admin")
    assert admin.post(f"{base}/return", json={"opinion": "  "}).status_code == 422
    returned = admin.post(f"{base}/return", json={"opinion": "受益户数的偏差原因不具体，请补充"})
    assert returned.status_code == 200 and returned.get_json()["status"] == "returned"
    assert returned.get_json()["return_opinion"] == "受益户数的偏差原因不具体，请补充"
    # the last round returned: monitoring reopens, the self-evaluation locks again
    project = api.as_user("xq.editor").get(f"/api/v1/projects/{pid}").get_json()
    stages = {s["stage"]: s["status"] for s in project["stages"]}
    assert project["stage"] == "monitoring" and stages["monitoring"] == "draft"
    assert stages["self_evaluation"] == "locked"
    assert admin.post(f"{base}/confirm").status_code == 409  # returned: the editors have it

    body = {k: v for k, v in september_body(ids).items() if k != "period"}
    body["progress"][2]["actual_value"] = "1900"  # 95 %: green now, no reason needed
    body["progress"][2]["reason"] = body["progress"][2]["measure"] = ""
    again = api.as_user("xq.editor").put(base, json=body)
    assert again.status_code == 200, again.get_json()
    assert (
        again.get_json()["status"] == "reported"
        and by_name(again.get_json())["受益居民户数"]["warning"] == "green"
    )
    assert api.as_user("xq.editor").get(f"/api/v1/projects/{pid}").get_json()["stage"] == "self_evaluation"
    assert admin.post(f"{base}/confirm").status_code == 200


def test_bad_input_is_refused_naming_the_field_and_nothing_is_written(api, program_id, unique):
    early = new_project(api, program_id, unique + "a")["id"]
    through_assessment(api, early)
    refused = post_round(
        api, early, {"period": "2023-03", "as_of": "2023-03-31", "budget_executed": "0", "progress": []}
    )
    assert (
        refused.status_code == 409 and refused.get_json()["message"] == "绩效目标尚未审核通过，不能填报监控"
    )

    pid, ids = approved_project(api, program_id, unique)
    outside = post_round(api, pid, march_body(ids, period="2024-03", as_of="2024-03-31"))
    assert outside.status_code == 422 and "2023-03、2023-09" in outside.get_json()["errors"]["period"][0]
    assert post_round(api, pid, march_body(ids, period="2023-06", as_of="2023-06-30")).status_code == 422
    before_period = post_round(api, pid, march_body(ids, as_of="2023-02-28"))
    assert before_period.status_code == 422 and "as_of" in before_period.get_json()["errors"]

    words = march_body(ids)
    words["progress"][0]["actual_value"] = "两个"
    bad = post_round(api, pid, words)
    assert bad.status_code == 422
    assert bad.get_json()["errors"]["progress.1.actual_value"] == [
        "「改造小区数量」的实际完成值「两个」不是数字"
    ]

    negative = post_round(api, pid, march_body(ids, budget_executed="-1.00"))
    assert negative.status_code == 422 and "不能为负数" in negative.get_json()["errors"]["budget_executed"][0]
    over = post_round(api, pid, march_body(ids, budget_executed="1300000.00"))
    assert over.status_code == 422 and "超过预算" in over.get_json()["errors"]["budget_explanation"][0]

    missing = march_body(ids)
    missing["progress"] = missing["progress"][1:] + [
        {"target_indicator_id": 999999, "planned_value": "1", "actual_value": "1"}
    ]
    gaps = post_round(api, pid, missing).get_json()
    assert (
        "改造小区数量" in gaps["errors"]["progress"][0] and "progress.4.target_indicator_id" in gaps["errors"]
    )
    assert api.as_user("xq.editor").get(f"/api/v1/projects/{pid}/monitoring-rounds").get_json() == []

    # rounds follow one another: none dated before an earlier one, a period only once
    assert post_round(api, pid, september_body(ids)).status_code == 201
    assert post_round(api, pid, september_body(ids)).status_code == 409
    earlier = post_round(api, pid, march_body(ids))
    assert earlier.status_code == 422 and "不能早于" in earlier.get_json()["errors"]["period"][0]


def upload(api, pid: int, purpose: str = "其他") -> int:
    form = {"file": (io.BytesIO(PDF), "约谈整改说明.pdf"), "stage": "monitoring", "purpose": purpose}
    resp = api.as_user("xq.editor").post(
        f"/api/v1/projects/{pid}/evidence", data=form, content_type="multipart/form-data"
    )
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()["id"]


def test_a_correction_is_issued_answered_with_a_file_and_closed(api, runtime, program_id, unique):
    pid, ids = approved_project(api, program_id, unique)
    rid = post_round(api, pid, september_body(ids)).get_json()["id"]
    base = f"/api/v1/projects/{pid}/monitoring-rounds/{rid}/corrections"
    admin, editor = api.as_user("xq.admin"), api.as_user("xq.editor")
    body = {"kind": "约谈", "text": "受益户数严重滞后，请说明原因并提交整改方案", "deadline": LATER}
    assert editor.post(base, json=body).status_code == 403
    past = admin.post(base, json=body | {"deadline": "2020-01-01"})
    assert past.status_code == 422 and "deadline" in past.get_json()["errors"]
    issued = admin.post(base, json=body)
    assert issued.status_code == 201, issued.get_json()
    found = issued.get_json()
    assert (found["kind"], found["status"], found["overdue"], found["period"]) == (
        "约谈",
        "open",
        False,
        "2023-09",
    )
    cid = found["id"]

    # an overdue request: open and past its deadline
    with runtime.db.transaction(system="test: the deadline passes") as s:
        s.execute(
            update(Correction).where(Correction.id == cid).values(deadline=date.today() - timedelta(days=2))
        )
    late = admin.get(f"{base}/{cid}").get_json()
    assert late["overdue"] is True
    overdue_ids = [
        c["id"] for c in admin.get("/api/v1/corrections?overdue=true&page_size=200").get_json()["items"]
    ]
    assert cid in overdue_ids

    other = approved_project(api, program_id, unique + "x")[0]
    foreign = upload(api, other)
    wrong = editor.post(f"{base}/{cid}/reply", json={"text": "已整改", "evidence_ids": [foreign]})
    assert wrong.status_code == 422 and str(foreign) in wrong.get_json()["errors"]["evidence_ids"][0]
    assert admin.post(f"{base}/{cid}/reply", json={"text": "代答"}).status_code == 403
    file_id = upload(api, pid)
    replied = editor.post(
        f"{base}/{cid}/reply", json={"text": "已约谈施工单位，10 月底前全部开工", "evidence_ids": [file_id]}
    )
    assert replied.status_code == 200, replied.get_json()
    assert replied.get_json()["status"] == "answered" and replied.get_json()["overdue"] is False
    assert replied.get_json()["entries"][-1] | {"at": None} == {
        "action": "reply",
        "text": "已约谈施工单位，10 月底前全部开工",
        "evidence_ids": [file_id],
        "deadline": None,
        "by": "xq.editor",
        "at": None,
    }
    again = admin.post(f"{base}/{cid}/again", json={"text": "请补充施工进度表", "deadline": LATER})
    assert again.status_code == 200 and again.get_json()["status"] == "open"
    closed = admin.post(f"{base}/{cid}/close", json={"opinion": "整改到位"})
    assert closed.status_code == 200 and closed.get_json()["status"] == "closed"
    assert [e["action"] for e in closed.get_json()["entries"]] == ["request", "reply", "again", "close"]
    assert editor.post(f"{base}/{cid}/reply", json={"text": "再答"}).status_code == 409
    assert admin.post(f"{base}/{cid}/close", json={}).status_code == 409
    assert admin.post(f"{base}/{cid}/again", json={"text": "再问", "deadline": LATER}).status_code == 409
    listed = editor.get(f"/api/v1/projects/{pid}/corrections").get_json()
    assert [c["id"] for c in listed] == [cid]
    closed_ids = [
        c["id"] for c in editor.get("/api/v1/corrections?status=closed&page_size=200").get_json()["items"]
    ]
    assert cid in closed_ids


def test_an_adjustment_from_a_correction_applies_to_later_rounds(api, program_id, unique):
    pid, ids = approved_project(api, program_id, unique)
    march = post_round(api, pid, march_body(ids)).get_json()
    base = f"/api/v1/projects/{pid}/monitoring-rounds/{march['id']}/corrections"
    admin = api.as_user("xq.admin")
    cid = admin.post(
        base, json={"kind": "纠偏", "text": "受益户数目标偏高，建议调整", "deadline": LATER}
    ).get_json()["id"]
    short = admin.post(f"{base}/{cid}/adjustment", json={"explanation": "调整"})
    assert short.status_code == 422 and "explanation" in short.get_json()["errors"]
    assert (
        api.as_user("xq.editor").post(f"{base}/{cid}/adjustment", json={"explanation": "x" * 12}).status_code
        == 403
    )
    opened = admin.post(
        f"{base}/{cid}/adjustment", json={"explanation": "监控发现受益户数目标偏高，按实际调整"}
    )
    assert opened.status_code == 201, opened.get_json()
    assert opened.get_json()["adjustment_version"] == 2
    targets = api.as_user("xq.editor").get(f"/api/v1/projects/{pid}/targets").get_json()
    assert (targets["version"], targets["status"], targets["adjustment_reason"]) == (2, "draft", "其他")
    assert (
        admin.post(f"{base}/{cid}/adjustment", json={"explanation": "再次调整受益户数目标值"}).status_code
        == 409
    )

    # version 2 approved: September is measured against it, March keeps version 1
    assert api.as_user("xq.editor").post(f"/api/v1/projects/{pid}/targets/submit").status_code == 200
    review(api, "xq.dept", pid, "approve")
    review(api, "xq.admin", pid, "approve")
    new_ids = {
        line["name"]: line["id"]
        for line in api.as_user("xq.editor").get(f"/api/v1/projects/{pid}/targets").get_json()["indicators"]
    }
    stale = post_round(api, pid, september_body(ids))
    assert stale.status_code == 422  # the old version's lines are no longer the ones in force
    september = post_round(api, pid, september_body(new_ids))
    assert september.status_code == 201 and september.get_json()["target_version"] == 2
    rounds = api.as_user("xq.editor").get(f"/api/v1/projects/{pid}/monitoring-rounds").get_json()
    assert [(r["period"], r["target_version"]) for r in rounds] == [("2023-03", 1), ("2023-09", 2)]


def test_a_red_round_needs_the_programs_required_evidence(api, unique):
    resp = api.as_user("nx.admin").post(
        "/api/v1/programs",
        json={
            "name": f"监控佐证试点{unique}",
            "start": "2022-08-01",
            "end": "2099-12-31",
            "tenant_codes": ["640104"],
            "max_projects_per_tenant": 5,
            "settings": {"evidence": {"required_purposes": {"monitoring": ["监控佐证"]}}},
        },
    )
    assert resp.status_code == 201, resp.get_json()
    pid, ids = approved_project(api, resp.get_json()["id"], unique)
    refused = post_round(api, pid, march_body(ids))
    assert refused.status_code == 422 and "监控佐证" in refused.get_json()["errors"]["evidence"][0]
    upload(api, pid, "监控佐证")
    assert post_round(api, pid, march_body(ids)).status_code == 201


def test_the_walls(api, program_id, unique):
    pid, ids = approved_project(api, program_id, unique)
    rid = post_round(api, pid, march_body(ids)).get_json()["id"]
    base = f"/api/v1/projects/{pid}/monitoring-rounds"
    cid = (
        api.as_user("xq.admin")
        .post(f"{base}/{rid}/corrections", json={"kind": "发函", "text": "请说明进度", "deadline": LATER})
        .get_json()["id"]
    )
    sibling, city = api.as_user("xx.admin"), api.as_user("yc.admin")
    for path in ("", f"/{rid}", f"/{rid}/corrections/{cid}"):
        assert sibling.get(f"{base}{path}").status_code == 404
        assert city.get(f"{base}{path}").status_code == 200
    assert sibling.get(f"/api/v1/projects/{pid}/corrections").status_code == 404
    assert city.get(f"/api/v1/projects/{pid}/corrections").status_code == 200
    assert cid not in [c["id"] for c in sibling.get("/api/v1/corrections?page_size=200").get_json()["items"]]
    assert cid in [c["id"] for c in city.get("/api/v1/corrections?page_size=200").get_json()["items"]]
    writes = [
        ("post", base, september_body(ids)),
        ("post", f"{base}/{rid}/confirm", None),
        ("post", f"{base}/{rid}/return", {"opinion": "退回"}),
        ("post", f"{base}/{rid}/corrections", {"kind": "约谈", "text": "约谈", "deadline": LATER}),
        ("post", f"{base}/{rid}/corrections/{cid}/reply", {"text": "答复"}),
        ("post", f"{base}/{rid}/corrections/{cid}/close", {}),
    ]
    for method, path, body in writes:
        assert getattr(sibling, method)(path, json=body).status_code == 404, path
        assert getattr(city, method)(path, json=body).status_code == 403, path
    # nothing changed behind the walls
    assert api.as_user("xq.editor").get(f"{base}/{rid}").get_json()["status"] == "reported"
    assert len(api.as_user("xq.editor").get(base).get_json()) == 1


def test_a_qualitative_line_takes_its_bands_midpoint():
    """(Pure: the figures of a round with a qualitative line, as the service measures it.)"""
    from decimal import Decimal

    from jixiao.services.monitoring.figures import Problems, measure
    from jixiao.services.programs.models import DEFAULT_SETTINGS
    from jixiao.services.targets.models import TargetLine

    line = TargetLine(
        id=7,
        position=1,
        name="管理制度健全性",
        level2="质量",
        value_type="qualitative",
        direction=">=",
        target_value="健全",
        unit="",
    )
    body = {"as_of": date(2023, 9, 30), "budget_executed": "900000.00"}
    partly = measure(
        [line],
        body
        | {
            "progress": [
                {"target_indicator_id": 7, "achievement": "partly", "text": "制度已起草", **EXPLAINED}
            ]
        },
        budget=Decimal("1000000"),
        year=2023,
        settings=DEFAULT_SETTINGS,
    )
    assert (partly.lines[0].completion, partly.lines[0].warning) == (Decimal("70.00"), "yellow")
    with pytest.raises(Problems) as refused:
        measure(
            [line],
            body | {"progress": [{"target_indicator_id": 7, "achievement": "not_achieved"}]},
            budget=Decimal("1000000"),
            year=2023,
            settings=DEFAULT_SETTINGS,
        )
    assert "「管理制度健全性」为红色预警（完成率 30.00%）" in refused.value.errors["progress.1.reason"][0]
    with pytest.raises(Problems) as unbanded:
        measure(
            [line],
            body | {"progress": [{"target_indicator_id": 7}]},
            budget=Decimal("1000000"),
            year=2023,
            settings=DEFAULT_SETTINGS,
        )
    assert "progress.1.achievement" in unbanded.value.errors
