"""One place that turns exceptions into responses: JSON under /api and /oauth, pages elsewhere."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from authlib.oauth2 import OAuth2Error
from flask import Flask, Response, jsonify, render_template, request
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import DataError, OperationalError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from jixiao.platform.core.errors import DomainError
from jixiao.platform.core.storage import StoreUnavailable

from .context import Unauthenticated

log = logging.getLogger(__name__)

JSON_PREFIXES = ("/api/", "/oauth/")

MESSAGES = {
    400: "请求格式有误",
    401: "需要登录或有效的访问令牌",
    403: "没有权限执行此操作",
    404: "请求的资源不存在",
    405: "不支持该请求方法",
    409: "当前状态不允许此操作",
    413: "上传内容过大",
    415: "不支持的内容类型",
    422: "提交的数据未通过校验",
    429: "请求过于频繁，请稍后再试",
    500: "服务器内部错误",
    503: "服务暂不可用",
}


def wants_json() -> bool:
    return request.path.startswith(JSON_PREFIXES) or request.path in ("/readyz", "/healthz")


def _string_keys(value: Any) -> Any:
    """Error keys as strings: a multipart field without a name reaches the validator as None (and
    a JSON body may not mix None and text keys)."""
    if isinstance(value, dict):
        return {("" if k is None else str(k)): _string_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_string_keys(v) for v in value]
    return value


def error_response(
    status: int,
    message: str | None = None,
    errors: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    message = message or MESSAGES.get(status, HTTPStatus(status).phrase)
    if wants_json():
        body: dict[str, Any] = {"code": status, "status": HTTPStatus(status).phrase, "message": message}
        if errors:
            body["errors"] = _string_keys(errors)
        resp = jsonify(body)
    elif status == 429 and request.path == "/login":  # keep the form, say why it is refused
        username = (request.form.get("username") or "").strip()
        resp = Response(render_template("login.html", username=username, error=message))
    else:
        resp = Response(render_template("error.html", status=status, message=message, errors=errors or {}))
    resp.status_code = status
    for key, value in (headers or {}).items():
        resp.headers[key] = value
    return resp


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def _domain(exc: DomainError) -> Response:
        if exc.status == 403:  # access control refused: a line the operators can alert on (ASVS 7.2.2)
            log.warning("access refused: %s", exc.message, extra={"event": "access_refused"})
        return error_response(exc.status, exc.message, exc.errors)

    @app.errorhandler(Unauthenticated)
    def _unauthenticated(exc: Unauthenticated) -> Response:
        return error_response(401, exc.message, headers={"WWW-Authenticate": 'Bearer realm="jixiao"'})

    @app.errorhandler(OAuth2Error)
    def _oauth(exc: OAuth2Error) -> Response:
        return error_response(
            401,
            "访问令牌无效、已过期或已撤销" if exc.error != "missing_authorization" else None,
            {"oauth": [exc.error]},
            headers={"WWW-Authenticate": f'Bearer error="{exc.error}"'},
        )

    @app.errorhandler(StaleDataError)
    def _stale(exc: StaleDataError) -> Response:
        return error_response(409, "数据已被他人同时修改，请刷新后重试")

    @app.errorhandler(DataError)
    def _data(exc: DataError) -> Response:
        """The last line behind the input rules: a value the database refuses (too long for its
        column, a number out of range) is the client's error, never a 500."""
        logging.getLogger(__name__).warning("database refused a value: %s", exc.orig)
        return error_response(422, "提交的数据超出允许的范围（文字过长或数值过大），请检查后重试")

    @app.errorhandler(StoreUnavailable)
    def _store(exc: StoreUnavailable) -> Response:
        return error_response(503, f"对象存储不可用：{exc}")

    # A dependency that is down is the service's state, not a bug: 503 with the documented body
    # (the pool reconnects once the database is back — pool_pre_ping; nothing to restart).
    @app.errorhandler(OperationalError)
    def _database_down(exc: OperationalError) -> Response:
        log.warning("database unavailable: %s", exc.orig)
        return error_response(503, "数据库暂不可用，请稍后重试")

    @app.errorhandler(RedisConnectionError)
    @app.errorhandler(RedisTimeoutError)
    def _queue_down(exc: Exception) -> Response:
        log.warning("redis unavailable: %s", exc)
        return error_response(503, "任务队列暂不可用，请稍后重试")

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Response:
        status = exc.code or 500
        errors = None
        message = None
        data = getattr(exc, "data", None)
        if isinstance(data, dict):  # webargs/flask-smorest validation errors
            errors = data.get("messages") or data.get("errors")
            message = data.get("message")
        if status == 422 and errors:
            message = message or _first_problem(errors)
        elif status == 400 and exc.description and "JSON" in str(exc.description):
            message = "请求体不是有效的 JSON"
        elif status == 429:
            message = _limit_message(str(exc.description or ""))
        headers = {}
        valid_methods = getattr(exc, "valid_methods", None)
        if status == 405 and valid_methods:
            headers["Allow"] = ", ".join(valid_methods)
        return error_response(status, message, errors, headers)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(500)


def _first_problem(errors: Any, path: str = "") -> str:
    """A readable one-line summary naming the first bad field (all are in `errors`)."""
    if isinstance(errors, dict):
        for key, value in errors.items():
            if key in ("json", "form", "query", "files"):
                return _first_problem(value, path)
            return _first_problem(value, f"{path}.{key}" if path else str(key))
    if isinstance(errors, list) and errors:
        first = errors[0]
        if isinstance(first, str):
            return f"字段 {path}：{first}" if path else first
        return _first_problem(first, path)
    return MESSAGES[422]


_UNITS = {"second": "秒", "minute": "分钟", "hour": "小时", "day": "天"}


def _limit_message(limit: str) -> str:
    """flask-limiter describes the limit in English ("5 per 15 minute"); say it in Chinese."""
    words = limit.replace("per", " ").split()
    window = ""
    if len(words) >= 2 and words[0].isdigit():
        count, rest = words[0], words[1:]
        amount = rest[0] if rest and rest[0].isdigit() else "1"
        unit = _UNITS.get(rest[-1].rstrip("s"), rest[-1]) if rest else ""
        window = f"（{amount} {unit}内最多 {count} 次）" if unit else ""
    if request.path in ("/login", "/oauth/token"):
        return f"登录失败次数过多，请稍后再试{window}"
    return f"请求过于频繁，请稍后再试{window}"
