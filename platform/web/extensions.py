"""Flask extensions, created once and bound in `create_app`."""

from __future__ import annotations

from flask import request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_smorest import Api
from flask_talisman import Talisman
from flask_wtf.csrf import CSRFProtect

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
