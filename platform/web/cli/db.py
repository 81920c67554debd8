"""The database: migrations and the demo province."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from jixiao.platform.core import migrate
from jixiao.platform.core.clock import today_in
from jixiao.platform.demo import load_all

from . import _rt, main

# --- db ----------------------------------------------------------------------------------------


@main.group()
def db() -> None:
    """Database migrations (Alembic)."""


@db.command("upgrade")
@click.argument("revision", default="head")
@with_appcontext
def db_upgrade(revision: str) -> None:
    """Apply migrations up to REVISION (default: head)."""
    migrate.upgrade(_rt().settings.owner_database_url, revision)
    click.echo(f"数据库已迁移至 {revision}")


@db.command("downgrade")
@click.argument("revision")
@with_appcontext
def db_downgrade(revision: str) -> None:
    """Revert migrations down to REVISION (`base` = empty)."""
    migrate.downgrade(_rt().settings.owner_database_url, revision)
    click.echo(f"数据库已回退至 {revision}")


@db.command("current")
@with_appcontext
def db_current() -> None:
    migrate.current(_rt().settings.owner_database_url)


# --- demo --------------------------------------------------------------------------------------


@main.group("demo")
def demo_group() -> None:
    """The demo province (DEMO.md)."""


@demo_group.command("load")
@with_appcontext
def demo_load() -> None:
    """Load 宁夏 and its demo users idempotently (password: JIXIAO_DEMO_PASSWORD)."""
    rt = _rt()
    with rt.db.transaction(system="demo load") as s:
        created = load_all(s, rt.settings.demo_password, today_in(rt.settings.timezone))
    click.echo(
        f"演示数据已就绪：新建地区 {created['tenants']} 个、用户 {created['users']} 个、"
        f"第三方机构 {created['evaluator_orgs']} 个、共享指标 {created['indicators']} 个、"
        f"模板 {created['templates']} 个、试点 {created['programs']} 个、"
        f"示范试点 {created.get('showcase_programs', 0)} 个"
    )
