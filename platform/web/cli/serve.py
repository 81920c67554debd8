"""Serving: the production web server and the job worker."""

from __future__ import annotations

import logging
import os
from typing import Any

import click
from flask import Flask
from flask.cli import with_appcontext
from gunicorn.app.base import BaseApplication
from gunicorn.glogging import Logger as GunicornLogger

from jixiao.platform.core import logs
from jixiao.platform.core.config import Settings

from . import _create_app, _rt, main

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
