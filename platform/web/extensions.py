"""Flask extensions, created once and bound in `create_app`."""

from __future__ import annotations

from functools import cache
from typing import Any

from flask import request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_smorest import Api, Blueprint
from flask_talisman import Talisman
from flask_wtf.csrf import CSRFProtect
from marshmallow import Schema
from webargs.flaskparser import FlaskParser


class ArgumentsParser(FlaskParser):
    """flask-smorest's parser (`Blueprint.ARGUMENTS_PARSER`), building each arguments schema class
    once: webargs builds one per request (~0.2 ms of an API request, issue 17); a schema holds no
    state of a load."""

    def _get_schema(self, argmap: Any, req: Any) -> Schema:
        if isinstance(argmap, type) and issubclass(argmap, Schema):
            return _built(argmap)
        return super()._get_schema(argmap, req)


@cache
def _built(schema: type[Schema]) -> Schema:
    return schema()


Blueprint.ARGUMENTS_PARSER = ArgumentsParser()  # every blueprint's, as flask-smorest documents
api = Api()
login_manager = LoginManager()
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address, default_limits=[], headers_enabled=True)
talisman = Talisman()


def login_key() -> str:
    """Failed logins are counted per (username, client IP)."""
    username = (request.form.get("username") or "").strip().lower()
    return f"login:{username}|{get_remote_address()}"


def login_ip_key() -> str:
    return f"login-ip:{get_remote_address()}"


def login_failed(response) -> bool:  # type: ignore[no-untyped-def]
    """Only wrong credentials count: at /oauth/token that is `invalid_grant` (a refused scope or
    client is not a guess at a password); on the login page a 401."""
    if request.path == "/oauth/token":
        body = response.get_json(silent=True) or {}
        return bool(response.status_code == 400 and body.get("error") == "invalid_grant")
    return bool(response.status_code == 401)
