"""The consent page of the authorization code grant: `GET|POST /oauth/authorize`.

A request naming an unknown client, a missing or unregistered redirect URI is answered here with a
page (never redirected: the address is not trusted). Every other problem (response type, PKCE,
scope) goes back to the client's redirect URI as `error=…&state=…`. Without a page session the
user goes to the login page and comes back. The page names the client, the scopes in Chinese, the
account and the site it returns to; 同意 issues a code, 拒绝 returns `error=access_denied`.

The page's CSP allows its form to lead to the client's origin: browsers apply `form-action` to the
redirect that follows the form's POST, and `'self'` alone would block the return to the client.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from authlib.oauth2 import OAuth2Error
from flask import Response, current_app, g, render_template, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError

from jixiao.platform.core.authz import SCOPE_NAMES
from jixiao.platform.core.oauth_models import OAuthClient

from ..extensions import csrf, talisman
from .server import authorization, bp


class _ConsentPolicy:
    """The app's CSP, with the redirect URI's origin added to `form-action` (read per request)."""

    def items(self) -> Any:
        policy = dict(talisman.content_security_policy)
        origin = g.get("oauth_redirect_origin")
        if origin:
            policy["form-action"] = f"'self' {origin}"
        return policy.items()


def _problem(message: str, detail: str, status: int = 400) -> Response:
    resp = Response(render_template("oauth/problem.html", message=message, detail=detail), status=status)
    resp.headers["Cache-Control"] = "no-store"
    return resp


def _explain(error: OAuth2Error) -> Response:
    """A request that cannot go back to the client: say why, in Chinese (the OAuth code below)."""
    description = str(error.description or "")
    if error.error == "invalid_client":
        message = "接入系统未登记或已停用（client_id 无效），请联系该系统的管理员"
    elif "redirect" in description.lower():
        message = "回调地址（redirect_uri）缺失，或与该接入系统登记的地址不一致（须逐字相同）"
    else:
        message = "授权请求无效，请联系接入系统的管理员"
    return _problem(message, f"{error.error}: {description}" if description else str(error.error))


@bp.route("/authorize", methods=["GET", "POST"])
@talisman(content_security_policy=_ConsentPolicy())
def authorize() -> Any:
    """RFC 6749 §4.1.1 authorization endpoint (response_type=code, PKCE S256 required)."""
    if request.method == "POST":
        try:
            csrf.protect()  # /oauth/* is left out of the app-wide page check (the token endpoint)
        except CSRFError:
            return _problem("表单已过期或来源不可信（CSRF 校验失败），请返回接入系统重新发起授权", "csrf")
    user = current_user.user if current_user.is_authenticated else None
    try:
        grant = authorization.get_consent_grant(end_user=user)
    except OAuth2Error as error:
        if error.redirect_uri:
            return authorization.handle_error_response(None, error)
        return _explain(error)
    client: OAuthClient = grant.request.client
    g.oauth_redirect_origin = _origin(grant.redirect_uri)
    if user is None:
        return current_app.login_manager.unauthorized()  # type: ignore[attr-defined]
    g.actor = current_user.actor  # the page shell (navigation) of the logged-in user
    if request.method == "POST":
        allowed = request.form.get("decision") == "allow"
        response = authorization.create_authorization_response(
            grant_user=user if allowed else None, grant=grant
        )
        response.headers["Cache-Control"] = "no-store"
        return response
    scopes = (grant.request.scope or "").split()
    resp = Response(
        render_template(
            "oauth/consent.html",
            client=client,
            scopes=[(s, SCOPE_NAMES.get(s, s)) for s in scopes],
            user=user,
            destination=g.oauth_redirect_origin,
            action=request.full_path,
        )
    )
    resp.headers["Cache-Control"] = "no-store"
    return resp


def _origin(uri: str | None) -> str | None:
    parts = urlsplit(uri or "")
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else None
