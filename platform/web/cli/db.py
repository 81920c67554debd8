"""The database: migrations and the demo province.

`db upgrade` and `demo load` run on every `make run`: when a quick read-only look finds nothing to
do (the database at head; the demo all there) they say so and stop, without building the app —
a warm restart is then a matter of a second (issue 17). Otherwise they do what they always did."""

from __future__ import annotations

import click
from flask.cli import ScriptInfo

from jixiao.platform.core import migrate
from jixiao.platform.core.config import Settings

from . import _rt, main

# --- db ----------------------------------------------------------------------------------------


def _settings() -> Settings:
    """The settings `create_app` would build (from the environment), its logging and its instance
    folder."""
    from jixiao.platform.core import logs

    try:
        settings = Settings.from_env()
    except (ValueError, RuntimeError) as exc:
        raise click.ClickException(str(exc)) from None
    logs.configure(settings)
    settings.instance_dir.mkdir(parents=True, exist_ok=True)  # as the runtime makes it (the SQLite file's)
    return settings


@main.group()
def db() -> None:
    """Database migrations (Alembic)."""


@db.command("upgrade", with_appcontext=False)
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Apply migrations up to REVISION (default: head)."""
    url = _settings().owner_database_url
    if revision == "head" and migrate.at_head(url):
        click.echo("数据库已迁移至 head（已是最新版本，无需迁移）")
        return
    migrate.upgrade(url, revision)
    click.echo(f"数据库已迁移至 {revision}")


@db.command("downgrade", with_appcontext=False)
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Revert migrations down to REVISION (`base` = empty)."""
    migrate.downgrade(_settings().owner_database_url, revision)
    click.echo(f"数据库已回退至 {revision}")


@db.command("current", with_appcontext=False)
def db_current() -> None:
    migrate.current(_settings().owner_database_url)


# --- demo --------------------------------------------------------------------------------------


@main.group("demo")
def demo_group() -> None:
    """The demo province (DEMO.md)."""


@demo_group.command("load", with_appcontext=False)
@click.pass_context
def demo_load(ctx: click.Context) -> None:
    """Load 宁夏 and its demo users idempotently (password: JIXIAO_DEMO_PASSWORD)."""
    from jixiao.platform.demo import loaded

    if loaded.is_loaded(_settings().database_url):
        click.echo("演示数据已就绪：已全部加载，无需更新")
        return
    app = ctx.ensure_object(ScriptInfo).load_app()
    with app.app_context():
        _load()


def _load() -> None:
    from jixiao.platform.core.clock import today_in
    from jixiao.platform.demo import load_all

    rt = _rt()
    with rt.db.transaction(system="demo load") as s:
        created = load_all(s, rt.settings.demo_password, today_in(rt.settings.timezone))
    click.echo(
        f"演示数据已就绪：新建地区 {created['tenants']} 个、用户 {created['users']} 个、"
        f"第三方机构 {created['evaluator_orgs']} 个、共享指标 {created['indicators']} 个、"
        f"模板 {created['templates']} 个、试点 {created['programs']} 个、"
        f"示范试点 {created.get('showcase_programs', 0)} 个"
    )
