"""Searching the library by Chinese terms of any length, pinyin and code fragments (issue 17 target
2; migration 0018): each kind of term is looked for only where it can occur, and on PostgreSQL an
index serves it under row-level security — the CJK bigrams and trigrams of a mirror the database
keeps on every write, read through gates that apply the library's walls.

The behaviour runs on both backends; what is PostgreSQL's (the mirror, the gates, the plans) in
the real pass only. Names carry rare characters (鹦鹉, 鹈鹕) and the test's unique suffix."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, delete, func, insert, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from jixiao.platform.core.actor import Actor
from jixiao.platform.core.db import utcnow
from jixiao.platform.core.runtime import Runtime
from jixiao.services.indicators import service
from jixiao.services.indicators.models import FrameworkNode, Indicator
from jixiao.services.indicators.search import search
from jixiao.tenants.models import User
from jixiao.tenants.service import build_actor
from tests.support.services import MODE

real_only = pytest.mark.skipif(MODE != "real", reason="PostgreSQL's search index and row-level security")


def actor_of(runtime: Runtime, username: str) -> Actor:
    with runtime.db.transaction(system="test: build an actor") as s:
        return build_actor(s, s.execute(select(User).where(User.username == username)).scalar_one())


def body(name: str, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": name,
        "level2": "数量",
        "category": None,
        "common_class": None,
        "kind": "individual",
        "scope": "project",
        "explanation": "按实际完成数量计算。",
        "source": "测试用年度工作计划",
        "value_type": "quantitative",
        "direction": ">=",
        "unit": "次",
        "standard_value": "12",
        "value_basis": "计划标准",
        "historical_values": {},
    }
    data.update(overrides)
    return data


def create(runtime: Runtime, actor: Actor, name: str, **overrides: Any) -> tuple[int, str]:
    with runtime.db.transaction(actor) as s:
        created = service.create_indicator(s, actor, body(name, **overrides))
        return created.id, created.code


def found(runtime: Runtime, actor: Actor, q: str, **filters: Any) -> set[str]:
    with runtime.db.transaction(actor) as s:
        page = search(s, actor, q=q, page_size=200, status="all", **filters)
        assert page.total == len(page.items), "the test's terms find fewer than a page"
        return {i.name for i in page.items}


@pytest.fixture()
def xq(runtime: Runtime) -> Actor:
    return actor_of(runtime, "xq.admin")


def test_a_two_character_term_finds_its_two_characters_side_by_side_only(
    runtime: Runtime, xq: Actor, unique: str
) -> None:
    side_by_side = f"鹦鹉巡检次数{unique}"
    apart = f"鹦哥与鹉类监测次数{unique}"  # both characters, never adjacent
    explained = f"鸟类巡护次数{unique}"
    create(runtime, xq, side_by_side)
    create(runtime, xq, apart)
    create(runtime, xq, explained, explanation="含鹦鹉在内的巡护次数。")

    def mine(names: set[str]) -> set[str]:  # other tests' indicators of 640104 may hold 鹦鹉 too
        return {n for n in names if n.endswith(unique)}

    assert mine(found(runtime, xq, "鹦鹉", owner="own")) == {side_by_side, explained}
    # a single character still finds every field that has it; a longer term is confirmed whole
    assert mine(found(runtime, xq, "鹉", owner="own")) >= {side_by_side, apart, explained}
    assert mine(found(runtime, xq, "鹦鹉巡检", owner="own")) == {side_by_side}
    assert mine(found(runtime, xq, "鹦鹉巡护", owner="own")) == set()  # its pairs are there, not the term
    # the 共性类别 and 行业领域 are searched as before
    tagged = f"巡护天数{unique}"
    create(runtime, xq, tagged, common_class="鹦鹉保护", category=f"林业{unique}")
    assert tagged in mine(found(runtime, xq, "鹦鹉", owner="own"))
    assert mine(found(runtime, xq, f"林业{unique}", owner="own")) == {tagged}


def test_status_filters_walls_and_order_are_the_lists_own(runtime: Runtime, xq: Actor, unique: str) -> None:
    """What the term finds goes through the list's filters: active by default, retired on demand,
    the county's own, the shared library and its city's (not its sibling's), shared first, then by
    code."""
    kept, _ = create(runtime, xq, f"鹦鹉巡检次数{unique}")
    gone, _ = create(runtime, xq, f"鹦鹉救护次数{unique}")
    create(runtime, actor_of(runtime, "xx.admin"), f"鹦鹉监测次数{unique}")  # the sibling's
    with runtime.db.transaction(xq) as s:
        service.retire_indicator(s, xq, gone, "口径调整")
    with runtime.db.transaction(xq) as s:
        active = search(s, xq, q=f"次数{unique}", page_size=200).items
        retired = search(s, xq, q=f"次数{unique}", status="retired", page_size=200).items
        library = search(s, xq, q="培训", page_size=200).items
    assert [i.id for i in active] == [kept] and [i.id for i in retired] == [gone]
    assert library and [(not i.shared, i.code) for i in library] == sorted(
        (not i.shared, i.code) for i in library
    )
    assert {i.tenant_id for i in library} <= set(xq.lineage_tenant_ids)


def test_pinyin_and_initials_still_find_the_chinese(runtime: Runtime, xq: Actor, unique: str) -> None:
    name = f"鹦鹉巡检次数{unique}"
    create(runtime, xq, name)
    assert name in found(runtime, xq, "yingwu", owner="own")
    assert name in found(runtime, xq, "ying wu", owner="own")
    assert name in found(runtime, xq, "ywxj", owner="own")


def test_a_chinese_term_is_never_looked_for_in_the_pinyin_keys(
    runtime: Runtime, xq: Actor, unique: str
) -> None:
    indicator_id, _ = create(runtime, xq, f"巡检次数{unique}")
    with runtime.db.transaction(system="test: pinyin keys that hold Chinese") as s:
        s.execute(
            update(Indicator)
            .where(Indicator.id == indicator_id)
            .values(name_pinyin=f"鹈鹕{unique}", name_initials=f"鹈鹕{unique}")
        )
    assert found(runtime, xq, f"鹈鹕{unique}", owner="own") == set()
    assert found(runtime, xq, f"鹈鹕{unique}".lower(), owner="own") == set()


def test_a_code_fragment_finds_its_indicator_in_any_case(runtime: Runtime, xq: Actor, unique: str) -> None:
    name = f"巡检次数{unique}"
    _, code = create(runtime, xq, name)
    fragment = code.split("-", 1)[1]  # IN-0042
    assert name in found(runtime, xq, fragment, owner="own")
    assert name in found(runtime, xq, fragment.lower(), owner="own")
    assert found(runtime, xq, code) == {name}


def test_the_search_follows_every_write_whatever_writes_it(runtime: Runtime, xq: Actor, unique: str) -> None:
    """The service's update, a bulk Core insert and a Core delete: the database keeps up."""
    indicator_id, _ = create(runtime, xq, f"鹦鹉巡检次数{unique}")
    with runtime.db.transaction(xq) as s:
        current = service.get_indicator(s, xq, indicator_id)
        service.update_indicator(s, xq, indicator_id, current.version, {"name": f"鹈鹕巡检次数{unique}"})
    assert found(runtime, xq, "鹈鹕", owner="own") == {f"鹈鹕巡检次数{unique}"}
    assert f"鹦鹉巡检次数{unique}" not in found(runtime, xq, "鹦鹉", owner="own")

    bulk = f"鹦鹉救护次数{unique}"
    with runtime.db.transaction(system="test: a bulk insert") as s:
        level2 = s.execute(select(FrameworkNode.id).where(FrameworkNode.name == "数量")).scalar_one()
        now = utcnow()
        s.execute(
            insert(Indicator.__table__),
            [
                {
                    "tenant_id": xq.tenant_id, "code": f"640104-IN-B{unique}", "name": bulk,
                    "name_pinyin": "", "name_initials": "", "shared": False, "level2_id": level2,
                    "category": None, "common_class": None, "kind": "individual", "scope": "project",
                    "explanation": "", "source": "", "value_type": "quantitative", "direction": ">=",
                    "unit": "次", "standard_value": "1", "value_basis": "计划标准", "historical_values": {},
                    "status": "active", "version": 1, "created_at": now, "updated_at": now,
                }
            ],
        )  # fmt: skip
    assert bulk in found(runtime, xq, "鹦鹉", owner="own")
    assert found(runtime, xq, f"b{unique}", owner="own") == {bulk}  # its code, any case
    with runtime.db.transaction(system="test: a bulk delete") as s:
        s.execute(delete(Indicator).where(Indicator.name == bulk))
    assert bulk not in found(runtime, xq, "鹦鹉", owner="own")


# --- PostgreSQL: the mirror, its gates, its plans --------------------------------------------------


@pytest.fixture()
def owner(runtime: Runtime) -> Iterator[Engine]:
    """The migrations' user (the search index's owner), as the tests connect."""
    engine = create_engine(runtime.settings.database_url, poolclass=NullPool)
    try:
        yield engine
    finally:
        engine.dispose()


def gate_ids(runtime: Runtime, actor: Actor, term: str) -> set[int]:
    with runtime.db.transaction(actor) as s:
        return set(s.execute(select(func.jixiao_indicators_containing(term))).scalars())


@real_only
def test_the_gates_answer_within_the_walls_and_the_index_is_out_of_reach(
    runtime: Runtime, xq: Actor, unique: str
) -> None:
    xx = actor_of(runtime, "xx.admin")  # 西夏区, 兴庆区's sibling
    mine, _ = create(runtime, xq, f"鹦鹉巡检次数{unique}")
    theirs, _ = create(runtime, xx, f"鹦鹉救护次数{unique}")
    assert mine in gate_ids(runtime, xq, "鹦鹉") and theirs not in gate_ids(runtime, xq, "鹦鹉")
    assert theirs in gate_ids(runtime, xx, "鹦鹉") and mine not in gate_ids(runtime, xx, "鹦鹉")
    assert {mine, theirs} <= gate_ids(runtime, actor_of(runtime, "yc.admin"), "鹦鹉")  # their city
    assert {mine, theirs} <= gate_ids(runtime, actor_of(runtime, "nx.admin"), "鹦鹉")  # the province
    with runtime.db.engine.connect() as conn:  # the app's role, no tenant set: nothing
        assert conn.execute(select(func.jixiao_indicators_containing("鹦鹉"))).all() == []
    with pytest.raises(DBAPIError, match="permission denied"), runtime.db.transaction(xq) as s:
        s.execute(text("SELECT count(*) FROM jixiao_search.indicator_text"))


@real_only
def test_a_province_wide_two_character_search_is_served_by_the_bigram_index(
    runtime: Runtime, owner: Engine
) -> None:
    with owner.begin() as conn:
        conn.execute(text("SET LOCAL enable_seqscan = off"))  # the test library is small
        plan = conn.execute(
            text(
                "EXPLAIN (ANALYZE, BUFFERS) SELECT id FROM jixiao_search.indicator_text WHERE "
                "jixiao_search.bigrams(name, explanation, common_class, category) @> ARRAY['培训']"
            )
        ).scalars()
        assert any("Bitmap Index Scan on indicator_text_pairs" in line for line in plan)
    # ... and the app reads what the gate found by primary key, an index under row-level security
    nx = actor_of(runtime, "nx.admin")
    with runtime.db.transaction(nx) as s:
        s.execute(text("SET LOCAL enable_seqscan = off"))
        ids = ",".join(str(i) for i in s.execute(select(func.jixiao_indicators_containing("培训"))).scalars())
        assert ids
        plan = s.execute(
            text(f"EXPLAIN SELECT count(*) FROM indicators WHERE id = ANY('{{{ids}}}'::integer[])")
        ).scalars()
        assert any("pk_indicators" in line for line in plan)
