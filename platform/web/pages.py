"""Small helpers every capability's pages share (the web layer only)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

from flask import Response, request

from jixiao.platform.core.authz import authorize
from jixiao.platform.core.errors import DomainError
from jixiao.platform.core.storage import ObjectStore, content_disposition

from .context import actor


def own_path(target: str | None) -> str | None:
    """`target` when it is a path of this site (`/projects/5`), else None: never another host
    (`//evil.example`, `https://…`) nor a backslash some browsers read as a slash (`/\\evil`).
    For every redirect to an address that came with a request or a stored link."""
    if not target:
        return None
    own = (
        target.startswith("/")
        and not target.startswith("//")
        and "\\" not in target
        and not urlsplit(target).netloc
    )
    return target if own else None


def may(action: str, **context: Any) -> bool:
    """Whether the current user may do `action` — to show or hide a button, never to enforce."""
    try:
        authorize(actor(), action, **context)
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
