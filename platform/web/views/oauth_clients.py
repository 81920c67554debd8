"""系统管理 → 接入系统: the province admin registers the OAuth2 clients of integrators (authorization
code grant with PKCE) and deactivates them. The list shows every registered client (the first-party
`jixiao-cli` and `jixiao clients create`'s machine clients included); the secret of a new
confidential client is shown once, on the page that answers its registration, and never again
(only its hash is stored). The same registration is `jixiao oauth clients add` on the command line."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import login_required

from jixiao.platform.core import oauth_models
from jixiao.platform.core.authz import ALL_SCOPES, SCOPE_NAMES
from jixiao.platform.core.errors import Forbidden, ValidationFailed
from jixiao.platform.web.pages import may, viewing_other_tenant

from ..context import actor, db

bp = Blueprint("oauth_clients", __name__, url_prefix="/admin/oauth-clients")

GRANT_NAMES = {
    "authorization_code": "授权码（PKCE）",
    "refresh_token": "刷新令牌",
    "client_credentials": "客户端凭据",
    "password": "用户名密码（第一方）",
}
DEFAULT_SCOPES = ("profile", "projects:read")


def _form() -> dict[str, Any]:
    return {
        "name": request.form.get("name", ""),
        "redirect_uris": request.form.get("redirect_uris", ""),
        "public": request.form.get("public") == "1",
        "scopes": request.form.getlist("scopes"),
    }


@bp.route("", methods=["GET", "POST"])
@login_required
def index() -> Any:
    who = actor()
    s = db()
    form: dict[str, Any] = {"name": "", "redirect_uris": "", "public": False, "scopes": list(DEFAULT_SCOPES)}
    errors: dict[str, Any] = {}
    created: tuple[oauth_models.OAuthClient, str | None] | None = None
    status = 200
    if request.method == "POST":
        if viewing_other_tenant():
            raise Forbidden("只读查看其他地区时不能登记接入系统，请先切换回本单位")
        form = _form()
        try:
            created = oauth_models.register_client(
                s,
                who,
                name=form["name"],
                redirect_uris=form["redirect_uris"].splitlines(),
                scopes=form["scopes"],
                public=form["public"],
            )
            s.commit()
            form = {"name": "", "redirect_uris": "", "public": False, "scopes": list(DEFAULT_SCOPES)}
        except ValidationFailed as exc:
            s.rollback()
            errors = exc.errors
            status = 422
    clients = oauth_models.list_clients(s, who)
    resp = render_template(
        "admin/oauth_clients.html",
        clients=clients,
        created=created,
        form=form,
        errors=errors,
        can_write=may("oauth_clients.manage"),
        scope_choices=[(code, SCOPE_NAMES[code]) for code in ALL_SCOPES],
        scope_names=SCOPE_NAMES,
        grant_names=GRANT_NAMES,
        first_party=oauth_models.FIRST_PARTY_CLIENT_ID,
    )
    # the secret is on this page once: no cache keeps a copy
    return resp, status, {"Cache-Control": "no-store"}


@bp.post("/<client_id>/deactivate")
@login_required
def deactivate(client_id: str) -> Any:
    if viewing_other_tenant():
        raise Forbidden("只读查看其他地区时不能停用接入系统，请先切换回本单位")
    s = db()
    client, revoked = oauth_models.deactivate_client(s, actor(), client_id)
    s.commit()
    flash(f"已停用接入系统「{client.name}」，并吊销其 {revoked} 个有效令牌", "success")
    return redirect(url_for("oauth_clients.index"))
