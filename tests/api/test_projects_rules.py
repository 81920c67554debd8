"""Pilot programs, projects and the ex-ante assessment through HTTP: who may create what, every bad
input named, the walls around a county's project, stage deadlines, and the assessment's rules
(DESIGN.md §4–§6, API.md "Programs and projects").

Tests bring their own programs (the demo's allows 2 projects per tenant and the database is shared
by the whole session); names carry a random suffix.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

import pytest

from tests.support.api import UserClient

CHINESE = re.compile(r"[\u4e00-\u9fff]")
PROGRAMS = "/api/v1/programs"
PROJECTS = "/api/v1/projects"
DEMO_PROGRAM = "市县预算绩效一体化管理试点"
STAGES = ["assessment", "targets", "monitoring", "self_evaluation", "evaluation", "result_application"]
CRITERIA_KEYS = (
    "necessity",
    "economy",
    "target_reasonableness",
    "plan_effectiveness",
    "funding_compliance",
    "fiscal_affordability",
)
CRITERIA = {key: {"score": "85", "opinion": "符合要求"} for key in CRITERIA_KEYS}
FUND_SOURCES = (
    "一般公共预算",
    "政府性基金",
    "国有资本经营",
    "社会保险基金",
    "直达资金",
    "上级转移支付",
    "本级专项",
)
PROJECT_CLASSES = ("工程基建", "大型修缮及购置", "会议", "培训", "信息化建设", "设备购置")


# --- helpers ----------------------------------------------------------------------------------


def _ok(resp: Any, status: int = 200) -> Any:
    assert resp.status_code == status, (resp.status_code, resp.get_json())
    return resp.get_json()


def _error(resp: Any, status: int) -> str:
    """The status, the error body's shape, and its (Chinese) message."""
    body = resp.get_json()
    assert resp.status_code == status, (resp.status_code, body)
    assert body["code"] == status and CHINESE.search(body["message"]), body
    return str(body["message"])


def _problems(resp: Any) -> dict[str, list[str]]:
    """422's errors, flattened: schema errors sit under `json`, domain errors at the top."""
    _error(resp, 422)
    problems: dict[str, list[str]] = {}
    for key, value in (resp.get_json().get("errors") or {}).items():
        problems.update(value if key in ("json", "query") else {key: value})
    return problems


def _text(messages: Any) -> str:
    return str(messages)


def _program_body(name: str, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": name,
        "start": "2022-08-01",
        "end": "2099-12-31",
        "tenant_codes": ["640104", "640105", "640100"],
        "max_projects_per_tenant": 20,
        "deadlines": {"assessment": "2022-10-31", "targets": "2022-12-31"},
    }
    body.update(overrides)
    return body


def _program(api: Any, name: str, **overrides: Any) -> dict[str, Any]:
    created: dict[str, Any] = _ok(
        api.as_user("nx.admin").post(PROGRAMS, json=_program_body(name, **overrides)), 201
    )
    return created


def _project_body(program_id: int, name: str, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "program_id": program_id,
        "name": name,
        "department": "住房和城乡建设局",
        "implementing_unit": "城市建设服务中心",
        "budget_amount": "1250000.00",
        "fund_source": "一般公共预算",
        "project_class": "工程基建",
        "years": [2023],
        "serves_public": True,
    }
    body.update(overrides)
    return body


def _project(
    api: Any, program_id: int, name: str, user: str = "xq.editor", **overrides: Any
) -> dict[str, Any]:
    created: dict[str, Any] = _ok(
        api.as_user(user).post(PROJECTS, json=_project_body(program_id, name, **overrides)), 201
    )
    return created


def _all_programs(client: UserClient) -> dict[int, dict[str, Any]]:
    found: dict[int, dict[str, Any]] = {}
    page = 1
    while True:
        body = _ok(client.get(f"{PROGRAMS}?page={page}&page_size=200"))
        found.update({p["id"]: p for p in body["items"]})
        if len(found) >= body["total"] or not body["items"]:
            return found
        page += 1


def _all_projects(client: UserClient, query: str = "") -> dict[int, dict[str, Any]]:
    found: dict[int, dict[str, Any]] = {}
    page = 1
    while True:
        body = _ok(client.get(f"{PROJECTS}?page={page}&page_size=200&{query}"))
        found.update({p["id"]: p for p in body["items"]})
        if len(found) >= body["total"] or not body["items"]:
            return found
        page += 1


def _submit_assessment(api: Any, pid: int, user: str = "xq.editor") -> None:
    client = api.as_user(user)
    _ok(client.put(f"{PROJECTS}/{pid}/assessment", json={"criteria": CRITERIA, "summary": "建议支持"}))
    assert _ok(client.post(f"{PROJECTS}/{pid}/assessment/submit"))["status"] == "submitted"


def _decide(api: Any, pid: int, conclusion: str = "support", opinion: str = "同意立项") -> dict[str, Any]:
    decided: dict[str, Any] = _ok(
        api.as_user("xq.admin").post(
            f"{PROJECTS}/{pid}/assessment/decision", json={"conclusion": conclusion, "opinion": opinion}
        )
    )
    return decided


def _target_lines() -> list[dict[str, Any]]:
    def line(name: str, level2: str, value: str, unit: str, weight: str) -> dict[str, Any]:
        return {
            "name": name,
            "level2": level2,
            "value_type": "quantitative",
            "direction": ">=",
            "target_value": value,
            "unit": unit,
            "weight": weight,
            "value_basis": "计划标准",
        }

    return [
        line("改造小区数量", "数量", "12", "个", "30"),
        {**line("项目总成本", "经济成本", "1250000", "元", "20"), "direction": "<="},
        line("受益居民户数", "社会效益", "3000", "户", "30"),
        line("居民满意度", "服务对象满意度", "90", "%", "20"),
    ]


@pytest.fixture(scope="module")
def program(api: Any) -> dict[str, Any]:
    """xq, xx and the city take part; assessment due 2022-10-31, targets 2022-12-31 (both past)."""
    return _program(api, f"项目规则试点{secrets.token_hex(3)}")


# --- programs ---------------------------------------------------------------------------------


def test_only_the_province_admin_creates_programs(api, unique):
    body = _program_body(f"越权试点{unique}")
    for user in ("xq.admin", "yc.admin", "xq.editor"):
        _error(api.as_user(user).post(PROGRAMS, json=body), 403)
    nx = api.as_user("nx.admin")
    assert body["name"] not in {p["name"] for p in _all_programs(nx).values()}
    created = _ok(nx.post(PROGRAMS, json=body), 201)
    assert created["tenant_codes"] == ["640100", "640104", "640105"]
    assert created["max_projects_per_tenant"] == 20 and created["deadlines"]["assessment"] == "2022-10-31"
    again = _problems(nx.post(PROGRAMS, json=body))  # the name is unique within the province
    assert "name" in again and body["name"] in _text(again["name"])


@pytest.mark.parametrize(
    ("overrides", "field", "named"),
    [
        ({"name": None}, "name", None),
        ({"name": "   "}, "name", None),
        ({"name": "长" * 201}, "name", None),
        ({"start": "2024-06-30", "end": "2022-08-01", "deadlines": {}}, "end", None),
        ({"tenant_codes": ["640104", "659999"]}, "tenant_codes", "659999"),
        ({"tenant_codes": ["640000", "640104"]}, "tenant_codes", "640000"),
        ({"tenant_codes": ["650102"]}, "tenant_codes", "650102"),  # 乌鲁木齐天山区: not in this system
        ({"tenant_codes": []}, "tenant_codes", None),
        ({"deadlines": {"review": "2023-01-01"}}, "deadlines", "review"),
        ({"deadlines": {"assessment": "2100-01-01"}}, "deadlines", "事前评估"),
        ({"deadlines": {"targets": "2022-07-31"}}, "deadlines", "绩效目标"),
        ({"max_projects_per_tenant": 0}, "max_projects_per_tenant", None),
        ({"max_projects_per_tenant": -1}, "max_projects_per_tenant", None),
    ],
    ids=[
        "no-name",
        "blank-name",
        "name-too-long",
        "end-before-start",
        "unknown-code",
        "the-province-itself",
        "another-provinces-code",
        "no-participants",
        "unknown-stage",
        "deadline-after-end",
        "deadline-before-start",
        "limit-0",
        "limit-negative",
    ],
)
def test_a_bad_program_names_the_field(api, unique, overrides, field, named):
    body = {**_program_body(f"坏试点{unique}"), **overrides}
    if body["name"] is None:
        del body["name"]
    problems = _problems(api.as_user("nx.admin").post(PROGRAMS, json=body))
    assert field in problems, problems
    if named:
        assert named in _text(problems[field]), problems


def test_every_bad_program_field_is_named_at_once(api, unique):
    body = _program_body(
        "",
        start="2024-06-30",
        end="2022-08-01",
        tenant_codes=["640000", "659999"],
        max_projects_per_tenant=0,
        deadlines={},
    )
    problems = _problems(api.as_user("nx.admin").post(PROGRAMS, json=body))
    assert {"name", "end", "tenant_codes", "max_projects_per_tenant"} <= set(problems), problems
    assert "640000" in _text(problems["tenant_codes"]) and "659999" in _text(problems["tenant_codes"])


def test_a_county_sees_the_programs_it_takes_part_in_only(api, unique):
    ours = _program(api, f"兴庆参与试点{unique}", tenant_codes=["640104"])
    theirs = _program(api, f"西夏独有试点{unique}", tenant_codes=["640105"])
    xq = api.as_user("xq.editor")
    names = {p["name"] for p in _all_programs(xq).values()}
    assert DEMO_PROGRAM in names and ours["name"] in names
    assert theirs["name"] not in names
    _error(xq.get(f"{PROGRAMS}/{theirs['id']}"), 404)
    assert _ok(xq.get(f"{PROGRAMS}/{ours['id']}"))["name"] == ours["name"]
    # the owner of the program, the participant and the city above it read it
    for user in ("nx.admin", "xx.editor", "yc.admin"):
        assert _ok(api.as_user(user).get(f"{PROGRAMS}/{theirs['id']}"))["tenant_codes"] == ["640105"], user
    assert theirs["name"] not in {p["name"] for p in _all_programs(api.as_user("xq.admin")).values()}


def test_effective_settings_are_the_defaults_with_the_overrides(api, unique):
    overrides = {
        "monitoring": {"completion_green": 95},
        "target_weights_total": 10,
        "evidence": {"max_size_mib": 50},
    }
    created = _program(api, f"设置试点{unique}", settings=overrides)
    plain = _program(api, f"默认设置试点{unique}")
    for shown in (
        created["settings"],
        _ok(api.as_user("xq.editor").get(f"{PROGRAMS}/{created['id']}"))["settings"],
    ):
        assert shown["monitoring"] == {
            "periods": [3, 9],
            "completion_green": 95,
            "completion_yellow": 70,
            "budget_lag_yellow": 10,
            "budget_lag_red": 20,
        }
        assert shown["target_weights_total"] == 10
        assert shown["self_evaluation"]["budget_points"] == 10
        assert shown["self_evaluation"]["indicator_points"] == {"产出": 50, "效益": 30, "满意度": 10}
        assert shown["evidence"]["max_size_mib"] == 50 and "pdf" in shown["evidence"]["allowed_types"]
    defaults = plain["settings"]
    assert defaults["monitoring"] == {
        "periods": [3, 9],
        "completion_green": 90,
        "completion_yellow": 70,
        "budget_lag_yellow": 10,
        "budget_lag_red": 20,
    }
    assert defaults["target_weights_total"] == 100 and defaults["evidence"]["max_size_mib"] == 200


# --- projects: input --------------------------------------------------------------------------


def test_money_is_a_string_with_two_decimals(api, program, unique):
    made = _project(api, program["id"], f"金额{unique}", budget_amount="1250000.5")
    assert made["budget_amount"] == "1250000.50"
    shown = _ok(api.as_user("xq.editor").get(f"{PROJECTS}/{made['id']}"))
    assert shown["budget_amount"] == "1250000.50"
    listed = _all_projects(api.as_user("yc.admin"), f"program_id={program['id']}")
    assert listed[made["id"]]["budget_amount"] == "1250000.50"
    assert _project(api, program["id"], f"整数金额{unique}", budget_amount="980")["budget_amount"] == "980.00"


@pytest.mark.parametrize(
    "budget",
    [12.5, 1250000.0, "-5", "abc", "1.234", "0", "", None, "1e5", "12345678901234567"],
    ids=lambda b: repr(b),
)
def test_a_bad_budget_is_refused(api, program, unique, budget):
    problems = _problems(
        api.as_user("xq.editor").post(
            PROJECTS, json=_project_body(program["id"], f"坏金额{unique}", budget_amount=budget)
        )
    )
    assert "budget_amount" in problems, problems


def test_unknown_fund_source_and_class_list_the_allowed_values(api, program, unique):
    problems = _problems(
        api.as_user("xq.editor").post(
            PROJECTS,
            json=_project_body(program["id"], f"坏类别{unique}", fund_source="地方债", project_class="杂项"),
        )
    )
    assert {"fund_source", "project_class"} <= set(problems), problems
    for value in FUND_SOURCES:
        assert value in _text(problems["fund_source"]), value
    for value in PROJECT_CLASSES:
        assert value in _text(problems["project_class"]), value


@pytest.mark.parametrize(
    "years", [[2021], [2100], [2023, 2100], ["abc"], [], [2023.5]], ids=lambda y: repr(y)
)
def test_years_outside_the_program_period_are_refused(api, program, unique, years):
    problems = _problems(
        api.as_user("xq.editor").post(
            PROJECTS, json=_project_body(program["id"], f"坏年度{unique}", years=years)
        )
    )
    assert "years" in problems, problems


def test_a_project_spanning_years_keeps_them(api, program, unique):
    made = _project(api, program["id"], f"跨年度{unique}", years=[2022, 2024])
    assert made["years"] == [2022, 2023, 2024]


def test_text_longer_than_its_column_is_refused_not_a_server_error(api, program, unique):
    problems = _problems(
        api.as_user("xq.editor").post(
            PROJECTS,
            json=_project_body(
                program["id"], "名" * 201, department="部" * 101, implementing_unit="单" * 101
            ),
        )
    )
    assert {"name", "department", "implementing_unit"} <= set(problems), problems


def test_a_duplicate_name_in_the_program_is_refused_but_a_sibling_may_use_it(api, program, unique):
    name = f"同名{unique}"
    _project(api, program["id"], name)
    problems = _problems(api.as_user("xq.admin").post(PROJECTS, json=_project_body(program["id"], name)))
    assert name in _text(problems["name"])
    assert _project(api, program["id"], name, user="xx.editor")["tenant_code"] == "640105"


def test_the_per_tenant_limit(api, unique):
    limited = _program(api, f"限额试点{unique}", max_projects_per_tenant=1)
    _project(api, limited["id"], f"限额一{unique}")
    message = _error(
        api.as_user("xq.admin").post(PROJECTS, json=_project_body(limited["id"], f"限额二{unique}")), 409
    )
    assert "至多" in message and "1" in message
    # per tenant: the sibling still has its own one
    _project(api, limited["id"], f"限额一{unique}", user="xx.editor")
    mine = _all_projects(api.as_user("xq.editor"), f"program_id={limited['id']}")
    assert [p["name"] for p in mine.values()] == [f"限额一{unique}"]


def test_a_tenant_outside_the_program_cannot_apply(api, unique):
    county_only = _program(api, f"仅兴庆试点{unique}", tenant_codes=["640104"])
    # the city sees the program (its county takes part) but does not take part itself
    message = _error(
        api.as_user("yc.admin").post(PROJECTS, json=_project_body(county_only["id"], f"市级{unique}")), 409
    )
    assert "640100" in message
    # a county of another branch does not even see it
    _error(
        api.as_user("xx.editor").post(PROJECTS, json=_project_body(county_only["id"], f"西夏{unique}")), 404
    )
    assert _all_projects(api.as_user("nx.admin"), f"program_id={county_only['id']}") == {}


def test_who_may_create_a_project(api, program, unique):
    _error(api.as_user("xq.dept").post(PROJECTS, json=_project_body(program["id"], f"部门{unique}")), 403)
    _error(api.as_user("nx.admin").post(PROJECTS, json=_project_body(program["id"], f"省级{unique}")), 403)
    # the city cannot file one for its county (there is no such field) …
    problems = _problems(
        api.as_user("yc.admin").post(
            PROJECTS, json={**_project_body(program["id"], f"代报{unique}"), "tenant_code": "640104"}
        )
    )
    assert "tenant_code" in problems
    assert not [
        p
        for p in _all_projects(api.as_user("xq.editor"), "tenant_code=640104").values()
        if p["name"] == f"代报{unique}"
    ]
    # … but files its own, the city taking part in this program
    own = _project(api, program["id"], f"市级项目{unique}", user="yc.admin")
    assert own["tenant_code"] == "640100"
    _error(api.as_user("xq.admin").get(f"{PROJECTS}/{own['id']}"), 404)  # not visible downwards


# --- the walls --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def walled(api: Any, program: dict[str, Any]) -> dict[str, Any]:
    """A 兴庆区 project at the targets stage with a saved draft."""
    made = _project(api, program["id"], f"围墙{secrets.token_hex(3)}")
    _submit_assessment(api, made["id"])
    _decide(api, made["id"])
    _ok(
        api.as_user("xq.editor").put(
            f"{PROJECTS}/{made['id']}/targets",
            json={"overall_goal": "完成改造", "indicators": _target_lines()},
        )
    )
    template = _ok(api.as_user("xq.editor").get("/api/v1/indicator-templates?page_size=200"))["items"][0]
    return {"id": made["id"], "template_id": template["id"]}


def _writes(pid: int, template_id: int) -> list[tuple[str, str, dict[str, Any] | None]]:
    return [
        ("put", f"{PROJECTS}/{pid}/assessment", {"criteria": CRITERIA, "summary": "越权"}),
        ("post", f"{PROJECTS}/{pid}/assessment/submit", None),
        ("post", f"{PROJECTS}/{pid}/assessment/decision", {"conclusion": "reject", "opinion": "越权"}),
        ("put", f"{PROJECTS}/{pid}/targets", {"overall_goal": "越权", "indicators": []}),
        ("post", f"{PROJECTS}/{pid}/targets/apply-template", {"template_id": template_id}),
        ("post", f"{PROJECTS}/{pid}/targets/submit", None),
        ("post", f"{PROJECTS}/{pid}/targets/adjustments", {"reason": "政策变化"}),
    ]


READS = ("", "/assessment", "/targets", "/targets/versions")


def test_a_sibling_county_gets_404_on_everything(api, walled):
    pid = walled["id"]
    xx = api.as_user("xx.admin")
    for path in READS:
        _error(xx.get(f"{PROJECTS}/{pid}{path}"), 404)
    _error(xx.post(f"{PROJECTS}/{pid}/targets/check"), 404)
    _error(xx.post(f"{PROJECTS}/{pid}/targets/reviews", json={"decision": "approve"}), 404)
    for method, path, body in _writes(pid, walled["template_id"]):
        resp = getattr(xx, method)(path, json=body) if body is not None else getattr(xx, method)(path)
        _error(resp, 404)
    for user in ("xx.admin", "xx.editor"):
        client = api.as_user(user)
        assert pid not in _all_projects(client)
        assert _all_projects(client, "tenant_code=640104") == {}


def test_the_city_and_the_province_read_but_never_write(api, walled):
    pid = walled["id"]
    xq = api.as_user("xq.editor")
    before = (_ok(xq.get(f"{PROJECTS}/{pid}")), _ok(xq.get(f"{PROJECTS}/{pid}/targets")))
    for user in ("yc.admin", "nx.admin"):
        client = api.as_user(user)
        assert _ok(client.get(f"{PROJECTS}/{pid}"))["tenant_code"] == "640104", user
        for path in READS[1:]:
            _ok(client.get(f"{PROJECTS}/{pid}{path}"))
        assert _ok(client.post(f"{PROJECTS}/{pid}/targets/check")) == []
        assert pid in _all_projects(client, "tenant_code=640104"), user
    yc = api.as_user("yc.admin")
    for method, path, body in _writes(pid, walled["template_id"]):
        resp = getattr(yc, method)(path, json=body) if body is not None else getattr(yc, method)(path)
        _error(resp, 403)
    after = (_ok(xq.get(f"{PROJECTS}/{pid}")), _ok(xq.get(f"{PROJECTS}/{pid}/targets")))
    assert after == before


def test_the_city_reviewing_a_countys_targets_is_403(api, walled):
    """Read-only above the owner: the answer says so whatever state the targets are in."""
    message = _error(
        api.as_user("yc.admin").post(
            f"{PROJECTS}/{walled['id']}/targets/reviews", json={"decision": "approve"}
        ),
        403,
    )
    assert "只读" in message


# --- stages and deadlines ---------------------------------------------------------------------


def test_the_six_stages_with_deadlines_and_overdue(api, program, unique):
    made = _project(api, program["id"], f"逾期{unique}")
    stages = made["stages"]
    assert [s["stage"] for s in stages] == STAGES
    assert [s["status"] for s in stages] == ["draft", "locked", "locked", "locked", "locked", "locked"]
    assert all(CHINESE.search(s["name"]) and CHINESE.search(s["status_name"]) for s in stages)
    assert [s["deadline"] for s in stages] == ["2022-10-31", "2022-12-31", None, None, None, None]
    # overdue is the current stage's alone: a later stage shows its (past) deadline, never a red badge
    assert [s["overdue"] for s in stages] == [True, False, False, False, False, False]
    _submit_assessment(api, made["id"])
    _decide(api, made["id"])
    shown = _ok(api.as_user("xq.editor").get(f"{PROJECTS}/{made['id']}"))
    assert shown["stage"] == "targets"
    assert [s["status"] for s in shown["stages"]][:3] == ["approved", "draft", "locked"]
    assert [s["overdue"] for s in shown["stages"]][:2] == [False, True]


def test_a_future_deadline_is_not_overdue(api, unique):
    later = _program(
        api,
        f"远期试点{unique}",
        start="2022-08-01",
        end="2099-12-31",
        tenant_codes=["640104"],
        deadlines={"assessment": "2099-06-30"},
    )
    made = _project(api, later["id"], f"远期{unique}")
    assert (made["stages"][0]["deadline"], made["stages"][0]["overdue"]) == ("2099-06-30", False)


# --- the ex-ante assessment -------------------------------------------------------------------


def test_a_draft_with_unknown_or_badly_scored_criteria_is_refused(api, program, unique):
    pid = _project(api, program["id"], f"评估草稿{unique}")["id"]
    xq = api.as_user("xq.editor")
    path = f"{PROJECTS}/{pid}/assessment"
    problems = _problems(xq.put(path, json={"criteria": {**CRITERIA, "beauty": {"score": "90"}}}))
    assert "criteria.beauty" in problems, problems
    bad = {
        **CRITERIA,
        "necessity": {"score": "101", "opinion": "x"},
        "economy": {"score": "-1", "opinion": "x"},
        "funding_compliance": {"score": "很好", "opinion": "x"},
        "fiscal_affordability": {"score": [1], "opinion": "x"},
    }
    problems = _problems(xq.put(path, json={"criteria": bad, "summary": ""}))
    for key, label in (
        ("necessity", "立项必要性"),
        ("economy", "投入经济性"),
        ("funding_compliance", "筹资合规性"),
        ("fiscal_affordability", "财政承受能力"),
    ):
        assert label in _text(problems[f"criteria.{key}.score"]), problems
    assert "criteria.target_reasonableness.score" not in problems
    assert _ok(xq.get(path))["criteria"] == {}  # nothing was saved
    saved = _ok(xq.put(path, json={"criteria": {**CRITERIA, "economy": {"score": "0", "opinion": "x"}}}))
    assert saved["criteria"]["economy"]["score"] == "0"


@pytest.mark.parametrize("score", ["NaN", "sNaN", "Infinity", "-inf"])
def test_a_score_that_is_not_a_finite_number_is_refused(api, program, unique, score):
    pid = _project(api, program["id"], f"非数评分{unique}")["id"]
    problems = _problems(
        api.as_user("xq.editor").put(
            f"{PROJECTS}/{pid}/assessment",
            json={"criteria": {**CRITERIA, "necessity": {"score": score, "opinion": "x"}}},
        )
    )
    assert "立项必要性" in _text(problems["criteria.necessity.score"]), problems


def test_submit_lists_every_missing_opinion_then_freezes_the_draft(api, program, unique):
    pid = _project(api, program["id"], f"评估提交{unique}")["id"]
    xq = api.as_user("xq.editor")
    path = f"{PROJECTS}/{pid}/assessment"
    scored_only = {key: {"score": "80", "opinion": ""} for key in CRITERIA_KEYS}
    _ok(xq.put(path, json={"criteria": scored_only, "summary": ""}))
    problems = _problems(xq.post(f"{path}/submit"))
    assert {f"criteria.{key}.opinion" for key in CRITERIA_KEYS} | {"summary"} == set(problems), problems
    assert _ok(xq.get(f"{PROJECTS}/{pid}"))["stages"][0]["status"] == "draft"
    _submit_assessment(api, pid)
    assert "审核中" in _error(xq.put(path, json={"criteria": CRITERIA, "summary": "改"}), 409)
    _error(xq.post(f"{path}/submit"), 409)
    assert _ok(xq.get(path))["summary"] == "建议支持"


def test_decision_rules(api, program, unique):
    pid = _project(api, program["id"], f"评估结论{unique}")["id"]
    decision = f"{PROJECTS}/{pid}/assessment/decision"
    body = {"conclusion": "support", "opinion": "同意"}
    _error(api.as_user("xq.admin").post(decision, json=body), 409)  # nothing submitted yet
    _submit_assessment(api, pid)
    _error(api.as_user("xq.dept").post(decision, json=body), 403)
    _error(api.as_user("xq.editor").post(decision, json=body), 403)
    admin = api.as_user("xq.admin")
    assert "opinion" in _problems(admin.post(decision, json={"conclusion": "support"}))
    assert "opinion" in _problems(admin.post(decision, json={"conclusion": "support", "opinion": "  "}))
    problems = _problems(admin.post(decision, json={"conclusion": "maybe", "opinion": "再议"}))
    assert "conclusion" in problems and "予以支持" in _text(problems["conclusion"])
    assert _ok(api.as_user("xq.editor").get(f"{PROJECTS}/{pid}"))["stage"] == "assessment"
    decided = _decide(api, pid)
    assert (decided["status"], decided["conclusion"], decided["decided_by"]) == (
        "decided",
        "support",
        "xq.admin",
    )
    _error(admin.post(decision, json=body), 409)  # decided once


def test_the_submitter_cannot_decide_on_the_own_assessment(api, program, unique):
    pid = _project(api, program["id"], f"自评自审{unique}", user="xq.admin")["id"]
    _submit_assessment(api, pid, user="xq.admin")  # a bureau admin may also fill it in
    message = _error(
        api.as_user("xq.admin").post(
            f"{PROJECTS}/{pid}/assessment/decision", json={"conclusion": "support", "opinion": "同意"}
        ),
        403,
    )
    assert "自己" in message
    assert _ok(api.as_user("xq.editor").get(f"{PROJECTS}/{pid}/assessment"))["status"] == "submitted"


def test_reject_ends_the_project(api, program, unique, walled):
    pid = _project(api, program["id"], f"不予支持{unique}")["id"]
    _submit_assessment(api, pid)
    decided = _decide(api, pid, "reject", "重复建设")
    assert (decided["conclusion"], decided["conclusion_name"]) == ("reject", "不予支持")
    xq = api.as_user("xq.editor")
    shown = _ok(xq.get(f"{PROJECTS}/{pid}"))
    assert shown["status"] == "closed" and "重复建设" in shown["closed_reason"]
    assert shown["stages"][0]["status"] == "closed" and shown["stages"][1]["status"] == "locked"
    assert not any(s["overdue"] for s in shown["stages"])
    for method, path, body in _writes(pid, walled["template_id"]):
        client = api.as_user("xq.admin") if path.endswith("decision") else xq
        resp = getattr(client, method)(path, json=body) if body is not None else getattr(client, method)(path)
        message = _error(resp, 409)
        assert "终止" in message and "重复建设" in message, (path, message)
    assert _ok(xq.get(f"{PROJECTS}/{pid}"))["version"] == shown["version"]


def test_partial_support_opens_the_targets(api, program, unique):
    pid = _project(api, program["id"], f"部分支持{unique}")["id"]
    _submit_assessment(api, pid)
    decided = _decide(api, pid, "partial", "压减规模后支持")
    assert decided["conclusion_name"] == "部分支持"
    xq = api.as_user("xq.editor")
    shown = _ok(xq.get(f"{PROJECTS}/{pid}"))
    assert shown["status"] == "active" and shown["stage"] == "targets"
    assert [s["status"] for s in shown["stages"]][:2] == ["approved", "draft"]
    saved = _ok(
        xq.put(
            f"{PROJECTS}/{pid}/targets", json={"overall_goal": "压减后目标", "indicators": _target_lines()}
        )
    )
    assert saved["status"] == "draft" and len(saved["indicators"]) == 4


def test_monitoring_periods_are_months_in_order(api, unique):
    """`monitoring.periods`: the months of the rounds, 1–12, in order, each once; else 422 naming it."""
    for bad in ([9, 3], [3, 13], [], [3, 3], ["03"]):
        resp = api.as_user("nx.admin").post(
            PROGRAMS,
            json=_program_body(f"监控期试点{unique}{bad}", settings={"monitoring": {"periods": bad}}),
        )
        assert resp.status_code == 422, bad
        assert "monitoring.periods" in str(resp.get_json()["errors"]), bad
    quarterly = _program(api, f"季度监控试点{unique}", settings={"monitoring": {"periods": [3, 6, 9, 12]}})
    assert quarterly["settings"]["monitoring"]["periods"] == [3, 6, 9, 12]
