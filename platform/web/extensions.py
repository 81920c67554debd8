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
    return bool(response.status_code in (400, 401))
