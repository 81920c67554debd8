"""Deadline reminders (`jixiao remind`, a daily CronJob): a system session over every tenant.

N days before a stage deadline (*default* 3, the program's `reminders.days_before`; a list means
several thresholds) and once when it has passed, to whoever holds the item. Idempotent: each is
written once per user and `dedupe_key` (item, deadline, threshold), however often it runs. Also
re-queues the e-mail deliveries whose job never ran.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from jixiao.platform.core.db import utcnow
from jixiao.platform.core.runtime import current_runtime
from jixiao.services.grants.models import Grant, grantees
from jixiao.services.programs.models import Program
from jixiao.services.tasks.kinds import local_today
from jixiao.services.tasks.service import all_tasks

from .models import Delivery
from .service import OUTBOUND_KEY, by_username, enqueue_after_commit, holders, notify, task_body

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


def remind(session: Session, today: date | None = None) -> dict[str, int]:
    """Deadline reminders for every open item: one per user, item, deadline and threshold.
    Also queues the email deliveries that stayed pending (their job never ran)."""
    day = today or local_today()
    written = 0
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
            due = [d for d in thresholds(program) if left <= d]
            if not due:
                continue
            threshold = f"d{min(due)}"
            title = f"截止提醒：{task.project_name} · {task.title}（{task.deadline} 截止，剩余 {left} 天）"
        if task.role == "evaluator":  # 联审 / 重点评价: the users of the organisations granted it
            action = "joint_review" if task.kind == "review" else "key_evaluation"
            recipients = grantees(session, task.project_id, action, exclude=task.excluded)
        else:
            recipients = holders(session, task.tenant_id, task.role, exclude=task.excluded)
        written += len(
            notify(
                session,
                recipients,
                tenant_id=task.tenant_id,
                kind="reminder",
                title=title,
                body=task_body(session, task),
                link=task.link,
                project_id=task.project_id,
                stage=task.stage,
                dedupe_key=f"remind:{task.key}:{task.deadline}:{threshold}",
            )
        )
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
