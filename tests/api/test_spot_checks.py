"""抽查 (issue 15 item 4) through HTTP: a stratified, reproducible draw of approved targets (the seed
recorded; the same seed draws the same projects), a second draw 409 unless a new round, the bad
inputs 422 naming the field, the review on the four aspects, a finding answered by the tenant as a
correction request (the monitoring thread's), closed by whoever drew it; the walls (a county 403,
a sibling 404, a city only its branch); the work queue, the notifications and the audit."""

from __future__ import annotations

from sqlalchemy import select

from jixiao.platform.core.audit import AuditEvent
from tests.api.test_work_queue import tasks
from tests.support.seeding import approved_targets, program_with

CODES = ["640104", "640105", "640106", "640121", "640202"]
# two projects in each of the first two counties, one in each of the others: 7 approved target sets
ROWS = [
    (code, "100", "个") for code in ("640104", "640104", "640105", "640105", "640106", "640121", "640202")
]
COMMENTS = {
    "completeness": "产出、效益、满意度指标齐全",
    "relevance": "指标与项目内容相关",
    "appropriateness": "数量指标目标值偏低",
    "feasibility": "可以实现",
}


def _program(api, runtime, unique: str) -> int:
    program_id = program_with(api, runtime, unique, CODES)
    approved_targets(runtime, program_id, unique, ROWS, prefix="抽查项目")
    return program_id


def _projects(check: dict) -> list[int]:
    return sorted(i["project_id"] for i in check["items"])


def test_draw_is_stratified_reproducible_and_once_per_round(api, runtime, unique):
    program_id = _program(api, runtime, unique)
    reviewer = api.as_user("nx.reviewer")
    url = f"/api/v1/programs/{program_id}/spot-checks"

    first = reviewer.post(url, json={"share": 0.5, "seed": 20261207})
    assert first.status_code == 201, first.get_json()
    check = first.get_json()
    assert check["seed"] == 20261207 and check["population"] == 7 and check["round"] == 1
    assert len(check["items"]) == 4  # ⌈50 % of 7⌉
    by_tenant: dict[str, int] = {}
    for item in check["items"]:
        by_tenant[item["tenant_code"]] = by_tenant.get(item["tenant_code"], 0) + 1
    # the two tenants with two projects each get one; the other two places go to two of the rest
    assert by_tenant.get("640104") == 1 and by_tenant.get("640105") == 1
    assert sum(by_tenant.values()) == 4 and max(by_tenant.values()) == 1

    again = reviewer.post(url, json={"share": 0.5, "seed": 20261207})
    assert again.status_code == 409 and "新一轮" in again.get_json()["message"]
    second = reviewer.post(url, json={"share": 0.5, "seed": 20261207, "new_round": True})
    assert second.status_code == 201, second.get_json()
    assert second.get_json()["round"] == 2
    assert _projects(second.get_json()) == _projects(check)  # the same seed draws the same projects

    other = reviewer.post(url, json={"count": 3, "new_round": True})
    assert other.status_code == 201
    assert other.get_json()["seed"] > 0 and len(other.get_json()["items"]) == 3  # a seed made up, recorded

    listed = reviewer.get(url).get_json()
    assert [c["round"] for c in listed["items"]] == [3, 2, 1]

    with runtime.db.transaction(system="test: read the audit") as s:
        drawn = [
            e.after
            for e in s.execute(select(AuditEvent).where(AuditEvent.action == "spot_check.draw")).scalars()
            if e.object_id == str(check["id"])
        ]
    assert drawn and drawn[0]["seed"] == 20261207 and drawn[0]["projects"] == _projects(check)


def test_bad_draws_name_the_field(api, runtime, unique):
    program_id = _program(api, runtime, unique)
    reviewer = api.as_user("nx.reviewer")
    url = f"/api/v1/programs/{program_id}/spot-checks"
    for body, field in (
        ({"share": 0}, "share"),
        ({"share": 1.5}, "share"),
        ({"count": 8}, "count"),
        ({"count": 0}, "count"),
        ({}, "share"),
        ({"share": 0.5, "count": 2}, "share"),
    ):
        resp = reviewer.post(url, json=body)
        assert resp.status_code == 422, (body, resp.get_json())
        assert field in resp.get_json()["errors"], (body, resp.get_json())
    assert reviewer.get(url).get_json()["total"] == 0  # nothing half-written
    assert reviewer.post("/api/v1/programs/999999/spot-checks", json={"share": 0.5}).status_code == 404
    county = api.as_user("xq.admin")
    assert county.post(url, json={"share": 0.5}).status_code == 403
    assert county.get(url).status_code == 403


def test_a_city_draws_in_its_branch_only(api, runtime, unique):
    program_id = _program(api, runtime, unique)
    made = api.as_user("yc.admin").post(f"/api/v1/programs/{program_id}/spot-checks", json={"share": 1})
    assert made.status_code == 201, made.get_json()
    check = made.get_json()
    assert check["population"] == 6  # 石嘴山's 640202 is not 银川's
    assert {i["tenant_code"] for i in check["items"]} == {"640104", "640105", "640106", "640121"}
    # the province reads the city's check; the city may not review the province's
    assert api.as_user("nx.admin").get(f"/api/v1/spot-checks/{check['id']}").status_code == 200
    province = api.as_user("nx.reviewer").post(
        f"/api/v1/programs/{program_id}/spot-checks", json={"count": 1, "seed": 7}
    )
    item = province.get_json()["items"][0]
    review = f"/api/v1/spot-checks/{province.get_json()['id']}/items/{item['id']}/review"
    body = {"result": "pass", "comments": COMMENTS}
    assert api.as_user("yc.admin").post(review, json=body).status_code in (403, 404)


def test_review_finding_reply_and_close(api, runtime, unique):
    program_id = _program(api, runtime, unique)
    reviewer = api.as_user("nx.reviewer")
    check = reviewer.post(
        f"/api/v1/programs/{program_id}/spot-checks", json={"share": 1, "seed": 3}
    ).get_json()
    mine = next(i for i in check["items"] if i["tenant_code"] == "640104")
    other = next(i for i in check["items"] if i["tenant_code"] == "640202")
    base = f"/api/v1/spot-checks/{check['id']}/items/{mine['id']}"
    pid = mine["project_id"]

    # the reviewer's queue holds every drawn project
    assert any(t["kind"] == "check" for t in tasks(api, "nx.reviewer", pid))

    # the four aspects are each required; a rectify needs its findings
    missing = reviewer.post(
        base + "/review", json={"result": "pass", "comments": {**COMMENTS, "relevance": " "}}
    )
    assert missing.status_code == 422 and "comments.relevance" in missing.get_json()["errors"]
    bare = reviewer.post(base + "/review", json={"result": "rectify", "comments": COMMENTS})
    assert bare.status_code == 422 and "findings" in bare.get_json()["errors"]

    done = reviewer.post(
        base + "/review",
        json={
            "result": "rectify",
            "comments": COMMENTS,
            "findings": "数量指标目标值低于上年实际，请说明或调整",
        },
    )
    assert done.status_code == 200, done.get_json()
    item = done.get_json()
    assert item["result"] == "rectify" and item["finding"]["kind"] == "抽查"
    assert item["finding"]["status"] == "open" and item["finding"]["round_id"] is None
    assert reviewer.post(base + "/review", json={"result": "pass", "comments": COMMENTS}).status_code == 409
    assert not any(t["kind"] == "check" for t in tasks(api, "nx.reviewer", pid))

    # the county's editors have it to answer, and heard of it; a sibling sees nothing
    [answer] = [t for t in tasks(api, "xq.editor", pid) if t["kind"] == "answer"]
    assert answer["stage"] == "spot_check" and answer["link"].endswith(f"/items/{mine['id']}")
    heard = api.as_user("xq.editor").get("/api/v1/me/notifications?page_size=200").get_json()["items"]
    assert any("抽查" in n["title"] and "须整改" in n["title"] for n in heard)
    assert api.as_user("xq.editor").get(base).status_code == 200
    assert api.as_user("xx.editor").get(base).status_code == 404
    assert api.as_user("xx.editor").post(base + "/reply", json={"text": "越权"}).status_code == 404
    # the monitoring pages' correction lists keep to their rounds
    assert api.as_user("xq.editor").get(f"/api/v1/projects/{pid}/corrections").get_json() == []

    empty = api.as_user("xq.editor").post(base + "/reply", json={"text": " "})
    assert empty.status_code == 422 and "text" in empty.get_json()["errors"]
    replied = api.as_user("xq.editor").post(base + "/reply", json={"text": "已将目标值调整为不低于上年实际"})
    assert replied.status_code == 200, replied.get_json()
    assert replied.get_json()["finding"]["status"] == "answered"
    assert any(t["kind"] == "follow_up" for t in tasks(api, "nx.reviewer", pid))

    # only who drew it follows up; then 整改完成
    assert api.as_user("xq.admin").post(base + "/close", json={}).status_code == 403
    closed = reviewer.post(base + "/close", json={"opinion": "整改到位"})
    assert closed.status_code == 200 and closed.get_json()["result"] == "rectified"
    assert reviewer.post(base + "/close", json={}).status_code == 409
    assert api.as_user("xq.editor").post(base + "/reply", json={"text": "再答"}).status_code == 409

    # a passed item has no finding to answer
    passed = reviewer.post(
        f"/api/v1/spot-checks/{check['id']}/items/{other['id']}/review",
        json={"result": "pass", "comments": COMMENTS},
    )
    assert passed.status_code == 200 and passed.get_json()["finding"] is None
    listed = api.as_user("xq.editor").get(f"/api/v1/projects/{pid}/spot-checks").get_json()
    assert [i["result"] for i in listed["items"]] == ["rectified"]

    # the dashboard shows each project's latest result, and the counts
    board = api.as_user("nx.admin").get(f"/api/v1/province/dashboard?program_id={program_id}").get_json()
    shown = {p["id"]: p["spot_check"] for t in board["tenants"] for p in t["projects"]}
    assert shown[pid] == "rectified" and shown[other["project_id"]] == "pass"
    assert board["totals"]["spot_checks"]["rectified"] == 1 and board["totals"]["spot_checks"]["pass"] == 1

    with runtime.db.transaction(system="test: read the audit") as s:
        actions = {
            e.action
            for e in s.execute(select(AuditEvent).where(AuditEvent.action.like("spot_check.%"))).scalars()
            if e.object_id == str(pid)
        }
    assert {"spot_check.review", "spot_check.finding_reply", "spot_check.finding_close"} <= actions
