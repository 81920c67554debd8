"""The route table, enumerated: every /api/v1 route is behind authentication, a `profile`-only token
changes nothing, every policy is well formed, and the OpenAPI document lists every route.

Nothing here names a route of a capability: as capabilities add routes, they are checked too.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from werkzeug.routing import Rule

from jixiao.platform.core.authz import ALL_SCOPES, POLICIES

API_PREFIX = "/api/v1/"
PUBLIC_EXACT = {"/api/v1/openapi.json", "/api/v1/docs"}
PUBLIC_PREFIXES = ("/api/v1/docs/", "/api/v1/public/")
DOCUMENTATION = {"/api/v1/openapi.json", "/api/v1/docs"}  # the documentation is not documented in itself
IGNORED_METHODS = {"HEAD", "OPTIONS"}

# <converter(args):name> or <name>
_PARAM = re.compile(r"<(?:(?P<conv>[A-Za-z_]\w*)(?:\((?P<args>[^)]*)\))?:)?(?P<name>[A-Za-z_]\w*)>")


def _is_public(path: str) -> bool:
    return path in PUBLIC_EXACT or path.startswith(PUBLIC_PREFIXES)


def _api_rules(app: Any) -> list[Rule]:
    rules = [r for r in app.url_map.iter_rules() if r.rule.startswith(API_PREFIX)]
    return sorted(rules, key=lambda r: r.rule)


def _methods(rule: Rule) -> list[str]:
    return sorted((rule.methods or set()) - IGNORED_METHODS)


def _sample(match: re.Match[str]) -> str:
    conv = match.group("conv") or "default"
    if conv == "int":
        return "1"
    if conv == "float":
        return "1.0"
    if conv == "uuid":
        return "00000000-0000-4000-8000-000000000001"
    if conv == "any":
        return (match.group("args") or "").split(",")[0].strip().strip("'\"")
    return "640104"


def _filled(rule: Rule) -> str:
    return _PARAM.sub(_sample, rule.rule)


def _openapi_path(rule: Rule) -> str:
    return _PARAM.sub(lambda m: "{" + m.group("name") + "}", rule.rule)


def _protected(app: Any) -> list[tuple[str, str, str]]:
    """(rule, method, concrete path) for every protected /api/v1 route and method."""
    cases = [
        (rule.rule, method, _filled(rule))
        for rule in _api_rules(app)
        if not _is_public(rule.rule)
        for method in _methods(rule)
    ]
    assert len(cases) >= 10, cases  # the table is really enumerated
    assert ("/api/v1/me", "GET", "/api/v1/me") in cases
    return cases


def _resolve(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        node = spec["components"]["schemas"][name]
    return node


def _example(spec: dict[str, Any], node: dict[str, Any], depth: int = 0) -> Any:
    """A plausible value for a JSON schema: enough to get past validation to the policy check."""
    node = _resolve(spec, node)
    if "enum" in node and node["enum"]:
        return node["enum"][0]
    kind = node.get("type")
    if kind == "object" or "properties" in node:
        if depth > 3:
            return {}
        return {
            name: _example(spec, prop, depth + 1)
            for name, prop in node.get("properties", {}).items()
            if not _resolve(spec, prop).get("readOnly")
        }
    if kind == "array":
        return [_example(spec, node.get("items", {}), depth + 1)] if depth <= 3 else []
    if kind == "integer":
        return 1
    if kind == "number":
        return 1
    if kind == "boolean":
        return False
    fmt = node.get("format")
    if fmt == "date":
        return "2024-01-01"
    if fmt == "date-time":
        return "2024-01-01T00:00:00+00:00"
    return "640104"


def _json_body(spec: dict[str, Any], rule: str, method: str) -> dict[str, Any] | None:
    """The example body of an operation's JSON request, or None when it takes none."""
    path = _PARAM.sub(lambda m: "{" + m.group("name") + "}", rule)
    operation = spec.get("paths", {}).get(path, {}).get(method.lower(), {})
    content = operation.get("requestBody", {}).get("content", {})
    if "application/json" not in content:
        return None
    body = _example(spec, content["application/json"].get("schema", {}))
    return body if isinstance(body, dict) else None


def _is_error_body(resp: Any, status: int) -> bool:
    body = resp.get_json(silent=True)
    return (
        isinstance(body, dict)
        and body.get("code") == status
        and isinstance(body.get("message"), str)
        and bool(body["message"])
    )


# --- authentication ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer not-a-real-token"}, {"Authorization": "Basic eDp5"}],
    ids=["no-credentials", "unknown-bearer-token", "basic-auth"],
)
def test_every_protected_route_needs_authentication(app, headers):
    client = app.test_client()
    wrong = []
    for rule, method, path in _protected(app):
        resp = client.open(path, method=method, headers=headers)
        if resp.status_code != 401 or not _is_error_body(resp, 401):
            wrong.append((method, rule, path, resp.status_code, resp.get_data(as_text=True)[:200]))
    assert wrong == [], "routes answering without credentials:\n" + "\n".join(map(str, wrong))


def test_the_public_routes_answer_without_credentials(app):
    client = app.test_client()
    assert client.get("/api/v1/openapi.json").status_code == 200
    assert client.get("/api/v1/docs").status_code == 200
    for rule in _api_rules(app):
        if rule.rule.startswith("/api/v1/public/") and "GET" in _methods(rule) and not rule.arguments:
            assert client.get(rule.rule).status_code == 200, rule.rule


@pytest.mark.parametrize("username", ["nx.admin", "xq.admin"])
def test_a_profile_only_token_changes_nothing(app, api, spec, username):
    """A scope narrows: with `profile` alone even the province admin may not write anything.

    Each write is sent twice: with an empty body, and with an example body built from the route's
    OpenAPI request schema, so that it gets past validation to the policy check."""
    user = api.as_user(username, scope="profile")
    me = user.get("/api/v1/me").get_json()
    assert me["scopes"] == ["profile"]
    wrong = []
    for rule, method, path in _protected(app):
        if method == "GET":
            continue
        bodies: list[dict[str, Any]] = [{}]
        example = _json_body(spec, rule, method)
        if example:
            bodies.append(example)
        for body in bodies:
            resp = user._call(method, path, json=body)
            if resp.status_code not in (403, 404, 422) or not _is_error_body(resp, resp.status_code):
                wrong.append((method, rule, body, resp.status_code, resp.get_data(as_text=True)[:200]))
    assert wrong == [], "writes accepted with a profile-only token:\n" + "\n".join(map(str, wrong))


# --- policies ---------------------------------------------------------------------------------


def test_every_policy_names_a_known_scope_and_says_what_it_allows(app):
    assert POLICIES, "no policy registered"
    assert {"tenants.read", "users.write", "audit.read"} <= set(POLICIES)
    bad = []
    for action, pol in sorted(POLICIES.items()):
        problems = []
        if pol.action != action:
            problems.append(f"registered as {action} but named {pol.action}")
        if pol.scope not in ALL_SCOPES:
            problems.append(f"unknown scope {pol.scope!r}")
        if not (pol.check.__doc__ or "").strip() or not pol.description:
            problems.append("no docstring")
        if not re.fullmatch(r"[a-z_]+(\.[a-z_]+)+", action):
            problems.append("action is not `capability.verb`")
        if problems:
            bad.append((action, problems))
    assert bad == []


# --- the OpenAPI document ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def spec(app: Any) -> dict[str, Any]:
    resp = app.test_client().get("/api/v1/openapi.json")
    assert resp.status_code == 200
    body: dict[str, Any] = resp.get_json()
    return body


def test_openapi_lists_every_api_route_and_method(app, spec):
    documented = {
        path: {m.upper() for m in ops if m.upper() not in IGNORED_METHODS}
        for path, ops in spec["paths"].items()
    }
    missing = []
    for rule in _api_rules(app):
        if rule.rule in DOCUMENTATION:
            continue
        path = _openapi_path(rule)
        if path not in documented:
            missing.append((rule.rule, path, "path"))
            continue
        absent = set(_methods(rule)) - documented[path]
        if absent:
            missing.append((rule.rule, path, sorted(absent)))
    assert missing == [], "routes missing from /api/v1/openapi.json:\n" + "\n".join(map(str, missing))

    routed = {_openapi_path(rule) for rule in app.url_map.iter_rules()}
    phantom = sorted(set(documented) - routed)
    assert phantom == [], f"documented paths that no route serves: {phantom}"


def test_openapi_declares_the_oauth2_scheme(spec):
    schemes = spec["components"]["securitySchemes"]
    assert schemes["oauth2"]["type"] == "oauth2"
    flow = schemes["oauth2"]["flows"]["password"]
    assert flow["tokenUrl"] == "/oauth/token"
    assert set(flow["scopes"]) == set(ALL_SCOPES)
    assert {"oauth2": []} in spec.get("security", [])
