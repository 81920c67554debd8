"""The base of every schema that reads a request (`InputSchema`): one rule for each kind of value,
so that no handler meets text or numbers the database cannot hold.

* Single-line text (names, codes, units …): at most `NAME_MAX` (200) characters unless the field
  says otherwise with its own `validate.Length`; no control characters (NUL, ESC, bare CR/LF …),
  no bidirectional overrides (U+202A–U+202E, U+2066–U+2069), no lone surrogates.
* Multi-line text (`metadata={"multiline": True}`: goals, opinions, explanations …): at most
  `TEXT_MAX` (5,000) characters; newlines and tabs allowed, nothing else of the above.
* Integers: within PostgreSQL's INTEGER, a signed 32-bit range (the ids and every other integer
  column; an id of 2^31 is refused with 422, not a 500), unless the field has its own bounded
  `validate.Range` (a BIGINT column such as an evidence size takes `BIGINT_MIN`…`BIGINT_MAX`).

The limits show in the OpenAPI document as `maxLength` / `minimum` / `maximum`, since they are the
fields' own validators. Output schemas stay plain `marshmallow.Schema`: what the system wrote is
not re-validated on the way out.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate

from . import messages  # noqa: F401 - Chinese defaults before any field is built

NAME_MAX = 200
TEXT_MAX = 5000
INT_MIN, INT_MAX = -(2**31), 2**31 - 1  # PostgreSQL INTEGER
BIGINT_MIN, BIGINT_MAX = -(2**63), 2**63 - 1  # PostgreSQL BIGINT

_BIDI = set(range(0x202A, 0x202F)) | set(range(0x2066, 0x206A))
_MULTILINE_ALLOWED = {"\n", "\r", "\t"}


def _bad_character(text: str, *, multiline: bool) -> str | None:
    """The first character the rule refuses, described for the message (None: all fine)."""
    for ch in text:
        code = ord(ch)
        if multiline and ch in _MULTILINE_ALLOWED:
            continue
        if code in _BIDI:
            return f"文字方向控制符 U+{code:04X}"
        category = unicodedata.category(ch)
        if category == "Cs":
            return f"无效的 Unicode 代理项 U+{code:04X}"
        if category == "Cc":
            if ch in "\r\n":
                return "换行符（此项须为单行文字）"
            return f"控制字符 U+{code:04X}"
    return None


def text_problem(value: str, *, multiline: bool, limit: int | None = None) -> str | None:
    """The same rules for text a service checks itself (a value inside a free-form dict)."""
    if limit is None:
        limit = TEXT_MAX if multiline else NAME_MAX
    if len(value) > limit:
        return f"不能超过 {limit} 个字"
    what = _bad_character(value, multiline=multiline)
    return f"不能包含{what}" if what else None


class SingleLine(validate.Validator):
    error = "不能包含{what}"

    def __call__(self, value: Any) -> Any:
        if isinstance(value, str) and (what := _bad_character(value, multiline=False)):
            raise ValidationError(self.error.format(what=what))
        return value


class MultiLine(validate.Validator):
    error = "不能包含{what}（只允许换行和制表符）"

    def __call__(self, value: Any) -> Any:
        if isinstance(value, str) and (what := _bad_character(value, multiline=True)):
            raise ValidationError(self.error.format(what=what))
        return value


def harden(field: fields.Field) -> None:
    """Give `field` (and the fields inside a list or dict) the rules of its kind."""
    if isinstance(field, fields.List):
        harden(field.inner)
    elif isinstance(field, fields.Dict):
        for part in (field.key_field, field.value_field):
            if part is not None:
                harden(part)
    elif isinstance(field, fields.String):
        multiline = bool(field.metadata.get("multiline"))
        if not any(isinstance(v, validate.Length) for v in field.validators):
            length = validate.Length(max=TEXT_MAX if multiline else NAME_MAX)
            field.validators.append(length)
        field.validators.append(MultiLine() if multiline else SingleLine())
    elif isinstance(field, fields.Integer) and not any(
        isinstance(v, validate.Range) and v.min is not None and v.max is not None for v in field.validators
    ):
        # also beside a one-sided range such as `Range(min=1)`: the column has its limits too
        field.validators.append(validate.Range(min=INT_MIN, max=INT_MAX))


class InputSchema(Schema):
    """A request's body, form or query: every field hardened as it is bound (see the module)."""

    def on_bind_field(self, field_name: str, field_obj: fields.Field) -> None:
        harden(field_obj)


class DecimalString(fields.Decimal):
    """A decimal answered as a string ("1250000.00", "90.83"), and documented so in the OpenAPI
    document (string, format decimal) — marshmallow's `as_string` alone is documented as a number."""

    def __init__(self, **kwargs: Any) -> None:
        metadata = {"type": "string", "format": "decimal", **kwargs.pop("metadata", {})}
        super().__init__(as_string=True, metadata=metadata, **kwargs)
