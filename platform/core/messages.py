"""Chinese default messages for marshmallow's built-in checks (required, type, unknown field …),
so that a request error reads like the rest of the system.

Fields copy their messages when they are built, so this must run before any schema class is
defined: every `schemas.py` imports this module first, and importing it installs the messages."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

_FIELD = {"required": "缺少必填字段", "null": "不能为空", "validator_failed": "值无效"}
_BY_TYPE: dict[type[fields.Field], dict[str, str]] = {
    fields.String: {"invalid": "须为字符串", "invalid_utf8": "不是有效的 UTF-8 字符串"},
    fields.Integer: {"invalid": "须为整数", "too_large": "数值过大"},
    fields.Number: {"invalid": "须为数字", "too_large": "数值过大"},
    fields.Decimal: {"special": "须为有限的数字"},
    fields.Boolean: {"invalid": "须为 true 或 false"},
    fields.List: {"invalid": "须为列表"},
    fields.Dict: {"invalid": "须为对象"},
    fields.Mapping: {"invalid": "须为对象"},
    fields.DateTime: {"invalid": "须为 ISO 8601 日期时间", "invalid_awareness": "须带时区"},
    fields.Date: {"invalid": "须为日期，格式 YYYY-MM-DD"},
    fields.Nested: {"type": "须为对象"},
}


def install() -> None:
    fields.Field.default_error_messages.update(_FIELD)
    for field_class, messages in _BY_TYPE.items():
        field_class.default_error_messages = {**field_class.default_error_messages, **messages}
    Schema._default_error_messages = {"type": "输入类型无效", "unknown": "未知字段"}
    validate.OneOf.default_message = "须为以下之一：{choices}"
    # Range formats its messages twice (first the operator, then the bounds): hence {{min}}.
    validate.Range.message_min = "不能小于 {{min}}"
    validate.Range.message_max = "不能大于 {{max}}"
    validate.Range.message_all = "须在 {{min}} 与 {{max}} 之间"
    validate.Length.message_min = "长度不能小于 {min}"
    validate.Length.message_max = "长度不能大于 {max}"
    validate.Length.message_all = "长度须在 {min} 与 {max} 之间"
    validate.Length.message_equal = "长度须为 {equal}"


install()
