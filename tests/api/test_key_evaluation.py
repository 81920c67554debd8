"""The key evaluation (重点评价, issue 13 item 3) through HTTP: closed until the self-evaluation is
approved; the program's framework (the Ministry's 决策/过程/产出/效益, 15/15/35/35) as the starting
point; the rules of an adapted framework (each problem named); only a granted evaluator holding
`key_evaluation` writes it; save → submit → the bureau admin accepts (frozen, the stage approved)
or returns with an opinion; the comparison with the self-evaluation per level 1; the decision not
to run one; the walls. The pure rules and the comparison are checked first, without HTTP."""

from __future__ import annotations

import io
from datetime import date, timedelta
from decimal import Decimal

import pytest

from jixiao.services.evaluation.key import framework
from jixiao.services.programs.models import DEFAULT_SETTINGS
from tests.api.test_project_lifecycle import create_program, new_project, through_assessment
from tests.api.test_self_evaluation import approved_targets, body, finish_monitoring

EVALUATOR = "eval.ningping"


def item(dimension: str, name: str, weight: str, score: str | None = None, basis: str = "依据") -> dict:
    return {"dimension": dimension, "item": name, "weight": weight, "score": score, "basis": basis}


FOUR = [
    item("决策", "立项依据充分性", "15", "12"),
    item("过程", "预算执行率", "15", "13"),
    item("产出", "产出数量", "35", "30"),
    item("效益", "社会效益", "35", "31"),
]


# --- the rules, pure --------------------------------------------------------------------------


def test_the_default_framework_is_the_ministrys_and_keeps_the_rules():
    rows = DEFAULT_SETTINGS["key_evaluation"]["framework"]
    assert framework.problems_of(rows) == {}
    sums = framework.totals(framework.starting_items(rows))
    assert {d: sums.dimensions[d]["weight"] for d in framework.DIMENSIONS} == {
        "决策": Decimal(15),
        "过程": Decimal(15),
        "产出": Decimal(35),
        "效益": Decimal(35),
    }
    names = {row["item"] for row in rows}
    assert {
        "立项依据充分性",
        "资金到位率",
        "制度执行有效性",
        "产出时效",
        "可持续影响",
        "服务对象满意度",
    } <= names
    assert (sums.total, sums.grade, sums.complete) == (Decimal("0.00"), "差", False)


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ([*FOUR[:3], item("效益", "社会效益", "30", "20")], {"scores": ["各项权重合计须为 100，现为 95.00"]}),
        (
            [item("决策", "a", "30"), item("产出", "b", "35"), item("效益", "c", "35")],
            {"scores": ["缺少一级指标：过程（决策、过程、产出、效益四项须齐全）"]},
        ),
        (
            [*FOUR[:2], item("产出", "产出数量", "35", "36"), FOUR[3]],
            {"scores.3.score": ["第 3 项「产出数量」：得分 36 超过其权重 35"]},
        ),
        (
            [*FOUR[:3], item("效益", "社会效益", "35", "-1")],
            {"scores.4.score": ["第 4 项「社会效益」：得分不能为负数"]},
        ),
        (
            [item("成本", "x", "15", "1"), *FOUR[1:]],
            {
                "scores.1.dimension": ["第 1 项「x」：一级指标须为 决策、过程、产出、效益 之一"],
                "scores": ["缺少一级指标：决策（决策、过程、产出、效益四项须齐全）"],
            },
        ),
        (
            [item("决策", "", "15", "1.234"), *FOUR[1:]],
            {
                "scores.1.item": ["第 1 项：请填写评价指标名称"],
                "scores.1.score": ["第 1 项：得分须为最多两位小数的数字，「1.234」无效"],
            },
        ),
        (
            [*FOUR, item("效益", "社会效益", "0")],
            {
                "scores.5.item": ["第 5 项「社会效益」：与同一一级指标下的另一项重名"],
                "scores.5.weight": ["第 5 项「社会效益」：权重（分值）须为 0–100 之间、最多两位小数的正数"],
            },
        ),
    ],
    ids=[
        "weights-not-100",
        "missing-dimension",
        "score-above-weight",
        "negative",
        "unknown-dimension",
        "bad-numbers",
        "duplicate-zero-weight",
    ],
)
def test_every_broken_rule_is_named(rows, expected):
    assert framework.problems_of(rows) == expected


def test_total_and_grade_half_up():
    rows = [
        item("决策", "a", "15", "14.5"),
        item("过程", "b", "15", "14.25"),
        item("产出", "c", "35", "31"),
        item("效益", "d", "35", "30.25"),
    ]
    sums = framework.totals(framework.parse(rows))
    assert (sums.total, sums.grade, sums.complete) == (Decimal("90.00"), "优", True)


def test_the_comparison_rates_the_dimensions_and_says_which_have_no_counterpart():
    key = framework.totals(framework.parse(FOUR))
    groups = {  # the worked example's self-evaluation: 产出 incl. 成本 24 + 18.18…, 效益 30, 满意度 9.44…
        "产出": (Decimal(50), Decimal(24) + Decimal(200) / Decimal(11)),
        "效益": (Decimal(30), Decimal(30)),
        "满意度": (Decimal(10), Decimal(10) * Decimal(85) / Decimal(90)),
    }
    shown = framework.compare(key, groups, Decimal("90.83"), "优")
    assert (shown["key_score"], shown["self_score"], shown["difference"]) == ("86.00", "90.83", "-4.83")
    rows = {row["dimension"]: row for row in shown["dimensions"]}
    assert rows["决策"]["note"] == rows["过程"]["note"] == framework.NO_COUNTERPART
    assert rows["决策"]["difference"] is None
    assert (rows["产出"]["key_rate"], rows["产出"]["self_rate"], rows["产出"]["difference"]) == (
        "85.71",
        "84.36",
        "1.35",
    )
    assert (rows["效益"]["key_rate"], rows["效益"]["self_rate"], rows["效益"]["difference"]) == (
        "88.57",
        "98.61",
        "-10.04",
    )
    assert rows["效益"]["large_gap"] and not rows["产出"]["large_gap"] and not shown["large_gap"]
    assert framework.compare(key, None, None, None)["dimensions"][2]["note"] == "尚无自评"


# --- through HTTP ----------------------------------------------------------------------------------


def path(pid: int, tail: str = "") -> str:
    return f"/api/v1/projects/{pid}/evaluation{tail}"


@pytest.fixture()
def program_id(api, unique) -> int:
    return create_program(api, unique, 10)


def through_self_evaluation(api, program_id: int, unique: str) -> int:
    """A 兴庆区 project whose self-evaluation (the worked example, 90.83 优) is approved."""
    pid = new_project(api, program_id, unique)["id"]
    through_assessment(api, pid)
    ids = approved_targets(api, pid)
    finish_monitoring(api, pid)
    assert (
        api.as_user("xq.editor")
        .post(f"/api/v1/projects/{pid}/self-evaluation/submit", json=body(ids))
        .status_code
        == 200
    )
    for who in ("xq.dept", "xq.admin"):
        done = api.as_user(who).post(
            f"/api/v1/projects/{pid}/self-evaluation/reviews", json={"decision": "approve"}
        )
        assert done.status_code == 200, done.get_json()
    return pid


@pytest.fixture()
def opened(api, program_id, unique) -> int:
    return through_self_evaluation(api, program_id, unique)


def grant(api, pid: int, actions: list[str]) -> dict:
    admin = api.as_user("xq.admin")
    orgs = admin.get("/api/v1/evaluator-orgs").get_json()["items"]
    org = next(o for o in orgs if "宁夏绩评" in o["name"])
    made = admin.post(
        f"/api/v1/projects/{pid}/grants",
        json={
            "evaluator_org_id": org["id"],
            "actions": actions,
            "expires_at": (date.today() + timedelta(days=1)).isoformat(),
        },
    )
    assert made.status_code == 201, made.get_json()
    return made.get_json()


def stage_status(api, pid: int) -> str:
    stages = api.as_user("xq.editor").get(f"/api/v1/projects/{pid}").get_json()["stages"]
    return {s["stage"]: s["status"] for s in stages}["evaluation"]


def test_closed_until_the_self_evaluation_is_approved(api, program_id, unique):
    pid = new_project(api, program_id, unique)["id"]
    through_assessment(api, pid)
    for who in ("xq.editor", "xq.admin"):
        refused = api.as_user(who).get(path(pid))
        assert (
            refused.status_code == 409
            and refused.get_json()["message"] == "自评尚未审核通过，不能开展重点评价"
        )
    skip = api.as_user("xq.admin").post(path(pid, "/skip"), json={"reason": "小额项目"})
    assert skip.status_code == 409


def test_the_tenant_reads_the_framework_and_the_self_evaluation_but_never_writes_it(api, opened):
    pid = opened
    editor = api.as_user("xq.editor")
    shown = editor.get(path(pid))
    assert shown.status_code == 200, shown.get_json()
    ev = shown.get_json()
    assert ev["status"] == "draft" and ev["lock_version"] is None and len(ev["scores"]) == 20
    assert [d["weight"] for d in ev["dimensions"]] == ["15.00", "15.00", "35.00", "35.00"]
    assert (ev["comparison"]["self_score"], ev["comparison"]["self_grade"]) == ("90.83", "优")
    rows = {row["dimension"]: row for row in ev["comparison"]["dimensions"]}
    assert (rows["产出"]["self_rate"], rows["效益"]["self_rate"]) == ("84.36", "98.61")
    assert rows["过程"]["note"] == framework.NO_COUNTERPART
    for who in ("xq.editor", "xq.admin"):
        refused = api.as_user(who).put(path(pid), json={"scores": FOUR})
        assert refused.status_code == 403  # (their tokens lack evaluations:write: only evaluators write)
    assert api.as_user("xx.admin").get(path(pid)).status_code == 404  # a sibling
    assert (
        api.as_user("xx.admin").post(path(pid, "/decision"), json={"decision": "accept"}).status_code == 404
    )
    assert api.as_user("yc.admin").get(path(pid)).status_code == 200  # the city above reads
    assert api.as_user("yc.admin").post(path(pid, "/skip"), json={"reason": "x"}).status_code == 403
    nothing = api.as_user("xq.admin").post(path(pid, "/decision"), json={"decision": "accept"})
    assert (
        nothing.status_code == 409 and nothing.get_json()["message"] == "重点评价尚未提交，没有待审定的评价"
    )


def test_the_bureau_may_decide_to_run_none(api, opened):
    pid = opened
    admin = api.as_user("xq.admin")
    assert admin.post(path(pid, "/skip"), json={"reason": "  "}).status_code == 422
    assert api.as_user("xq.editor").post(path(pid, "/skip"), json={"reason": "小额项目"}).status_code == 403
    done = admin.post(path(pid, "/skip"), json={"reason": "延续性小额项目，不列入重点评价范围"})
    assert done.status_code == 200, done.get_json()
    assert done.get_json()["status"] == "skipped" and stage_status(api, pid) == "approved"
    assert admin.post(path(pid, "/skip"), json={"reason": "again"}).status_code == 409
    trail = admin.get(
        "/api/v1/audit-events", query_string={"object_id": pid, "action": "key_evaluation.skip"}
    )
    assert trail.status_code == 200 and trail.get_json()["total"] >= 1


# --- with a grant (services/grants) ------------------------------------------------------------------


def test_an_evaluator_without_a_grant_sees_nothing_and_without_key_evaluation_is_refused(api, opened):
    pid = opened
    evaluator = api.as_user(EVALUATOR)
    assert evaluator.get(path(pid)).status_code == 404
    assert evaluator.put(path(pid), json={"scores": FOUR}).status_code == 404
    grant(api, pid, ["read"])
    for resp in (evaluator.get(path(pid)), evaluator.put(path(pid), json={"scores": FOUR})):
        assert resp.status_code == 403 and "key_evaluation" in resp.get_json()["message"]


def test_rules_are_named_through_http(api, opened):
    pid = opened
    grant(api, pid, ["read", "key_evaluation"])
    evaluator = api.as_user(EVALUATOR)
    bad = [item("决策", "a", "15", "16"), item("产出", "b", "35"), item("效益", "c", "35")]
    refused = evaluator.put(path(pid), json={"scores": bad})
    assert refused.status_code == 422
    errors = refused.get_json()["errors"]
    assert errors["scores.1.score"] == ["第 1 项「a」：得分 16 超过其权重 15"]
    assert errors["scores"] == [
        "缺少一级指标：过程（决策、过程、产出、效益四项须齐全）",
        "各项权重合计须为 100，现为 85.00",
    ]
    assert evaluator.get(path(pid)).get_json()["lock_version"] is None  # nothing half-written
    stranger = evaluator.put(path(pid), json={"scores": FOUR, "report_evidence_id": 999999999})
    assert (
        stranger.status_code == 422 and "999999999" in stranger.get_json()["errors"]["report_evidence_id"][0]
    )


def test_save_submit_accept_freezes_it_and_approves_the_stage(api, opened):
    pid = opened
    grant(api, pid, ["read", "key_evaluation", "evidence_read"])
    evaluator, admin = api.as_user(EVALUATOR), api.as_user("xq.admin")
    draft = [*FOUR[:3], item("效益", "社会效益", "35", None)]
    saved = evaluator.put(path(pid), json={"scores": draft, "findings": "进度滞后"})
    assert saved.status_code == 200, saved.get_json()
    assert (saved.get_json()["score"], saved.get_json()["complete"]) == ("55.00", False)
    gaps = evaluator.post(path(pid, "/submit"))
    assert gaps.status_code == 422
    assert set(gaps.get_json()["errors"]) == {"scores.4.score", "recommendations"}
    done = evaluator.post(
        path(pid, "/submit"), json={"scores": FOUR, "findings": "进度滞后", "recommendations": "加强调度"}
    )
    assert done.status_code == 200, done.get_json()
    shown = done.get_json()
    assert (shown["status"], shown["score"], shown["grade"]) == ("submitted", "86.00", "良")
    comparison = shown["comparison"]
    assert (comparison["difference"], comparison["self_score"]) == ("-4.83", "90.83")
    rows = {row["dimension"]: row for row in comparison["dimensions"]}
    assert (rows["产出"]["difference"], rows["效益"]["difference"], rows["效益"]["large_gap"]) == (
        "1.35",
        "-10.04",
        True,
    )
    assert evaluator.put(path(pid), json={"scores": FOUR}).status_code == 409  # awaiting the bureau
    assert evaluator.post(path(pid, "/decision"), json={"decision": "accept"}).status_code == 403
    accepted = admin.post(path(pid, "/decision"), json={"decision": "accept", "opinion": "同意"})
    assert accepted.status_code == 200 and accepted.get_json()["status"] == "accepted"
    assert stage_status(api, pid) == "approved"
    frozen = evaluator.put(path(pid), json={"scores": FOUR})
    assert frozen.status_code == 409 and "冻结" in frozen.get_json()["message"]
    twice = admin.post(path(pid, "/decision"), json={"decision": "accept"})
    assert twice.status_code == 409 and twice.get_json()["message"] == "重点评价已审定通过，不能重复审定"
    assert api.as_user("xq.editor").get(path(pid)).get_json()["score"] == "86.00"  # the editors read it


def test_a_return_goes_back_to_the_evaluator_with_the_opinion(api, opened):
    pid = opened
    grant(api, pid, ["read", "key_evaluation"])
    evaluator, admin = api.as_user(EVALUATOR), api.as_user("xq.admin")
    full = {"scores": FOUR, "findings": "进度滞后", "recommendations": "加强调度"}
    assert evaluator.post(path(pid, "/submit"), json=full).status_code == 200
    assert admin.post(path(pid, "/decision"), json={"decision": "return"}).status_code == 422  # say why
    returned = admin.post(
        path(pid, "/decision"), json={"decision": "return", "opinion": "效益的评分依据不足"}
    )
    assert returned.status_code == 200 and returned.get_json()["status"] == "returned"
    shown = evaluator.get(path(pid)).get_json()
    assert shown["decisions"][-1]["opinion"] == "效益的评分依据不足" and stage_status(api, pid) == "draft"
    # the evaluator has it back in its 待办 and is told why
    items = evaluator.get("/api/v1/me/tasks?page_size=200").get_json()["items"]
    assert any(
        t["project_id"] == pid and t["kind"] == "revise" and "效益的评分依据不足" in t["detail"]
        for t in items
    )
    notes = evaluator.get("/api/v1/me/notifications?page_size=200").get_json()["items"]
    assert any(n["project_id"] == pid and "修改退回的重点评价" in n["title"] for n in notes)
    again = evaluator.put(
        path(pid),
        json={**full, "scores": [*FOUR[:3], item("效益", "社会效益", "35", "33", "满意度调查 600 份")]},
    )
    assert again.status_code == 200 and again.get_json()["status"] == "draft"
    assert evaluator.post(path(pid, "/submit")).get_json()["score"] == "88.00"


def test_the_report_file_the_program_requires_is_asked_for_on_submit(api, unique):
    """A program requiring 评价报告 for the key evaluation: the submit names it until it is uploaded
    and the evaluator chooses it as the report (which must be this project's evidence of the stage)."""
    program = create_program(api, unique, 10)
    province = api.as_user("nx.admin")
    current = province.get(f"/api/v1/programs/{program}").get_json()
    changed = province.patch(
        f"/api/v1/programs/{program}",
        json={
            "version": current["version"],
            "settings": {"evidence": {"required_purposes": {"evaluation": ["评价报告"]}}},
        },
    )
    assert changed.status_code == 200, changed.get_json()
    pid = through_self_evaluation(api, program, unique)
    grant(api, pid, ["read", "key_evaluation", "evidence_read", "evidence_write"])
    evaluator = api.as_user(EVALUATOR)
    full = {"scores": FOUR, "findings": "进度滞后", "recommendations": "加强调度"}
    assert evaluator.put(path(pid), json=full).status_code == 200
    refused = evaluator.post(path(pid, "/submit"))
    assert refused.status_code == 422
    errors = refused.get_json()["errors"]
    assert "评价报告" in errors["evidence"][0] and errors["report_evidence_id"] == [
        "本试点要求提交评价报告：请选择评价报告文件"
    ]
    # (uploaded by the project's editor here: an evaluator's own upload, through `evidence_write`,
    # is the grants' part)
    uploaded = api.as_user("xq.editor").post(
        f"/api/v1/projects/{pid}/evidence",
        data={
            "stage": "evaluation",
            "purpose": "评价报告",
            "file": (io.BytesIO(b"%PDF-1.7\n" + b"0" * 64), "评价报告.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert uploaded.status_code == 201, uploaded.get_json()
    report = uploaded.get_json()["id"]
    assert evaluator.put(path(pid), json={**full, "report_evidence_id": report}).status_code == 200
    done = evaluator.post(path(pid, "/submit"))
    assert done.status_code == 200, done.get_json()
    assert done.get_json()["report"]["filename"] == "评价报告.pdf"


# --- the pages (server side) -------------------------------------------------------------------------


def test_the_pages_walls_panel_and_a_refused_form(app, api, opened):
    from tests.api.test_self_evaluation_pages import browser

    pid = opened
    editor, _ = browser(app, "xq.editor")
    overview = editor.get(f"/projects/{pid}")
    assert overview.status_code == 200 and "重点评价" in overview.get_data(as_text=True)
    for tail in ("", "/compare", "/decision", "/print"):
        page = editor.get(f"/projects/{pid}/evaluation{tail}")
        assert page.status_code == 200, tail
        assert "data-key-form" not in page.get_data(as_text=True)  # the editors read it
    assert "自评不含此项" in editor.get(f"/projects/{pid}/evaluation/compare").get_data(as_text=True)
    sibling, _ = browser(app, "xx.admin")
    assert sibling.get(f"/projects/{pid}/evaluation").status_code == 404
    assert sibling.get(f"/projects/{pid}/evaluation/print").status_code == 404

    grant(api, pid, ["read", "key_evaluation"])
    evaluator, token = browser(app, EVALUATOR)
    shown = evaluator.get(f"/projects/{pid}/evaluation")
    assert shown.status_code == 200 and "data-key-form" in shown.get_data(as_text=True)
    posted = {
        "csrf_token": token,
        "dimension[]": ["决策", "产出", "效益"],
        "group[]": ["", "", ""],
        "item[]": ["立项依据充分性", "产出数量", "社会效益"],
        "weight[]": ["30", "35", "35"],
        "score[]": ["31", "30", ""],
        "basis[]": ["", "", ""],
        "findings": "进度滞后",
        "recommendations": "",
        "action": "save",
    }
    refused = evaluator.post(f"/projects/{pid}/evaluation", data=posted)
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "缺少一级指标：过程" in page and "得分 31 超过其权重 30" in page and "进度滞后" in page
    posted.update({"dimension[]": ["决策", "过程", "产出", "效益"], "group[]": ["", "", "", ""]})
    posted.update({"item[]": ["立项依据充分性", "预算执行率", "产出数量", "社会效益"]})
    posted.update(
        {
            "weight[]": ["15", "15", "35", "35"],
            "score[]": ["12", "13", "30", ""],
            "basis[]": ["a", "b", "c", ""],
        }
    )
    saved = evaluator.post(f"/projects/{pid}/evaluation", data=posted)
    assert saved.status_code == 302
    assert api.as_user("xq.admin").get(path(pid)).get_json()["score"] == "55.00"

    admin, admin_token = browser(app, "xq.admin")
    assert 'data-testid="skip-form"' in admin.get(f"/projects/{pid}/evaluation/decision").get_data(
        as_text=True
    )
    skipped = admin.post(
        f"/projects/{pid}/evaluation/decision",
        data={"csrf_token": admin_token, "action": "skip", "reason": "不列入重点评价"},
    )
    assert skipped.status_code == 302 and stage_status(api, pid) == "approved"
    frozen = evaluator.get(f"/projects/{pid}/evaluation").get_data(as_text=True)
    assert "data-key-form" not in frozen and "不开展重点评价" in frozen
