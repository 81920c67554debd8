"""Liveness and readiness probes."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify
from sqlalchemy import text

from .context import runtime
from .extensions import talisman

bp = Blueprint("health", __name__)


@bp.get("/healthz")
@talisman(force_https=False)  # kubelet probes speak plain http inside the cluster
def healthz() -> Any:
    return jsonify({"status": "ok"})


@bp.get("/readyz")
@talisman(force_https=False)
def readyz() -> Any:
    rt = runtime()
    checks: dict[str, dict[str, Any]] = {}

    def probe(name: str, backend: str, fn: Any) -> None:
        try:
            fn()
            checks[name] = {"ok": True, "backend": backend}
        except Exception as exc:  # noqa: BLE001 - any failure means "not ready", named in the body
            checks[name] = {"ok": False, "backend": backend, "error": f"{type(exc).__name__}: {exc}"[:300]}

    def db_ping() -> None:
        with rt.db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    probe("database", rt.db.engine.dialect.name, db_ping)
    probe("redis", "fakeredis (in-process)" if rt.jobs.embedded else "redis", rt.jobs.ping)
    probe("object_store", rt.store.name, rt.store.check)
    ready = all(c["ok"] for c in checks.values())
    resp = jsonify({"status": "ready" if ready else "unavailable", "checks": checks})
    resp.status_code = 200 if ready else 503
    return resp
