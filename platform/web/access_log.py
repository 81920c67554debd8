"""One access line per request (logger `jixiao.access`), and the request's context on every log line.

The context comes from what the request hooks establish anyway: the request id (`context.request_id`,
the `X-Request-ID` header or a new one) and the actor (`g.actor`, built by app.py's `_identify` from
the bearer token or the page session). The access line names the path without its query string (a
password grant, an authorization code or a token may travel there), with a token in the path itself
(a signed upload URL) replaced, and never a header, a cookie or a body.
"""

from __future__ import annotations

import logging
import time
from typing import Any
from urllib.parse import quote

from flask import Flask, Response, g, has_request_context, request

from jixiao.platform.core import logs

from .context import request_id

log = logging.getLogger("jixiao.access")

# A path segment that is a credential: the view argument's name says so (`<string:token>`).
SECRET_ARGUMENTS = ("token", "secret", "password", "signature")
REDACTED = "[redacted]"


def init_app(app: Flask) -> None:
    """Register before any other request hook, so that every request is timed and logged, including
    one that a later hook answers itself (a redirect to HTTPS, a rate limit)."""
    app.before_request(_start)
    app.after_request(_status)
    app.teardown_request(_access_line)
    logs.add_context(request_context)


def request_context() -> dict[str, Any]:
    """The fields every log line inside a request carries (nothing outside one)."""
    if not has_request_context():
        return {}
    fields: dict[str, Any] = {"request_id": g.get("request_id")}
    actor = g.get("actor")
    fields["user"] = actor.username if actor is not None else None
    fields["tenant"] = actor.tenant_code if actor is not None else None
    rule = request.url_rule
    fields["route"] = rule.rule if rule is not None else None
    fields["method"] = request.method
    fields["ip"] = request.remote_addr  # the client's, past the one trusted proxy (JIXIAO_BEHIND_TLS)
    return fields


def _start() -> None:
    g.access_started = time.perf_counter()
    request_id()  # established now: every line the request logs carries it


def _status(response: Response) -> Response:
    g.access_status = response.status_code
    return response


def _access_line(exc: BaseException | None = None) -> None:
    """At teardown, which runs for every request — also one that ended in an unhandled error (500)."""
    if g.get("access_logged"):
        return
    g.access_logged = True
    status = g.get("access_status", 500)
    started = g.get("access_started")
    duration_ms = round((time.perf_counter() - started) * 1000, 1) if started is not None else None
    path = safe_path()
    actor = g.get("actor")
    log.info(
        "%s %s %s %sms request_id=%s user=%s tenant=%s",
        request.method,
        path,
        status,
        duration_ms,
        request_id(),
        actor.username if actor is not None else "-",
        (actor.tenant_code or "-") if actor is not None else "-",
        extra={"path": path, "status": status, "duration_ms": duration_ms},
    )


def safe_path() -> str:
    """The request's path, without the query string, each secret path argument replaced."""
    path = request.path
    secrets = [
        str(value)
        for name, value in (request.view_args or {}).items()
        if any(word in name.lower() for word in SECRET_ARGUMENTS)
    ]
    if not secrets:
        return path
    hidden = set(secrets) | {quote(value, safe="") for value in secrets}
    return "/".join(REDACTED if segment in hidden else segment for segment in path.split("/"))
