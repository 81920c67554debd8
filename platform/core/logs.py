"""Logging for every process (web, `jixiao serve`, `jixiao worker`, the CLI): one handler on the root
logger, writing to stderr in one of two formats (`JIXIAO_LOG_FORMAT`):

`text` (default, `make run`)  `2026-03-01 10:00:00,123 INFO jixiao.access GET /api/v1/me 200 …`
`json`                        one JSON object per line: `ts` (ISO 8601, UTC), `level`, `logger`,
                              `msg`, `exc` (a traceback, when there is one), and, inside a web
                              request, its context — `request_id`, `user`, `tenant`, `route`,
                              `method` — plus what the call passed as `extra` (the access line's
                              `status`, `duration_ms`, `path`).

Flask-free: the web layer registers how to read a request's context (`add_context`,
platform/web/access_log.py). Nothing here scrubs messages: what must never be logged (tokens,
passwords, Authorization headers, cookies, bodies) is never passed to a logger in the first place.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Protocol

FORMATS = ("text", "json")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"

# The attributes every LogRecord has: anything else on a record came in through `extra=`.
_RECORD_ATTRIBUTES = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName"}

ContextProvider = Callable[[], Mapping[str, Any]]
_providers: list[ContextProvider] = []


class _LogSettings(Protocol):
    @property
    def log_level(self) -> str: ...

    @property
    def log_format(self) -> str: ...


def add_context(provider: ContextProvider) -> None:
    """Register a function that returns the fields of the current context (empty outside it)."""
    if provider not in _providers:
        _providers.append(provider)


def current_context() -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for provider in _providers:
        try:
            fields.update(provider())
        except Exception:  # noqa: BLE001 - a log line never fails for want of its context
            continue
    return fields


class JsonFormatter(logging.Formatter):
    """One JSON object per line; non-ASCII text stays readable (ensure_ascii=False)."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        line.update(current_context())
        for key, value in record.__dict__.items():
            if key not in _RECORD_ATTRIBUTES and not key.startswith("_"):
                line[key] = value
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exc"] = record.exc_text
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def formatter(log_format: str) -> logging.Formatter:
    """The formatter of `JIXIAO_LOG_FORMAT` (also given to gunicorn's own log by `jixiao serve`)."""
    if log_format == "json":
        return JsonFormatter()
    if log_format == "text":
        return logging.Formatter(TEXT_FORMAT)
    raise ValueError(f"JIXIAO_LOG_FORMAT must be one of {', '.join(FORMATS)}, not {log_format!r}")


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever `sys.stderr` is at the time (test runners swap it)."""

    def __init__(self) -> None:
        logging.Handler.__init__(self)

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        return None


def _not_dev_server_request(record: logging.LogRecord) -> bool:
    """The development server's own request line (`jixiao run`) carries the query string: the
    access line (`jixiao.access`) replaces it."""
    return not (record.name == "werkzeug" and '"%s" %s %s' in str(record.msg))


def configure(settings: _LogSettings) -> None:
    """Install (or replace) the root handler; idempotent — each `create_app` calls it."""
    fmt = formatter(settings.log_format)
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_jixiao", False):
            root.removeHandler(handler)
    handler = _StderrHandler()
    handler.setFormatter(fmt)
    handler.addFilter(_not_dev_server_request)
    handler._jixiao = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(settings.log_level)
    logging.captureWarnings(True)  # Python's warnings are log lines too (logger `py.warnings`)
