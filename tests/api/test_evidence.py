"""Evidence files through HTTP, against the mode's store (local folder, or SeaweedFS S3 in real mode)."""

from __future__ import annotations

import hashlib
import io
import os

import pytest

from tests.api.test_project_lifecycle import CRITERIA, create_program, new_project, through_assessment

PDF = b"%PDF-1.7\n" + os.urandom(64 * 1024)
PNG = b"\x89PNG\r\n\x1a\n" + os.urandom(2048)


@pytest.fixture()
def project(api, unique) -> dict:
    return new_project(api, create_program(api, unique, 10), unique)


def upload(
    client, pid: int, data: bytes, name: str, stage: str = "assessment", purpose: str = "立项依据", **extra
):
    form = {"file": (io.BytesIO(data), name), "stage": stage, "purpose": purpose, **extra}
    return client.post(f"/api/v1/projects/{pid}/evidence", data=form, content_type="multipart/form-data")


def test_upload_list_download_roundtrip_with_sha256(api, project):
    editor = api.as_user("xq.editor")
    resp = upload(editor, project["id"], PDF, "立项批复（2023）.pdf")
    assert resp.status_code == 201, resp.get_json()
    item = resp.get_json()
    assert item["sha256"] == hashlib.sha256(PDF).hexdigest() and item["size"] == len(PDF)
    assert item["filename"] == "立项批复（2023）.pdf" and item["content_type"] == "application/pdf"
    listed = editor.get(f"/api/v1/projects/{project['id']}/evidence").get_json()
    assert [e["id"] for e in listed] == [item["id"]]
    down = editor.get(f"/api/v1/evidence/{item['id']}/download")
    if down.status_code == 302:  # S3: a short-lived presigned URL
        import urllib.request

        with urllib.request.urlopen(down.headers["Location"]) as remote:  # noqa: S310 - loopback store
            body = remote.read()
            assert "filename*=UTF-8''" in remote.headers["Content-Disposition"]
    else:
        assert down.status_code == 200
        assert "filename*=UTF-8''" in down.headers["Content-Disposition"]
        body = down.get_data()
    assert hashlib.sha256(body).hexdigest() == item["sha256"]
    events = api.as_user("xq.admin").get(f"/api/v1/audit-events?object_type=evidence&object_id={item['id']}")
    assert {e["action"] for e in events.get_json()["items"]} >= {"evidence.upload", "evidence.download"}


def test_bad_files_are_refused_and_nothing_is_recorded(api, project):
    editor = api.as_user("xq.editor")
    pid = project["id"]
    assert upload(editor, pid, b"MZ\x90\x00not a pdf at all", "伪装.pdf").status_code == 415  # spoofed
    assert upload(editor, pid, b"hello", "说明.txt").status_code == 415  # forbidden type
    assert upload(editor, pid, b"", "空.pdf").status_code == 422  # empty
    assert upload(editor, pid, PDF, "../../etc/passwd.pdf").status_code == 422  # path
    assert upload(editor, pid, PDF, "坏\x07名.pdf").status_code == 422  # control character
    assert upload(editor, pid, PDF, "目标.pdf", stage="monitoring").status_code == 409  # not reached
    assert upload(editor, pid, PDF, "x.pdf", stage="nope").status_code == 422
    assert editor.get(f"/api/v1/projects/{pid}/evidence").get_json() == []


def test_walls_and_read_only_upward(api, project):
    item = upload(api.as_user("xq.editor"), project["id"], PNG, "现场照片.png").get_json()
    sibling = api.as_user("xx.admin")
    assert sibling.get(f"/api/v1/evidence/{item['id']}").status_code == 404
    assert sibling.get(f"/api/v1/evidence/{item['id']}/download").status_code == 404
    assert upload(sibling, project["id"], PNG, "x.png").status_code == 404
    city = api.as_user("yc.admin")
    assert city.get(f"/api/v1/evidence/{item['id']}").status_code == 200
    assert upload(city, project["id"], PNG, "x.png").status_code == 403
    assert city.delete(f"/api/v1/evidence/{item['id']}").status_code == 403


def test_delete_while_draft_then_only_supersede(api, project):
    editor = api.as_user("xq.editor")
    pid = project["id"]
    first = upload(editor, pid, PDF, "方案.pdf", purpose="实施方案").get_json()
    assert editor.delete(f"/api/v1/evidence/{first['id']}").status_code == 204
    assert editor.get(f"/api/v1/evidence/{first['id']}").status_code == 404
    kept = upload(editor, pid, PDF, "方案v1.pdf", purpose="实施方案").get_json()
    editor.put(f"/api/v1/projects/{pid}/assessment", json={"criteria": CRITERIA, "summary": "支持"})
    assert editor.post(f"/api/v1/projects/{pid}/assessment/submit").status_code == 200
    refused = editor.delete(f"/api/v1/evidence/{kept['id']}")
    assert refused.status_code == 409 and "替换" in refused.get_json()["message"]
    newer = upload(editor, pid, PDF + b"v2", "方案v2.pdf", purpose="实施方案", supersedes=str(kept["id"]))
    assert newer.status_code == 201 and newer.get_json()["version_no"] == 2
    chain = editor.get(f"/api/v1/evidence/{newer.get_json()['id']}/history").get_json()
    assert [c["version_no"] for c in chain] == [2, 1] and chain[1]["status"] == "superseded"
    assert [e["filename"] for e in editor.get(f"/api/v1/projects/{pid}/evidence").get_json()] == [
        "方案v2.pdf"
    ]


def test_required_purposes_block_the_targets_submit(api, unique):
    resp = api.as_user("nx.admin").post(
        "/api/v1/programs",
        json={
            "name": f"佐证试点{unique}",
            "start": "2022-08-01",
            "end": "2099-12-31",
            "tenant_codes": ["640104"],
            "max_projects_per_tenant": 5,
            "settings": {"evidence": {"required_purposes": {"targets": ["立项依据", "实施方案"]}}},
        },
    )
    pid = new_project(api, resp.get_json()["id"], unique)["id"]
    through_assessment(api, pid)
    editor = api.as_user("xq.editor")
    editor.put(f"/api/v1/projects/{pid}/targets", json={"overall_goal": "目标", "indicators": []})
    refused = editor.post(f"/api/v1/projects/{pid}/targets/submit").get_json()
    evidence = [v for v in refused["errors"]["violations"] if v["rule"] == "E01"]
    assert evidence and "立项依据、实施方案" in evidence[0]["message"]
    upload(editor, pid, PDF, "立项.pdf", stage="targets", purpose="立项依据")
    upload(editor, pid, PDF, "方案.pdf", stage="targets", purpose="实施方案")
    again = editor.post(f"/api/v1/projects/{pid}/targets/check").get_json()
    assert not [v for v in again if v["rule"] == "E01"]


def test_a_body_over_the_hard_cap_is_refused_before_it_is_read(api, project, settings):
    """JIXIAO_MAX_UPLOAD_MIB caps any multipart body: 413 at once, nothing spooled or stored."""
    from dataclasses import replace

    from jixiao.platform.core.runtime import Runtime, current_runtime, install
    from jixiao.platform.web.app import create_app

    original = current_runtime()
    try:
        capped = create_app(runtime=Runtime.build(replace(settings, max_upload_mib=1)))
        client = capped.test_client()
        token = api.token("xq.editor")
        resp = client.post(
            f"/api/v1/projects/{project['id']}/evidence",
            data={"file": (io.BytesIO(PDF * 40), "大.pdf"), "stage": "assessment", "purpose": "其他"},
            content_type="multipart/form-data",
            headers={"Authorization": f"Bearer {token}"},
        )
        assert resp.status_code == 413 and resp.get_json()["code"] == 413
    finally:
        install(original)
    assert api.as_user("xq.editor").get(f"/api/v1/projects/{project['id']}/evidence").get_json() == []


def test_required_purposes_block_the_assessment_submit(api, unique):
    resp = api.as_user("nx.admin").post(
        "/api/v1/programs",
        json={
            "name": f"评估佐证试点{unique}",
            "start": "2022-08-01",
            "end": "2099-12-31",
            "tenant_codes": ["640104"],
            "max_projects_per_tenant": 5,
            "settings": {"evidence": {"required_purposes": {"assessment": ["立项依据"]}}},
        },
    )
    pid = new_project(api, resp.get_json()["id"], unique)["id"]
    editor = api.as_user("xq.editor")
    editor.put(f"/api/v1/projects/{pid}/assessment", json={"criteria": CRITERIA, "summary": "建议支持"})
    refused = editor.post(f"/api/v1/projects/{pid}/assessment/submit")
    assert refused.status_code == 422 and "立项依据" in refused.get_json()["errors"]["evidence"][0]
    assert upload(editor, pid, PDF, "立项批复.pdf").status_code == 201
    assert editor.post(f"/api/v1/projects/{pid}/assessment/submit").status_code == 200
