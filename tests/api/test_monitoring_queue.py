"""The monitoring stage in the work queue and the notifications (issue 12 item 5): a reported round is
in finance's 待办 (待确认) at once and gone when confirmed; a returned round goes back to the editors
with the opinion; a correction is the editors' 待答复 with its own deadline, then finance's 待跟进 once
answered; closing it tells whoever replied; 已办 lists the monitoring actions."""

from __future__ import annotations

import pytest

from tests.api.test_monitoring import LATER, approved_project, march_body, post_round
from tests.api.test_project_lifecycle import create_program
from tests.api.test_work_queue import notes, tasks


@pytest.fixture()
def program_id(api, unique) -> int:
    return create_program(api, unique, 10)


def test_a_round_and_its_correction_travel_through_the_queues(api, program_id, unique):
    pid, ids = approved_project(api, program_id, unique)
    due = [t for t in tasks(api, "xq.editor", pid) if t["stage"] == "monitoring"]
    assert sorted(t["title"] for t in due) == ["填报 2023-03 监控", "填报 2023-09 监控"]
    assert {t["deadline"] for t in due} >= {"2023-03-31"}  # a round is due at its month's end

    reported = post_round(api, pid, march_body(ids))
    assert reported.status_code == 201, reported.get_json()
    rid = reported.get_json()["id"]
    assert "填报 2023-03 监控" not in [t["title"] for t in tasks(api, "xq.editor", pid)]
    [confirm] = tasks(api, "xq.admin", pid, kind="confirm")
    assert (
        confirm["title"] == "确认 2023-03 监控" and confirm["link"] == f"/projects/{pid}/monitoring/2023-03"
    )
    assert any(n["title"].endswith("确认 2023-03 监控") for n in notes(api, "xq.admin", pid))

    admin = api.as_user("xq.admin")
    returned = admin.post(
        f"/api/v1/projects/{pid}/monitoring-rounds/{rid}/return",
        json={"opinion": "预算执行数与财务账不符，请核实"},
    )
    assert returned.status_code == 200, returned.get_json()
    assert tasks(api, "xq.admin", pid, kind="confirm") == []
    [revise] = tasks(api, "xq.editor", pid, kind="revise")
    assert revise["title"] == "修改退回的 2023-03 监控" and "财务账" in revise["detail"]
    [returned_note] = [n for n in notes(api, "xq.editor", pid) if n["kind"] == "returned"]
    assert "2023-03 监控被财政退回" in returned_note["title"] and "财务账" in returned_note["body"]

    body = march_body(ids)
    body.pop("period")
    again = api.as_user("xq.editor").put(f"/api/v1/projects/{pid}/monitoring-rounds/{rid}", json=body)
    assert again.status_code == 200, again.get_json()
    assert tasks(api, "xq.editor", pid, kind="revise") == []
    assert admin.post(f"/api/v1/projects/{pid}/monitoring-rounds/{rid}/confirm").status_code == 200
    assert tasks(api, "xq.admin", pid, kind="confirm") == []

    issued = admin.post(
        f"/api/v1/projects/{pid}/monitoring-rounds/{rid}/corrections",
        json={"kind": "约谈", "text": "受益户数进度仅为计划的一半，请说明原因", "deadline": LATER},
    )
    assert issued.status_code == 201, issued.get_json()
    cid = issued.get_json()["id"]
    [answer] = tasks(api, "xq.editor", pid, kind="answer")
    assert answer["title"] == "答复约谈（2023-03 监控）" and answer["deadline"] == LATER
    assert answer["overdue"] is False
    assert any("答复约谈" in n["title"] for n in notes(api, "xq.editor", pid))

    replied = api.as_user("xq.editor").post(
        f"/api/v1/projects/{pid}/monitoring-rounds/{rid}/corrections/{cid}/reply",
        json={"text": "已逐户协调，10 月底前完成"},
    )
    assert replied.status_code == 200, replied.get_json()
    assert tasks(api, "xq.editor", pid, kind="answer") == []
    [follow] = tasks(api, "xq.admin", pid, kind="follow_up")
    assert follow["title"] == "处理约谈的答复（2023-03 监控）"

    closed = admin.post(f"/api/v1/projects/{pid}/monitoring-rounds/{rid}/corrections/{cid}/close", json={})
    assert closed.status_code == 200, closed.get_json()
    assert tasks(api, "xq.admin", pid, kind="follow_up") == []
    assert any("已关闭" in n["title"] for n in notes(api, "xq.editor", pid))

    done = api.as_user("xq.editor").get("/api/v1/me/tasks?done=true&page_size=200").get_json()["items"]
    mine = {d["title"] for d in done if d["project_id"] == pid}
    assert {"报送监控", "重新报送监控", "答复纠偏/约谈/发函"} <= mine


def test_siblings_and_upper_levels_have_none_of_it(api, program_id, unique):
    pid, ids = approved_project(api, program_id, unique)
    assert post_round(api, pid, march_body(ids)).status_code == 201
    for user in ("xx.admin", "yc.admin", "nx.admin"):
        assert tasks(api, user, pid) == [], user
