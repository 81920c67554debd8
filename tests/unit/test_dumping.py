"""The compiled item plans (platform/core/dumping.py) write what marshmallow writes, in the corners
too: missing attributes and dotted paths through None, defaults, data keys, mappings as well as
objects, values of another type than the field's, a None item; and a schema the plan cannot follow
exactly is left to marshmallow."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any

from marshmallow import Schema, fields, post_dump

from jixiao.platform.core import dumping


class Owner(Schema):
    code = fields.Str()


class Item(Schema):
    id = fields.Int()
    name = fields.Str(data_key="title")
    owner_code = fields.Str(attribute="owner.code")
    shared = fields.Bool()
    count = fields.Int(dump_default=7)
    label = fields.Str(dump_default=lambda: "默认")
    at = fields.DateTime()
    day = fields.Date()
    amount = fields.Decimal(as_string=True)
    tags = fields.Dict(keys=fields.Str(), values=fields.Str())
    flag_as_int = fields.Int()
    nested = fields.Nested(Owner, allow_none=True)
    described = fields.Method("_describe")  # reads no attribute: asked as marshmallow asks it
    doubled = fields.Function(lambda obj: 2 * (obj["id"] if isinstance(obj, dict) else int(obj.id)))

    def _describe(self, obj: Any) -> str:
        return f"第 {obj['id'] if isinstance(obj, dict) else obj.id} 项"


class Page(Schema):
    items = dumping.Items(Item)


ITEMS: list[Any] = [
    SimpleNamespace(
        id=1,
        name="培训人次",
        owner=SimpleNamespace(code="640104"),
        shared=True,
        at=dt.datetime(2026, 12, 7, 8, 30, tzinfo=dt.UTC),
        day=dt.date(2026, 12, 7),
        amount=__import__("decimal").Decimal("12.50"),
        tags={"2025": "10"},
        flag_as_int=True,
        nested=SimpleNamespace(code="640000"),
        label=None,
        count=None,
    ),
    SimpleNamespace(id="2", name=b"bytes", owner=None, shared=0, nested=None),  # owner None: no owner_code
    {"id": 3, "name": 5, "owner": {"code": "640105"}, "shared": "yes", "count": 0},  # a mapping
    None,
]


def test_a_plan_writes_what_marshmallow_writes() -> None:
    planned = Page().dump({"items": ITEMS})
    dumping.ENABLED = False
    try:
        reference = Page().dump({"items": ITEMS})
    finally:
        dumping.ENABLED = True
    assert planned == reference
    assert planned["items"][0]["title"] == "培训人次" and planned["items"][1]["title"] == "bytes"
    assert "owner_code" not in planned["items"][1] and planned["items"][1]["count"] == 7
    assert planned["items"][3] is None
    assert planned["items"][0]["described"] == "第 1 项" and planned["items"][2]["doubled"] == 6


def test_a_schema_with_dump_hooks_is_left_to_marshmallow() -> None:
    class Hooked(Item):
        @post_dump
        def stamp(self, data: dict[str, Any], **_kw: Any) -> dict[str, Any]:
            return {**data, "stamped": True}

    class HookedPage(Schema):
        items = dumping.Items(Hooked)

    assert dumping.plan(Hooked()) is None
    assert HookedPage().dump({"items": ITEMS[:1]})["items"][0]["stamped"] is True
    assert dumping.plan(Item()) is not None
