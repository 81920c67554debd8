"""Session login and logout for the pages (flask-login + CSRF + throttling).

The signed cookie carries the user id and a random session token; the session itself is a row of
`web_sessions` (`jixiao.platform.core.web_sessions`), checked on every request: after a logout, a
password change or reset, or a deactivation, a copy of the old cookie is no longer logged in."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import UserMixin, current_user, login_user, logout_user

from jixiao.platform.core import web_sessions
from jixiao.platform.core.actor import Actor
from jixiao.platform.core.audit import record
from jixiao.platform.core.db import utcnow
from jixiao.platform.core.oauth_models import WebSession
from jixiao.platform.web.pages import own_path
from jixiao.tenants import service as tenants
from jixiao.tenants.models import User

from ..context import request_id, runtime, system_db
from ..extensions import limiter, login_failed, login_ip_key, login_key, login_manager

bp = Blueprint("auth", __name__)

SESSION_TOKEN = "_jx_session"  # key of the web session's token in the signed cookie


class LoginUser(UserMixin):
    def __init__(self, user: User, actor: Actor, web_session_id: int) -> None:
        self.id = str(user.id)
        self.user = user
        self.actor = actor
        self.web_session_id = web_session_id


@login_manager.user_loader
def _load_user(user_id: str) -> LoginUser | None:
    """Logged in only with a live server-side session of this very user (an ended or unknown
    session, or an inactive account, is not logged in)."""
    if not user_id.isdigit():
        return None
    s = system_db("auth")
    user = s.get(User, int(user_id))
    if user is None or not user.is_active:
        return None
    row = web_sessions.live(s, user.id, session.get(SESSION_TOKEN), runtime().settings.session_hours)
    if row is None:
        return None
    return LoginUser(user, tenants.build_actor(s, user, request_id=request_id()), row.id)


def current_web_session_id() -> int | None:
    """The id of the request's web session (None without a page login, e.g. a bearer token)."""
    return getattr(current_user, "web_session_id", None) if current_user.is_authenticated else None


def _safe_next(target: str | None) -> str:
    return own_path(target) or url_for("home.index")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    lambda: runtime().settings.login_limit, key_func=login_key, deduct_when=login_failed, methods=["POST"]
)
@limiter.limit("30 per 15 minutes", key_func=login_ip_key, deduct_when=login_failed, methods=["POST"])
def login() -> Any:
    if request.method == "GET":
        if current_user.is_authenticated:
            return redirect(url_for("home.index"))
        return render_template("login.html", username="", error=None)
    username = (request.form.get("username") or "").strip().lower()
    password = request.form.get("password") or ""
    s = system_db("login")
    user = tenants.authenticate(s, username, password)
    if user is None:
        return render_template("login.html", username=username, error="用户名或密码错误，或账号已停用"), 401
    user.last_login_at = utcnow()
    actor = tenants.build_actor(s, user, request_id=request_id())
    row, token = web_sessions.start(s, user.id)
    record(
        s,
        "auth.login",
        object_type="user",
        object_id=user.id,
        actor=actor,
        after={"via": "page", "web_session": row.id},
    )
    s.commit()
    session.clear()
    session[SESSION_TOKEN] = token
    login_user(LoginUser(user, actor, row.id))
    flash(f"欢迎，{user.display_name}", "success")
    return redirect(_safe_next(request.args.get("next")))


@bp.post("/logout")
def logout() -> Any:
    if current_user.is_authenticated:
        s = system_db("logout")
        row = s.get(WebSession, current_user.web_session_id)
        if row is not None:
            web_sessions.end(row, web_sessions.LOGOUT)
        record(
            s,
            "auth.logout",
            object_type="user",
            object_id=current_user.user.id,
            actor=current_user.actor,
            after={"web_session": current_user.web_session_id},
        )
        s.commit()
    logout_user()
    session.clear()
    flash("已安全退出", "info")
    return redirect(url_for("auth.login"))
