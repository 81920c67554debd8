"""The work queue (待办/已办) and notifications through HTTP (issue "done when"): a submission is in
the reviewer's 待办 in the very next request, moves to 已办 when acted on and on to the next level;
returns notify the editor with the reasons; siblings and upper levels see none of it; a reminder run
twice writes one reminder; e-mail goes out through a real SMTP server by a job."""

from __future__ import annotations

import time
from datetime import date

import pytest

from jixiao.services.notifications.reminders import remind as remind_all
from tests.api.test_project_lifecycle import (
    create_program,
    lines,
    new_project,
    submit_assessment,
    through_assessment,
)
from tests.support.api import DEMO_PASSWORD
from tests.support.cli import run_cli


@pytest.fixture()
def program_id(api, unique) -> int:
    return create_program(api, unique, 10)


def new_user(api, username: str, display_name: str, roles: list[str], email: str | None = None) -> dict:
    """A user of 兴庆区 with the demo password (so that `api.as_user` can log in as them)."""
    body = {"username": username, "display_name": display_name, "password": DEMO_PASSWORD, "roles": roles}
    created = api.as_user("xq.admin").post(
        "/api/v1/tenants/640104/users", json=body | ({"email": email} if email else {})
    )
    assert created.status_code == 201, created.get_json()
    return created.get_json()


def tasks(api, username: str, pid: int, **params) -> list[dict]:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    resp = api.as_user(username).get(f"/api/v1/me/tasks?page_size=200&{query}")
    assert resp.status_code == 200, resp.get_json()
    return [t for t in resp.get_json()["items"] if t["project_id"] == pid]


def notes(api, username: str, pid: int) -> list[dict]:
    resp = api.as_user(username).get("/api/v1/me/notifications?page_size=200")
    assert resp.status_code == 200, resp.get_json()
    return [n for n in resp.get_json()["items"] if n["project_id"] == pid]


def submit_targets(api, pid: int, goal: str = "完成 12 个小区改造") -> None:
    editor = api.as_user("xq.editor")
    saved = editor.put(f"/api/v1/projects/{pid}/targets", json={"overall_goal": goal, "indicators": lines()})
    assert saved.status_code == 200, saved.get_json()
    submitted = editor.post(f"/api/v1/projects/{pid}/targets/submit")
    assert submitted.status_code == 200, submitted.get_json()


def review(api, username: str, pid: int, decision: str, **comments: str) -> dict:
    resp = api.as_user(username).post(
        f"/api/v1/projects/{pid}/targets/reviews", json={"decision": decision, "comments": comments}
    )
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


def test_a_submission_travels_through_the_queues(api, program_id, unique):
    pid = new_project(api, program_id, unique)["id"]
    through_assessment(api, pid)
    assert [t["kind"] for t in tasks(api, "xq.editor", pid)] == ["fill"]
    submit_targets(api, pid)

    # the very next request: 初审 awaits xq.dept, with where, since when and the (passed) deadline
    [item] = tasks(api, "xq.dept", pid)
    assert item["kind"] == "review" and item["level"] == "first" and item["stage"] == "targets"
    assert item["tenant_code"] == "640104" and item["deadline"] == "2022-12-31" and item["overdue"] is True
    assert item["since"] and item["link"] == f"/projects/{pid}/targets/review"
    assert "xq.editor" in item["detail"] and item["submitted_by"] == "xq.editor"
    [note] = [n for n in notes(api, "xq.dept", pid) if n["kind"] == "task"]
    assert note["read"] is False and "待办" in note["title"] and note["link"] == item["link"]
    # a person is named in a message as people know them: by name, not by login name
    assert note["body"] == "兴庆区项目单位填报人 提交", note["body"]
    # nobody else: not the submitter, not 复核 yet, not a sibling, not the city above
    for other in ("xq.editor", "xq.admin", "xx.dept", "xx.admin", "yc.admin", "nx.admin"):
        assert tasks(api, other, pid) == [], other
    for other in ("xx.dept", "xx.admin", "yc.admin"):
        assert notes(api, other, pid) == [], other

    review(api, "xq.dept", pid, "approve", completeness="指标完整")
    assert tasks(api, "xq.dept", pid) == []
    [done] = tasks(api, "xq.dept", pid, done="true")
    assert done["kind"] == "done" and done["action"] == "targets.review"
    assert "初审通过" in done["detail"] and done["link"] == f"/projects/{pid}/targets/review"
    [item] = tasks(api, "xq.admin", pid)
    assert item["kind"] == "review" and item["level"] == "finance"
    assert any(n["kind"] == "task" for n in notes(api, "xq.admin", pid))
    assert any(n["kind"] == "approved" and "初审通过" in n["title"] for n in notes(api, "xq.editor", pid))

    # 复核 returns it: the editor is told why, and has it to revise (also while editing it)
    review(
        api,
        "xq.admin",
        pid,
        "return",
        feasibility="受益户数偏高，请按 2022 年实际调整。",
        completeness="缺少时效指标。",
    )
    assert tasks(api, "xq.admin", pid) == []
    [returned] = [n for n in notes(api, "xq.editor", pid) if n["kind"] == "returned"]
    assert "复核退回" in returned["title"] and "受益户数偏高" in returned["body"]
    assert "。；" not in returned["body"] and "缺少时效指标" in returned["body"], returned["body"]
    [item] = tasks(api, "xq.editor", pid)
    assert item["kind"] == "revise" and "受益户数偏高" in item["detail"]
    assert (
        api.as_user("xq.editor")
        .put(
            f"/api/v1/projects/{pid}/targets",
            json={"overall_goal": "完成 10 个小区改造", "indicators": lines()},
        )
        .status_code
        == 200
    )
    assert [t["kind"] for t in tasks(api, "xq.editor", pid)] == ["revise"]
    for other in ("xx.editor", "xx.admin", "yc.admin"):
        assert notes(api, other, pid) == [] and tasks(api, other, pid) == [], other

    # resubmitted: back to 初审, marked as such
    assert api.as_user("xq.editor").post(f"/api/v1/projects/{pid}/targets/submit").status_code == 200
    [item] = tasks(api, "xq.dept", pid)
    assert item["kind"] == "review" and "重新提交" in item["detail"]
    assert tasks(api, "xq.editor", pid) == []


def test_the_reviewer_sees_what_changed_since_the_return(api, program_id, unique):
    pid = new_project(api, program_id, unique)["id"]
    through_assessment(api, pid)
    submit_targets(api, pid, goal="完成 12 个小区改造")
    none = api.as_user("xq.dept").get(f"/api/v1/projects/{pid}/targets/resubmission").get_json()
    assert none["resubmitted"] is False and none.get("diff") is None
    review(api, "xq.dept", pid, "return", relevance="成本指标与预算不一致")

    changed = lines(weights=(30, 20, 25, 25))
    changed[1]["target_value"] = "1200000"
    changed = changed[:3] + [changed[3] | {"name": "居民满意度（问卷）"}]
    editor = api.as_user("xq.editor")
    assert (
        editor.put(
            f"/api/v1/projects/{pid}/targets",
            json={"overall_goal": "完成 12 个小区改造，惠及 3000 户", "indicators": changed},
        ).status_code
        == 200
    )
    assert editor.post(f"/api/v1/projects/{pid}/targets/submit").status_code == 200

    got = api.as_user("xq.dept").get(f"/api/v1/projects/{pid}/targets/resubmission")
    assert got.status_code == 200, got.get_json()
    body = got.get_json()
    assert body["resubmitted"] is True and body["returned_by"] == "xq.dept" and body["level"] == "first"
    assert body["comments"] == {"relevance": "成本指标与预算不一致"}
    diff = body["diff"]
    assert diff["goals"]["overall_goal"] == ["完成 12 个小区改造", "完成 12 个小区改造，惠及 3000 户"]
    changed_by_name = {c["name"]: c["fields"] for c in diff["changed"]}
    assert changed_by_name["项目总成本"] == {"target_value": ["1250000", "1200000"]}
    assert changed_by_name["受益居民户数"] == {"weight": ["30.00", "25.00"]}
    assert diff["added"] == ["居民满意度（问卷）"] and diff["removed"] == ["居民满意度"]
    # a sibling county: 404
    assert api.as_user("xx.dept").get(f"/api/v1/projects/{pid}/targets/resubmission").status_code == 404


def test_the_assessment_decision_is_a_task_and_its_outcome_a_notification(api, program_id, unique):
    pid = new_project(api, program_id, unique)["id"]
    submit_assessment(api, pid)
    [item] = tasks(api, "xq.admin", pid)
    assert item["kind"] == "decide" and item["stage"] == "assessment" and item["deadline"] == "2022-10-31"
    assert tasks(api, "xq.dept", pid) == [] and tasks(api, "xq.editor", pid) == []
    decided = api.as_user("xq.admin").post(
        f"/api/v1/projects/{pid}/assessment/decision",
        json={"conclusion": "partial", "opinion": "压减 10% 预算后支持"},
    )
    assert decided.status_code == 200
    assert tasks(api, "xq.admin", pid) == []
    [outcome] = [n for n in notes(api, "xq.editor", pid) if n["kind"] == "decided"]
    assert "部分支持" in outcome["title"] and outcome["body"] == "压减 10% 预算后支持"
    assert any(n["kind"] == "task" and "绩效目标" in n["title"] for n in notes(api, "xq.editor", pid))
    assert [t["kind"] for t in tasks(api, "xq.editor", pid)] == ["fill"]


def test_filters_and_bad_input(api, program_id, unique):
    pid = new_project(api, program_id, unique)["id"]
    through_assessment(api, pid)
    submit_targets(api, pid)
    assert len(tasks(api, "xq.dept", pid, kind="review", stage="targets", overdue="true")) == 1
    assert tasks(api, "xq.dept", pid, kind="fill") == []
    assert tasks(api, "xq.dept", pid, stage="assessment") == []
    assert tasks(api, "xq.dept", pid, overdue="false") == []
    bad = api.as_user("xq.dept").get("/api/v1/me/tasks?kind=urgent&stage=monitor")
    assert bad.status_code == 422
    assert "kind" in str(bad.get_json()["errors"]) and "stage" in str(bad.get_json()["errors"])
    # a token that may not act has nothing to do
    narrowed = api.as_user("xq.dept", scope="profile projects:read")
    listed = narrowed.get("/api/v1/me/tasks?page_size=200").get_json()["items"]
    assert [t for t in listed if t["project_id"] == pid] == []


def test_notifications_are_private_and_marked_read(api, program_id, unique):
    pid = new_project(api, program_id, unique)["id"]
    through_assessment(api, pid)
    submit_targets(api, pid)
    [note] = [n for n in notes(api, "xq.dept", pid) if n["kind"] == "task"]
    before = api.as_user("xq.dept").get("/api/v1/me/notifications").get_json()["unread"]
    assert before >= 1
    for other in ("xq.editor", "xx.dept", "nx.admin"):
        assert api.as_user(other).post(f"/api/v1/me/notifications/{note['id']}/read").status_code == 404, (
            other
        )
    assert (
        api.as_user("xq.dept", scope="profile")
        .post(f"/api/v1/me/notifications/{note['id']}/read")
        .status_code
        == 403
    )
    read = api.as_user("xq.dept").post(f"/api/v1/me/notifications/{note['id']}/read")
    assert read.status_code == 200 and read.get_json()["read"] is True
    listed = api.as_user("xq.dept").get("/api/v1/me/notifications").get_json()
    assert listed["unread"] == before - 1
    unread_only = api.as_user("xq.dept").get("/api/v1/me/notifications?unread=true&page_size=200").get_json()
    assert note["id"] not in [n["id"] for n in unread_only["items"]]
    # up to what the client has shown: a newer one stays unread
    shown = unread_only["items"][0]["id"] if unread_only["items"] else note["id"]  # newest first
    review(api, "xq.dept", pid, "return", feasibility="请补充测算依据")  # → xq.editor, not xq.dept
    submit_targets(api, pid)  # a new 待办 for xq.dept, after what it was shown
    newer = [n for n in notes(api, "xq.dept", pid) if n["id"] > shown and not n["read"]]
    assert len(newer) == 1
    some = api.as_user("xq.dept").post(f"/api/v1/me/notifications/read-all?up_to={shown}").get_json()
    assert some["marked"] == before - 1 and some["unread"] == 1
    everything = api.as_user("xq.dept").post("/api/v1/me/notifications/read-all").get_json()
    assert everything["marked"] == 1 and everything["unread"] == 0
    events = (
        api.as_user("xq.admin").get("/api/v1/audit-events?action=notification.read&page_size=200").get_json()
    )
    assert any(e["object_id"] == str(note["id"]) for e in events["items"])


def test_a_reminder_run_twice_reminds_once(api, runtime, settings, real_services, unique):
    """The CronJob's command (`jixiao remind`) reminds once per threshold however often it runs; the
    later thresholds call what the command calls, in process (a command's start is seconds)."""

    resp = api.as_user("nx.admin").post(
        "/api/v1/programs",
        json={
            "name": f"提醒试点{unique}",
            "start": "2030-01-01",
            "end": "2030-12-31",
            "tenant_codes": ["640104"],
            "max_projects_per_tenant": 5,
            "deadlines": {"assessment": "2030-06-30", "targets": "2030-09-30"},
            "settings": {"reminders": {"days_before": [7, 3]}},
        },
    )
    assert resp.status_code == 201, resp.get_json()
    pid = new_project(api, resp.get_json()["id"], unique, years=(2030,))["id"]

    def reminders() -> list[dict]:
        return [n for n in notes(api, "xq.editor", pid) if n["kind"] == "reminder"]

    def remind(day: str) -> None:  # what `jixiao remind --today day` does
        with runtime.db.transaction(system="deadline reminders") as s:
            remind_all(s, date.fromisoformat(day))

    first = run_cli(settings, real_services, "remind", "--today", "2030-06-20")  # 10 days left: too early
    assert first.returncode == 0, first.stderr
    assert reminders() == []
    for _ in range(2):  # 5 days left: the 7-day threshold, once
        ran = run_cli(settings, real_services, "remind", "--today", "2030-06-25")
        assert ran.returncode == 0, ran.stderr
        assert "已发送截止提醒" in ran.stdout
    [seven] = reminders()
    assert "截止提醒" in seven["title"] and "剩余 5 天" in seven["title"] and seven["stage"] == "assessment"
    assert seven["link"] == f"/projects/{pid}/assessment"
    for day in ("2030-06-28", "2030-06-29"):  # the 3-day threshold, once
        remind(day)
    assert len(reminders()) == 2
    for _ in range(2):  # overdue, once
        remind("2030-07-02")
    assert len(reminders()) == 3 and "已逾期" in reminders()[0]["title"]
    # nobody else in the tenant acts on a draft assessment; a sibling hears nothing
    assert [n for n in notes(api, "xq.dept", pid) if n["kind"] == "reminder"] == []
    assert notes(api, "xx.editor", pid) == []

    # the targets: the same reminder whether or not a draft was saved in between
    through_assessment(api, pid)
    editor = api.as_user("xq.editor")

    def target_reminders() -> list[dict]:
        return [n for n in reminders() if n["stage"] == "targets"]

    remind("2030-09-28")
    assert len(target_reminders()) == 1
    assert (
        editor.put(
            f"/api/v1/projects/{pid}/targets", json={"overall_goal": "草稿", "indicators": []}
        ).status_code
        == 200
    )
    remind("2030-09-29")
    assert len(target_reminders()) == 1


def test_email_goes_out_by_a_job_to_users_with_an_address(api, smtp, program_id, unique):
    username = f"xq.mail{unique}"
    created = new_user(api, username, "邮件测试", ["project_editor"], email=f"{username}@czj.xq.test")
    assert created["email"] == f"{username}@czj.xq.test"
    bad = api.as_user("xq.admin").patch(f"/api/v1/users/{created['id']}", json={"email": "不是邮箱"})
    assert bad.status_code == 422 and "email" in bad.get_json()["errors"]

    pid = new_project(api, program_id, unique)["id"]
    name = api.as_user("xq.editor").get(f"/api/v1/projects/{pid}").get_json()["name"]
    through_assessment(api, pid)  # the targets now await every editor: a notification and an e-mail
    message = smtp.sink.wait_for(
        lambda m: (
            m["To"] == f"{username}@czj.xq.test"
            and name in str(m["Subject"])
            and "绩效目标" in str(m["Subject"])
        )
    )
    assert str(message["Subject"]).startswith("【预算绩效管理】待办")
    assert "jixiao@czt.nx.test" in str(message["From"])
    text = message.get_content()
    assert f"/projects/{pid}/targets" in text and "填报绩效目标" in text
    # users without an address get none
    assert (
        smtp.sink.matching(lambda m: name in str(m["Subject"]) and m["To"] != f"{username}@czj.xq.test") == []
    )
    api.as_user("xq.admin").patch(f"/api/v1/users/{created['id']}", json={"is_active": False})


def test_a_refused_email_is_recorded_and_never_marked_sent(api, runtime, smtp, program_id, unique):
    from sqlalchemy import select

    from jixiao.services.notifications.models import Delivery

    username = f"xq.bounce{unique}"
    created = new_user(api, username, "退信测试", ["project_editor"], email=f"bounce.{unique}@czj.xq.test")
    user_id = created["id"]
    pid = new_project(api, program_id, unique)["id"]
    through_assessment(api, pid)
    assert any("填报绩效目标" in n["title"] for n in notes(api, "xq.editor", pid))  # in-app all the same

    def deliveries() -> list[Delivery]:  # the new project's and the targets' notifications
        with runtime.db.transaction(system="test: read deliveries") as s:
            return list(s.execute(select(Delivery).where(Delivery.user_id == user_id)).scalars())

    deadline = time.monotonic() + 30
    while any(d.last_error is None for d in deliveries()) and time.monotonic() < deadline:
        time.sleep(0.2)
    rows = deliveries()
    assert len(rows) == 2
    for row in rows:
        assert row.status in ("pending", "failed") and row.sent_at is None  # retried by RQ, never "sent"
        assert row.attempts >= 1 and "mailbox unavailable" in (row.last_error or "")
    assert smtp.sink.matching(lambda m: m["To"] == f"bounce.{unique}@czj.xq.test") == []


def test_nobody_is_asked_to_act_where_the_chain_refuses_them(api, program_id, unique):
    """A bureau admin who filled the targets is not asked to 复核 them; a person holding both reviewer
    roles who passed 初审 is not asked (or reminded) to 复核 the same submission."""
    both = f"xq.both{unique}"
    created = new_user(api, both, "兼任审核人", ["dept_reviewer", "bureau_admin"])
    try:
        # the bureau admin fills and submits; the dual-role user passes 初审
        pid = new_project(api, program_id, unique)["id"]
        through_assessment(api, pid)
        admin = api.as_user("xq.admin")
        assert (
            admin.put(
                f"/api/v1/projects/{pid}/targets", json={"overall_goal": "目标", "indicators": lines()}
            ).status_code
            == 200
        )
        assert admin.post(f"/api/v1/projects/{pid}/targets/submit").status_code == 200
        assert [t["level"] for t in tasks(api, both, pid)] == ["first"]
        review(api, both, pid, "approve")
        assert tasks(api, both, pid) == []  # not again at 复核
        assert tasks(api, "xq.admin", pid) == []  # not one's own submission
        assert not [n for n in notes(api, both, pid) if n["kind"] == "task" and "复核" in n["title"]]
        assert not [n for n in notes(api, "xq.admin", pid) if n["kind"] == "task" and "复核" in n["title"]]
        # the chain agrees: both would be refused
        assert (
            api.as_user(both)
            .post(f"/api/v1/projects/{pid}/targets/reviews", json={"decision": "approve"})
            .status_code
            == 409
        )
    finally:
        api.as_user("xq.admin").patch(f"/api/v1/users/{created['id']}", json={"is_active": False})


def test_an_adjustment_is_a_task_without_the_programs_deadline(api, program_id, unique):
    pid = new_project(api, program_id, unique)["id"]
    through_assessment(api, pid)
    submit_targets(api, pid)
    review(api, "xq.dept", pid, "approve")
    review(api, "xq.admin", pid, "approve")
    # the targets are done; the monitoring rounds of the (past) project year are now due
    due = tasks(api, "xq.editor", pid)
    assert {(t["kind"], t["stage"]) for t in due} == {("fill", "monitoring")}
    assert sorted(t["title"] for t in due) == sorted(f"填报 2023-{m} 监控" for m in ("03", "09"))
    adjusted = api.as_user("xq.editor").post(
        f"/api/v1/projects/{pid}/targets/adjustments",
        json={"reason": "政策变化", "explanation": "省级补助标准上调，相应调整绩效目标"},
    )
    assert adjusted.status_code == 201, adjusted.get_json()
    [item] = [t for t in tasks(api, "xq.editor", pid) if t["stage"] == "targets"]
    assert item["kind"] == "fill" and item["version"] == 2 and "目标调整" in item["title"]
    assert item["deadline"] is None and item["overdue"] is False  # the 2022 deadline was the first version's


def test_the_other_editors_hear_of_a_new_project_and_of_an_adjustment(api, program_id, unique):
    colleague = f"xq.colleague{unique}"
    created = new_user(api, colleague, "同事", ["project_editor"])
    try:
        pid = new_project(api, program_id, unique)["id"]  # by xq.editor
        [task] = tasks(api, colleague, pid)
        assert task["kind"] == "fill" and task["stage"] == "assessment"
        assert any(n["kind"] == "task" and "填报事前评估" in n["title"] for n in notes(api, colleague, pid))
        assert not any("填报事前评估" in n["title"] for n in notes(api, "xq.editor", pid))  # one's own act
        through_assessment(api, pid)
        submit_targets(api, pid)
        review(api, "xq.dept", pid, "approve")
        review(api, "xq.admin", pid, "approve")
        adjusted = api.as_user("xq.editor").post(
            f"/api/v1/projects/{pid}/targets/adjustments",
            json={"reason": "突发事件", "explanation": "汛期受灾，部分工程需调整工期和目标"},
        )
        assert adjusted.status_code == 201
        assert any("目标调整" in n["title"] for n in notes(api, colleague, pid))
        assert not any("目标调整" in n["title"] for n in notes(api, "xq.editor", pid))
    finally:
        api.as_user("xq.admin").patch(f"/api/v1/users/{created['id']}", json={"is_active": False})


def test_the_resubmission_diff_behind_the_walls(api, program_id, unique):
    pid = new_project(api, program_id, unique)["id"]
    through_assessment(api, pid)
    submit_targets(api, pid)
    review(api, "xq.dept", pid, "return", relevance="请补充")
    submit_targets(api, pid, goal="完成 12 个小区改造，补充说明")
    url = f"/api/v1/projects/{pid}/targets/resubmission"
    assert api.as_user("xx.dept").get(url).status_code == 404  # a sibling county
    above = api.as_user("yc.admin").get(url)  # the city above reads it
    assert above.status_code == 200 and above.get_json()["resubmitted"] is True
    assert above.get_json()["diff"]["goals"]["overall_goal"][1] == "完成 12 个小区改造，补充说明"
