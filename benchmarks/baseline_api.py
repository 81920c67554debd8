"""The floor of `GET /api/v1/indicators?page_size=20` (issue 17 target 1): a hand-written Flask
endpoint that runs the minimum SQL of the same answer — the token's user and tenant, the count,
the page — with psycopg and no ORM, and returns the same JSON. `benchmarks/api_overhead.py`
serves it under the same gunicorn settings as the app and checks that both answers are equal.

    BASELINE_DSN=postgresql://postgres@127.0.0.1:5432/jixiao_bench_api \\
        .venv/bin/gunicorn --chdir benchmarks -w 2 -k gthread --threads 1 baseline_api:app
"""

from __future__ import annotations

import hashlib
import os
import time
from typing import Any

import psycopg
from flask import Flask, Response, jsonify, request

app = Flask(__name__)
app.json.ensure_ascii = False  # type: ignore[attr-defined]
app.json.sort_keys = True  # type: ignore[attr-defined]

_conn: psycopg.Connection[Any] | None = None

TOKEN = """
SELECT u.id, t.id, t.path, k.issued_at + k.expires_in, k.access_token_revoked_at, u.is_active
FROM oauth_tokens k JOIN users u ON u.id = k.user_id JOIN tenants t ON t.id = u.tenant_id
WHERE k.access_token_hash = %s
"""
# the library a county reads: its own, its ancestors' and its descendants' indicators
VISIBLE = """
i.status = 'active' AND i.tenant_id IN (
    SELECT id FROM tenants WHERE %(path)s = path OR %(path)s LIKE path || '/%%' OR path LIKE %(path)s || '/%%')
"""
COUNT = f"SELECT count(*) FROM indicators i WHERE {VISIBLE}"
PAGE = f"""
SELECT i.category, i.code, i.common_class, i.created_at, i.derived_from_id, i.direction, i.explanation,
       i.historical_values, i.id, i.kind, f1.name, i.name, i.origin_id, t.code, t.name, i.retired_at,
       i.retired_reason, i.scope, i.shared, i.source, i.standard_value, i.status, i.unit, i.updated_at,
       i.value_basis, i.value_type, i.version, f2.name
FROM indicators i JOIN indicator_framework f2 ON f2.id = i.level2_id
JOIN indicator_framework f1 ON f1.id = f2.parent_id JOIN tenants t ON t.id = i.tenant_id
WHERE {VISIBLE} ORDER BY i.shared DESC, i.code LIMIT %(limit)s OFFSET %(offset)s
"""
FIELDS = [
    "category",
    "code",
    "common_class",
    "created_at",
    "derived_from",
    "direction",
    "explanation",
    "historical_values",
    "id",
    "kind",
    "level1",
    "name",
    "origin",
    "owner_code",
    "owner_name",
    "retired_at",
    "retired_reason",
    "scope",
    "shared",
    "source",
    "standard_value",
    "status",
    "unit",
    "updated_at",
    "value_basis",
    "value_type",
    "version",
    "level2",
]


def connection() -> psycopg.Connection[Any]:
    global _conn
    if _conn is None or _conn.closed:
        _conn = psycopg.connect(os.environ["BASELINE_DSN"], autocommit=True, prepare_threshold=None)
    return _conn


def _iso(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


@app.get("/api/v1/indicators")
def indicators() -> Response | tuple[Response, int]:
    kind, _, value = request.headers.get("Authorization", "").partition(" ")
    if kind.lower() != "bearer" or not value:
        return jsonify(message="需要登录或有效的访问令牌"), 401
    conn = connection()
    row = conn.execute(TOKEN, (hashlib.sha256(value.encode()).hexdigest(),)).fetchone()
    if row is None or row[4] or row[3] <= time.time() or not row[5]:
        return jsonify(message="需要登录或有效的访问令牌"), 401
    page = max(int(request.args.get("page", 1)), 1)
    size = min(max(int(request.args.get("page_size", 50)), 1), 200)
    args = {"path": row[2], "limit": size, "offset": (page - 1) * size}
    total = conn.execute(COUNT, args).fetchone()[0]  # type: ignore[index]
    items = []
    for r in conn.execute(PAGE, args):
        item = {name: _iso(v) for name, v in zip(FIELDS, r, strict=True)}
        items.append(item)
    return jsonify(items=items, page=page, page_size=size, total=total)
