"""Small helpers every capability's pages share (the web layer only)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

from flask import Response, g, request, session
from markupsafe import Markup, escape
from marshmallow import Schema, ValidationError
from sqlalchemy import select

from jixiao.platform.core.authz import POLICIES, authorize
from jixiao.platform.core.errors import DomainError
from jixiao.platform.core.storage import ObjectStore, content_disposition
from jixiao.tenants.models import User

from .context import optional_actor, system_db

# Scopes that change nothing of the tenant's data: still allowed while viewing another tenant.
_PERSONAL_SCOPES = frozenset({"profile", "notifications:write"})


def own_path(target: str | None) -> str | None:
    """`target` when it is a path of this site (`/projects/5`), else None: never another host
    (`//evil.example`, `https://…`) nor a backslash some browsers read as a slash (`/\\evil`), nor
    a control character (`/%0D%0A//x`).
    For every redirect to an address that came with a request or a stored link."""
    if not target:
        return None
    own = (
        target.isprintable()  # no CR/LF or other control characters (a header would break)
        and target.startswith("/")
        and not target.startswith("//")
        and "\\" not in target
        and not urlsplit(target).netloc
    )
    return target if own else None


def viewing_other_tenant() -> bool:
    """The user picked another tenant in the header's switcher (上级只读查看): every page then
    shows that tenant's data and offers no write control, whatever the user's own rights."""
    who = optional_actor()
    code = session.get("view_tenant")
    return bool(code) and who is not None and code != who.tenant_code


def is_write_action(action: str) -> bool:
    scope = POLICIES[action].scope
    return not scope.endswith(":read") and scope not in _PERSONAL_SCOPES


def may(action: str, **context: Any) -> bool:
    """Whether the current user may do `action` — to show or hide a button, never to enforce.
    While viewing another tenant (read-only mode) no write action is offered on any page, the
    user's own things included: the header says so, and switching back restores them."""
    who = optional_actor()
    if who is None:
        return False
    if is_write_action(action) and viewing_other_tenant():
        return False
    try:
        authorize(who, action, **context)
        return True
    except DomainError:
        return False


def is_htmx(target: str | None = None) -> bool:
    """An htmx request for a fragment (not a history restore, which wants the whole page)."""
    if request.headers.get("HX-Request") != "true" or request.headers.get("HX-History-Restore-Request"):
        return False
    return target is None or request.headers.get("HX-Target") == target


def htmx_page_path() -> str:
    """The path of the page an htmx request was made from ("" when it does not say)."""
    return urlsplit(request.headers.get("HX-Current-URL", "")).path


# The app's CSP, except that a streamed file (an evidence item's, a report's PDF) may be framed by the
# app's own preview page (and nothing else), with the browser's PDF viewer; an error page of such a
# route (404) stays as strict.
INLINE_CSP = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": ["'self'", "data:"],
    "font-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'self'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'self'",
}


def load_form(schema: Schema, raw: dict[str, Any]) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """A page's form through the API's schema: (the data, {}) or ({}, every problem by field —
    nested lists as `<field>.<n>.<subfield>`, n from 1), for the form to show beside each field."""
    try:
        return schema.load(raw), {}
    except ValidationError as exc:
        found: dict[str, list[str]] = {}
        for key, value in exc.messages.items():  # type: ignore[union-attr]
            if isinstance(value, dict):
                for index, sub in value.items():
                    for field, messages in sub.items() if isinstance(sub, dict) else [("_", sub)]:
                        found[f"{key}.{int(index) + 1}.{field}"] = list(messages)
            else:
                found[str(key)] = list(value)
        return {}, found


def stream_object(
    store: ObjectStore,
    key: str,
    *,
    filename: str,
    content_type: str,
    size: int,
    inline: bool = False,
    headers: dict[str, str] | None = None,
) -> Response:
    """An object of the store streamed through the app (never whole in memory)."""

    def body() -> Iterator[bytes]:
        with store.open_stream(key) as chunks:
            yield from chunks

    return Response(
        body(),
        mimetype=content_type,
        headers={
            "Content-Disposition": content_disposition(filename, inline=inline),
            "Content-Length": str(size),
            **(headers or {}),
        },
    )


SYSTEM_NAME = "系统"


def person(username: str | None) -> Markup:
    """A person as pages show them: the display name, the login name on hover. Records keep the
    login name; the names are looked up once per request across the walls on purpose — only the
    display names of people already named on a record the user can read. Only ever apply it to a
    record's `*_by`/reviewer field, never to text a user typed (it would reveal names)."""
    if not username or username == "system":
        return Markup('<span class="jx-person">{}</span>').format(SYSTEM_NAME)
    names: dict[str, str | None] = g.setdefault("person_names", {})
    if username not in names:
        names[username] = (
            system_db("display names of the people named on a page")
            .execute(select(User.display_name).where(User.username == username))
            .scalar_one_or_none()
        )
    shown = names[username] or username
    return Markup('<span class="jx-person" title="{}">{}</span>').format(escape(username), shown)
