"""Serving: the production web server and the job worker."""

from __future__ import annotations

import os
from typing import Any

import click
from flask.cli import with_appcontext

from jixiao.platform.core import logs
from jixiao.platform.core.config import Settings

from . import _rt, main

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
    from .wsgi_server import GunicornApp, GunicornLogger  # gunicorn: only when serving

    options: dict[str, Any] = {
        "bind": [bind or settings.bind],
        "workers": workers or settings.web_workers,
        "threads": threads or settings.web_threads,
        "worker_class": "gthread",
        "timeout": timeout or settings.web_timeout,
        "graceful_timeout": settings.web_graceful_timeout if graceful_timeout is None else graceful_timeout,
        "loglevel": settings.log_level.lower(),
        "logger_class": type("JixiaoGunicornLogger", (GunicornLogger,), {"formatter": fmt}),
        "accesslog": None,  # jixiao.access logs each request (access_log.py), without its query string
        "errorlog": "-",
        "proc_name": "jixiao",
        # the workers' heartbeat files in memory, not on a disk that may stall them (gunicorn's advice)
        "worker_tmp_dir": "/dev/shm" if os.path.isdir("/dev/shm") else None,
        # no control socket in $HOME: it is read-only in the chart, and two servers would share it
        "control_socket_disable": True,
    }
    GunicornApp(options).run()


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

    from jixiao.platform.core.documents.writers import preload

    rt = _rt()
    if rt.jobs.embedded:
        raise click.ClickException("REDIS_URL 未设置：嵌入模式下任务在应用进程内执行，无需单独的 worker")
    # RQ forks a process for each job: what is imported here is imported once, not in every job —
    # the document engines (python-docx, matplotlib, WeasyPrint) the app itself no longer imports,
    # and pypinyin's dictionaries (~1 s; the Excel import spells every name)
    preload()
    import pypinyin.core  # noqa: F401

    Worker([rt.jobs.queue], connection=rt.jobs.connection).work(burst=burst, with_scheduler=True)
