"""Deadline reminders (`jixiao remind`, a daily CronJob): a system session over every tenant.

N days before a stage deadline (*default* 3, the program's `reminders.days_before`; a list means
several thresholds) and once when it has passed, to whoever holds the item. Idempotent: each is
written once per user and `dedupe_key` (item, deadline, threshold), however often it runs. Also
re-queues the e-mail deliveries whose job never ran.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from jixiao.platform.core.db import utcnow
from jixiao.platform.core.runtime import current_runtime
from jixiao.services.grants.models import Grant, grantees
from jixiao.services.programs.models import Program
from jixiao.services.tasks.kinds import Task, local_today
from jixiao.services.tasks.service import all_tasks
from jixiao.tenants.models import User

from .models import Delivery
from .service import (
    OUTBOUND_KEY,
    Message,
    already_told,
    by_username,
    display_names,
    enqueue_after_commit,
    notify,
    notify_all,
    role_holders,
)

log = logging.getLogger(__name__)


def thresholds(program: Program) -> list[int]:
    """The program's `reminders.days_before` (a number or a list); values that are not whole
    numbers ≥ 0 are ignored rather than stopping every tenant's reminders."""
    raw = (program.effective_settings.get("reminders") or {}).get("days_before", 3)
    found = set()
    for value in raw if isinstance(raw, list) else [raw]:
        try:
            days = int(value)
        except (TypeError, ValueError):
            log.warning("program %s: reminders.days_before value %r ignored", program.id, value)
            continue
        if days >= 0:
            found.add(days)
    return sorted(found, reverse=True)


def _expiring_grants(session: Session, day: date) -> int:
    """A grant about to expire: N days before (the program's thresholds), to the evaluators it
    covers and to the admin who granted it — once per grant, expiry and threshold."""
    zone = ZoneInfo(current_runtime().settings.timezone)
    now = utcnow()
    written = 0
    live = session.execute(select(Grant).where(Grant.revoked_at.is_(None), Grant.expires_at > now)).scalars()
    for grant in live:
        expiry = grant.expires_at.astimezone(zone)
        left = (expiry.date() - day).days
        due = [d for d in thresholds(grant.project.program) if left <= d]
        if not due:
            continue
        evaluators = [
            u
            for u in grantees(session, grant.project_id, "read")
            if u.evaluator_org_id == grant.evaluator_org_id
        ]
        written += len(
            notify(
                session,
                [u for u in evaluators if grant.covers(u.id)]
                + by_username(session, grant.tenant_id, grant.granted_by),
                tenant_id=grant.tenant_id,
                kind="reminder",
                title=(
                    f"授权即将到期：{grant.project.name} · {grant.org.name}"
                    f"（{expiry.strftime('%Y-%m-%d %H:%M')} 到期，剩余 {left} 天）"
                ),
                body="到期后第三方机构将不能再访问该项目；如需延长，请撤销后重新授权。",
                link=f"/projects/{grant.project_id}",
                project_id=grant.project_id,
                stage=grant.project.stage,
                dedupe_key=f"grant:{grant.id}:{grant.expires_at.isoformat()}:d{min(due)}",
            )
        )
    return written


@dataclass
class _Due:
    task: Task
    title: str
    dedupe_key: str
    recipients: list[User]


def _messages(
    batch: list[tuple[_Due, list[User]]], names: dict[str, str]
) -> list[tuple[Message, list[User]]]:
    """The reminders of the items due, as `notify_all` writes them (the candidates that already have
    theirs were left out beforehand: `already_told`, on the pair's unique index)."""
    found = []
    for due, users in batch:
        task = due.task
        message = Message(
            tenant_id=task.tenant_id,
            kind="reminder",
            title=due.title,
            body=task.describe(lambda u: names.get(u, u)),  # = task_body(session, task)
            link=task.link,
            project_id=task.project_id,
            stage=task.stage,
            dedupe_key=due.dedupe_key,
        )
        found.append((message, users))
    return found


def remind(session: Session, today: date | None = None) -> dict[str, int]:
    """Deadline reminders for every open item: one per user, item, deadline and threshold.
    Also queues the email deliveries that stayed pending (their job never ran).

    Over a province of thousands of tenants: the items' holders, the submitters' display names and
    the reminders already written are read for all items at once, and the new ones written at
    once (`notify_all`); a second run on the same day writes, and asks, nothing per item."""
    day = today or local_today()
    due: list[_Due] = []
    for task in all_tasks(session, day):
        if task.deadline is None:
            continue
        program = session.get(Program, task.program_id)  # loaded by the kinds' query (identity map)
        assert program is not None
        left = (task.deadline - day).days
        if left < 0:
            threshold, title = (
                "overdue",
                f"已逾期：{task.project_name} · {task.title}（截止 {task.deadline}）",
            )
        else:
            days = [d for d in thresholds(program) if left <= d]
            if not days:
                continue
            threshold = f"d{min(days)}"
            title = f"截止提醒：{task.project_name} · {task.title}（{task.deadline} 截止，剩余 {left} 天）"
        due.append(_Due(task, title, f"remind:{task.key}:{task.deadline}:{threshold}", []))
    by_role = role_holders(
        session, {(d.task.tenant_id, d.task.role) for d in due if d.task.role != "evaluator"}
    )
    for d in due:
        task = d.task
        if task.role == "evaluator":  # 联审 / 重点评价: the users of the organisations granted it
            action = "joint_review" if task.kind == "review" else "key_evaluation"
            d.recipients = grantees(session, task.project_id, action, exclude=task.excluded)
        else:
            excluded = set(task.excluded)
            d.recipients = [u for u in by_role[(task.tenant_id, task.role)] if u.username not in excluded]
    told = already_told(session, {(u.id, d.dedupe_key) for d in due for u in d.recipients})
    names = display_names(session, [d.task.submitted_by for d in due])
    new = [(d, [u for u in d.recipients if (u.id, d.dedupe_key) not in told]) for d in due]
    written = len(notify_all(session, _messages([(d, users) for d, users in new if users], names)))
    written += _expiring_grants(session, day)
    # deliveries whose job never ran (Redis down at commit), or whose worker died while sending
    now = utcnow()
    stale = list(
        session.execute(
            select(Delivery).where(
                ((Delivery.status == "pending") & (Delivery.created_at < now - timedelta(minutes=10)))
                | ((Delivery.status == "sending") & (Delivery.created_at < now - timedelta(hours=1)))
            )
        ).scalars()
    )
    for delivery in stale:
        delivery.status = "pending"
    session.info.setdefault(OUTBOUND_KEY, []).extend(stale)
    if stale:
        enqueue_after_commit(session)
    return {"reminders": written, "requeued": len(stale)}
