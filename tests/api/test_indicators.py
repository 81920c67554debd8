"""The indicator library through HTTP, as a client notices it (DESIGN.md §4–§5, API.md "Indicator
library"): the Ministry's framework, level-3 indicators (fields, codes, derivation, optimistic
locking, history), the walls of the library (down the branch, read-only upward, never sideways),
retirement (退出机制), search and bad input.

The session database holds the demo province; every test creates its own uniquely named
indicators and never changes the demo's shared ones. Co-building is in test_indicator_sharing.py,
templates and cases in test_indicator_templates.py.
"""

from __future__ import annotations

import re
import secrets
import threading
from typing import Any

import pytest

from tests.support.api import UserClient

FRAMEWORK = [
    ("产出", ["数量", "质量", "时效"]),
    ("成本", ["经济成本", "社会成本", "生态环境成本"]),
    ("效益", ["经济效益", "社会效益", "生态效益"]),
    ("满意度", ["服务对象满意度"]),
]
FIELDS = (
    "name",
    "level2",
    "category",
    "common_class",
    "kind",
    "scope",
    "explanation",
    "source",
    "value_type",
    "direction",
    "unit",
    "standard_value",
    "value_basis",
    "historical_values",
)
PASSWORD = "Library@2026ok"
CHINESE = re.compile(r"[\u4e00-\u9fff]")
UNKNOWN_ID = 987654321


def _indicator(name: str, **overrides: Any) -> dict[str, Any]:
    """A complete, valid request body (complete enough for a shared indicator of the province too:
    explanation, source and history 2022–2024 like the demo's)."""
    body: dict[str, Any] = {
        "name": name,
        "level2": "数量",
        "category": None,
        "common_class": "培训",
        "kind": "common",
        "scope": "project",
        "explanation": f"测试用指标「{name}」的解释，按实际完成数量计算。",
        "source": "测试用年度工作计划",
        "value_type": "quantitative",
        "direction": ">=",
        "unit": "人次",
        "standard_value": "120",
        "value_basis": "计划标准",
        "historical_values": {"2022": "100", "2023": "110", "2024": "115"},
    }
    body.update(overrides)
    return body


def _ok(resp: Any, status: int = 200) -> Any:
    assert resp.status_code == status, (resp.status_code, resp.get_json())
    return resp.get_json()


def _error(resp: Any, status: int) -> dict[str, Any]:
    assert resp.status_code == status, (resp.status_code, resp.get_json())
    body: dict[str, Any] = resp.get_json()
    assert body["code"] == status and body["message"], body
    return body


def _problems(body: dict[str, Any]) -> dict[str, list[str]]:
    """The field → messages of a 422, whether marshmallow (`errors.json`) or the rules found them."""
    problems: dict[str, list[str]] = {}
    for key, value in (body.get("errors") or {}).items():
        if key in ("json", "query", "form", "files"):
            problems.update(value)
        else:
            problems[key] = value
    return problems


def _invalid(resp: Any, *fields: str, chinese: bool = True) -> dict[str, list[str]]:
    """A 422 naming every one of `fields`, each with a Chinese message (unless the test is about
    something else: `chinese=False`; the request-shape messages have a test of their own)."""
    body = _error(resp, 422)
    assert CHINESE.search(body["message"]), body
    problems = _problems(body)
    for field in fields:
        assert field in problems, (field, body)
        if chinese:
            assert all(CHINESE.search(str(m)) for m in problems[field]), (field, body)
    return problems


def _create(client: UserClient, body: dict[str, Any]) -> dict[str, Any]:
    created: dict[str, Any] = _ok(client.post("/api/v1/indicators", json=body), 201)
    return created


def _list(client: UserClient, query: str = "") -> list[dict[str, Any]]:
    """Every item of a filtered list, page by page."""
    items: list[dict[str, Any]] = []
    page = 1
    while True:
        body = _ok(client.get(f"/api/v1/indicators?page_size=200&page={page}&{query}"))
        items += body["items"]
        if len(items) >= body["total"] or not body["items"]:
            assert len(items) == body["total"], body["total"]
            return items
        page += 1


def _names(client: UserClient, query: str) -> set[str]:
    return {i["name"] for i in _list(client, query)}


def _own_count(client: UserClient) -> int:
    total: int = _ok(client.get("/api/v1/indicators?owner=own&status=all&page_size=1"))["total"]
    return total


def _subset(indicator: dict[str, Any]) -> dict[str, Any]:
    return {field: indicator[field] for field in FIELDS}


@pytest.fixture(scope="module")
def province_indicator(api: Any) -> dict[str, Any]:
    """A shared indicator of the province created for these tests (never a demo one)."""
    name = f"省级测试指标{secrets.token_hex(3)}"
    return _create(
        api.as_user("nx.admin"),
        _indicator(name, level2="质量", unit="%", standard_value="95", value_basis="行业标准"),
    )


@pytest.fixture(scope="module")
def dawukou(api: Any) -> UserClient:
    """A bureau admin of 640202 大武口区 (石嘴山市's county: another branch), made by the province."""
    username = f"dwk.admin{secrets.token_hex(3)}"
    created = api.as_user("nx.admin").post(
        "/api/v1/tenants/640202/users",
        json={
            "username": username,
            "display_name": "大武口管理员",
            "password": PASSWORD,
            "roles": ["bureau_admin"],
        },
    )
    assert created.status_code == 201, created.get_json()
    return UserClient(api.app, api.token(username, password=PASSWORD))


# --- the framework ----------------------------------------------------------------------------


def test_framework_is_the_ministrys_four_by_ten_in_order(api):
    for name in ("xq.editor", "eval.ningping"):
        tree = _ok(api.as_user(name).get("/api/v1/indicator-framework"))
        assert [(node["name"], [c["name"] for c in node["children"]]) for node in tree] == FRAMEWORK


# --- one indicator: fields, codes, derivation -------------------------------------------------


def test_every_field_round_trips_through_create_read_list_and_patch(api, unique):
    xq = api.as_user("xq.admin")
    body = _indicator(
        f"往返指标{unique}",
        level2="经济成本",
        category="教育",
        common_class="培训",
        kind="individual",
        scope="department",
        explanation="每名学员的人均培训成本区间。",
        source="《培训费管理办法》",
        direction="range",
        unit="元/人",
        standard_value="3500,4200",
        value_basis="预算支出标准",
        historical_values={"2022": "3600", "2023": "3800", "2024": "4000"},
    )
    created = _create(xq, body)
    assert _subset(created) == body
    assert created["level1"] == "成本"
    assert created["owner_code"] == "640104" and created["shared"] is False
    assert created["status"] == "active" and created["version"] == 1
    assert created["derived_from"] is None and created["origin"] is None
    read = _ok(xq.get(f"/api/v1/indicators/{created['id']}"))
    assert _subset(read) == body and read["code"] == created["code"]
    listed = [i for i in _list(xq, f"q=往返指标{unique}") if i["id"] == created["id"]]
    assert len(listed) == 1 and _subset(listed[0]) == body

    changed = _indicator(
        f"往返指标改{unique}",
        level2="服务对象满意度",
        category="卫生健康",
        common_class="会议",
        kind="common",
        scope="project",
        explanation="满意度问卷中满意及以上的比例。",
        source="满意度问卷",
        value_type="qualitative",
        direction="=",
        unit="",
        standard_value="达到预期",
        value_basis="历史标准",
        historical_values={"2023": "达到预期"},
    )
    patched = _ok(xq.patch(f"/api/v1/indicators/{created['id']}", json={**changed, "version": 1}))
    assert _subset(patched) == changed and patched["level1"] == "满意度" and patched["version"] == 2
    assert _subset(_ok(xq.get(f"/api/v1/indicators/{created['id']}"))) == changed


def test_codes_are_numbered_per_owner_and_kind_and_stable_across_edits(api, unique):
    xq = api.as_user("xq.admin")
    first = _create(xq, _indicator(f"编码一{unique}"))
    second = _create(xq, _indicator(f"编码二{unique}"))
    individual = _create(xq, _indicator(f"编码三{unique}", kind="individual"))
    one = re.fullmatch(r"640104-CC-(\d{4})", first["code"])
    two = re.fullmatch(r"640104-CC-(\d{4})", second["code"])
    assert one and two, (first["code"], second["code"])
    assert int(two.group(1)) == int(one.group(1)) + 1
    assert re.fullmatch(r"640104-IN-\d{4}", individual["code"]), individual["code"]

    city = _create(api.as_user("yc.admin"), _indicator(f"编码市级{unique}"))
    assert re.fullmatch(r"640100-CC-\d{4}", city["code"]), city["code"]
    sibling = _create(api.as_user("xx.admin"), _indicator(f"编码西夏{unique}", kind="individual"))
    assert re.fullmatch(r"640105-IN-\d{4}", sibling["code"]), sibling["code"]

    path = f"/api/v1/indicators/{first['id']}"
    edited = _ok(xq.patch(path, json={"version": 1, "name": f"编码一改{unique}", "kind": "individual"}))
    assert edited["kind"] == "individual" and edited["code"] == first["code"]
    assert _ok(xq.get(path))["code"] == first["code"]


def test_deriving_from_a_province_indicator(api, unique, province_indicator):
    xq = api.as_user("xq.admin")
    derived = _create(xq, {"derived_from": province_indicator["id"], "standard_value": "98"})
    assert derived["derived_from"] == province_indicator["id"]
    assert derived["standard_value"] == "98"
    assert derived["owner_code"] == "640104" and derived["shared"] is False
    assert re.fullmatch(r"640104-CC-\d{4}", derived["code"]), derived["code"]
    copied = {k: v for k, v in _subset(province_indicator).items() if k != "standard_value"}
    assert {k: v for k, v in _subset(derived).items() if k != "standard_value"} == copied
    # the upper level's indicator is untouched
    upper = _ok(xq.get(f"/api/v1/indicators/{province_indicator['id']}"))
    assert upper["standard_value"] == "95" and upper["version"] == province_indicator["version"]

    # given fields override the copied ones; a city's indicator is an upper one for its counties
    city = _create(api.as_user("yc.admin"), _indicator(f"市级可派生{unique}", unit="次"))
    local = _create(
        xq, {"derived_from": city["id"], "name": f"本区派生{unique}", "standard_value": "150", "unit": "场"}
    )
    assert local["derived_from"] == city["id"] and local["name"] == f"本区派生{unique}"
    assert (local["standard_value"], local["unit"], local["explanation"]) == (
        "150",
        "场",
        city["explanation"],
    )


def test_deriving_from_an_own_a_siblings_or_a_lower_indicator_is_refused(api, unique):
    xq, xx, yc = api.as_user("xq.admin"), api.as_user("xx.admin"), api.as_user("yc.admin")
    own = _create(xq, _indicator(f"自有不可派生{unique}"))
    sibling = _create(xx, _indicator(f"西夏不可派生{unique}"))
    before = _own_count(xq)

    _invalid(
        xq.post("/api/v1/indicators", json={"derived_from": own["id"], "name": f"派生自己{unique}"}),
        "derived_from",
    )
    # a sibling's indicator answers exactly like one that does not exist (never confirm it)
    hidden = xq.post("/api/v1/indicators", json={"derived_from": sibling["id"], "name": f"派生邻居{unique}"})
    missing = xq.post("/api/v1/indicators", json={"derived_from": UNKNOWN_ID, "name": f"派生邻居{unique}"})
    assert hidden.status_code in (404, 422), hidden.get_json()
    assert (hidden.status_code, set(hidden.get_json())) == (missing.status_code, set(missing.get_json()))
    assert hidden.get_json()["message"].replace(str(sibling["id"]), "ID") == missing.get_json()[
        "message"
    ].replace(str(UNKNOWN_ID), "ID")
    assert _own_count(xq) == before

    # the city reads its counties' indicators but may not derive from a lower level
    city_before = _own_count(yc)
    _invalid(
        yc.post("/api/v1/indicators", json={"derived_from": own["id"], "name": f"向下派生{unique}"}),
        "derived_from",
    )
    assert _own_count(yc) == city_before


# --- optimistic locking -----------------------------------------------------------------------


def test_patch_with_the_current_version_bumps_it_and_a_stale_one_changes_nothing(api, unique):
    xq = api.as_user("xq.admin")
    created = _create(xq, _indicator(f"版本指标{unique}"))
    path = f"/api/v1/indicators/{created['id']}"
    first = _ok(xq.patch(path, json={"version": 1, "standard_value": "130"}))
    assert first["version"] == 2 and first["standard_value"] == "130"

    stale = _error(xq.patch(path, json={"version": 1, "standard_value": "140", "unit": "次"}), 409)
    assert CHINESE.search(stale["message"])
    now = _ok(xq.get(path))
    assert (now["version"], now["standard_value"], now["unit"]) == (2, "130", "人次")
    assert [v["version"] for v in _ok(xq.get(f"{path}/versions"))] == [2, 1]

    _invalid(xq.patch(path, json={"standard_value": "150"}), "version", chinese=False)  # required
    assert _ok(xq.get(path))["version"] == 2


def test_two_concurrent_patches_with_the_same_version_one_wins(api, unique):
    created = _create(api.as_user("xq.admin"), _indicator(f"并发指标{unique}"))
    path = f"/api/v1/indicators/{created['id']}"
    clients = [api.as_user("xq.admin"), api.as_user("xq.admin")]
    barrier = threading.Barrier(2)
    statuses: dict[str, int] = {}

    def patch(client: UserClient, value: str) -> None:
        barrier.wait()
        statuses[value] = client.patch(path, json={"version": 1, "standard_value": value}).status_code

    threads = [
        threading.Thread(target=patch, args=(c, v)) for c, v in zip(clients, ("201", "202"), strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(statuses.values()) == [200, 409], statuses
    winner = next(value for value, status in statuses.items() if status == 200)
    now = _ok(api.as_user("xq.admin").get(path))
    assert (now["version"], now["standard_value"]) == (2, winner)
    assert [v["version"] for v in _ok(api.as_user("xq.admin").get(f"{path}/versions"))] == [2, 1]


def test_concurrent_creates_in_one_tenant_all_get_distinct_codes(api, unique):
    """Admins of one bureau saving at the same moment each get their indicator and its own code."""
    clients = [api.as_user("xq.admin") for _ in range(3)]
    barrier = threading.Barrier(len(clients))
    results: dict[int, tuple[int, Any]] = {}

    def create(n: int, client: UserClient) -> None:
        barrier.wait()
        resp = client.post("/api/v1/indicators", json=_indicator(f"并发新建{n}号{unique}"))
        results[n] = (resp.status_code, resp.get_json())

    threads = [threading.Thread(target=create, args=(n, c)) for n, c in enumerate(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(status for status, _body in results.values()) == [201, 201, 201], results
    codes = {body["code"] for _status, body in results.values()}
    assert len(codes) == 3 and all(re.fullmatch(r"640104-CC-\d{4}", c) for c in codes), codes
    found = {i["name"] for i in _list(api.as_user("xq.admin"), f"q={unique}")}
    assert found == {f"并发新建{n}号{unique}" for n in range(3)}


# --- the walls of the library (the "done when") ---------------------------------------


def test_county_indicators_flow_up_read_only_and_never_sideways(api, unique, province_indicator):
    xq = api.as_user("xq.admin")
    local = _create(xq, _indicator(f"兴庆本地{unique}"))
    derived = _create(
        xq, {"derived_from": province_indicator["id"], "name": f"兴庆派生{unique}", "standard_value": "97"}
    )
    mine = {local["name"], derived["name"]}
    for indicator in (local, derived):
        path = f"/api/v1/indicators/{indicator['id']}"
        body = {"version": indicator["version"], "standard_value": "1"}

        # sideways: 640105 gets the same 404 as for an id that does not exist
        xx = api.as_user("xx.admin")
        hidden = _error(xx.get(path), 404)
        missing = _error(xx.get(f"/api/v1/indicators/{UNKNOWN_ID}"), 404)
        assert hidden["message"].replace(str(indicator["id"]), "ID") == missing["message"].replace(
            str(UNKNOWN_ID), "ID"
        )
        _error(xx.patch(path, json=body), 404)
        _error(xx.post(f"{path}/retire", json={"reason": "越权"}), 404)
        _error(xx.get(f"{path}/versions"), 404)
        _error(api.as_user("xx.editor").get(path), 404)

        # upward: the city reads, but may not write
        yc = api.as_user("yc.admin")
        assert _ok(yc.get(path))["code"] == indicator["code"]
        forbidden = _error(yc.patch(path, json=body), 403)
        assert CHINESE.search(forbidden["message"])
        _error(yc.post(f"{path}/retire", json={"reason": "上级越权"}), 403)
        assert _ok(api.as_user("nx.admin").get(path))["code"] == indicator["code"]

        unchanged = _ok(xq.get(path))
        assert (unchanged["version"], unchanged["status"]) == (indicator["version"], "active")
        assert unchanged["standard_value"] == indicator["standard_value"]

    for query in (f"q={unique}", f"q={unique}&status=all", "owner=640104", "owner=640104&status=all"):
        assert not mine & _names(api.as_user("xx.admin"), query), query
        assert not mine & _names(api.as_user("xx.editor"), query), query
    assert mine <= _names(api.as_user("yc.admin"), f"q={unique}")
    assert mine <= _names(api.as_user("yc.admin"), "owner=640104")
    assert mine <= _names(api.as_user("nx.admin"), f"q={unique}")
    assert mine <= _names(api.as_user("xq.editor"), f"q={unique}")


def test_the_provinces_shared_library_is_everyones(api, province_indicator):
    shared = {i["id"] for i in _list(api.as_user("nx.admin"), "owner=shared")}
    assert len(shared) >= 108 and province_indicator["id"] in shared
    for name in ("xq.editor", "xx.editor", "xq.admin", "yc.admin"):
        assert {i["id"] for i in _list(api.as_user(name), "owner=shared")} == shared, name

    evaluator = api.as_user("eval.ningping")
    everything = _list(evaluator)
    assert {i["id"] for i in everything} == shared  # an evaluator has no tenant: the shared ones only
    assert all(i["shared"] and i["owner_code"] == "640000" for i in everything)
    assert _ok(evaluator.get(f"/api/v1/indicators/{province_indicator['id']}"))["shared"] is True


def test_an_evaluator_does_not_see_local_indicators(api, unique):
    county = _create(api.as_user("xq.admin"), _indicator(f"评价机构看不到县{unique}"))
    city = _create(api.as_user("yc.admin"), _indicator(f"评价机构看不到市{unique}"))
    evaluator = api.as_user("eval.ningping")
    for indicator in (county, city):
        _error(evaluator.get(f"/api/v1/indicators/{indicator['id']}"), 404)
    assert _list(evaluator, f"q={unique}&status=all") == []


def test_a_city_indicator_flows_down_its_branch_only(api, unique, dawukou, province_indicator):
    city = _create(
        api.as_user("yc.admin"), _indicator(f"银川市级{unique}", kind="individual", category="教育")
    )
    path = f"/api/v1/indicators/{city['id']}"
    for name in ("xq.admin", "xq.editor", "xx.admin", "xx.editor"):
        client = api.as_user(name)
        assert _ok(client.get(path))["owner_code"] == "640100", name
        assert city["name"] in _names(client, f"q={unique}"), name
    # down the branch is read-only too
    _error(api.as_user("xq.admin").patch(path, json={"version": 1, "standard_value": "2"}), 403)
    _error(api.as_user("xq.admin").post(f"{path}/retire", json={"reason": "下级越权"}), 403)

    # another city's county sees neither the indicator nor its name, but does see the shared library
    _error(dawukou.get(path), 404)
    assert city["name"] not in _names(dawukou, f"q={unique}&status=all")
    assert city["name"] not in _names(dawukou, "owner=640100")
    assert _ok(dawukou.get(f"/api/v1/indicators/{province_indicator['id']}"))["shared"] is True


# --- retirement (退出机制) ----------------------------------------------------------------------


def test_retire_needs_a_reason_and_only_the_owner_retires(api, unique):
    xq = api.as_user("xq.admin")
    indicator = _create(xq, _indicator(f"退出权限{unique}"))
    path = f"/api/v1/indicators/{indicator['id']}"
    _invalid(xq.post(f"{path}/retire", json={}), "reason", chinese=False)
    _invalid(xq.post(f"{path}/retire", json={"reason": "   "}), "reason")
    _error(api.as_user("yc.admin").post(f"{path}/retire", json={"reason": "上级退出"}), 403)
    _error(api.as_user("xq.editor").post(f"{path}/retire", json={"reason": "编辑退出"}), 403)
    _error(api.as_user("xx.admin").post(f"{path}/retire", json={"reason": "邻居退出"}), 404)
    now = _ok(xq.get(path))
    assert (now["status"], now["version"], now["retired_reason"]) == ("active", 1, None)


def test_a_retired_indicator_stays_readable_but_cannot_be_used_until_restored(api, unique):
    xq = api.as_user("xq.admin")
    name = f"退出恢复{unique}"
    indicator = _create(xq, _indicator(name))
    path = f"/api/v1/indicators/{indicator['id']}"

    retired = _ok(xq.post(f"{path}/retire", json={"reason": "政策调整，不再适用"}))
    assert (retired["status"], retired["retired_reason"]) == ("retired", "政策调整，不再适用")
    assert retired["retired_at"] and retired["version"] == 2
    _error(xq.post(f"{path}/retire", json={"reason": "再次退出"}), 409)

    for reader in ("xq.admin", "xq.editor", "yc.admin", "nx.admin"):
        assert _ok(api.as_user(reader).get(path))["status"] == "retired", reader
    assert name not in _names(xq, f"q={name}")
    assert name in _names(xq, f"q={name}&status=retired")
    assert name in _names(xq, f"q={name}&status=all")
    assert name not in _names(xq, f"q={name}&status=active")

    # cannot be edited (even with the current version) ...
    blocked = _error(xq.patch(path, json={"version": 2, "standard_value": "1"}), 409)
    assert "退出" in blocked["message"]
    assert _ok(xq.get(path))["standard_value"] == "120"
    # ... nor put in a template (named by its code)
    shared = [i["id"] for i in _list(xq, "owner=shared")[:5]]
    problems = _invalid(
        xq.post(
            "/api/v1/indicator-templates",
            json={
                "name": f"含退出指标{unique}",
                "project_class": "培训",
                "indicator_ids": [indicator["id"], *shared],
            },
        ),
        "indicator_ids",
    )
    assert any(indicator["code"] in m for m in problems["indicator_ids"]), problems
    assert f"含退出指标{unique}" not in {
        t["name"] for t in _ok(xq.get("/api/v1/indicator-templates?page_size=200"))["items"]
    }

    # only the owner restores
    _error(api.as_user("yc.admin").post(f"{path}/restore"), 403)
    _error(api.as_user("xx.admin").post(f"{path}/restore"), 404)
    restored = _ok(xq.post(f"{path}/restore"))
    assert (restored["status"], restored["retired_reason"], restored["retired_at"]) == ("active", None, None)
    assert restored["version"] == 3
    _error(xq.post(f"{path}/restore"), 409)
    assert name in _names(xq, f"q={name}")
    assert _ok(xq.patch(path, json={"version": 3, "standard_value": "125"}))["standard_value"] == "125"


def test_a_retired_upper_indicator_cannot_be_derived_from(api, unique):
    yc, xq = api.as_user("yc.admin"), api.as_user("xq.admin")
    city = _create(yc, _indicator(f"退出后派生{unique}"))
    path = f"/api/v1/indicators/{city['id']}"
    _ok(yc.post(f"{path}/retire", json={"reason": "合并到其他指标"}))
    before = _own_count(xq)
    problems = _invalid(
        xq.post("/api/v1/indicators", json={"derived_from": city["id"], "name": f"派生退出{unique}"}),
        "derived_from",
    )
    assert any(city["code"] in m for m in problems["derived_from"]), problems
    assert _own_count(xq) == before

    _ok(yc.post(f"{path}/restore"))
    derived = _create(xq, {"derived_from": city["id"], "name": f"派生退出{unique}"})
    assert derived["derived_from"] == city["id"]


# --- history ----------------------------------------------------------------------------------


def test_versions_list_every_version_newest_first_with_the_data_as_it_was(api, unique):
    xq = api.as_user("xq.admin")
    body = _indicator(f"历史版本{unique}")
    indicator = _create(xq, body)
    path = f"/api/v1/indicators/{indicator['id']}"
    _ok(xq.patch(path, json={"version": 1, "standard_value": "150", "unit": "次"}))
    _ok(xq.post(f"{path}/retire", json={"reason": "年度调整"}))
    _ok(xq.post(f"{path}/restore"))

    versions = _ok(xq.get(f"{path}/versions"))
    assert [(v["version"], v["action"]) for v in versions] == [
        (4, "restore"),
        (3, "retire"),
        (2, "update"),
        (1, "create"),
    ]
    assert all(v["changed_by"] == "xq.admin" and v["changed_at"] for v in versions)
    by_version = {v["version"]: v["data"] for v in versions}
    assert {k: by_version[1][k] for k in FIELDS} == body
    assert by_version[1]["code"] == indicator["code"] and by_version[1]["status"] == "active"
    assert (by_version[2]["standard_value"], by_version[2]["unit"]) == ("150", "次")
    assert (by_version[3]["status"], by_version[3]["retired_reason"]) == ("retired", "年度调整")
    assert (by_version[4]["status"], by_version[4]["retired_reason"]) == ("active", None)
    assert by_version[4]["standard_value"] == "150"

    assert _ok(api.as_user("yc.admin").get(f"{path}/versions")) == versions  # upward, read-only


# --- search -----------------------------------------------------------------------------------


def test_pinyin_and_initials_find_the_demos_training_indicators(api):
    editor = api.as_user("xq.editor")
    training = {i["name"] for i in _list(editor, "owner=shared") if "培训" in i["name"]}
    assert len(training) >= 3, training
    for query in ("q=培训", "q=peixun", "q=PeiXun", "q=pei xun", "q=px"):
        found = _names(editor, query)
        assert training <= found, (query, training - found)
    # pinyin matches the fields the Chinese does: 参训人数 is a 培训 indicator by its 共性类别
    assert _names(editor, "q=peixun&owner=shared") == _names(editor, "q=培训&owner=shared")
    assert len(_names(editor, "q=px")) < len(_list(editor))


def test_q_matches_chinese_substrings_pinyin_and_initials_of_own_indicators(api, unique):
    xq = api.as_user("xq.admin")
    name = f"鹦鹉螺养殖覆盖率{unique}"
    _create(
        xq,
        _indicator(
            name, unit="%", standard_value="80", explanation=f"测算口径：珍稀贝类{unique}的养殖面积比"
        ),
    )
    for query in (
        f"q=养殖覆盖率{unique}",  # Chinese substring of the name
        "q=螺养殖覆盖",
        f"q=珍稀贝类{unique}",  # Chinese substring of the explanation
        f"q=ywlyzfgl{unique}",  # pinyin initials of the name
        "q=YWLYZ",
        f"q=yangzhifugailv{unique}",  # full pinyin
    ):
        assert name in _names(xq, query), query
    assert _names(xq, f"q=ywlyzfgl{unique}") == {name}
    assert _names(xq, f"q=珍稀贝类{unique}") == {name}
    assert _names(api.as_user("xx.admin"), f"q=ywlyzfgl{unique}") == set()


def test_q_treats_percent_and_underscore_literally(api, unique):
    xq = api.as_user("xq.admin")
    plain = f"字面匹配{unique}率"
    percent = f"达标率{unique}%以上"
    _create(xq, _indicator(plain))
    _create(xq, _indicator(percent))
    wild = f"{unique[:2]}%{unique[3:]}"
    single = f"{unique[:2]}_{unique[3:]}"
    assert _names(xq, f"q={wild.replace('%', '%25')}&status=all") == set()
    assert _names(xq, f"q={single}&status=all") == set()
    assert _names(xq, f"q={unique}%25") == {percent}
    assert _names(xq, "q=%25") >= {percent}
    assert plain not in _names(xq, "q=%25")


@pytest.fixture(scope="module")
def filter_set(api: Any) -> dict[str, Any]:
    """Four indicators sharing one search token, differing in every filterable attribute."""
    token = f"组合{secrets.token_hex(3)}"
    xq = api.as_user("xq.admin")
    a = _create(
        xq,
        _indicator(
            f"{token}甲",
            level2="数量",
            category="教育",
            common_class=None,
            kind="individual",
            scope="project",
        ),
    )
    b = _create(
        xq,
        _indicator(
            f"{token}乙",
            level2="经济成本",
            category=None,
            common_class="培训",
            kind="common",
            scope="department",
        ),
    )
    c = _create(
        xq,
        _indicator(f"{token}丙", level2="服务对象满意度", category="卫生健康", common_class="会议", unit="%"),
    )
    _ok(xq.post(f"/api/v1/indicators/{c['id']}/retire", json={"reason": "试点结束"}))
    d = _create(
        api.as_user("nx.admin"),
        _indicator(f"{token}丁", level2="社会效益", category="教育", common_class=None, kind="individual"),
    )
    return {"token": token, "a": a["name"], "b": b["name"], "c": c["name"], "d": d["name"]}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", "abd"),
        ("level1=产出", "a"),
        ("level1=成本", "b"),
        ("level1=效益", "d"),
        ("level1=满意度", ""),
        ("level2=经济成本", "b"),
        ("level2=社会效益", "d"),
        ("category=教育", "ad"),
        ("common_class=培训", "b"),
        ("kind=common", "b"),
        ("kind=individual", "ad"),
        ("scope=department", "b"),
        ("scope=project", "ad"),
        ("status=retired", "c"),
        ("status=all", "abcd"),
        ("status=all&level1=满意度", "c"),
        ("owner=shared", "d"),
        ("owner=own", "ab"),
        ("owner=own&status=all", "abc"),
        ("owner=640104", "ab"),
        ("owner=640000", "d"),
        ("category=教育&kind=individual&owner=own", "a"),
        ("level1=产出&level2=经济成本", ""),
    ],
)
def test_q_combines_with_every_filter(api, filter_set, query, expected):
    found = _names(api.as_user("xq.admin"), f"q={filter_set['token']}&{query}")
    assert found == {filter_set[key] for key in expected}, query


def test_pagination_is_stable_and_complete(api):
    editor = api.as_user("xq.editor")
    big = _ok(editor.get("/api/v1/indicators?page_size=40&page=1"))
    one = _ok(editor.get("/api/v1/indicators?page_size=20&page=1"))
    two = _ok(editor.get("/api/v1/indicators?page_size=20&page=2"))
    assert big["total"] == one["total"] == two["total"] >= 108
    assert (one["page"], one["page_size"], two["page"], two["page_size"]) == (1, 20, 2, 20)
    ids = [i["id"] for i in one["items"] + two["items"]]
    assert len(ids) == 40 and len(set(ids)) == 40
    assert ids == [i["id"] for i in big["items"]]

    everything = _list(editor)
    assert len({i["id"] for i in everything}) == len(everything) == big["total"]
    beyond = _ok(editor.get(f"/api/v1/indicators?page_size=50&page={big['total'] // 50 + 2}"))
    assert beyond["items"] == [] and beyond["total"] == big["total"]
    _invalid(editor.get("/api/v1/indicators?page_size=500"), "page_size", chinese=False)
    _invalid(editor.get("/api/v1/indicators?level2=不存在"), "level2", chinese=False)


# --- bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"level2": "产出数量"}, "level2"),
        ({"unit": ""}, "unit"),
        ({"unit": "   "}, "unit"),
        ({"direction": "range", "standard_value": "5"}, "standard_value"),
        ({"direction": "range", "standard_value": "9,3"}, "standard_value"),
        ({"direction": "range", "standard_value": "4,4"}, "standard_value"),
        ({"standard_value": "约五成"}, "standard_value"),
        ({"value_type": "qualitative", "direction": "range", "standard_value": "好"}, "direction"),
        ({"kind": "special"}, "kind"),
        ({"historical_values": {"二〇二二": "1"}}, "historical_values"),
        ({"colour": "红色"}, "colour"),
    ],
    ids=[
        "unknown-level2",
        "quantitative-without-unit",
        "blank-unit",
        "range-one-number",
        "range-reversed",
        "range-empty",
        "quantitative-not-numeric",
        "qualitative-range",
        "unknown-kind",
        "bad-history-year",
        "unknown-field",
    ],
)
def test_bad_input_is_a_422_naming_the_field_and_writes_nothing(api, unique, overrides, field):
    xq = api.as_user("xq.admin")
    before = _own_count(xq)
    name = f"坏输入{unique}"
    _invalid(xq.post("/api/v1/indicators", json=_indicator(name, **overrides)), field)
    assert _own_count(xq) == before
    assert name not in _names(xq, f"q={name}&status=all")


def test_several_problems_are_reported_together(api, unique):
    xq = api.as_user("xq.admin")
    before = _own_count(xq)
    body = _indicator(
        "",
        level2="产出",
        unit="",
        direction="range",
        standard_value="9,3",
        value_basis="拍脑袋",
        historical_values={"22": "1"},
    )
    problems = _invalid(
        xq.post("/api/v1/indicators", json=body),
        "name",
        "level2",
        "unit",
        "standard_value",
        "value_basis",
        "historical_values",
    )
    assert len(problems) >= 6
    # the request's own shape: every unknown or mistyped field at once as well
    _invalid(
        xq.post(
            "/api/v1/indicators", json={**_indicator(f"形状{unique}"), "colour": "红", "weight": 3, "name": 5}
        ),
        "colour",
        "weight",
        "name",
        chinese=False,
    )
    assert _own_count(xq) == before


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("post", "/api/v1/indicators", {"name": 5}, "name"),
        ("patch", "/api/v1/indicators/{id}", {"standard_value": "1"}, "version"),
        ("post", "/api/v1/indicators/{id}/retire", {}, "reason"),
        ("get", "/api/v1/indicators?page_size=500", None, "page_size"),
        ("get", "/api/v1/indicators?status=deleted", None, "status"),
    ],
    ids=["mistyped-name", "missing-version", "missing-reason", "page-size-too-large", "unknown-status"],
)
def test_request_shape_errors_name_the_field_in_chinese(api, unique, method, path, body, field):
    """API.md: 422 naming every field — in the Chinese of the rest of the system, not marshmallow's
    English defaults."""
    xq = api.as_user("xq.admin")
    indicator = _create(xq, _indicator(f"形状中文{unique}"))
    url = path.format(id=indicator["id"])
    if url == "/api/v1/indicators":
        body = {**_indicator(f"形状新建{unique}"), **body}
    before = _own_count(xq)
    resp = getattr(xq, method)(url) if body is None else getattr(xq, method)(url, json=body)
    problems = _invalid(resp, field)
    # Chinese, not marshmallow's English defaults ("Missing data…", "Must be one of: 数量, …")
    assert not any(re.match(r"[A-Z][a-z]+ ", m) for m in problems[field]), problems
    assert _own_count(xq) == before
    now = _ok(xq.get(f"/api/v1/indicators/{indicator['id']}"))
    assert (now["version"], now["status"]) == (1, "active")


def test_names_are_unique_per_owner_not_across_tenants(api, unique):
    xq = api.as_user("xq.admin")
    name = f"重名指标{unique}"
    first = _create(xq, _indicator(name))
    before = _own_count(xq)
    problems = _invalid(xq.post("/api/v1/indicators", json=_indicator(name, kind="individual")), "name")
    assert any(name in m for m in problems["name"]), problems
    _invalid(xq.post("/api/v1/indicators", json=_indicator(f"  {name} ")), "name")
    assert _own_count(xq) == before

    other = _create(xq, _indicator(f"另一个{unique}"))
    _invalid(xq.patch(f"/api/v1/indicators/{other['id']}", json={"version": 1, "name": name}), "name")
    assert _ok(xq.get(f"/api/v1/indicators/{other['id']}"))["version"] == 1

    # the same name in another tenant is fine
    sibling = _create(api.as_user("xx.admin"), _indicator(name))
    city = _create(api.as_user("yc.admin"), _indicator(name))
    assert {first["owner_code"], sibling["owner_code"], city["owner_code"]} == {"640104", "640105", "640100"}


def test_a_bad_patch_changes_nothing(api, unique):
    xq = api.as_user("xq.admin")
    indicator = _create(xq, _indicator(f"坏修改{unique}"))
    path = f"/api/v1/indicators/{indicator['id']}"
    _invalid(xq.patch(path, json={"version": 1, "unit": "", "level2": "投入"}), "unit", "level2")
    _invalid(xq.patch(path, json={"version": 1, "direction": "range"}), "standard_value")
    _invalid(xq.patch(path, json={"version": 1, "code": "640104-CC-9999"}), "code")
    now = _ok(xq.get(path))
    assert _subset(now) == _subset(indicator) and now["version"] == 1 and now["code"] == indicator["code"]


def test_only_admins_write_the_library(api, unique):
    editor = api.as_user("xq.editor")
    before = _own_count(api.as_user("xq.admin"))
    _error(editor.post("/api/v1/indicators", json=_indicator(f"编辑创建{unique}")), 403)
    _error(api.as_user("eval.ningping").post("/api/v1/indicators", json=_indicator(f"机构创建{unique}")), 403)
    assert _own_count(api.as_user("xq.admin")) == before
    read_only = api.as_user("xq.admin", scope="profile indicators:read")
    _error(read_only.post("/api/v1/indicators", json=_indicator(f"只读令牌{unique}")), 403)
    assert _own_count(api.as_user("xq.admin")) == before


# --- the audit trail --------------------------------------------------------------------------


def test_each_write_leaves_an_audit_event_for_the_owners_admin(api, unique):
    xq = api.as_user("xq.admin")
    indicator = _create(xq, _indicator(f"审计指标{unique}"))
    path = f"/api/v1/indicators/{indicator['id']}"
    _ok(xq.patch(path, json={"version": 1, "standard_value": "133"}))
    _ok(xq.post(f"{path}/retire", json={"reason": "审计测试退出"}))
    _ok(xq.post(f"{path}/restore"))
    _error(xq.patch(path, json={"version": 1, "standard_value": "1"}), 409)  # refused: no event

    query = f"/api/v1/audit-events?object_type=indicator&object_id={indicator['id']}"
    events = _ok(xq.get(query))["items"]
    assert [e["action"] for e in events] == [
        "indicator.restore",
        "indicator.retire",
        "indicator.update",
        "indicator.create",
    ]
    assert all(e["username"] == "xq.admin" for e in events)
    restore, retire, update, create = events
    assert create["after"]["code"] == indicator["code"] and create["after"]["name"] == indicator["name"]
    assert (update["before"]["standard_value"], update["after"]["standard_value"]) == ("120", "133")
    assert retire["after"]["status"] == "retired" and retire["after"]["reason"] == "审计测试退出"
    assert restore["after"]["status"] == "active"

    assert [e["id"] for e in _ok(api.as_user("yc.admin").get(query))["items"]] == [e["id"] for e in events]
    assert _ok(api.as_user("xx.admin").get(query))["total"] == 0
