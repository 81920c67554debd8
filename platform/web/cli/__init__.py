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

import click
from flask import Flask
from flask.cli import FlaskGroup

from jixiao.platform.core.runtime import Runtime, current_runtime


def _create_app() -> Flask:
    import jixiao.platform.models  # noqa: F401 - complete the mappers
    from jixiao.platform.web.app import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_version_option=False)
def main() -> None:
    """jixiao 预算绩效一体化管理试点平台."""


def _rt() -> Runtime:
    return current_runtime()


# the commands register themselves on `main`
from . import admin, auditing, db, serve, upkeep  # noqa: E402, F401
