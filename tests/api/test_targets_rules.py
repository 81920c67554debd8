"""Performance targets through HTTP: the quality rules T01–T10 (every violation at once, each with
its rule code and line), library picks and templates, optimistic locking, the review chain's
illegal moves, freezing, adjustments as versions, and the audit trail (DESIGN.md §6).

Tests bring their own programs (the demo's allows 2 projects per tenant and the database is shared
by the whole session); names carry a random suffix.
"""

from __future__ import annotations

import re
import secrets
from collections import Counter
from typing import Any

import pytest

from tests.support.api import UserClient

CHINESE = re.compile(r"[\u4e00-\u9fff]")
PROJECTS = "/api/v1/projects"
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


# --- helpers ----------------------------------------------------------------------------------


def _ok(resp: Any, status: int = 200) -> Any:
    assert resp.status_code == status, (resp.status_code, resp.get_json())
    return resp.get_json()


def _error(resp: Any, status: int) -> str:
    body = resp.get_json()
    assert resp.status_code == status, (resp.status_code, body)
    assert body["code"] == status and CHINESE.search(body["message"]), body
    return str(body["message"])


def _problems(resp: Any) -> dict[str, Any]:
    _error(resp, 422)
    problems: dict[str, Any] = {}
    for key, value in (resp.get_json().get("errors") or {}).items():
        problems.update(value if key in ("json", "query") else {key: value})
    return problems


def _violations(resp: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = _problems(resp)["violations"]
    return found


def _pairs(violations: list[dict[str, Any]]) -> Counter[tuple[str, int | None]]:
    return Counter((v["rule"], v["line"]) for v in violations)


def _line(name: str, level2: str, value: str, unit: str, weight: str, **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "level2": level2,
        "value_type": "quantitative",
        "direction": ">=",
        "target_value": value,
        "unit": unit,
        "weight": weight,
        "value_basis": "计划标准",
        **extra,
    }


def _lines(weights: tuple[str, ...] = ("30", "20", "30", "20")) -> list[dict[str, Any]]:
    """产出, 成本, 效益, 满意度: passes every rule for a one-year 工程基建 project."""
    return [
        _line("改造小区数量", "数量", "12", "个", weights[0]),
        _line("项目总成本", "经济成本", "1250000", "元", weights[1], direction="<="),
        _line("受益居民户数", "社会效益", "3000", "户", weights[2]),
        _line("居民满意度", "服务对象满意度", "90", "%", weights[3]),
    ]


def _indicator(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "level2": "时效",
        "category": None,
        "common_class": "培训",
        "kind": "common",
        "scope": "project",
        "explanation": f"目标规则测试指标「{name}」：按期完成的培训期数占计划期数的比例。",
        "source": "年度培训计划",
        "value_type": "quantitative",
        "direction": ">=",
        "unit": "%",
        "standard_value": "95",
        "value_basis": "计划标准",
        "historical_values": {"2022": "90", "2023": "92", "2024": "96"},
    }


def _own_indicator(api: Any, user: str, name: str) -> dict[str, Any]:
    created: dict[str, Any] = _ok(api.as_user(user).post("/api/v1/indicators", json=_indicator(name)), 201)
    return created


def _retire(api: Any, indicator: dict[str, Any]) -> None:
    _ok(
        api.as_user("xq.admin").post(
            f"/api/v1/indicators/{indicator['id']}/retire", json={"reason": "测试退出"}
        )
    )


def _program(api: Any, name: str, **settings: Any) -> int:
    created = _ok(
        api.as_user("nx.admin").post(
            "/api/v1/programs",
            json={
                "name": name,
                "start": "2022-08-01",
                "end": "2099-12-31",
                "tenant_codes": ["640104"],
                "max_projects_per_tenant": 50,
                "settings": settings,
            },
        ),
        201,
    )
    program_id: int = created["id"]
    return program_id


@pytest.fixture(scope="module")
def program(api: Any) -> int:
    return _program(api, f"目标规则试点{secrets.token_hex(3)}")


def _at_targets(
    api: Any,
    program_id: int,
    *,
    project_class: str = "工程基建",
    years: tuple[int, ...] = (2023,),
    serves_public: bool = True,
) -> int:
    """A 兴庆区 project whose assessment is approved: the targets stage is open."""
    created = _ok(
        api.as_user("xq.editor").post(
            PROJECTS,
            json={
                "program_id": program_id,
                "name": f"目标项目{secrets.token_hex(4)}",
                "department": "住房和城乡建设局",
                "implementing_unit": "城市建设服务中心",
                "budget_amount": "1250000.00",
                "fund_source": "一般公共预算",
                "project_class": project_class,
                "years": list(years),
                "serves_public": serves_public,
            },
        ),
        201,
    )
    pid: int = created["id"]
    editor = api.as_user("xq.editor")
    _ok(editor.put(f"{PROJECTS}/{pid}/assessment", json={"criteria": CRITERIA, "summary": "建议支持"}))
    _ok(editor.post(f"{PROJECTS}/{pid}/assessment/submit"))
    _ok(
        api.as_user("xq.admin").post(
            f"{PROJECTS}/{pid}/assessment/decision", json={"conclusion": "support", "opinion": "同意"}
        )
    )
    return pid


def _save(client: UserClient, pid: int, indicators: list[dict[str, Any]], **goals: Any) -> dict[str, Any]:
    body = {"overall_goal": "完成 12 个小区改造", **goals, "indicators": indicators}
    saved: dict[str, Any] = _ok(client.put(f"{PROJECTS}/{pid}/targets", json=body))
    return saved


def _review(api: Any, pid: int, user: str, decision: str = "approve", **comments: str) -> Any:
    return api.as_user(user).post(
        f"{PROJECTS}/{pid}/targets/reviews", json={"decision": decision, "comments": comments}
    )


def _approved(api: Any, program_id: int) -> int:
    pid = _at_targets(api, program_id)
    editor = api.as_user("xq.editor")
    _save(editor, pid, _lines())
    _ok(editor.post(f"{PROJECTS}/{pid}/targets/submit"))
    _ok(_review(api, pid, "xq.dept"))
    assert _ok(_review(api, pid, "xq.admin"))["status"] == "approved"
    return pid


# --- the rules --------------------------------------------------------------------------------


def test_the_rules_are_listed_with_chinese_titles(api):
    rules = _ok(api.as_user("xq.editor").get("/api/v1/target-rules"))
    assert [r["code"] for r in rules] == [f"T{n:02d}" for n in range(1, 11)]
    assert all(CHINESE.search(r["title"]) for r in rules), rules


def test_every_set_level_violation_at_once(api, program):
    pid = _at_targets(api, program, years=(2022, 2023))  # multi-year, 工程基建, serves the public
    editor = api.as_user("xq.editor")
    _save(editor, pid, [], overall_goal="", midterm_goal="")
    violations = _violations(editor.post(f"{PROJECTS}/{pid}/targets/submit"))
    assert _pairs(violations) == Counter(
        {
            ("T01", None): 2,
            ("T02", None): 1,
            ("T03", None): 1,
            ("T04", None): 1,
            ("T05", None): 1,
            ("T10", None): 1,
        }
    ), violations
    assert any("中长期" in v["message"] for v in violations if v["rule"] == "T01")
    assert all(CHINESE.search(v["message"]) for v in violations)
    # the annual goal alone is not enough for a project spanning two years
    _save(editor, pid, _lines(), overall_goal="完成改造")
    only = _violations(editor.post(f"{PROJECTS}/{pid}/targets/submit"))
    assert _pairs(only) == Counter({("T01", None): 1}) and "中长期" in only[0]["message"]
    _save(editor, pid, _lines(), overall_goal="完成改造", midterm_goal="三年内完成全区改造")
    assert _ok(editor.post(f"{PROJECTS}/{pid}/targets/check")) == []
    assert _ok(editor.post(f"{PROJECTS}/{pid}/targets/submit"))["status"] == "submitted"


def test_every_line_violation_at_once_naming_its_line(api, program):
    pid = _at_targets(api, program)
    editor = api.as_user("xq.editor")
    indicators = [
        _line("改造小区数量", "数量", "12", "个", "20"),  # 1: fine
        _line("项目总成本", "经济成本", "", "", "20"),  # 2: no value, no unit (T06 twice)
        _line("受益居民户数", "社会效益", "很多", "户", "20"),  # 3: not a number (T07)
        _line("居民满意度", "服务对象满意度", "9,3", "%", "20", direction="range"),  # 4: bad range (T07)
        _line("改造小区数量", "质量", "95", "%", "0"),  # 5: duplicate name (T10), weight 0 (T08)
        {**_line("工程质量", "质量", "", "", "10"), "value_type": "qualitative"},  # 6: no value (T06)
    ]
    _save(editor, pid, indicators)
    before = _ok(editor.get(f"{PROJECTS}/{pid}/targets"))
    violations = _violations(editor.post(f"{PROJECTS}/{pid}/targets/submit"))
    assert _pairs(violations) == Counter(
        {
            ("T06", 2): 2,
            ("T07", 3): 1,
            ("T07", 4): 1,
            ("T08", 5): 1,
            ("T08", None): 1,  # 20 + 20 + 20 + 20 + 0 + 10 = 90
            ("T06", 6): 1,
            ("T10", 5): 1,
        }
    ), violations
    for v in violations:
        if v["line"] is not None:
            assert v["indicator"] == indicators[v["line"] - 1]["name"], v
    assert "很多" in next(v["message"] for v in violations if v["line"] == 3)
    assert "90" in next(v["message"] for v in violations if v["rule"] == "T08" and v["line"] is None)
    # check: the same list, nothing submitted
    assert _ok(editor.post(f"{PROJECTS}/{pid}/targets/check")) == violations
    after = _ok(editor.get(f"{PROJECTS}/{pid}/targets"))
    assert (after["status"], after["submitted_by"], after["lock_version"]) == (
        "draft",
        None,
        before["lock_version"],
    )
    assert _ok(editor.get(f"{PROJECTS}/{pid}"))["stages"][1]["status"] == "draft"


def test_satisfaction_and_cost_only_where_the_project_needs_them(api, program):
    lines = [_line("培训人次", "数量", "300", "人次", "60"), _line("考核合格率", "社会效益", "95", "%", "40")]
    editor = api.as_user("xq.editor")
    # 培训 for internal staff: neither 满意度 (T04) nor 成本 (T05)
    internal = _at_targets(api, program, project_class="培训", serves_public=False)
    _save(editor, internal, lines)
    assert _ok(editor.post(f"{PROJECTS}/{internal}/targets/check")) == []
    submitted = _ok(editor.post(f"{PROJECTS}/{internal}/targets/submit"))
    assert (submitted["status"], submitted["review_level"]) == ("submitted", "first")
    # the same lines for a public 大型修缮及购置 project: both are missing
    public = _at_targets(api, program, project_class="大型修缮及购置", serves_public=True)
    _save(editor, public, lines)
    assert _pairs(_ok(editor.post(f"{PROJECTS}/{public}/targets/check"))) == Counter(
        {("T04", None): 1, ("T05", None): 1}
    )


def test_weights_sum_to_the_programs_own_total(api):
    ten = _program(api, f"权重十分试点{secrets.token_hex(3)}", target_weights_total=10)
    pid = _at_targets(api, ten)
    editor = api.as_user("xq.editor")
    _save(editor, pid, _lines())  # 100: the default, not this program's
    violations = _violations(editor.post(f"{PROJECTS}/{pid}/targets/submit"))
    assert _pairs(violations) == Counter({("T08", None): 1})
    assert "10" in violations[0]["message"] and "100" in violations[0]["message"]
    _save(editor, pid, _lines(("3", "2", "3", "2")))
    assert _ok(editor.post(f"{PROJECTS}/{pid}/targets/submit"))["status"] == "submitted"


def test_an_indicator_retired_after_it_was_picked_is_T09(api, program):
    own = _own_indicator(api, "xq.admin", f"按期培训率{secrets.token_hex(3)}")
    pid = _at_targets(api, program)
    editor = api.as_user("xq.editor")
    _save(editor, pid, [*_lines(("30", "20", "30", "10")), {"indicator_id": own["id"], "weight": "10"}])
    assert _ok(editor.post(f"{PROJECTS}/{pid}/targets/check")) == []
    _retire(api, own)
    violations = _violations(editor.post(f"{PROJECTS}/{pid}/targets/submit"))
    assert _pairs(violations) == Counter({("T09", 5): 1}) and violations[0]["indicator"] == own["name"]
    assert _ok(editor.post(f"{PROJECTS}/{pid}/targets/check")) == violations
    assert _ok(editor.get(f"{PROJECTS}/{pid}/targets"))["status"] == "draft"


def test_picking_an_invisible_or_retired_indicator_is_refused(api, program):
    sibling = _own_indicator(api, "xx.admin", f"西夏私有指标{secrets.token_hex(3)}")
    retired = _own_indicator(api, "xq.admin", f"已退出指标{secrets.token_hex(3)}")
    _retire(api, retired)
    pid = _at_targets(api, program)
    editor = api.as_user("xq.editor")
    _save(editor, pid, _lines())
    for picked, named, hidden in (
        (sibling, str(sibling["id"]), sibling["name"]),  # another county's: "does not exist"
        (retired, retired["code"], None),
        ({"id": 2_000_000_000}, "2000000000", None),
    ):
        problems = _problems(
            editor.put(
                f"{PROJECTS}/{pid}/targets",
                json={
                    "overall_goal": "改",
                    "indicators": [*_lines(), {"indicator_id": picked["id"], "weight": "1"}],
                },
            )
        )
        assert named in str(problems["indicators"]), problems
        if hidden:
            assert hidden not in str(problems), problems
    shown = _ok(editor.get(f"{PROJECTS}/{pid}/targets"))
    assert shown["overall_goal"] == "完成 12 个小区改造" and len(shown["indicators"]) == 4


def test_library_lines_default_from_the_library(api, program):
    editor = api.as_user("xq.editor")
    shared = _ok(editor.get("/api/v1/indicators?owner=shared&page_size=5"))["items"]
    first, second = (_ok(editor.get(f"/api/v1/indicators/{i['id']}")) for i in shared[:2])
    pid = _at_targets(api, program)
    saved = _save(
        editor,
        pid,
        [
            {"indicator_id": first["id"], "weight": "60"},
            {"indicator_id": second["id"], "weight": "40", "target_value": "77", "name": "本地名称"},
        ],
    )
    one, two = saved["indicators"]
    assert {k: one[k] for k in ("indicator_id", "name", "level2", "value_type", "direction", "unit")} == {
        "indicator_id": first["id"],
        "name": first["name"],
        "level2": first["level2"],
        "value_type": first["value_type"],
        "direction": first["direction"],
        "unit": first["unit"],
    }
    assert (one["target_value"], one["value_basis"], one["weight"]) == (
        first["standard_value"],
        first["value_basis"],
        "60.00",
    )
    assert (two["indicator_id"], two["name"], two["target_value"]) == (second["id"], "本地名称", "77")
    assert two["level2"] == second["level2"] and two["unit"] == second["unit"]


def test_apply_template_adds_each_indicator_once(api, program):
    editor = api.as_user("xq.editor")
    templates = _ok(editor.get("/api/v1/indicator-templates?page_size=200"))["items"]
    template = next(t for t in templates if t["name"] == "工程基建类")
    pid = _at_targets(api, program)
    _save(editor, pid, [_line("改造小区数量", "数量", "12", "个", "30")])
    path = f"{PROJECTS}/{pid}/targets/apply-template"
    applied = _ok(editor.post(path, json={"template_id": template["id"]}))
    ids = [line["indicator_id"] for line in applied["indicators"]]
    assert ids == [None, *template["indicator_ids"]]
    assert all(line["name"] and line["level2"] for line in applied["indicators"])
    again = _ok(editor.post(path, json={"template_id": template["id"]}))
    assert [line["id"] for line in again["indicators"]] == [line["id"] for line in applied["indicators"]]
    _error(editor.post(path, json={"template_id": 2_000_000_000}), 404)


def test_apply_template_with_a_retired_indicator_names_it(api, program):
    xq = api.as_user("xq.admin")
    own = _own_indicator(api, "xq.admin", f"模板退出指标{secrets.token_hex(3)}")
    shared = _ok(xq.get("/api/v1/indicators?owner=shared&common_class=培训&page_size=5"))["items"]
    template = _ok(
        xq.post(
            "/api/v1/indicator-templates",
            json={
                "name": f"含退出指标模板{secrets.token_hex(3)}",
                "project_class": "培训",
                "indicator_ids": [own["id"], *[i["id"] for i in shared[:5]]],
            },
        ),
        201,
    )
    _retire(api, own)
    pid = _at_targets(api, program)
    editor = api.as_user("xq.editor")
    _save(editor, pid, _lines())
    problems = _problems(
        editor.post(f"{PROJECTS}/{pid}/targets/apply-template", json={"template_id": template["id"]})
    )
    assert own["code"] in str(problems["template_id"]), problems
    assert len(_ok(editor.get(f"{PROJECTS}/{pid}/targets"))["indicators"]) == 4


@pytest.mark.parametrize(
    ("field", "value"),
    [("weight", "NaN"), ("weight", "1e10"), ("weight", "abc"), ("unit", "单" * 21), ("name", "名" * 101)],
    ids=["weight-nan", "weight-huge", "weight-text", "unit-too-long", "name-too-long"],
)
def test_a_line_value_the_column_cannot_hold_is_refused(api, program, field, value):
    pid = _at_targets(api, program)
    editor = api.as_user("xq.editor")
    lines = _lines()
    lines[0][field] = value
    problems = _problems(
        editor.put(f"{PROJECTS}/{pid}/targets", json={"overall_goal": "目标", "indicators": lines})
    )
    assert f"indicators.1.{field}" in problems, problems
    assert _ok(editor.get(f"{PROJECTS}/{pid}/targets"))["indicators"] == []


# --- optimistic locking -----------------------------------------------------------------------


def test_a_stale_lock_version_is_refused_and_changes_nothing(api, program):
    pid = _at_targets(api, program)
    editor = api.as_user("xq.editor")
    first = _save(editor, pid, _lines(), overall_goal="甲")
    second = _save(editor, pid, _lines(), overall_goal="乙", lock_version=first["lock_version"])
    assert second["lock_version"] > first["lock_version"]
    message = _error(
        editor.put(
            f"{PROJECTS}/{pid}/targets",
            json={"overall_goal": "丙", "indicators": [], "lock_version": first["lock_version"]},
        ),
        409,
    )
    assert str(second["lock_version"]) in message
    shown = _ok(editor.get(f"{PROJECTS}/{pid}/targets"))
    assert (shown["overall_goal"], len(shown["indicators"]), shown["lock_version"]) == (
        "乙",
        4,
        second["lock_version"],
    )


def test_changing_only_the_lines_moves_the_lock_version(api, program):
    """Two editors on the same version: the second save must not silently overwrite the first's lines."""
    pid = _at_targets(api, program)
    editor = api.as_user("xq.editor")
    first = _save(editor, pid, _lines())
    changed = _lines()
    changed[0]["target_value"] = "15"
    second = _save(editor, pid, changed, lock_version=first["lock_version"])
    assert second["lock_version"] > first["lock_version"]
    _error(
        editor.put(
            f"{PROJECTS}/{pid}/targets",
            json={
                "overall_goal": "完成 12 个小区改造",
                "indicators": _lines(),
                "lock_version": first["lock_version"],
            },
        ),
        409,
    )
    assert _ok(editor.get(f"{PROJECTS}/{pid}/targets"))["indicators"][0]["target_value"] == "15"


# --- the review chain -------------------------------------------------------------------------


def test_illegal_moves_in_the_review_chain(api, program):
    pid = _at_targets(api, program)
    editor = api.as_user("xq.editor")
    _save(editor, pid, _lines())
    _error(_review(api, pid, "xq.dept"), 409)  # nothing submitted
    _ok(editor.post(f"{PROJECTS}/{pid}/targets/submit"))
    _error(editor.post(f"{PROJECTS}/{pid}/targets/submit"), 409)  # already submitted
    _error(_review(api, pid, "xq.admin"), 409)  # 复核 before 初审
    _error(_review(api, pid, "xq.editor"), 403)  # not a reviewer
    assert "decision" in _problems(_review(api, pid, "xq.dept", "maybe"))
    assert "comments" in _problems(_review(api, pid, "xq.dept", "return"))
    assert "comments" in _problems(_review(api, pid, "xq.dept", "return", completeness=" ", relevance=""))
    unknown = _problems(_review(api, pid, "xq.dept", "approve", beauty="好看"))
    assert "beauty" in str(unknown["comments"])
    shown = _ok(editor.get(f"{PROJECTS}/{pid}/targets"))
    assert (shown["status"], shown["review_level"], shown["reviews"]) == ("submitted", "first", [])
    first = _ok(_review(api, pid, "xq.dept", completeness="完整"))
    assert (first["status"], first["review_level"]) == ("submitted", "finance")
    _error(_review(api, pid, "xq.dept"), 409)  # 初审 twice
    final = _ok(_review(api, pid, "xq.admin"))
    assert (final["status"], [r["level"] for r in final["reviews"]]) == ("approved", ["first", "finance"])
    _error(_review(api, pid, "xq.admin"), 409)  # nothing left to review
    # frozen
    assert "冻结" in _error(
        editor.put(f"{PROJECTS}/{pid}/targets", json={"overall_goal": "改", "indicators": []}), 409
    )
    _error(editor.post(f"{PROJECTS}/{pid}/targets/submit"), 409)
    templates = _ok(editor.get("/api/v1/indicator-templates?page_size=1"))["items"]
    _error(
        editor.post(f"{PROJECTS}/{pid}/targets/apply-template", json={"template_id": templates[0]["id"]}), 409
    )
    assert len(_ok(editor.get(f"{PROJECTS}/{pid}/targets"))["indicators"]) == 4


def test_the_submitter_cannot_review_the_own_submission(api, program):
    pid = _at_targets(api, program)
    admin = api.as_user("xq.admin")  # a bureau admin may also fill in and submit
    _save(admin, pid, _lines())
    _ok(admin.post(f"{PROJECTS}/{pid}/targets/submit"))
    _ok(_review(api, pid, "xq.dept"))
    assert "自己" in _error(_review(api, pid, "xq.admin"), 403)
    shown = _ok(admin.get(f"{PROJECTS}/{pid}/targets"))
    assert (shown["status"], shown["review_level"]) == ("submitted", "finance")


def test_adjustments_make_versions(api, program):
    editor = api.as_user("xq.editor")
    draft = _at_targets(api, program)
    _save(editor, draft, _lines())
    _error(editor.post(f"{PROJECTS}/{draft}/targets/adjustments", json={"reason": "政策变化"}), 409)

    pid = _approved(api, program)
    adjustments = f"{PROJECTS}/{pid}/targets/adjustments"
    problems = _problems(editor.post(adjustments, json={"reason": "心血来潮"}))
    assert "政策变化" in str(problems["reason"])
    opened = _ok(
        editor.post(
            adjustments, json={"reason": "政策变化", "explanation": "上级补助标准调整，改造数量增加"}
        ),
        201,
    )
    assert (opened["version"], opened["status"], opened["adjustment_reason"]) == (2, "draft", "政策变化")
    assert [line["name"] for line in opened["indicators"]] == [line["name"] for line in _lines()]
    _error(editor.post(adjustments, json={"reason": "其他"}), 409)  # one at a time

    changed = _lines()
    changed[0]["target_value"] = "15"
    _save(editor, pid, changed, overall_goal="完成 15 个小区改造")
    _ok(editor.post(f"{PROJECTS}/{pid}/targets/submit"))
    _error(editor.post(adjustments, json={"reason": "其他"}), 409)  # still in progress
    _ok(_review(api, pid, "xq.dept"))
    assert _ok(_review(api, pid, "xq.admin"))["status"] == "approved"

    history = _ok(editor.get(f"{PROJECTS}/{pid}/targets/versions"))
    assert [(h["targets"]["version"], h["targets"]["status"]) for h in history] == [
        (2, "approved"),
        (1, "superseded"),
    ]
    diff = history[0]["diff"]
    assert diff["goals"]["overall_goal"] == ["完成 12 个小区改造", "完成 15 个小区改造"]
    assert diff["changed"] == [{"name": "改造小区数量", "fields": {"target_value": ["12", "15"]}}]
    assert (diff["added"], diff["removed"], history[1]["diff"]) == ([], [], None)
    assert history[1]["targets"]["indicators"][0]["target_value"] == "12"
    assert _ok(editor.get(f"{PROJECTS}/{pid}/targets"))["version"] == 2
    assert _ok(editor.get(f"{PROJECTS}/{pid}"))["stage"] == "monitoring"

    events = _ok(
        api.as_user("xq.admin").get(f"/api/v1/audit-events?object_type=project&object_id={pid}&page_size=200")
    )
    actions = Counter(e["action"] for e in events["items"])
    assert (
        actions["targets.submit"] == 2 and actions["targets.review"] == 4 and actions["targets.adjust"] == 1
    ), actions
    adjust = next(e for e in events["items"] if e["action"] == "targets.adjust")
    assert adjust["username"] == "xq.editor" and adjust["after"]["reason"] == "政策变化"
