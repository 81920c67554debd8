"""What every API request body and query string must be before any handler sees it.

* A JSON body is at most `JIXIAO_MAX_JSON_MIB` (*default* 2 MiB): 413 with a message.
* It parses (400 for malformed JSON), nests at most `MAX_DEPTH` levels (400: absurd nesting would
  exhaust the parser's recursion) and holds no lone UTF-16 surrogate (400: the database cannot
  store one), so that no handler meets a body Python's JSON module accepts but nothing else does.
* An unknown query parameter is refused with 422 naming it, as an unknown body field is; an
  endpoint that declares no query parameters takes none.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from flask import Request, current_app, request
from werkzeug.datastructures import ImmutableMultiDict

from jixiao.platform.core.schema import INT_MAX, INT_MIN

MAX_DEPTH = 64


class BadJson(ValueError):
    pass


def _check(value: Any, depth: int = 0) -> None:
    """Walk the parsed body iteratively enough: depth is bounded before recursion gets deep."""
    if depth > MAX_DEPTH:
        raise BadJson(f"JSON 嵌套超过 {MAX_DEPTH} 层")
    if isinstance(value, str):
        _check_text(value)
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_text(key)
            _check(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _check(item, depth + 1)


def _check_text(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise BadJson("JSON 字符串含无效的 Unicode 字符（孤立的代理项，如 \\ud800）") from None


def parse_json_body(raw: bytes) -> Any:
    """The body parsed, or BadJson saying why not (malformed, too deep, invalid characters)."""
    try:
        value = json.loads(raw)
    except RecursionError:
        raise BadJson(f"JSON 嵌套超过 {MAX_DEPTH} 层") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadJson(f"请求体不是有效的 JSON：{exc}") from None
    _check(value)
    return value


def declared_query_fields() -> set[str] | None:
    """The query parameters the endpoint of this request declares (None: not a documented API
    endpoint, nothing to check)."""
    view = current_app.view_functions.get(request.endpoint or "")
    if view is None:
        return None
    view_class = getattr(view, "view_class", None)
    func = getattr(view_class, request.method.lower(), None) if view_class is not None else view
    doc = getattr(func, "_apidoc", None)
    if doc is None:
        return None
    names: set[str] = set()
    for parameter in doc.get("arguments", {}).get("parameters", []):
        if isinstance(parameter, dict) and parameter.get("in") == "query":
            names |= _names_of(parameter["schema"])
    return names


@lru_cache(maxsize=512)
def _names_of(schema: Any) -> frozenset[str]:
    """A query schema's parameter names (a schema class is built once, not on every request)."""
    schema = schema() if isinstance(schema, type) else schema
    return frozenset(field.data_key or name for name, field in schema.fields.items())


def unknown_query_parameters() -> list[str]:
    if not request.args:
        return []
    declared = declared_query_fields()
    if declared is None:
        return []
    return sorted(set(request.args) - declared)


class BoundedMultiDict(ImmutableMultiDict):  # type: ignore[type-arg]
    """Query and form values: `.get(key, type=int)` of a number the INTEGER columns cannot hold is
    the default, as for a value that is no number at all (pages read ids and page numbers so)."""

    def get(self, key: Any, default: Any = None, type: Any = None) -> Any:  # noqa: A002 - werkzeug's name
        value = super().get(key, default, type)
        if type is int and isinstance(value, int) and not INT_MIN <= value <= INT_MAX:
            return default
        return value


class BoundedRequest(Request):
    parameter_storage_class = BoundedMultiDict
