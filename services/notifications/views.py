"""Pages of the notifications (消息): the list (`/notifications`, unread first), marking one or all
read, opening one (marked read, then on to the page it is about), and the unread badge of the bell
in every page's header (`unread_notifications()`, a template global provided here).

Marking one read answers an htmx request with the row re-rendered and the bell swapped out of band
(`hx-swap-oob`), a plain form post with a redirect back to the list; opening is always a plain
POST (a small form per row) so the read mark is a write with its CSRF token, never a GET.

The badge is one COUNT query, run only when a page's header asks for it, only for a logged-in user,
cached for the request, and never the reason a page fails: an error there is logged and the bell
shows no badge.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_login import login_required
from sqlalchemy.exc import DBAPIError

from jixiao.platform.web.context import actor, db, optional_actor
from jixiao.platform.web.pages import htmx_page_path, is_htmx, own_path
from jixiao.services.tasks.views import page_numbers

from . import service
from .models import KINDS

log = logging.getLogger(__name__)

bp = Blueprint("notifications_pages", __name__, url_prefix="/notifications", template_folder="templates")

PAGE_SIZE = 30
KIND_BADGES = {
    "task": "text-bg-primary",
    "approved": "text-bg-success",
    "returned": "text-bg-warning",
    "decided": "text-bg-info",
    "reminder": "text-bg-danger",
}
_CACHE = "jx_unread_notifications"


def unread_notifications() -> int:
    """The current user's unread count for the header (0 when logged out or on any failure)."""
    cached: int | None = g.get(_CACHE)
    if cached is not None:
        return cached
    count = 0
    who = optional_actor()
    if who is not None and who.user_id is not None:
        session = None
        try:
            session = db()
            with session.no_autoflush:  # a page's pending (uncommitted) changes are not ours to flush
                count = service.unread_count(session, who)
        except Exception as exc:  # the bell must never take a page down with it
            log.warning("unread notification count failed", exc_info=True)
            count = 0
            if session is not None and isinstance(exc, DBAPIError):
                # PostgreSQL refuses every later statement of a transaction with a failed one: the
                # rest of the page (rendered after its handler committed) reads in a fresh one
                with contextlib.suppress(Exception):
                    session.rollback()
    setattr(g, _CACHE, count)
    return count


def badge_text(count: int) -> str:
    return "99+" if count > 99 else str(count)


@bp.app_context_processor
def _bell() -> dict[str, Any]:
    """`unread_notifications()` for base.html: a callable, so a fragment that never shows the header
    (an htmx swap) costs no query."""
    return {"unread_notifications": unread_notifications, "unread_badge_text": badge_text}


@bp.get("/bell")
def bell() -> Any:
    """The bell alone, polled by every page's header (htmx, every 60 s) so that the badge follows
    new notifications without a reload. Logged out (session expired): 286, which stops the polling."""
    if optional_actor() is None:
        return "", 286
    on_list = htmx_page_path().rstrip("/") == url_for(".index")
    return render_template("notifications/_bell.html", on_list=on_list)


@bp.get("")
@login_required
def index() -> Any:
    page_no = max(request.args.get("page", 1, type=int) or 1, 1)
    results = service.list_notifications(db(), actor(), page=page_no, page_size=PAGE_SIZE)
    if results.page > results.pages:  # past the end (an old link): the last page
        results = service.list_notifications(db(), actor(), page=results.pages, page_size=PAGE_SIZE)
    return render_template(
        "notifications/index.html",
        results=results,
        pages=results.pages,
        page_numbers=page_numbers(results.page, results.pages),
        unread=unread_notifications(),
        newest_id=service.newest_id(db(), actor()),
        kinds=KINDS,
        kind_badges=KIND_BADGES,
    )


@bp.post("/<int:notification_id>/read")
@login_required
def read(notification_id: int) -> Any:
    s = db()
    note = service.mark_read(s, actor(), notification_id)
    s.commit()
    g.pop(_CACHE, None)
    if is_htmx():
        return render_template(
            "notifications/_read.html",
            note=note,
            newest_id=service.newest_id(s, actor()),
            kinds=KINDS,
            kind_badges=KIND_BADGES,
            oob=True,
        )
    flash("已标为已读", "success")
    return redirect(_back())


@bp.post("/<int:notification_id>/open")
@login_required
def open_notification(notification_id: int) -> Any:
    """Mark it read, then go where it points (the list, when it points nowhere)."""
    s = db()
    note = service.mark_read(s, actor(), notification_id)
    s.commit()
    return redirect(own_path(note.link) or url_for(".index"))


@bp.post("/read-all")
@login_required
def read_all() -> Any:
    s = db()
    up_to = request.form.get("up_to", type=int)
    marked = service.mark_all_read(s, actor(), up_to=up_to)
    s.commit()
    flash(f"已将 {marked} 条消息标为已读" if marked else "没有未读消息", "success" if marked else "info")
    return redirect(_back())


def _back() -> str:
    """Back to the list page the form was on."""
    page_no = request.form.get("page", type=int) or 1
    args: dict[str, Any] = {"page": page_no} if page_no > 1 else {}
    return url_for(".index", **args)
