"""Serialising a list's items by a plan compiled once per schema: marshmallow's own output, a fifth
of its cost (issue 17: a page of 20 indicators × 28 fields through `Schema.dump` was ~15 % of an API
list request).

`Schema._serialize` asks each field to `serialize` each object: the field looks its value up
through the schema's accessor (`utils.get_value`: `obj[key]`, else `getattr`, dotted paths one step
at a time), applies its default when the value is missing, and formats it. The plan does the same
with the lookups precompiled and the common formats inline (a `str` for a `String`, an `int` for an
`Integer`, a `bool` for a `Boolean`, None for any of them); every other value goes through the
field's own `_serialize`. A field that reads no attribute (`Method`, `Function`) or looks its value
up its own way is asked as marshmallow asks it (`field.serialize`); a schema the plan cannot follow
exactly — dump hooks, its own accessor — is dumped by marshmallow.

`Items` is the `items` field of every page schema (`tenants.schemas.page_schema`).
tests/api/test_list_dumping.py compares every page of the API both ways.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from marshmallow import Schema, fields
from marshmallow.decorators import POST_DUMP, PRE_DUMP
from marshmallow.utils import get_value, missing

ENABLED = True  # the comparison test turns it off to read marshmallow's own answer

Dump = Callable[[Any], dict[str, Any]]
_PLAN = "_jixiao_plan"


def _plain(field: fields.Field) -> type | None:
    """The type a value of `field` is written as it is (None: the field formats every value)."""
    kind = type(field)
    if kind is fields.String:
        return str
    if kind is fields.Integer and not field.as_string:  # type: ignore[attr-defined]
        return int
    if kind is fields.Boolean:
        return bool
    return None


def _follows(field: fields.Field) -> bool:
    """The field reads its value as `Field.serialize` does (an attribute, by `utils.get_value`)."""
    return (
        field._CHECK_ATTRIBUTE
        and type(field).serialize is fields.Field.serialize
        and type(field).get_value is fields.Field.get_value
    )


# (key written, field name, attribute read — None: the field is asked as marshmallow asks it —,
#  the dump default, the type written as it is, the field's format: `_serialize` or `serialize`)
Step = tuple[str, str, str | None, Any, type | None, Callable[..., Any]]


def _step(name: str, field: fields.Field) -> Step:
    key = field.data_key if field.data_key is not None else name
    if not _follows(field):
        return (key, name, None, missing, None, field.serialize)
    return (key, name, field.attribute or name, field.dump_default, _plain(field), field._serialize)


def plan(schema: Schema) -> Dump | None:
    """The compiled dump of one object by `schema`, or None where marshmallow must do it."""
    if _PLAN in schema.__dict__:
        return schema.__dict__[_PLAN]
    dump: Dump | None = None
    exact = (
        not schema._hooks[PRE_DUMP]
        and not schema._hooks[POST_DUMP]
        and type(schema).get_attribute is Schema.get_attribute
        and schema.dict_class is dict
    )
    if exact:
        steps = tuple(_step(name, field) for name, field in schema.dump_fields.items())
        accessor = schema.get_attribute

        def dump(obj: Any) -> dict[str, Any]:
            out: dict[str, Any] = {}
            # an object that is no mapping (an ORM row) has its plain attributes read directly
            attributes = not hasattr(obj, "__getitem__")
            for key, name, attribute, default, plain, serialize in steps:
                if attribute is None:
                    value = serialize(name, obj, accessor=accessor)
                    if value is not missing:
                        out[key] = value
                    continue
                if attributes and "." not in attribute:
                    value = getattr(obj, attribute, missing)
                else:
                    value = get_value(obj, attribute, missing)
                if value is missing:
                    if default is missing:
                        continue
                    value = default() if callable(default) else default
                    if value is missing:
                        continue
                if value is None and plain is not None:
                    out[key] = None
                elif plain is not None and type(value) is plain:
                    out[key] = value
                else:
                    out[key] = serialize(value, name, obj)
            return out

    schema.__dict__[_PLAN] = dump
    return dump


class Items(fields.List):
    """`fields.List(fields.Nested(item))` that dumps each item by the item schema's plan."""

    def __init__(self, item: type[Schema], **kwargs: Any) -> None:
        super().__init__(fields.Nested(item), **kwargs)

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> list[Any] | None:
        inner = self.inner
        dump = None
        if ENABLED and isinstance(inner, fields.Nested) and not inner.many and not inner.schema.many:
            dump = plan(inner.schema)
        if value is None or dump is None:
            return super()._serialize(value, attr, obj, **kwargs)
        return [None if each is None else dump(each) for each in value]
