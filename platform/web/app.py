"""The application factory: one `create_app`, one list of blueprints (STYLE.md)."""

from __future__ import annotations

import gc
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask, Response, flash, g, redirect, request
from flask_login import current_user, login_url
from flask_smorest.spec.plugins import integerconverter2paramschema
from flask_wtf.csrf import CSRFError, validate_csrf
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter
from wtforms.validators import ValidationError

from jixiao.platform.core import logs
from jixiao.platform.core.config import Settings
from jixiao.platform.core.oauth_models import token_digest
from jixiao.platform.core.runtime import Runtime, install
from jixiao.platform.core.schema import INT_MAX, text_problem
from jixiao.tenants import service as tenants

from . import access_log, api_links, health, oauth, request_guard
from .context import Unauthenticated, close_sessions, record_grant_uses, request_id, runtime, system_db
from .errors import error_response, register_error_handlers
from .extensions import api, csrf, limiter, login_manager, talisman
from .pages import htmx_page_path, is_htmx, may, person, viewing_other_tenant
from .registry import API_BLUEPRINTS, PAGE_BLUEPRINTS

PUBLIC_API_PATHS = {"/api/v1/openapi.json", "/api/v1/docs"}
PUBLIC_API_PREFIX = "/api/v1/public/"
RAW_BODY_PREFIXES = ("/api/v1/public/evidence-uploads/",)  # signed PUTs of file bytes
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
JSON_TYPES = {"application/json"}
MULTIPART_TYPES = {"multipart/form-data"}

CSP = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": ["'self'", "data:"],
    "font-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}


def create_app(settings: Settings | None = None, runtime: Runtime | None = None) -> Flask:
    settings = settings or (runtime.settings if runtime else Settings.from_env())
    logs.configure(settings)
    runtime = install(runtime or Runtime.build(settings))

    app = Flask(__name__, instance_path=str(settings.instance_dir))
    app.request_class = request_guard.BoundedRequest
    app.config.update(
        SECRET_KEY=settings.secret_key,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.behind_tls,
        SESSION_COOKIE_NAME="jixiao_session",
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SECURE=settings.behind_tls,
        MAX_CONTENT_LENGTH=None,
        WTF_CSRF_CHECK_DEFAULT=False,  # checked below, for pages and session-authenticated API writes
        WTF_CSRF_TIME_LIMIT=None,
        RATELIMIT_STORAGE_URI=settings.redis_url or "memory://",
        RATELIMIT_KEY_PREFIX=f"jixiao-limits:{settings.queue_name}",
        API_TITLE="jixiao 预算绩效一体化管理试点平台 API",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api/v1",
        OPENAPI_JSON_PATH="openapi.json",
        API_SPEC_OPTIONS={
            "info": {
                "description": "See API.md. Authenticate with a bearer token from /oauth/token (password "
                "grant: jixiao-cli; authorization code with PKCE S256 via /oauth/authorize: registered "
                "clients). Resource servers check tokens at /oauth/introspect (RFC 7662)."
            },
            "security": [{"oauth2": []}],
            "components": {
                "securitySchemes": {
                    "oauth2": {
                        "type": "oauth2",
                        "flows": {
                            "password": {
                                "tokenUrl": "/oauth/token",
                                "refreshUrl": "/oauth/token",
                                "scopes": {s: s for s in oauth.ALL_SCOPES},
                            },
                            "authorizationCode": {
                                "authorizationUrl": "/oauth/authorize",
                                "tokenUrl": "/oauth/token",
                                "refreshUrl": "/oauth/token",
                                "scopes": {s: s for s in oauth.ALL_SCOPES},
                            },
                        },
                    }
                }
            },
        },
        JSON_AS_ASCII=False,
    )
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.extensions["jixiao"] = runtime
    access_log.init_app(app)  # first of the request hooks: every request is timed and logged
    if settings.behind_tls:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)  # type: ignore[method-assign]

    talisman.init_app(
        app,
        content_security_policy=CSP,
        force_https=settings.behind_tls,
        strict_transport_security=settings.behind_tls,
        session_cookie_secure=settings.behind_tls,
        session_cookie_http_only=True,
        frame_options="DENY",
        referrer_policy="same-origin",
    )
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "请先登录"
    login_manager.session_protection = "basic"
    login_manager.unauthorized_handler(_unauthorized)
    oauth.init_oauth(app, settings.access_token_ttl)

    # ids in paths fit the INTEGER columns: a larger one is an unknown resource (404), never a 500
    app.url_map.converters["int"] = IdConverter
    api.init_app(app)
    api.register_converter(IdConverter, integerconverter2paramschema)
    for blueprint in API_BLUEPRINTS:
        api.register_blueprint(blueprint)
    api_links.add_links(api.spec._paths)  # how the lifecycle's operations chain (OpenAPI links)
    for blueprint in PAGE_BLUEPRINTS:
        app.register_blueprint(blueprint)
    app.register_blueprint(health.bp)
    register_error_handlers(app)
    _register_request_hooks(app)
    _register_filters(app, ZoneInfo(settings.timezone))
    # What is built so far lives as long as the process: out of the collector's sight, a full
    # collection no longer walks it (a tenth of a big dashboard's time, benchmarks/dashboard.py)
    gc.freeze()
    return app


class IdConverter(IntegerConverter):
    """`<int:…>` bounded to what the database stores (ids are INTEGER): 2^31 and above match no route."""

    def __init__(
        self,
        url_map: Any,
        fixed_digits: int = 0,
        min: int | None = None,
        max: int | None = None,
        signed: bool = False,
    ) -> None:  # noqa: A002, E501 - werkzeug's names
        super().__init__(url_map, fixed_digits, min, INT_MAX if max is None else max, signed)


def _unauthorized() -> Response:
    """A page that needs a login: the login page, coming back afterwards. An htmx request (a filter,
    a tab, the bell) gets HX-Redirect, so the whole page goes to the login rather than the login form
    being swapped into a fragment."""
    if is_htmx():
        page = htmx_page_path() or "/"
        return Response(status=204, headers={"HX-Redirect": login_url("auth.login", next_url=page)})
    flash(login_manager.login_message, login_manager.login_message_category)
    return redirect(login_url("auth.login", next_url=request.url))


def _register_filters(app: Flask, zone: ZoneInfo) -> None:
    app.add_template_filter(person, "person")
    app.add_template_global(viewing_other_tenant, "viewing_other_tenant")
    app.add_template_global(may, "may")

    @app.template_filter("localtime")
    def localtime(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
        """Times are stored in UTC; officials read them in the province's time zone."""
        if value is None:
            return "—"
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(zone).strftime(fmt)


def _register_request_hooks(app: Flask) -> None:
    @app.before_request
    def _identify() -> object:
        request_id()
        path = request.path
        if path.startswith("/static/") or path in ("/healthz", "/readyz"):
            return None
        if path.startswith("/api/"):
            if request.mimetype == "multipart/form-data":
                # a hard cap before werkzeug spools the body to disk; each program's own (smaller)
                # limit is enforced exactly while the file streams to the store
                request.max_content_length = (runtime().settings.max_upload_mib + 1) * 1024 * 1024
            problem = _check_content_type() or _check_json_and_query()
            if problem is not None:
                return problem
            if path in PUBLIC_API_PATHS or path.startswith(PUBLIC_API_PREFIX):
                return None
            g.actor = _api_actor()
            return None
        if path.startswith("/oauth/"):
            return None
        if request.method not in SAFE_METHODS:
            csrf.protect()
            problem = _check_form_text()
            if problem is not None:
                return problem
        if current_user.is_authenticated:
            g.actor = current_user.actor
        return None

    @app.after_request
    def _stamp(response):  # type: ignore[no-untyped-def]
        record_grant_uses(response.status_code)
        response.headers["X-Request-ID"] = request_id()
        if request.path.startswith(("/api/", "/oauth/")):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    app.teardown_request(close_sessions)

    @app.errorhandler(CSRFError)
    def _csrf(exc: CSRFError):  # type: ignore[no-untyped-def]
        if is_htmx():
            # a page left open while the session changed (logged out, or in again elsewhere):
            # reload it — the login page or a fresh token — rather than a click that does nothing
            return Response(status=204, headers={"HX-Refresh": "true"})
        return error_response(400, "表单已过期或来源不可信（CSRF 校验失败），请刷新页面后重试")


def _check_content_type() -> object | None:
    """A body sent to the JSON API must be JSON (multipart only where an endpoint takes files)."""
    if (
        request.method in SAFE_METHODS
        or not request.content_length
        or request.path.startswith(RAW_BODY_PREFIXES)
    ):
        return None
    if request.mimetype in JSON_TYPES or request.mimetype in MULTIPART_TYPES:
        return None
    return error_response(415, f"请求体须为 application/json，收到的是 {request.mimetype or '未知类型'}")


def _check_form_text() -> object | None:
    """A page's form: no value holds a character the database cannot store or that disguises text
    (NUL and other controls but newline and tab, bidirectional overrides, lone surrogates)."""
    for name, value in request.form.items(multi=True):
        if text_problem(value, multiline=True, limit=10**9):
            return error_response(
                400, f"表单项「{name}」含不允许的字符（控制字符或文字方向控制符），请删除后重试"
            )
    return None


def _check_json_and_query() -> object | None:
    """request_guard's rules: a bounded, sane JSON body; no unknown query parameter."""
    if request.mimetype in JSON_TYPES and request.method not in SAFE_METHODS:
        cap = runtime().settings.max_json_mib * 1024 * 1024
        if (request.content_length or 0) > cap:
            return error_response(413, f"JSON 请求体超过上限 {runtime().settings.max_json_mib} MiB")
        request.max_content_length = cap  # a chunked body without a length is cut off there too
        raw = request.get_data(cache=True)
        if raw:
            try:
                request_guard.parse_json_body(raw)
            except request_guard.BadJson as exc:
                return error_response(400, str(exc))
    unknown = request_guard.unknown_query_parameters()
    if unknown:
        return error_response(
            422,
            f"未知的查询参数：{'、'.join(unknown)}",
            errors={"query": {name: ["未知的查询参数"] for name in unknown}},
        )
    return None


def _api_actor():  # type: ignore[no-untyped-def]
    header = request.headers.get("Authorization")
    if header:
        cache = runtime().db.actor_cache
        kind, _, value = header.partition(" ")
        digest = token_digest(value.strip()) if kind.lower() == "bearer" and value.strip() else None
        generation = cache.generation() if cache is not None and digest else None
        if generation is not None:  # read before the rows, so a change meanwhile outdates the entry
            assert cache is not None and digest is not None
            known = cache.get(digest, generation, request_id())
            if known is not None:
                return known
        token = oauth.bearer_token()
        user = token.user
        if user is None or not user.is_active:
            raise Unauthenticated("账号已停用")
        built = tenants.build_actor(
            system_db("auth"),
            user,
            scopes=frozenset(token.scope.split()),
            request_id=request_id(),
            client_id=token.client_id,
        )
        if generation is not None:
            assert cache is not None and digest is not None
            cache.put(digest, built, generation, token.issued_at + token.expires_in)
        return built
    if current_user.is_authenticated:
        if request.method not in SAFE_METHODS:
            token = request.headers.get("X-CSRFToken") or request.headers.get("X-CSRF-Token") or ""
            try:
                validate_csrf(token)
            except ValidationError:
                raise CSRFError("CSRF token missing or invalid") from None
        return current_user.actor
    raise Unauthenticated()
