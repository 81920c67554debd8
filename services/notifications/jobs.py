"""RQ jobs of notifications: the outbound channel (email by SMTP). No Flask: runs in `jixiao worker`.

`JIXIAO_SMTP_URL` says where: `smtp://host:25`, `smtp+starttls://user:password@host:587` or
`smtps://user:password@host:465` (user and password URL-encoded). The message is plain UTF-8 text
with the notification's title as the subject and a link back to the page (`JIXIAO_BASE_URL`).
A failure raises, so RQ retries (the queue's Retry: 3 attempts in all); the last one marks the
delivery `failed` with the error. A delivery already sent is never sent again.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Callable
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from typing import Any, cast
from urllib.parse import unquote, urlsplit

from rq import get_current_job
from sqlalchemy import CursorResult, update

from jixiao.platform.core.actor import Actor
from jixiao.platform.core.config import Settings
from jixiao.platform.core.db import utcnow
from jixiao.platform.core.runtime import current_runtime

from .models import Delivery, Notification

MAX_ATTEMPTS = 3


def _message(note: Notification, address: str, sender: str, base_url: str) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = f"【预算绩效管理】{note.title}"
    msg["From"] = formataddr(("预算绩效一体化管理平台", sender))
    msg["To"] = address
    msg["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or "localhost")
    lines = [note.title, ""]
    if note.body:
        lines += [note.body, ""]
    if note.link:
        lines.append(f"办理：{base_url}{note.link}")
    lines += ["", "（本邮件由系统自动发送，请勿回复）"]
    msg.set_content("\n".join(lines), charset="utf-8")
    return msg


def send_mail(smtp_url: str, msg: EmailMessage, timeout: float = 20) -> None:
    parts = urlsplit(smtp_url)
    host, port = parts.hostname or "localhost", parts.port
    if parts.scheme == "smtps":
        client: smtplib.SMTP = smtplib.SMTP_SSL(
            host, port or 465, timeout=timeout, context=ssl.create_default_context()
        )
    elif parts.scheme in ("smtp", "smtp+starttls"):
        client = smtplib.SMTP(host, port or (587 if parts.scheme == "smtp+starttls" else 25), timeout=timeout)
    else:
        raise ValueError(f"JIXIAO_SMTP_URL: unknown scheme {parts.scheme!r} (smtp, smtp+starttls, smtps)")
    with client:
        if parts.scheme == "smtp+starttls":
            client.starttls(context=ssl.create_default_context())
        if parts.username:
            client.login(unquote(parts.username), unquote(parts.password or ""))
        client.send_message(msg)


def send_email(settings: Settings, address: str, note: Notification) -> None:
    if not settings.smtp_url:
        raise RuntimeError("JIXIAO_SMTP_URL is not set")
    send_mail(settings.smtp_url, _message(note, address, settings.mail_from, settings.base_url))


# The outbound channels by `Delivery.channel`: a new one (SMS gateway, 政务微信 …) is a function here
# and a value of models.CHANNELS; `service.notify` decides who gets a delivery on which channel.
SENDERS: dict[str, Callable[[Settings, str, Notification], None]] = {"email": send_email}


def deliver(actor: Actor, delivery_id: int) -> dict[str, Any]:
    """Send one delivery. The row is claimed first (pending → sending in one UPDATE), so a delivery
    queued twice (the `remind` sweep, an RQ retry) is sent at most once; a failure puts it back to
    pending while RQ has retries left, and marks it failed after the last."""
    rt = current_runtime()
    settings = rt.settings
    with rt.db.transaction(system="notification delivery") as session:
        claimed = session.execute(
            update(Delivery)
            .where(Delivery.id == delivery_id, Delivery.status == "pending")
            .values(status="sending", attempts=Delivery.attempts + 1)
        )
        if not cast(CursorResult[Any], claimed).rowcount:
            row = session.get(Delivery, delivery_id)
            return {"delivery_id": delivery_id, "status": row.status if row else "missing"}
        delivery = session.get(Delivery, delivery_id)
        assert delivery is not None
        note = session.get(Notification, delivery.notification_id)
        assert note is not None
        session.expunge(note)
        channel, address, attempts = delivery.channel, delivery.address, delivery.attempts
    try:
        SENDERS[channel](settings, address, note)
    except Exception as exc:
        job = get_current_job()
        retries_left = bool(job and job.retries_left)
        with rt.db.transaction(system="notification delivery") as session:
            row = session.get(Delivery, delivery_id)
            if row is not None:
                row.last_error = f"{type(exc).__name__}: {exc}"[:2000]
                row.status = "pending" if retries_left and attempts < MAX_ATTEMPTS else "failed"
        raise
    with rt.db.transaction(system="notification delivery") as session:
        row = session.get(Delivery, delivery_id)
        if row is not None:
            row.status, row.sent_at, row.last_error = "sent", utcnow(), None
    return {"delivery_id": delivery_id, "status": "sent"}
