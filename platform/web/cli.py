"""The `jixiao` command: the only way to do admin work outside the web (STYLE.md: flaskr).

jixiao run                      development server (make run)
jixiao serve                    production web server (gunicorn; JIXIAO_BIND, JIXIAO_WEB_*)
jixiao db upgrade|downgrade|current
jixiao demo load                the demo province of DEMO.md (never in production)
jixiao audit verify [--anchors] walk the audit hash chain (and its signed anchors), name the first broken event
jixiao audit anchor             sign the chain's new events, write the anchor to the object store
jixiao worker                   RQ worker for the background jobs (needs REDIS_URL)
jixiao tenants bootstrap        first province tenant + admin on a fresh production install
jixiao clients create           register a machine client (client_credentials)
jixiao oauth clients add        register an integrator's client (authorization code + PKCE)
"""

from __future__ import annotations

import logging
import os
import secrets
import sys
from typing import Any

import click
from flask import Flask
from flask.cli import FlaskGroup, with_appcontext
from gunicorn.app.base import BaseApplication
from gunicorn.glogging import Logger as GunicornLogger

from jixiao.platform.core import audit, audit_anchor, logs, migrate
from jixiao.platform.core.authz import ALL_SCOPES
from jixiao.platform.core.clock import today_in
from jixiao.platform.core.config import Settings
from jixiao.platform.core.db import utcnow
from jixiao.platform.core.errors import ValidationFailed
from jixiao.platform.core.oauth_models import OAuthClient, register_client
from jixiao.platform.core.runtime import Runtime, current_runtime
from jixiao.platform.demo import load_all
from jixiao.tenants import demo, service, users
from jixiao.tenants.passwords import hash_password


def _create_app() -> Flask:
    import jixiao.platform.models  # noqa: F401 - complete the mappers
    from jixiao.platform.web.app import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_version_option=False)
def main() -> None:
    """jixiao 预算绩效一体化管理试点平台."""


def _rt() -> Runtime:
    return current_runtime()


# --- serve -------------------------------------------------------------------------------------


@main.command("serve")
@click.option("--bind", default=None, help="host:port to listen on [default: JIXIAO_BIND or 127.0.0.1:8000]")
@click.option(
    "--workers", type=click.IntRange(min=1), default=None, help="processes [default: JIXIAO_WEB_WORKERS or 2]"
)
@click.option(
    "--threads",
    type=click.IntRange(min=1),
    default=None,
    help="threads per process [default: JIXIAO_WEB_THREADS or 4]",
)
@click.option(
    "--timeout",
    type=click.IntRange(min=1),
    default=None,
    help="seconds of silence before a worker is restarted [default: JIXIAO_WEB_TIMEOUT or 60]",
)
@click.option(
    "--graceful-timeout",
    type=click.IntRange(min=0),
    default=None,
    help="seconds to finish the requests in flight after SIGTERM [default: JIXIAO_WEB_GRACEFUL_TIMEOUT or 30]",
)
def serve(
    bind: str | None,
    workers: int | None,
    threads: int | None,
    timeout: int | None,
    graceful_timeout: int | None,
) -> None:
    """Production web server: gunicorn (gthread) serving create_app(), logging as JIXIAO_LOG_FORMAT.
    SIGTERM stops accepting, lets the requests in flight finish (up to the graceful timeout) and
    exits 0. The app is built in each worker process, never in the master (no connection crosses
    a fork)."""
    try:
        settings = Settings.from_env()
        fmt = logs.formatter(settings.log_format)
    except (ValueError, RuntimeError) as exc:
        raise click.ClickException(str(exc)) from None
    logs.configure(settings)
    options: dict[str, Any] = {
        "bind": [bind or settings.bind],
        "workers": workers or settings.web_workers,
        "threads": threads or settings.web_threads,
        "worker_class": "gthread",
        "timeout": timeout or settings.web_timeout,
        "graceful_timeout": settings.web_graceful_timeout if graceful_timeout is None else graceful_timeout,
        "loglevel": settings.log_level.lower(),
        "logger_class": type("JixiaoGunicornLogger", (_GunicornLogger,), {"formatter": fmt}),
        "accesslog": None,  # jixiao.access logs each request (access_log.py), without its query string
        "errorlog": "-",
        "proc_name": "jixiao",
        # the workers' heartbeat files in memory, not on a disk that may stall them (gunicorn's advice)
        "worker_tmp_dir": "/dev/shm" if os.path.isdir("/dev/shm") else None,
        # no control socket in $HOME: it is read-only in the chart, and two servers would share it
        "control_socket_disable": True,
    }
    _GunicornApp(options).run()


class _GunicornLogger(GunicornLogger):
    """gunicorn's own lines (boot, signals, worker exits) in the app's format (JIXIAO_LOG_FORMAT)."""

    formatter: logging.Formatter = logging.Formatter(logs.TEXT_FORMAT)

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for handler in self.error_log.handlers:
            handler.setFormatter(self.formatter)


class _GunicornApp(BaseApplication):
    """gunicorn run from code: the options above, and `create_app()` built in each worker."""

    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        return _create_app()


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


# --- audit -------------------------------------------------------------------------------------


@main.group("audit")
def audit_group() -> None:
    """The audit trail."""


@audit_group.command("verify")
@click.option(
    "--anchors", is_flag=True, help="also check the chain against its signed anchors in the object store"
)
@with_appcontext
def audit_verify(anchors: bool) -> None:
    """Walk the hash chain; exit 1 naming the first broken event. With --anchors, also every anchor
    (its signature, its predecessor, every event it covers): a chain rewritten consistently inside
    the database verifies on its own, not against its anchors."""
    rt = _rt()
    public = None
    if anchors:
        public = _anchor_public_key(rt)
    s = rt.db.system_session("audit verify")
    try:
        result = audit.verify(s)
        checked = audit_anchor.check(s, rt.store, public) if public is not None else None
    finally:
        s.close()
    if not result.ok:
        click.echo(
            f"审计链被破坏：第一个异常事件 id={result.broken_id}（{result.reason}）；此前 {result.checked} 条完好",
            err=True,
        )
        sys.exit(1)
    click.echo(f"审计链完整：共校验 {result.checked} 条事件")
    if checked is None:
        return
    if not checked.ok:
        where = f"第一个被改写的事件 id={checked.broken_id}" if checked.broken_id is not None else "锚点异常"
        click.echo(
            f"审计锚点校验失败：{where}（{checked.reason}）；此前 {checked.events} 条已锚定事件完好", err=True
        )
        sys.exit(1)
    click.echo(f"审计锚点一致：{checked.anchors} 个锚点、{checked.events} 条已锚定事件")


@audit_group.command("anchor")
@click.option("--new-key", is_flag=True, help="print a new signing key and its public key, anchor nothing")
@with_appcontext
def audit_anchor_command(new_key: bool) -> None:
    """Sign the events since the last anchor with JIXIAO_AUDIT_ANCHOR_KEY and write the anchor to
    the object store (audit-anchors/) and to stdout — on a schedule (the chart's CronJob)."""
    if new_key:
        key = audit_anchor.new_key()
        click.echo(f"JIXIAO_AUDIT_ANCHOR_KEY={key}")
        public = audit_anchor.public_text(audit_anchor.signing_key(key).public_key())
        click.echo(f"JIXIAO_AUDIT_ANCHOR_PUBLIC_KEY={public}")
        return
    rt = _rt()
    if not rt.settings.audit_anchor_key:
        raise click.ClickException(
            "未设置 JIXIAO_AUDIT_ANCHOR_KEY（jixiao audit anchor --new-key 生成一对密钥）"
        )
    try:
        key = audit_anchor.signing_key(rt.settings.audit_anchor_key)
    except audit_anchor.AnchorKeyError as exc:
        raise click.ClickException(str(exc)) from exc
    s = rt.db.system_session("audit anchor")
    try:
        done = audit_anchor.anchor(s, rt.store, key, utcnow())
    except audit_anchor.ChainBroken as exc:
        click.echo(f"审计链被破坏：{exc}", err=True)
        sys.exit(1)
    finally:
        s.close()
    if done.written is None:
        click.echo("自上一锚点以来没有新的审计事件：未写锚点")
        return
    click.echo(f"已写锚点 {done.key}：事件 {done.written.first}–{done.written.last}")
    click.echo(done.written.to_json())


def _anchor_public_key(rt: Runtime) -> Any:
    settings = rt.settings
    try:
        if settings.audit_anchor_public_key:
            return audit_anchor.verifying_key(settings.audit_anchor_public_key)
        if settings.audit_anchor_key:
            return audit_anchor.signing_key(settings.audit_anchor_key).public_key()
    except audit_anchor.AnchorKeyError as exc:
        raise click.ClickException(str(exc)) from exc
    raise click.ClickException("校验锚点须设置 JIXIAO_AUDIT_ANCHOR_PUBLIC_KEY（或 JIXIAO_AUDIT_ANCHOR_KEY）")


# --- worker ------------------------------------------------------------------------------------


@main.command("worker")
@click.option("--burst", is_flag=True, help="Exit when the queue is empty.")
@with_appcontext
def worker(burst: bool) -> None:
    """Run an RQ worker on the jixiao queue (production mode: REDIS_URL must be set).

    SIGTERM (or Ctrl+C) is RQ's warm shutdown: the job running finishes, then the worker exits 0; a
    second signal is the cold one (the job is killed). RQ installs those handlers itself: nothing
    here installs another, and its log lines go through the app's root handler (JIXIAO_LOG_FORMAT)."""
    from rq.worker import Worker

    rt = _rt()
    if rt.jobs.embedded:
        raise click.ClickException("REDIS_URL 未设置：嵌入模式下任务在应用进程内执行，无需单独的 worker")
    Worker([rt.jobs.queue], connection=rt.jobs.connection).work(burst=burst, with_scheduler=True)


# --- tenants / clients -------------------------------------------------------------------------


@main.group("tenants")
def tenants_group() -> None:
    """Tenant provisioning."""


@tenants_group.command("bootstrap")
@click.option("--code", required=True, help="Province division code, e.g. 640000")
@click.option("--name", required=True, help="e.g. 宁夏回族自治区")
@click.option("--admin-username", required=True)
@click.option(
    "--password", envvar="JIXIAO_BOOTSTRAP_PASSWORD", prompt=True, hide_input=True, confirmation_prompt=True
)
@with_appcontext
def tenants_bootstrap(code: str, name: str, admin_username: str, password: str) -> None:
    """Create the province tenant and its first admin on a fresh install."""
    rt = _rt()
    try:
        with rt.db.transaction(system="tenants bootstrap") as s:
            user = users.bootstrap_province(
                s, code=code, name=name, admin_username=admin_username, password=password
            )
            demo.ensure_cli_client(s)
    except ValidationFailed as exc:
        raise click.ClickException(f"{exc.message}: {exc.errors}") from None
    click.echo(f"已创建省级管理员 {user.username}")


@main.group("clients")
def clients_group() -> None:
    """OAuth2 machine clients."""


@clients_group.command("create")
@click.option("--name", required=True)
@click.option("--user", "username", required=True, help="The service user the client acts as.")
@click.option("--scope", default="", help="Space-separated; default: every scope.")
@with_appcontext
def clients_create(name: str, username: str, scope: str) -> None:
    """Register a confidential client for the client_credentials grant; prints the secret once."""
    rt = _rt()
    scopes = scope.split() or list(ALL_SCOPES)
    unknown = [s for s in scopes if s not in ALL_SCOPES]
    if unknown:
        raise click.ClickException(f"未知的权限范围：{' '.join(unknown)}")
    secret = secrets.token_urlsafe(32)
    client_id = "svc-" + secrets.token_hex(6)
    with rt.db.transaction(system="clients create") as s:
        user = service.find_login_user(s, username)
        if user is None:
            raise click.ClickException(f"用户 {username} 不存在")
        s.add(
            OAuthClient(
                client_id=client_id,
                client_secret_hash=hash_password(secret),
                name=name,
                grant_types="client_credentials",
                scope=" ".join(scopes),
                token_endpoint_auth_method="client_secret_basic",
                service_user_id=user.id,
            )
        )
        audit.record(
            s,
            "oauth.client_create",
            object_type="oauth_client",
            object_id=client_id,
            after={"name": name, "user": username, "scope": scopes},
            tenant_id=user.tenant_id,
        )
    click.echo(f"client_id={client_id}\nclient_secret={secret}")


@main.group("oauth")
def oauth_group() -> None:
    """The OAuth2 server."""


@oauth_group.group("clients")
def oauth_clients_group() -> None:
    """Clients of the authorization code grant (PKCE), registered by the province admin."""


@oauth_clients_group.command("add")
@click.option("--name", required=True, help="Shown to users on the consent page, e.g. 宁夏预算管理一体化系统")
@click.option(
    "--redirect-uri", "redirect_uris", multiple=True, required=True, help="Exact redirect URI (repeatable)."
)
@click.option("--public", is_flag=True, help="A public client (no secret; PKCE only), e.g. a desktop app.")
@click.option(
    "--scope", default="profile", show_default=True, help="Space-separated: the most it may ask for."
)
@with_appcontext
def oauth_clients_add(name: str, redirect_uris: tuple[str, ...], public: bool, scope: str) -> None:
    """Register a client; prints its client_id and, for a confidential client, its secret (once)."""
    try:
        with _rt().db.transaction(system="oauth clients add") as s:
            client, secret = register_client(
                s, None, name=name, redirect_uris=list(redirect_uris), scopes=scope.split(), public=public
            )
            client_id = client.client_id
    except ValidationFailed as exc:
        problems = "；".join(p for field in exc.errors.values() for p in field)
        raise click.ClickException(f"{exc.message}：{problems}") from None
    click.echo(f"client_id={client_id}")
    if secret:
        click.echo(f"client_secret={secret}")
        click.echo("密钥只显示这一次，本平台只保存其摘要。", err=True)


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
