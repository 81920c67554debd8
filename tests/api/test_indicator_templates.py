"""Templates (模板库, 一键勾选) and cases (案例库) of the indicator library through HTTP (DESIGN.md
§5, API.md "Indicator library").

Templates made here always hold at least six indicators, like the demo's (other suites check the
demo's templates by that measure on the same session database).
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.support.api import UserClient

CHINESE = re.compile(r"[\u4e00-\u9fff]")
TEMPLATES = "/api/v1/indicator-templates"
CASES = "/api/v1/cases"
DEMO_TEMPLATES = {"工程基建类", "培训类", "信息化建设类"}


def _indicator(name: str, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": name,
        "level2": "时效",
        "category": None,
        "common_class": "培训",
        "kind": "common",
        "scope": "project",
        "explanation": f"模板测试指标「{name}」：按期完成的培训期数占计划期数的比例。",
        "source": "年度培训计划",
        "value_type": "quantitative",
        "direction": ">=",
        "unit": "%",
        "standard_value": "95",
        "value_basis": "计划标准",
        "historical_values": {"2022": "90", "2023": "92", "2024": "96"},
    }
    body.update(overrides)
    return body


def _ok(resp: Any, status: int = 200) -> Any:
    assert resp.status_code == status, (resp.status_code, resp.get_json())
    return resp.get_json()


def _error(resp: Any, status: int) -> dict[str, Any]:
    assert resp.status_code == status, (resp.status_code, resp.get_json())
    body: dict[str, Any] = resp.get_json()
    assert body["code"] == status and CHINESE.search(body["message"]), body
    return body


def _problems(resp: Any) -> dict[str, list[str]]:
    body = _error(resp, 422)
    problems: dict[str, list[str]] = {}
    for key, value in (body.get("errors") or {}).items():
        problems.update(value if key in ("json", "query") else {key: value})
    return problems


def _create(client: UserClient, body: dict[str, Any]) -> dict[str, Any]:
    created: dict[str, Any] = _ok(client.post("/api/v1/indicators", json=body), 201)
    return created


def _template_names(client: UserClient) -> dict[str, dict[str, Any]]:
    body = _ok(client.get(f"{TEMPLATES}?page_size=200"))
    assert body["total"] == len(body["items"]), "more templates than one page"
    return {t["name"]: t for t in body["items"]}


@pytest.fixture(scope="module")
def shared_ids(api: Any) -> list[int]:
    """Five active shared indicators of the demo (read, never changed)."""
    items = _ok(api.as_user("xq.editor").get("/api/v1/indicators?owner=shared&common_class=培训"))["items"]
    assert len(items) >= 5
    return [i["id"] for i in items[:5]]


@pytest.fixture()
def own(api: Any, unique: str) -> dict[str, Any]:
    return _create(api.as_user("xq.admin"), _indicator(f"模板自有指标{unique}"))


@pytest.fixture()
def template(api: Any, unique: str, own: dict[str, Any], shared_ids: list[int]) -> dict[str, Any]:
    body = {
        "name": f"本区培训模板{unique}",
        "project_class": "培训",
        "indicator_ids": [own["id"], *shared_ids],
    }
    created: dict[str, Any] = _ok(api.as_user("xq.admin").post(TEMPLATES, json=body), 201)
    return created


# --- templates --------------------------------------------------------------------------------


def test_create_a_template_of_own_and_shared_indicators(api, unique, own, shared_ids, template):
    assert template["name"] == f"本区培训模板{unique}" and template["project_class"] == "培训"
    assert template["indicator_ids"] == [own["id"], *shared_ids]  # in the order given
    assert [i["id"] for i in template["indicators"]] == template["indicator_ids"]
    first = template["indicators"][0]
    assert (first["code"], first["name"], first["level2"], first["status"]) == (
        own["code"],
        own["name"],
        "时效",
        "active",
    )
    assert template["shared"] is False and template["version"] == 1
    read = _ok(api.as_user("xq.editor").get(f"{TEMPLATES}/{template['id']}"))
    assert read["indicator_ids"] == template["indicator_ids"]
    assert template["name"] in _template_names(api.as_user("xq.editor"))
    assert template["name"] in _template_names(api.as_user("yc.admin"))  # read upward
    events = _ok(
        api.as_user("xq.admin").get(
            f"/api/v1/audit-events?object_type=indicator_template&object_id={template['id']}"
        )
    )["items"]
    assert [e["action"] for e in events] == ["indicator_template.create"]
    assert events[0]["username"] == "xq.admin" and events[0]["after"]["indicators"][0] == own["code"]


def test_a_template_refuses_invisible_retired_and_duplicate_indicators(api, unique, own, shared_ids):
    xq = api.as_user("xq.admin")
    before = set(_template_names(xq))
    sibling = _create(api.as_user("xx.admin"), _indicator(f"西夏模板指标{unique}"))
    problems = _problems(
        xq.post(
            TEMPLATES,
            json={
                "name": f"越墙模板{unique}",
                "project_class": "培训",
                "indicator_ids": [sibling["id"], *shared_ids],
            },
        )
    )
    assert any(str(sibling["id"]) in m for m in problems["indicator_ids"]), problems
    assert not any(sibling["name"] in m or sibling["code"] in m for m in problems["indicator_ids"]), problems

    _ok(xq.post(f"/api/v1/indicators/{own['id']}/retire", json={"reason": "模板测试退出"}))
    problems = _problems(
        xq.post(
            TEMPLATES,
            json={
                "name": f"退出模板{unique}",
                "project_class": "培训",
                "indicator_ids": [*shared_ids, own["id"]],
            },
        )
    )
    assert any(own["code"] in m for m in problems["indicator_ids"]), problems

    problems = _problems(
        xq.post(
            TEMPLATES,
            json={
                "name": f"重复模板{unique}",
                "project_class": "培训",
                "indicator_ids": [*shared_ids, shared_ids[0]],
            },
        )
    )
    assert "indicator_ids" in problems
    problems = _problems(xq.post(TEMPLATES, json={"name": "", "project_class": "", "indicator_ids": []}))
    assert {"name", "project_class", "indicator_ids"} <= set(problems)
    assert set(_template_names(xq)) == before


def test_template_names_are_unique_per_owner(api, template, shared_ids):
    xq = api.as_user("xq.admin")
    body = {
        "name": template["name"],
        "project_class": "会议",
        "indicator_ids": shared_ids[::-1] + [template["indicator_ids"][0]],
    }
    problems = _problems(xq.post(TEMPLATES, json=body))
    assert any(template["name"] in m for m in problems["name"]), problems
    # another tenant may use the same name (shared indicators only: xq's own is not its)
    other = _ok(
        api.as_user("xx.admin").post(
            TEMPLATES, json={**body, "indicator_ids": [*shared_ids, *_more_shared(api)]}
        ),
        201,
    )
    assert other["name"] == template["name"] and other["id"] != template["id"]
    assert api.as_user("xx.admin").delete(f"{TEMPLATES}/{other['id']}").status_code == 204


def _more_shared(api: Any) -> list[int]:
    items = _ok(api.as_user("xx.editor").get("/api/v1/indicators?owner=shared&common_class=会议"))["items"]
    return [items[0]["id"]]


def test_patch_a_template_with_its_version(api, unique, template, shared_ids):
    xq = api.as_user("xq.admin")
    path = f"{TEMPLATES}/{template['id']}"
    renamed = _ok(xq.patch(path, json={"version": 1, "name": f"本区培训模板改{unique}"}))
    assert renamed["name"] == f"本区培训模板改{unique}" and renamed["version"] == 2
    assert renamed["indicator_ids"] == template["indicator_ids"]

    stale = _error(xq.patch(path, json={"version": 1, "name": f"过期修改{unique}"}), 409)
    assert stale["message"]
    assert _ok(xq.get(path))["name"] == f"本区培训模板改{unique}"

    reordered = [*template["indicator_ids"][1:], template["indicator_ids"][0]]
    patched = _ok(xq.patch(path, json={"version": 2, "indicator_ids": reordered}))
    assert patched["indicator_ids"] == reordered


def test_changing_only_the_indicators_of_a_template_bumps_its_version(api, template, shared_ids):
    """Optimistic locking must cover the template's indicator set too: otherwise a second editor
    holding the old version silently overwrites the first one's picks."""
    xq = api.as_user("xq.admin")
    path = f"{TEMPLATES}/{template['id']}"
    extra = _more_shared(api)
    first = _ok(xq.patch(path, json={"version": 1, "indicator_ids": [*template["indicator_ids"], *extra]}))
    assert first["version"] == 2, first
    _error(xq.patch(path, json={"version": 1, "indicator_ids": template["indicator_ids"][:6]}), 409)
    assert _ok(xq.get(path))["indicator_ids"] == [*template["indicator_ids"], *extra]


def test_only_the_owner_changes_or_deletes_a_template(api, unique, template):
    path = f"{TEMPLATES}/{template['id']}"
    body = {"version": 1, "name": f"越权改名{unique}"}
    _error(api.as_user("yc.admin").patch(path, json=body), 403)
    _error(api.as_user("nx.admin").patch(path, json=body), 403)
    _error(api.as_user("xq.editor").patch(path, json=body), 403)
    _error(api.as_user("xx.admin").patch(path, json=body), 404)
    _error(api.as_user("yc.admin").delete(path), 403)
    _error(api.as_user("xx.admin").delete(path), 404)
    _error(api.as_user("xq.editor").delete(path), 403)
    kept = _ok(api.as_user("xq.admin").get(path))
    assert (kept["name"], kept["version"]) == (template["name"], 1)

    demo = _template_names(api.as_user("xq.admin"))["培训类"]
    _error(api.as_user("xq.admin").delete(f"{TEMPLATES}/{demo['id']}"), 403)  # the province's

    assert api.as_user("xq.admin").delete(path).status_code == 204
    _error(api.as_user("xq.admin").get(path), 404)
    assert template["name"] not in _template_names(api.as_user("xq.admin"))
    events = _ok(
        api.as_user("xq.admin").get(
            f"/api/v1/audit-events?object_type=indicator_template&object_id={template['id']}"
        )
    )["items"]
    assert [e["action"] for e in events] == ["indicator_template.delete", "indicator_template.create"]


def test_templates_behind_the_walls(api, template):
    path = f"{TEMPLATES}/{template['id']}"
    for name in ("xx.admin", "xx.editor", "eval.ningping"):
        _error(api.as_user(name).get(path), 404)
        assert template["name"] not in _template_names(api.as_user(name)), name
    assert _ok(api.as_user("nx.admin").get(path))["id"] == template["id"]


def test_the_demos_shared_templates_are_listed_for_everyone(api):
    for name in ("xq.editor", "xx.editor", "xq.admin", "yc.admin", "nx.admin", "eval.ningping"):
        templates = _template_names(api.as_user(name))
        assert set(templates) >= DEMO_TEMPLATES, name
        for demo in DEMO_TEMPLATES:
            assert templates[demo]["shared"] is True and len(templates[demo]["indicator_ids"]) >= 6, name
    training = _template_names(api.as_user("xx.editor"))["培训类"]
    read = _ok(api.as_user("eval.ningping").get(f"{TEMPLATES}/{training['id']}"))
    assert all(i["code"].startswith("640000-") for i in read["indicators"])
    listed = _ok(api.as_user("xq.editor").get(f"{TEMPLATES}?project_class=培训&page_size=200"))["items"]
    assert "培训类" in {t["name"] for t in listed} and {t["project_class"] for t in listed} == {"培训"}


# --- cases ------------------------------------------------------------------------------------


@pytest.fixture()
def case(api: Any, unique: str, shared_ids: list[int]) -> dict[str, Any]:
    body = {
        "title": f"某区教师培训项目绩效目标范例{unique}",
        "project_class": "培训",
        "category": "教育",
        "text": "年度目标：完成教师培训 1200 人次，培训计划按期完成率不低于 95%。",
        "indicator_ids": shared_ids[:3],
    }
    created: dict[str, Any] = _ok(api.as_user("nx.admin").post(CASES, json=body), 201)
    assert {k: created[k] for k in body} == body and created["version"] == 1
    return created


def _case_titles(client: UserClient, query: str = "") -> set[str]:
    body = _ok(client.get(f"{CASES}?page_size=200&{query}"))
    return {c["title"] for c in body["items"]}


def test_the_province_publishes_cases_everyone_reads(api, unique, case):
    for name in ("xq.editor", "xx.editor", "yc.admin", "eval.ningping"):
        client = api.as_user(name)
        assert _ok(client.get(f"{CASES}/{case['id']}"))["title"] == case["title"], name
        assert case["title"] in _case_titles(client), name
    assert case["title"] in _case_titles(api.as_user("xq.editor"), "project_class=培训&category=教育")
    assert case["title"] not in _case_titles(api.as_user("xq.editor"), "project_class=会议")

    before = _case_titles(api.as_user("nx.admin"))
    body = {"title": f"县级自建案例{unique}", "project_class": "培训"}
    _error(api.as_user("xq.admin").post(CASES, json=body), 403)
    _error(api.as_user("yc.admin").post(CASES, json=body), 403)
    assert _case_titles(api.as_user("nx.admin")) == before


def test_patch_and_delete_a_case(api, unique, case, shared_ids):
    nx = api.as_user("nx.admin")
    path = f"{CASES}/{case['id']}"
    _error(api.as_user("xq.admin").patch(path, json={"version": 1, "title": "县级改标题"}), 403)
    _error(api.as_user("xq.admin").delete(path), 403)

    patched = _ok(
        nx.patch(path, json={"version": 1, "title": f"范例改{unique}", "indicator_ids": shared_ids})
    )
    assert (patched["title"], patched["indicator_ids"], patched["version"]) == (
        f"范例改{unique}",
        shared_ids,
        2,
    )
    _error(nx.patch(path, json={"version": 1, "title": f"过期{unique}"}), 409)
    assert _ok(api.as_user("xq.editor").get(path))["title"] == f"范例改{unique}"

    # a case may not cite a retired indicator
    retiring = _create(nx, _indicator(f"案例退出指标{unique}"))
    _ok(nx.post(f"/api/v1/indicators/{retiring['id']}/retire", json={"reason": "案例测试"}))
    problems = _problems(nx.patch(path, json={"version": 2, "indicator_ids": [retiring["id"]]}))
    assert any(retiring["code"] in m for m in problems["indicator_ids"]), problems
    assert _ok(nx.get(path))["version"] == 2

    assert nx.delete(path).status_code == 204
    _error(api.as_user("xq.editor").get(path), 404)
    assert case["title"] not in _case_titles(api.as_user("xq.editor"))
    events = _ok(nx.get(f"/api/v1/audit-events?object_type=case&object_id={case['id']}"))["items"]
    assert [e["action"] for e in events] == ["case.delete", "case.update", "case.create"]
