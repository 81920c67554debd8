"""Liveness and readiness: /readyz names each dependency and answers 503 when one is down."""

from __future__ import annotations

import socket

import pytest

from jixiao.platform.core.config import Settings
from jixiao.platform.core.runtime import current_runtime, install
from tests.support.services import MODE


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_healthz_needs_nothing(client):
    resp = client.get("/healthz")
    assert resp.status_code == 200 and resp.get_json() == {"status": "ok"}


def test_readyz_names_every_dependency_of_this_mode(client):
    resp = client.get("/readyz")
    assert resp.status_code == 200, resp.get_json()
    checks = resp.get_json()["checks"]
    assert set(checks) == {"database", "redis", "object_store"}
    assert all(c["ok"] for c in checks.values())
    expected = {"embedded": ("sqlite", "local"), "real": ("postgresql", "s3")}[MODE]
    assert (checks["database"]["backend"], checks["object_store"]["backend"]) == expected


@pytest.fixture()
def keep_runtime():
    """create_app installs its runtime process-wide; put the session's back afterwards."""
    original = current_runtime()
    yield
    install(original)


def test_readyz_is_503_naming_what_is_down(tmp_path, keep_runtime):
    from jixiao.platform.web.app import create_app

    port = closed_port()
    settings = Settings.from_env(
        instance_dir=tmp_path,
        database_url=f"sqlite:///{tmp_path / 'x.db'}",
        secret_key="t",
        redis_url=f"redis://127.0.0.1:{port}/0",
        s3_endpoint=f"http://127.0.0.1:{port}",
        s3_access_key="k",
        s3_secret_key="s",
    )
    resp = create_app(settings).test_client().get("/readyz")
    assert resp.status_code == 503
    body = resp.get_json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["redis"]["ok"] is False and body["checks"]["redis"]["error"]
    assert body["checks"]["object_store"]["ok"] is False and body["checks"]["object_store"]["error"]


def test_readyz_is_503_when_the_database_is_down(tmp_path, keep_runtime):
    from jixiao.platform.web.app import create_app

    settings = Settings.from_env(
        instance_dir=tmp_path,
        secret_key="t",
        database_url=f"postgresql+psycopg://postgres@127.0.0.1:{closed_port()}/nothing?connect_timeout=2",
    )
    resp = create_app(settings).test_client().get("/readyz")
    assert resp.status_code == 503
    assert resp.get_json()["checks"]["database"]["ok"] is False


def test_openapi_document_and_local_swagger_ui(client):
    spec = client.get("/api/v1/openapi.json")
    assert spec.status_code == 200
    doc = spec.get_json()
    assert "/api/v1/me" in doc["paths"] and "/api/v1/tenants/{code}/users" in doc["paths"]
    page = client.get("/api/v1/docs").get_data(as_text=True)
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in page
    assert "http://" not in page and "https://" not in page
