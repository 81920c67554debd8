"""Scheduled upkeep: evidence, exports, reminders (the chart's CronJobs)."""

from __future__ import annotations

import os
import sys

import click
from flask.cli import with_appcontext

from . import _rt, main

# --- evidence ----------------------------------------------------------------------------------


@main.group("evidence")
def evidence_group() -> None:
    """Evidence files in the object store."""


@evidence_group.command("cleanup")
@with_appcontext
def evidence_cleanup() -> None:
    """Delete direct uploads never completed within a day (run daily by a CronJob)."""
    from jixiao.services.evidence import direct

    with _rt().db.transaction(system="evidence cleanup") as s:
        count = direct.cleanup_stale(s)
    click.echo(f"已清理未完成的上传 {count} 个")


@evidence_group.command("reconcile")
@click.option("--fix", is_flag=True, help="Delete orphan objects; mark rows whose object is gone as lost.")
@with_appcontext
def evidence_reconcile(fix: bool) -> None:
    """List (and with --fix repair) drift between evidence rows and stored objects."""
    from jixiao.services.evidence import direct

    with _rt().db.transaction(system="evidence reconcile") as s:
        drift = direct.reconcile(s, fix=fix)
    for key in drift["orphan_objects"]:
        click.echo(f"无记录的对象：{key}")
    for key in drift["rows_without_object"]:
        click.echo(f"缺少对象的记录：{key}")
    total = len(drift["orphan_objects"]) + len(drift["rows_without_object"])
    click.echo(f"共 {total} 处不一致" + ("，已修复" if fix and total else ""))
    if total and not fix:
        sys.exit(1)


@main.group("exports")
def exports_group() -> None:
    """Exported workbooks in the object store."""


@exports_group.command("cleanup")
@click.option("--days", default=7, show_default=True, help="Keep exports younger than this many days.")
@with_appcontext
def exports_cleanup(days: int) -> None:
    """Delete exports older than their download link (run daily by a CronJob)."""
    from datetime import UTC, datetime, timedelta

    from jixiao.services.targets import excel

    deleted = excel.cleanup_exports(_rt().store, datetime.now(UTC), timedelta(days=days))
    click.echo(f"已清理过期的导出文件 {len(deleted)} 个")


# --- notifications ---------------------------------------------------------------------------


@main.command("remind")
@click.option(
    "--today", default=None, help="Run as of this date (YYYY-MM-DD); default: today in JIXIAO_TIMEZONE."
)
@with_appcontext
def remind(today: str | None) -> None:
    """Deadline reminders (run daily by a CronJob); idempotent: one per item, user and threshold."""
    from datetime import date

    from jixiao.services.notifications import reminders

    day = date.fromisoformat(today) if today else None
    with _rt().db.transaction(system="deadline reminders") as s:
        counts = reminders.remind(s, day)
    click.echo(f"已发送截止提醒 {counts['reminders']} 条；重新排队的邮件 {counts['requeued']} 封")


if __name__ == "__main__":  # pragma: no cover
    os.environ.setdefault("FLASK_DEBUG", "0")
    main()
