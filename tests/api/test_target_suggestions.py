"""目标值参考 (issue 15 item 3) through HTTP: a county editor sees the distribution of other tenants'
approved target values of a library indicator (count, median, quartiles in the indicator's unit) only
when at least k tenants make it up — its own tenant left out — and nothing at all below k; the
answer never carries a project, a tenant or a single value; k is a program setting; the starting
set of a new project ranks the indicators by how many approved projects of its class used them."""

from __future__ import annotations

import json
from typing import Any

from tests.support.seeding import approved_targets, library_indicator, program_with

CLASS = "工程基建"
# six counties' approved targets: 100, 104 (given in 万个), 98, 101, 97 and 1000 (大武口区 through an
# indicator it derived); 利通区's in 天 cannot be converted to 个 (left out, and so is 利通区); 兴庆区's
# own is never shown to 兴庆区
SIX = [
    ("640105", "100", "个"),
    ("640106", "0.0104", "万个"),
    ("640121", "≥ 98", "个"),
    ("640202", "101", "个"),
    ("640205", "97", ""),
    ("640221", "1000", "个"),
]
ROWS = [*SIX, ("640302", "30", "天"), ("640104", "5000", "个")]
TENANT_NAMES = ["兴庆区", "西夏区", "金凤区", "永宁县", "大武口区", "惠农区", "平罗县", "利通区"]
KEYS = {"available", "min_tenants", "unit", "tenants", "count", "median", "p25", "p75"}
NOTHING = {"tenants": None, "count": None, "median": None, "p25": None, "p75": None}


def _ok(resp: Any, status: int = 200) -> Any:
    assert resp.status_code == status, (resp.status_code, resp.get_json())
    return resp.get_json()


def _stats(api: Any, user: str, indicator: int, query: str = f"project_class={CLASS}") -> Any:
    return api.as_user(user).get(f"/api/v1/indicators/{indicator}/target-statistics?{query}")


def _field_errors(body: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in (body.get("errors") or {}).items():
        found.update(value if key in ("query", "json") and isinstance(value, dict) else {key: value})
    return found


def _leaks(text: str, unique: str, codes: list[str]) -> list[str]:
    """What of another tenant a raw answer names: project names, tenant codes and names."""
    found = [word for word in (unique, "对比项目", "参考项目", *TENANT_NAMES) if word in text]
    return found + [code for code in codes if code in text]


def _project(api: Any, program_id: int, user: str, unique: str, project_class: str = CLASS) -> int:
    pid: int = _ok(
        api.as_user(user).post(
            "/api/v1/projects",
            json={
                "program_id": program_id,
                "name": f"参考值项目{unique}{project_class}",
                "department": "住房和城乡建设局",
                "implementing_unit": "城市建设服务中心",
                "budget_amount": "800000.00",
                "fund_source": "一般公共预算",
                "project_class": project_class,
                "years": [2026],
                "serves_public": True,
            },
        ),
        201,
    )["id"]
    return pid


def test_the_distribution_of_other_tenants_approved_values(api, runtime, unique):
    program = program_with(api, runtime, unique, ["640104", "640105"])
    indicator = library_indicator(runtime, unique, unit="个")
    _, derived = approved_targets(runtime, program, unique, ROWS, indicator_id=indicator, derived_in="640202")

    # 兴庆区 (not among the six): six tenants ≥ 5 — the aggregate, in 个, its own 5000 left out
    got = _stats(api, "xq.editor", indicator)
    body = _ok(got)
    assert body == {
        "available": True,
        "min_tenants": 5,
        "unit": "个",
        "tenants": 6,
        "count": 6,
        "median": "100.5",
        "p25": "98.5",
        "p75": "103.25",
    }
    text = got.get_data(as_text=True)
    assert _leaks(text, unique, [c for c, _, _ in ROWS]) == [] and "1000" not in text and "5000" not in text

    # 西夏区 (one of the six): its own 100 left out, 兴庆区's 5000 in — six other tenants again
    assert _ok(_stats(api, "xx.editor", indicator)) == {
        "available": True,
        "min_tenants": 5,
        "unit": "个",
        "tenants": 6,
        "count": 6,
        "median": "102.5",
        "p25": "98.75",
        "p75": "776",
    }
    # another class: nothing approved, nothing shown
    assert _ok(_stats(api, "xq.editor", indicator, "project_class=培训")) == {
        "available": False,
        "min_tenants": 5,
        "unit": "个",
        **NOTHING,
    }
    # 大武口区's derived indicator is its own: another county cannot see it (404 like an unknown one)
    unknown = _stats(api, "xq.editor", 99_999_999)
    hidden = _stats(api, "xq.editor", derived)
    assert unknown.status_code == hidden.status_code == 404
    # a third-party evaluator never; project_class is required and must be a class
    assert _stats(api, "eval.ningping", indicator).status_code == 403
    missing = _stats(api, "xq.editor", indicator, "")
    assert missing.status_code == 422 and "project_class" in _field_errors(missing.get_json())
    wrong = _stats(api, "xq.editor", indicator, "project_class=火箭")
    assert wrong.status_code == 422 and "project_class" in _field_errors(wrong.get_json())


def test_four_peers_show_nothing_and_five_only_the_aggregate(api, runtime, unique):
    program = program_with(api, runtime, unique, ["640104"])
    indicator = library_indicator(runtime, unique, unit="元", tag="k")
    four = [
        ("640105", "10", "万元"),
        ("640106", "120000", "元"),
        ("640121", "90000", "元"),
        ("640202", "110000", "元"),
    ]
    approved_targets(runtime, program, unique, four, indicator_id=indicator, prefix="参考项目")
    never_used = library_indicator(runtime, unique, unit="元", tag="n")

    # four peers answer exactly like none: no figure, not even how many tenants there are
    below = _stats(api, "xq.editor", indicator)
    assert _ok(below) == _ok(_stats(api, "xq.editor", never_used))
    assert _ok(below) == {"available": False, "min_tenants": 5, "unit": "元", **NOTHING}
    assert _leaks(below.get_data(as_text=True), unique, [c for c, _, _ in four]) == []

    # a fifth tenant: the aggregate only (in 元, 10 万元 = 100000 元)
    approved_targets(
        runtime, program, unique, [("640205", "95000", "元")], indicator_id=indicator, prefix="参考项目五"
    )
    five = _stats(api, "xq.editor", indicator)
    assert _ok(five) == {
        "available": True,
        "min_tenants": 5,
        "unit": "元",
        "tenants": 5,
        "count": 5,
        "median": "100000",
        "p25": "95000",
        "p75": "110000",
    }
    assert set(five.get_json()) == KEYS
    assert _leaks(five.get_data(as_text=True), unique, [c for c, _, _ in four] + ["640205"]) == []
    # 西夏区 is one of the five: it has four peers, so it sees nothing
    assert _ok(_stats(api, "xx.editor", indicator))["available"] is False


def test_k_is_a_program_setting(api, runtime, unique):
    strict = _ok(
        api.as_user("nx.admin").post(
            "/api/v1/programs",
            json={
                "name": f"参考值试点{unique}",
                "start": "2022-08-01",
                "end": "2099-12-31",
                "tenant_codes": ["640104"],
                "max_projects_per_tenant": 5,
                "settings": {"suggestions": {"min_tenants": 7}},
            },
        ),
        201,
    )
    assert strict["settings"]["suggestions"] == {"min_tenants": 7}
    bad = api.as_user("nx.admin").post(
        "/api/v1/programs",
        json={
            "name": f"参考值试点坏{unique}",
            "start": "2022-08-01",
            "end": "2099-12-31",
            "tenant_codes": ["640104"],
            "settings": {"suggestions": {"min_tenants": 1}},
        },
    )
    assert bad.status_code == 422 and "suggestions.min_tenants" in json.dumps(
        bad.get_json(), ensure_ascii=False
    )

    plain = program_with(api, runtime, unique, ["640104"])
    indicator = library_indicator(runtime, unique, unit="个", tag="s")
    approved_targets(runtime, plain, unique, SIX, indicator_id=indicator)
    mine = _project(api, strict["id"], "xq.editor", unique)
    # six tenants: enough under the default 5, not under the program's 7
    assert _ok(_stats(api, "xq.editor", indicator))["tenants"] == 6
    seven = _ok(_stats(api, "xq.editor", indicator, f"project_class={CLASS}&project_id={mine}"))
    assert seven == {"available": False, "min_tenants": 7, "unit": "个", **NOTHING}
    # a project the caller cannot see: 404
    assert _stats(api, "xx.editor", indicator, f"project_class={CLASS}&project_id={mine}").status_code == 404


def test_the_starting_set_ranks_indicators_by_use(api, runtime, unique):
    klass = "政府购买服务"
    program = program_with(api, runtime, unique, ["640104", "640105"])
    mine = _project(api, program, "xq.editor", unique, klass)
    theirs = _project(api, program, "xx.editor", unique, klass)
    most, wide, narrow = (library_indicator(runtime, unique, tag=t) for t in ("a", "b", "c"))
    six = ["640105", "640106", "640121", "640202", "640205", "640221"]
    # `wide`: six tenants, one project each (大武口区's through a derived indicator: it counts for
    # its origin); `most`: five tenants, eight projects; `narrow`: four tenants, ten projects
    approved_targets(
        runtime,
        program,
        unique,
        [(c, "10", "个") for c in six],
        indicator_id=wide,
        derived_in="640202",
        project_class=klass,
        prefix="参考项目宽",
    )
    approved_targets(
        runtime,
        program,
        unique,
        [(c, "10", "个") for c in six[:5] + ["640106"] * 3],
        indicator_id=most,
        project_class=klass,
        prefix="参考项目多",
    )
    approved_targets(
        runtime,
        program,
        unique,
        [(c, "10", "个") for c in six[:4] * 2 + ["640105"] * 2],
        indicator_id=narrow,
        project_class=klass,
        prefix="参考项目少",
    )
    case = _ok(
        api.as_user("nx.admin").post(
            "/api/v1/cases",
            json={"title": f"政府购买服务蓝本{unique}", "project_class": klass, "category": "规范管理蓝本"},
        ),
        201,
    )
    other = _ok(
        api.as_user("nx.admin").post(
            "/api/v1/cases",
            json={"title": f"培训蓝本{unique}", "project_class": "培训", "category": "规范管理蓝本"},
        ),
        201,
    )

    got = api.as_user("xq.editor").get(f"/api/v1/projects/{mine}/target-suggestions")
    body = _ok(got)
    assert body["project_class"] == klass and body["min_tenants"] == 5
    ranked = [i["indicator_id"] for i in body["indicators"]]
    assert most in ranked and wide in ranked and narrow not in ranked
    assert ranked.index(most) < ranked.index(wide)
    by_id = {i["indicator_id"]: i for i in body["indicators"]}
    assert (by_id[most]["uses"], by_id[most]["tenants"]) == (8, 5)
    assert (by_id[wide]["uses"], by_id[wide]["tenants"]) == (6, 6)
    assert by_id[wide]["name"] == f"参考值测试指标{unique}b" and by_id[wide]["unit"] == "个"
    cases = {c["id"] for c in body["cases"]}
    assert case["id"] in cases and other["id"] not in cases
    assert _leaks(got.get_data(as_text=True), unique + "参考项目", six) == []

    # 西夏区 is among the users: `most` has four other tenants left (not listed), `wide` five
    seen = [
        i["indicator_id"]
        for i in _ok(api.as_user("xx.editor").get(f"/api/v1/projects/{theirs}/target-suggestions"))[
            "indicators"
        ]
    ]
    assert wide in seen and most not in seen
    # walls and roles: another county's project 404, an evaluator 403
    assert api.as_user("xx.editor").get(f"/api/v1/projects/{mine}/target-suggestions").status_code == 404
    assert api.as_user("eval.ningping").get(f"/api/v1/projects/{mine}/target-suggestions").status_code == 403
