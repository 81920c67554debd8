"""Server-side web sessions and the "end everything" of an account (OWASP ASVS V3, V2).

The pages' signed cookie only names a session: the session itself lives in `web_sessions`
(`jixiao.platform.core.oauth_models.WebSession`), started at login, checked on every request and
ended at logout, so a cookie captured before a logout is worthless after it.

A password change or reset ends every other web session of the user and revokes all their OAuth
tokens; deactivation ends all of them. Nothing un-ends a session or un-revokes a token, so a
reactivated account starts with none. No Flask here: the page layer keeps the token in the cookie.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from .actor import Actor
from .audit import record
from .db import utcnow
from .oauth_models import OAuthToken, WebSession, revoke_tokens, token_digest

# why a session ended (WebSession.ended_reason, and the audit event's `reason`)
LOGOUT = "logout"
PASSWORD_CHANGED = "password_changed"  # by the user themself: their current session stays
PASSWORD_RESET = "password_reset"  # by an administrator
DEACTIVATED = "deactivated"
EXPIRED = "expired"  # past JIXIAO_SESSION_HOURS


def start(session: Session, user_id: int) -> tuple[WebSession, str]:
    """A new live session for the user; returns it and the token for the cookie (shown once)."""
    token = secrets.token_urlsafe(32)
    row = WebSession(user_id=user_id, token_hash=token_digest(token))
    session.add(row)
    session.flush()
    return row, token


def live(session: Session, user_id: int, token: str | None, max_hours: int = 12) -> WebSession | None:
    """The user's live session named by the cookie's token; None when unknown, ended, another's,
    or older than `max_hours` (JIXIAO_SESSION_HOURS: an absolute lifetime, then log in again)."""
    if not token:
        return None
    row = session.execute(
        select(WebSession).where(
            WebSession.token_hash == token_digest(token),
            WebSession.user_id == user_id,
            WebSession.ended_at.is_(None),
        )
    ).scalar_one_or_none()
    if row is not None and _aware(row.created_at) < utcnow() - timedelta(hours=max_hours):
        end(row, EXPIRED)
        session.commit()
        return None
    return row


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def end(row: WebSession, reason: str) -> None:
    if row.ended_at is None:
        row.ended_at = utcnow()
        row.ended_reason = reason


def end_user_sessions(session: Session, user_id: int, reason: str, *, keep: int | None = None) -> int:
    """End every live session of the user (but `keep`); returns how many were ended."""
    stmt = update(WebSession).where(WebSession.user_id == user_id, WebSession.ended_at.is_(None))
    if keep is not None:
        stmt = stmt.where(WebSession.id != keep)
    result = session.execute(
        stmt.values(ended_at=utcnow(), ended_reason=reason).execution_options(synchronize_session="fetch")
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def end_everything(
    session: Session,
    user_id: int,
    reason: str,
    *,
    tenant_id: int | None = None,
    keep: int | None = None,
    actor: Actor | None = None,
) -> None:
    """End the user's web sessions (but `keep`, the caller's own) and revoke all their OAuth
    tokens, in the caller's unit of work, audited as `auth.sessions_ended`."""
    sessions = end_user_sessions(session, user_id, reason, keep=keep)
    tokens = revoke_tokens(session, OAuthToken.user_id == user_id)
    record(
        session,
        "auth.sessions_ended",
        object_type="user",
        object_id=user_id,
        after={"reason": reason, "web_sessions": sessions, "oauth_tokens": tokens},
        tenant_id=tenant_id,
        actor=actor,
    )
