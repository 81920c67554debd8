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

Light to import (issue 17: a warm `make run` in < 3 s): each command imports what it uses when it
runs, and only the commands that need the app build it (`with_appcontext`); `db upgrade` at head
and `demo load` of a loaded demo find that out without it.
"""

from __future__ import annotations

import gc
from typing import TYPE_CHECKING

import click
from flask import Flask
from flask.cli import FlaskGroup

if TYPE_CHECKING:
    from jixiao.platform.core.runtime import Runtime


def _create_app() -> Flask:
    # importing the app makes ~10⁶ objects that live as long as the process: no collection while
    # they are made (a full one would walk them all, again and again), one freeze at the end
    gc.disable()
    try:
        import jixiao.platform.models  # noqa: F401 - complete the mappers
        from jixiao.platform.web.app import create_app

        app = create_app()
    finally:
        gc.freeze()
        gc.enable()
    return app


class _Group(FlaskGroup):
    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        # a command of ours without loading the plugins' first (flask-limiter's `limiter` imports
        # limits, rich …): they load, as before, for any other name and for --help
        return self.commands.get(name) or super().get_command(ctx, name)


@click.group(cls=_Group, create_app=_create_app, add_version_option=False)
def main() -> None:
    """jixiao 预算绩效一体化管理试点平台."""


def _rt() -> Runtime:
    from jixiao.platform.core.runtime import current_runtime

    return current_runtime()


# the commands register themselves on `main`
from . import admin, auditing, db, serve, upkeep  # noqa: E402, F401
