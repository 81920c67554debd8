"""Direct-to-store uploads: a slot, the bytes PUT to the returned URL (presigned S3 in real mode, the
app's signed URL in embedded mode), completion that verifies size and SHA-256; cleanup; reconcile."""

from __future__ import annotations

import hashlib
import io
import os
import urllib.request
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import update

from jixiao.platform.core.db import utcnow
from jixiao.services.evidence import direct
from jixiao.services.evidence.models import Evidence
from tests.api.test_project_lifecycle import create_program, new_project

PDF = b"%PDF-1.7\n" + os.urandom(256 * 1024)


@pytest.fixture()
def project(api, unique) -> dict:
    return new_project(api, create_program(api, unique, 10), unique)


def put_bytes(client, url: str, data: bytes) -> int:
    """PUT to the slot's URL as a browser or script would (no bearer token)."""
    parts = urlsplit(url)
    if parts.path.startswith("/api/v1/public/"):
        return client.put(parts.path, data=data, content_type="application/octet-stream").status_code
    request = urllib.request.Request(url, data=data, method="PUT")
    with urllib.request.urlopen(request) as resp:  # noqa: S310 - the loopback test store
        return resp.status


def slot(editor, pid: int, data: bytes, **overrides) -> dict:
    body = {
        "filename": "竣工验收报告.pdf",
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "stage": "assessment",
        "purpose": "验收材料",
        **overrides,
    }
    resp = editor.post(f"/api/v1/projects/{pid}/evidence/uploads", json=body)
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def test_direct_upload_completes_after_verification(app, api, project, runtime):
    editor = api.as_user("xq.editor")
    made = slot(editor, project["id"], PDF)
    assert editor.get(f"/api/v1/evidence/{made['id']}").status_code == 404  # pending: not evidence yet
    early = editor.post(f"/api/v1/evidence/{made['id']}/complete")
    assert early.status_code == 409
    # the walls: a sibling county cannot even see the slot, the city above may not complete it
    assert api.as_user("xx.editor").post(f"/api/v1/evidence/{made['id']}/complete").status_code == 404
    assert api.as_user("yc.admin").post(f"/api/v1/evidence/{made['id']}/complete").status_code == 403
    assert put_bytes(app.test_client(), made["upload_url"], PDF) in (200, 204)
    done = editor.post(f"/api/v1/evidence/{made['id']}/complete")
    assert done.status_code == 200, done.get_json()
    assert (
        done.get_json()["sha256"] == hashlib.sha256(PDF).hexdigest()
        and done.get_json()["status"] == "current"
    )
    assert [e["id"] for e in editor.get(f"/api/v1/projects/{project['id']}/evidence").get_json()] == [
        made["id"]
    ]


def test_a_wrong_hash_is_refused_and_leaves_no_object(app, api, project, runtime):
    editor = api.as_user("xq.editor")
    made = slot(editor, project["id"], PDF)
    put_bytes(
        app.test_client(), made["upload_url"], PDF[:-1] + bytes([PDF[-1] ^ 0xFF])
    )  # the last byte flipped (an "X" could be the byte already)
    with runtime.db.system_session("test") as s:
        key = s.get(Evidence, made["id"]).object_key
    refused = editor.post(f"/api/v1/evidence/{made['id']}/complete")
    assert refused.status_code == 422 and "SHA-256" in refused.get_json()["message"]
    assert not runtime.store.exists(key)
    assert editor.post(f"/api/v1/evidence/{made['id']}/complete").status_code == 404


def test_bad_slots_and_tokens(app, api, project):
    editor = api.as_user("xq.editor")
    pid = project["id"]
    bad = editor.post(
        f"/api/v1/projects/{pid}/evidence/uploads",
        json={"filename": "x.exe", "size": 10, "sha256": "0" * 64, "stage": "assessment", "purpose": "其他"},
    )
    assert bad.status_code == 415
    huge = editor.post(
        f"/api/v1/projects/{pid}/evidence/uploads",
        json={
            "filename": "x.pdf",
            "size": 10**12,
            "sha256": "0" * 64,
            "stage": "assessment",
            "purpose": "其他",
        },
    )
    assert huge.status_code == 413
    assert app.test_client().put("/api/v1/public/evidence-uploads/not-a-token", data=b"x").status_code == 404
    sibling = api.as_user("xx.editor").post(
        f"/api/v1/projects/{pid}/evidence/uploads",
        json={"filename": "x.pdf", "size": 10, "sha256": "0" * 64, "stage": "assessment", "purpose": "其他"},
    )
    assert sibling.status_code == 404


def test_stale_slots_are_cleaned_and_reconcile_finds_drift(api, project, runtime):
    editor = api.as_user("xq.editor")
    made = slot(editor, project["id"], PDF)
    with runtime.db.transaction(system="test: age the slot") as s:
        s.execute(
            update(Evidence).where(Evidence.id == made["id"]).values(uploaded_at=utcnow() - timedelta(days=2))
        )
    with runtime.db.transaction(system="test cleanup") as s:
        assert direct.cleanup_stale(s) >= 1
    with runtime.db.system_session("test") as s:
        assert s.get(Evidence, made["id"]) is None
    orphan = f"tenants/640104/projects/{project['id']}/assessment/orphan{os.getpid()}"
    runtime.store.put_stream(orphan, io.BytesIO(b"%PDF-1.7 orphan"), content_type="application/pdf")
    with runtime.db.transaction(system="test reconcile") as s:
        assert orphan in direct.reconcile(s)["orphan_objects"]
    with runtime.db.transaction(system="test reconcile --fix") as s:
        direct.reconcile(s, fix=True)
    assert not runtime.store.exists(orphan)
