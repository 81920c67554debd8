"""The result application (结果应用, issue 13 item 4) through HTTP: a rectification notice with two
items answered (with evidence) and closed completes the lifecycle once the recommendation is set;
the recommendation follows the grade (the self-evaluation's, the accepted key evaluation's where
there is one) unless overridden with a reason; a closed item takes no reply (409); a returned reply
opens the item again; overdue items are flagged; the to-dos; the walls."""

from __future__ import annotations

import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from jixiao.services.projects.models import Project
from jixiao.services.projects.service import set_stage_status
from tests.api.test_project_lifecycle import create_program, new_project, through_assessment
from tests.api.test_self_evaluation import approved_targets, body, finish_monitoring

PDF = b"%PDF-1.7\n" + b"0" * 2048
LATER = (date.today() + timedelta(days=30)).isoformat()


@pytest.fixture()
def program_id(api, unique) -> int:
    return create_program(api, unique, 10)


def approved_self_evaluation(api, program_id: int, unique: str, tenant: str = "xq") -> int:
    """A 兴庆区 project through targets and monitoring, its self-evaluation (the worked example,
    90.83 优) approved through 初审 and 复核 — the key evaluation (重点评价) now open."""
    pid = new_project(api, program_id, unique, tenant=tenant)["id"]
    through_assessment(api, pid, tenant)
    ids = approved_targets(api, pid, tenant)
    finish_monitoring(api, pid, tenant)
    editor = api.as_user(f"{tenant}.editor")
    assert editor.put(f"/api/v1/projects/{pid}/self-evaluation", json=body(ids)).status_code == 200
    assert editor.post(f"/api/v1/projects/{pid}/self-evaluation/submit").status_code == 200
    for who in (f"{tenant}.dept", f"{tenant}.admin"):
        done = api.as_user(who).post(
            f"/api/v1/projects/{pid}/self-evaluation/reviews", json={"decision": "approve"}
        )
        assert done.status_code == 200, done.get_json()
    return pid


def approve_key_stage(runtime, pid: int) -> None:
    """The key-evaluation stage approved through the service layer (its own flow is tested beside it)."""
    with runtime.db.transaction(system="test: key evaluation stage approved") as s:
        project = s.execute(select(Project).where(Project.id == pid)).scalar_one()
        set_stage_status(s, project, "evaluation", "approved")


def at_result_application(api, runtime, program_id: int, unique: str) -> int:
    pid = approved_self_evaluation(api, program_id, unique)
    approve_key_stage(runtime, pid)
    return pid


@pytest.fixture()
def pid(api, runtime, program_id, unique) -> int:
    return at_result_application(api, runtime, program_id, unique)


def upload(api, pid: int, stage: str = "result_application") -> int:
    form = {"file": (io.BytesIO(PDF), "整改报告.pdf"), "stage": stage, "purpose": "整改报告"}
    resp = api.as_user("xq.editor").post(
        f"/api/v1/projects/{pid}/evidence", data=form, content_type="multipart/form-data"
    )
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()["id"]


def issue(api, pid: int, n: int = 2, who: str = "xq.admin"):
    items = [{"text": f"整改事项{k}：完善资金管理制度", "deadline": LATER} for k in range(1, n + 1)]
    return api.as_user(who).post(
        f"/api/v1/projects/{pid}/rectification-notices", json={"text": "请按期整改", "items": items}
    )


def item_path(nid: int, iid: int, tail: str) -> str:
    return f"/api/v1/rectification-notices/{nid}/items/{iid}/{tail}"


def stages(api, pid: int) -> dict[str, str]:
    shown = api.as_user("xq.editor").get(f"/api/v1/projects/{pid}").get_json()
    return {row["stage"]: row["status"] for row in shown["stages"]}


def test_two_items_answered_and_closed_complete_the_lifecycle(api, pid):
    admin, editor = api.as_user("xq.admin"), api.as_user("xq.editor")
    issued = issue(api, pid)
    assert issued.status_code == 201, issued.get_json()
    notice = issued.get_json()
    nid, items = notice["id"], notice["items"]
    assert [i["status"] for i in items] == ["open", "open"] and notice["closed"] == 0
    evidence = upload(api, pid)
    for item in items:
        replied = editor.post(
            item_path(nid, item["id"], "reply"),
            json={"text": "已修订管理办法并印发", "evidence_ids": [evidence]},
        )
        assert replied.status_code == 200, replied.get_json()
        assert replied.get_json()["status"] == "answered"
        assert replied.get_json()["entries"][-1]["evidence_ids"] == [evidence]
    # the recommendation set while an item is still open: not complete yet
    decided = admin.put(
        f"/api/v1/projects/{pid}/result-application",
        json={"budget_recommendation": "prioritise", "disclose": False},
    )
    assert decided.status_code == 200, decided.get_json()
    assert decided.get_json()["complete"] is False
    assert admin.post(item_path(nid, items[0]["id"], "close"), json={}).status_code == 200
    assert stages(api, pid)["result_application"] == "draft"
    closed = admin.post(item_path(nid, items[1]["id"], "close"), json={"opinion": "整改到位"})
    assert closed.status_code == 200 and closed.get_json()["status"] == "closed"
    # every item closed and the recommendation set: every stage done, the project still active
    assert set(stages(api, pid).values()) == {"approved"}
    project = editor.get(f"/api/v1/projects/{pid}").get_json()
    assert (project["status"], project["stage"]) == ("active", "result_application")
    shown = editor.get(f"/api/v1/projects/{pid}/result-application").get_json()
    assert shown["complete"] is True and shown["rectification"] == {"items": 2, "closed": 2}
    listed = editor.get(f"/api/v1/projects/{pid}/rectification-notices").get_json()
    assert listed[0]["closed"] == 2 and [e["action"] for e in listed[0]["items"][1]["entries"]] == [
        "reply",
        "close",
    ]
    # a new notice opens the stage again
    assert issue(api, pid, 1).status_code == 201
    assert stages(api, pid)["result_application"] == "draft"


def test_the_recommendation_follows_the_grade_unless_overridden_with_a_reason(api, runtime, pid):
    admin = api.as_user("xq.admin")
    path = f"/api/v1/projects/{pid}/result-application"
    shown = admin.get(path).get_json()
    assert (shown["grade"], shown["grade_source"], shown["suggested_recommendation"]) == (
        "优",
        "self_evaluation",
        "prioritise",
    )
    assert shown["budget_recommendation"] is None and shown["self_evaluation_score"] == "90.83"
    refused = admin.put(path, json={"budget_recommendation": "reduce", "disclose": False})
    assert refused.status_code == 422
    message = refused.get_json()["errors"]["recommendation_reason"][0]
    assert "削减" in message and "优先保障" in message and "理由" in message
    assert admin.put(path, json={"budget_recommendation": "cheaper", "disclose": False}).status_code == 422
    overridden = admin.put(
        path,
        json={
            "budget_recommendation": "reduce",
            "recommendation_reason": "下年度财力紧张",
            "disclose": False,
        },
    )
    assert overridden.status_code == 200, overridden.get_json()
    assert overridden.get_json()["budget_recommendation"] == "reduce"
    assert overridden.get_json()["recommendation_reason"] == "下年度财力紧张"
    # following the suggestion needs no reason (and keeps none)
    followed = admin.put(path, json={"budget_recommendation": "prioritise", "disclose": False})
    assert followed.status_code == 200 and followed.get_json()["recommendation_reason"] == ""
    # no notice at all: the recommendation alone completes the stage
    assert followed.get_json()["complete"] is True


def test_an_accepted_key_evaluations_grade_comes_first(api, runtime, pid):
    from jixiao.services.evaluation.key.models import KeyEvaluation

    with runtime.db.transaction(system="test: an accepted key evaluation") as s:
        project = s.execute(select(Project).where(Project.id == pid)).scalar_one()
        s.add(
            KeyEvaluation(
                tenant_id=project.tenant_id,
                project_id=pid,
                status="accepted",
                score=Decimal("72.50"),
                grade="中",
                findings="资金使用合规性不足",
                recommendations="",
            )
        )
    shown = api.as_user("xq.admin").get(f"/api/v1/projects/{pid}/result-application").get_json()
    assert (shown["grade"], shown["grade_source"], shown["suggested_recommendation"]) == (
        "中",
        "key_evaluation",
        "reduce",
    )
    assert (shown["self_evaluation_grade"], shown["key_evaluation_grade"]) == ("优", "中")
    assert "资金使用合规性不足" in shown["findings"]


def test_closed_items_take_nothing_more_and_a_returned_reply_opens_the_item_again(api, pid):
    admin, editor = api.as_user("xq.admin"), api.as_user("xq.editor")
    notice = issue(api, pid, 1).get_json()
    nid, iid = notice["id"], notice["items"][0]["id"]
    assert admin.post(item_path(nid, iid, "close"), json={}).status_code == 409  # not answered yet
    assert admin.post(item_path(nid, iid, "return"), json={"opinion": "不充分"}).status_code == 409
    assert editor.post(item_path(nid, iid, "reply"), json={"text": ""}).status_code == 422
    assert editor.post(item_path(nid, iid, "reply"), json={"text": "已整改"}).status_code == 200
    no_opinion = admin.post(item_path(nid, iid, "return"), json={"opinion": " "})
    assert no_opinion.status_code == 422 and "opinion" in no_opinion.get_json()["errors"]
    returned = admin.post(item_path(nid, iid, "return"), json={"opinion": "未附制度文件，请补充"})
    assert returned.status_code == 200 and returned.get_json()["status"] == "open"
    assert returned.get_json()["entries"][-1] == returned.get_json()["entries"][-1] | {
        "action": "return",
        "text": "未附制度文件，请补充",
    }
    assert editor.post(item_path(nid, iid, "reply"), json={"text": "已补充制度文件"}).status_code == 200
    assert admin.post(item_path(nid, iid, "close"), json={}).status_code == 200
    late = editor.post(item_path(nid, iid, "reply"), json={"text": "再补充一点"})
    assert late.status_code == 409 and "已销号" in late.get_json()["message"]
    assert admin.post(item_path(nid, iid, "close"), json={}).status_code == 409


def test_bad_notices_and_overdue_items(api, runtime, pid):
    admin = api.as_user("xq.admin")
    base = f"/api/v1/projects/{pid}/rectification-notices"
    empty = admin.post(base, json={"items": []})
    assert empty.status_code == 422 and "至少" in empty.get_json()["errors"]["items"][0]
    bad = admin.post(
        base, json={"items": [{"text": "整改甲", "deadline": "2020-01-01"}, {"text": " ", "deadline": LATER}]}
    )
    errors = bad.get_json()["errors"]
    assert bad.status_code == 422 and {"items.1.deadline", "items.2.text"} <= set(errors)
    assert "2020-01-01" in errors["items.1.deadline"][0]
    assert admin.get(base).get_json() == []  # nothing half-written
    notice = issue(api, pid, 2).get_json()
    assert [i["overdue"] for i in notice["items"]] == [False, False]
    # the first item's deadline passes (yesterday on the province's calendar)
    from jixiao.services.results.models import RectificationItem

    with runtime.db.transaction(system="test: a deadline passes") as s:
        item = s.get(RectificationItem, notice["items"][0]["id"])
        item.deadline = date.today() - timedelta(days=2)
    listed = admin.get(base).get_json()[0]["items"]
    assert [i["overdue"] for i in listed] == [True, False]
    tasks = (
        api.as_user("xq.editor")
        .get("/api/v1/me/tasks?kind=answer&stage=result_application")
        .get_json()["items"]
    )
    mine = [t for t in tasks if t["project_id"] == pid]
    assert len(mine) == 2 and sorted(t["overdue"] for t in mine) == [False, True]


def test_the_work_queue(api, pid):
    admin, editor = api.as_user("xq.admin"), api.as_user("xq.editor")

    def kinds(client) -> list[str]:
        items = client.get("/api/v1/me/tasks?stage=result_application").get_json()["items"]
        return sorted(t["kind"] for t in items if t["project_id"] == pid)

    assert kinds(admin) == ["decide"]  # the result application to decide
    assert kinds(editor) == []
    notice = issue(api, pid, 1).get_json()
    assert kinds(editor) == ["answer"]
    editor.post(item_path(notice["id"], notice["items"][0]["id"], "reply"), json={"text": "已整改"})
    assert kinds(editor) == [] and kinds(admin) == ["decide", "follow_up"]
    admin.put(
        f"/api/v1/projects/{pid}/result-application",
        json={"budget_recommendation": "prioritise", "disclose": False},
    )
    assert kinds(admin) == ["follow_up"]
    done = admin.get("/api/v1/me/tasks?done=true&page_size=50").get_json()["items"]
    assert any(d.get("action") == "result_application.decide" for d in done)


def test_closed_before_the_key_evaluation_is_approved(api, program_id, unique):
    pid = approved_self_evaluation(api, program_id, unique)
    refused = issue(api, pid)
    assert refused.status_code == 409 and "重点评价" in refused.get_json()["message"]
    assert api.as_user("xq.admin").get(f"/api/v1/projects/{pid}/result-application").status_code == 409


def test_the_walls(api, pid):
    admin, editor = api.as_user("xq.admin"), api.as_user("xq.editor")
    sibling, city = api.as_user("xx.admin"), api.as_user("yc.admin")
    assert issue(api, pid, who="xq.editor").status_code == 403  # editors cannot issue
    notice = issue(api, pid, 1).get_json()
    nid, iid = notice["id"], notice["items"][0]["id"]
    other_stage = upload(api, pid, stage="monitoring")
    wrong = editor.post(item_path(nid, iid, "reply"), json={"text": "已整改", "evidence_ids": [other_stage]})
    assert wrong.status_code == 422 and "evidence_ids" in wrong.get_json()["errors"]
    assert admin.post(item_path(nid, iid, "reply"), json={"text": "财政代答"}).status_code == 403
    assert editor.post(item_path(nid, iid, "reply"), json={"text": "已整改"}).status_code == 200
    assert editor.post(item_path(nid, iid, "close"), json={}).status_code == 403  # editors cannot close
    assert editor.post(item_path(nid, iid, "return"), json={"opinion": "x"}).status_code == 403
    put = {"budget_recommendation": "prioritise", "disclose": True}
    assert editor.put(f"/api/v1/projects/{pid}/result-application", json=put).status_code == 403
    # the sibling county: 404 on all of it
    for resp in (
        sibling.get(f"/api/v1/projects/{pid}/rectification-notices"),
        sibling.get(f"/api/v1/rectification-notices/{nid}"),
        issue(api, pid, who="xx.admin"),
        sibling.post(item_path(nid, iid, "close"), json={}),
        sibling.post(item_path(nid, iid, "return"), json={"opinion": "x"}),
        sibling.post(item_path(nid, iid, "reply"), json={"text": "x"}),
        sibling.get(f"/api/v1/projects/{pid}/result-application"),
        sibling.put(f"/api/v1/projects/{pid}/result-application", json=put),
    ):
        assert resp.status_code == 404, resp.get_json()
    # the city above reads, never writes
    assert city.get(f"/api/v1/projects/{pid}/rectification-notices").status_code == 200
    assert city.get(f"/api/v1/projects/{pid}/result-application").status_code == 200
    assert issue(api, pid, who="yc.admin").status_code == 403
    assert city.post(item_path(nid, iid, "close"), json={}).status_code == 403
    assert city.put(f"/api/v1/projects/{pid}/result-application", json=put).status_code == 403
    assert (
        admin.get(f"/api/v1/projects/{pid}/rectification-notices").get_json()[0]["items"][0]["status"]
        == "answered"
    )
