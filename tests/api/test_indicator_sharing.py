"""Co-building (共建共享) through HTTP (DESIGN.md §5, API.md "Indicator library"): a county proposes
one of its own indicators to its city; the city accepts (a copy owned by the city, shared down its
branch, provenance kept) or declines with a reason the county sees. Nobody sideways sees any of it.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

import pytest

from tests.support.api import UserClient

PASSWORD = "Sharing@2026ok"
CHINESE = re.compile(r"[\u4e00-\u9fff]")
PROPOSALS = "/api/v1/indicator-proposals"


def _indicator(name: str, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": name,
        "level2": "社会效益",
        "category": "教育",
        "common_class": None,
        "kind": "individual",
        "scope": "project",
        "explanation": f"共建测试指标「{name}」：受益学生人数占适龄学生的比例。",
        "source": "教育事业统计年报",
        "value_type": "quantitative",
        "direction": ">=",
        "unit": "%",
        "standard_value": "85",
        "value_basis": "历史标准",
        "historical_values": {"2022": "80", "2023": "82", "2024": "84"},
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


def _problems(body: dict[str, Any]) -> dict[str, Any]:
    problems: dict[str, Any] = {}
    for key, value in (body.get("errors") or {}).items():
        problems.update(value if key in ("json", "query") else {key: value})
    return problems


def _create(client: UserClient, body: dict[str, Any]) -> dict[str, Any]:
    created: dict[str, Any] = _ok(client.post("/api/v1/indicators", json=body), 201)
    return created


def _propose(client: UserClient, indicator_id: int, reason: str = "本区试点效果好，建议全市推广") -> Any:
    return client.post(f"/api/v1/indicators/{indicator_id}/proposals", json={"reason": reason})


def _decide(client: UserClient, proposal_id: int, decision: str, reason: str | None = None) -> Any:
    body: dict[str, Any] = {"decision": decision}
    if reason is not None:
        body["reason"] = reason
    return client.post(f"{PROPOSALS}/{proposal_id}/decision", json=body)


def _proposals(client: UserClient, query: str = "") -> dict[int, dict[str, Any]]:
    body = _ok(client.get(f"{PROPOSALS}?page_size=200&{query}"))
    assert body["total"] <= 200, "more proposals than one page: page through them"
    return {p["id"]: p for p in body["items"]}


def _names(client: UserClient, query: str) -> set[str]:
    body = _ok(client.get(f"/api/v1/indicators?page_size=200&{query}"))
    return {i["name"] for i in body["items"]}


def _own_count(client: UserClient) -> int:
    total: int = _ok(client.get("/api/v1/indicators?owner=own&status=all&page_size=1"))["total"]
    return total


@pytest.fixture()
def proposed(api: Any, unique: str) -> dict[str, Any]:
    """An own indicator of 640104 and xq.admin's pending proposal of it."""
    xq = api.as_user("xq.admin")
    indicator = _create(xq, _indicator(f"共建指标{unique}"))
    proposal = _ok(_propose(xq, indicator["id"]), 201)
    return {"indicator": indicator, "proposal": proposal}


@pytest.fixture(scope="module")
def dawukou(api: Any) -> UserClient:
    """A bureau admin of 640202 大武口区, in 石嘴山市's branch (no demo user there)."""
    username = f"dwk.share{secrets.token_hex(3)}"
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


def test_a_proposal_is_pending_and_seen_by_both_sides_only(api, proposed):
    indicator, proposal = proposed["indicator"], proposed["proposal"]
    assert proposal["status"] == "pending"
    assert proposal["indicator"] == {
        "id": indicator["id"],
        "code": indicator["code"],
        "name": indicator["name"],
    }
    assert (proposal["from_code"], proposal["to_code"]) == ("640104", "640100")
    assert proposal["reason"] == "本区试点效果好，建议全市推广" and proposal["proposed_by"] == "xq.admin"
    assert proposal["decision_reason"] is None and proposal["accepted_indicator_id"] is None

    xq, yc = api.as_user("xq.admin"), api.as_user("yc.admin")
    assert proposal["id"] in _proposals(xq, "direction=outgoing")
    assert proposal["id"] not in _proposals(xq, "direction=incoming")
    assert proposal["id"] in _proposals(yc, "direction=incoming&status=pending")
    assert proposal["id"] not in _proposals(yc, "direction=outgoing")
    assert _proposals(yc)[proposal["id"]]["status"] == "pending"
    assert proposal["id"] in _proposals(api.as_user("nx.admin"))  # the province reads everything

    for name in ("xx.admin", "xx.editor"):
        for query in ("", "direction=incoming", "direction=outgoing", "status=pending"):
            assert proposal["id"] not in _proposals(api.as_user(name), query), (name, query)
    assert _proposals(api.as_user("eval.ningping")) == {}


def test_accepting_makes_a_city_copy_shared_down_the_branch(api, proposed, dawukou):
    indicator, proposal = proposed["indicator"], proposed["proposal"]
    yc = api.as_user("yc.admin")
    decided = _ok(_decide(yc, proposal["id"], "accept"))
    assert decided["status"] == "accepted" and decided["decided_by"] == "yc.admin" and decided["decided_at"]
    copy_id = decided["accepted_indicator_id"]
    assert copy_id and copy_id != indicator["id"]

    copy = _ok(yc.get(f"/api/v1/indicators/{copy_id}"))
    assert copy["origin"] == indicator["id"] and copy["derived_from"] is None
    assert copy["owner_code"] == "640100" and copy["status"] == "active" and copy["version"] == 1
    assert re.fullmatch(r"640100-IN-\d{4}", copy["code"]), copy["code"]
    fields = ("name", "level2", "category", "kind", "scope", "explanation", "source", "value_type")
    fields += ("direction", "unit", "standard_value", "value_basis", "historical_values")
    assert {f: copy[f] for f in fields} == {f: indicator[f] for f in fields}

    # down the city's branch: the sibling county reads and finds it now (and only the copy)
    for name in ("xx.editor", "xx.admin", "xq.editor"):
        client = api.as_user(name)
        assert _ok(client.get(f"/api/v1/indicators/{copy_id}"))["origin"] == indicator["id"], name
        assert indicator["name"] in _names(client, f"q={indicator['name']}&owner=640100"), name
    _error(api.as_user("xx.editor").get(f"/api/v1/indicators/{indicator['id']}"), 404)
    # ... but not into another city's branch
    _error(dawukou.get(f"/api/v1/indicators/{copy_id}"), 404)
    assert indicator["name"] not in _names(dawukou, f"q={indicator['name']}&status=all")

    # the proposer sees the outcome; its own indicator is unchanged and still its own
    seen = _proposals(api.as_user("xq.admin"), "direction=outgoing")[proposal["id"]]
    assert (seen["status"], seen["accepted_indicator_id"]) == ("accepted", copy_id)
    original = _ok(api.as_user("xq.admin").get(f"/api/v1/indicators/{indicator['id']}"))
    assert (original["owner_code"], original["version"], original["status"]) == ("640104", 1, "active")
    # the copy belongs to the city now: read-only for the county
    _error(
        api.as_user("xq.admin").patch(f"/api/v1/indicators/{copy_id}", json={"version": 1, "unit": "个"}), 403
    )


def test_a_decline_needs_a_reason_which_the_proposer_sees(api, proposed):
    indicator, proposal = proposed["indicator"], proposed["proposal"]
    yc = api.as_user("yc.admin")
    city_count = _own_count(yc)
    for reason in (None, "", "   "):
        body = _error(_decide(yc, proposal["id"], "decline", reason), 422)
        assert "reason" in _problems(body), body
    assert _proposals(yc)[proposal["id"]]["status"] == "pending"

    declined = _ok(_decide(yc, proposal["id"], "decline", "与市级已有指标重复"))
    assert (declined["status"], declined["decision_reason"]) == ("declined", "与市级已有指标重复")
    assert declined["accepted_indicator_id"] is None
    assert _own_count(yc) == city_count  # nothing copied

    seen = _proposals(api.as_user("xq.admin"), "direction=outgoing")[proposal["id"]]
    assert (seen["status"], seen["decision_reason"], seen["decided_by"]) == (
        "declined",
        "与市级已有指标重复",
        "yc.admin",
    )
    # declined is final; the county may propose the same indicator again
    again = _ok(_propose(api.as_user("xq.admin"), indicator["id"], "补充了测算口径，再次推荐"), 201)
    assert again["id"] != proposal["id"] and again["status"] == "pending"


def test_deciding_twice_is_a_conflict(api, proposed, unique):
    yc = api.as_user("yc.admin")
    accepted = _ok(_decide(yc, proposed["proposal"]["id"], "accept"))
    city_count = _own_count(yc)
    _error(_decide(yc, proposed["proposal"]["id"], "accept"), 409)
    _error(_decide(yc, proposed["proposal"]["id"], "decline", "改主意了"), 409)
    assert _own_count(yc) == city_count
    assert _proposals(yc)[accepted["id"]]["status"] == "accepted"

    xq = api.as_user("xq.admin")
    other = _create(xq, _indicator(f"再次决定{unique}"))
    proposal = _ok(_propose(xq, other["id"]), 201)
    _ok(_decide(yc, proposal["id"], "decline", "暂不需要"))
    _error(_decide(yc, proposal["id"], "accept"), 409)
    assert _proposals(yc)[proposal["id"]]["status"] == "declined"


def test_only_the_level_proposed_to_decides(api, proposed):
    proposal_id = proposed["proposal"]["id"]
    yc_count = _own_count(api.as_user("yc.admin"))
    _error(_decide(api.as_user("xq.admin"), proposal_id, "accept"), 403)  # its own proposal
    _error(_decide(api.as_user("xq.editor"), proposal_id, "accept"), 403)
    _error(_decide(api.as_user("nx.admin"), proposal_id, "accept"), 403)  # not proposed to the province
    _error(_decide(api.as_user("xx.admin"), proposal_id, "accept"), 404)  # sideways: unseen
    _error(_decide(api.as_user("eval.ningping"), proposal_id, "accept"), 404)
    _error(_decide(api.as_user("xx.admin"), 987654321, "accept"), 404)
    assert _proposals(api.as_user("yc.admin"))[proposal_id]["status"] == "pending"
    assert _own_count(api.as_user("yc.admin")) == yc_count


def test_what_cannot_be_proposed(api, unique, proposed):
    xq = api.as_user("xq.admin")
    before = set(_proposals(xq))

    province = _ok(api.as_user("xq.editor").get("/api/v1/indicators?owner=shared&page_size=1"))["items"][0]
    _error(_propose(xq, province["id"]), 403)  # not its own
    sibling = _create(api.as_user("xx.admin"), _indicator(f"西夏不可推荐{unique}"))
    _error(_propose(xq, sibling["id"]), 404)  # another county's: unseen
    _error(_propose(api.as_user("xq.editor"), proposed["indicator"]["id"]), 403)  # an editor
    _error(_propose(xq, proposed["indicator"]["id"], "再推荐一次"), 409)  # one pending at a time
    body = _error(_propose(xq, _create(xq, _indicator(f"缺理由{unique}"))["id"], "  "), 422)
    assert "reason" in _problems(body)

    retired = _create(xq, _indicator(f"已退出不可推荐{unique}"))
    _ok(xq.post(f"/api/v1/indicators/{retired['id']}/retire", json={"reason": "停用"}))
    _error(_propose(xq, retired["id"]), 409)
    assert set(_proposals(xq)) == before

    # the province has no parent: its indicators are shared already
    nx = api.as_user("nx.admin")
    own = _create(nx, _indicator(f"省级不可推荐{unique}"))
    before_nx = set(_proposals(nx))
    _error(_propose(nx, own["id"]), 409)
    assert set(_proposals(nx)) == before_nx


def test_an_indicator_retired_while_its_proposal_is_pending_cannot_be_accepted(api, proposed):
    """退出机制: a retired indicator cannot be proposed, so it cannot become the city's active
    shared indicator through a proposal made before it was retired either."""
    indicator, proposal = proposed["indicator"], proposed["proposal"]
    xq, yc = api.as_user("xq.admin"), api.as_user("yc.admin")
    _ok(xq.post(f"/api/v1/indicators/{indicator['id']}/retire", json={"reason": "试点中发现口径有误"}))
    city_count = _own_count(yc)
    _error(_decide(yc, proposal["id"], "accept"), 409)
    assert _own_count(yc) == city_count
    assert indicator["name"] not in _names(yc, f"q={indicator['name']}&owner=640100&status=all")
    assert _proposals(yc)[proposal["id"]]["accepted_indicator_id"] is None


def test_propose_and_decide_leave_audit_events(api, proposed):
    proposal = proposed["proposal"]
    _ok(_decide(api.as_user("yc.admin"), proposal["id"], "accept"))
    query = f"/api/v1/audit-events?object_type=indicator_proposal&object_id={proposal['id']}"
    events = _ok(api.as_user("yc.admin").get(query))["items"]
    assert [e["action"] for e in events] == ["indicator_proposal.decide", "indicator_proposal.create"]
    decide, create = events
    assert create["username"] == "xq.admin" and create["after"]["indicator"] == proposed["indicator"]["code"]
    assert create["after"]["to"] == "640100"
    assert decide["username"] == "yc.admin"
    assert (decide["before"]["status"], decide["after"]["status"]) == ("pending", "accepted")
    copy_id = _proposals(api.as_user("yc.admin"))[proposal["id"]]["accepted_indicator_id"]
    copy = _ok(api.as_user("yc.admin").get(f"/api/v1/indicators/{copy_id}"))
    assert decide["after"]["shared_copy"] == copy["code"]

    # the proposer's admin sees its own proposal event; the copy's creation is the city's
    own = _ok(api.as_user("xq.admin").get(query))["items"]
    assert "indicator_proposal.create" in [e["action"] for e in own]
    made = _ok(api.as_user("yc.admin").get(f"/api/v1/audit-events?object_type=indicator&object_id={copy_id}"))
    assert [e["action"] for e in made["items"]] == ["indicator.create"]
    assert made["items"][0]["after"]["origin"] == proposed["indicator"]["code"]
    assert _ok(api.as_user("xx.admin").get(query))["total"] == 0
