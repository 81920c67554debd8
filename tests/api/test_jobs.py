"""Background jobs through the API: the self-check job runs in-process (embedded) or in the real
`jixiao worker` process (real mode), reports progress, and is visible only to its own user."""

from __future__ import annotations


def test_selfcheck_job_runs_with_progress_and_verifies_the_audit_chain(api):
    admin = api.as_user("nx.admin")
    started = admin.post("/api/v1/system/selfcheck")
    assert started.status_code == 202, started.get_json()
    job_id = started.get_json()["job_id"]
    done = admin.wait_job(job_id)
    assert done["status"] == "finished", done
    assert done["progress"] == 100
    result = done["result"]
    assert result["audit"]["ok"] is True and result["audit"]["checked"] > 0
    assert result["object_store"]["ok"] is True
    assert result["tenants"] >= 28
    events = admin.get("/api/v1/audit-events?action=system.selfcheck").get_json()
    assert events["total"] >= 1 and events["items"][0]["username"] == "nx.admin"


def test_a_job_is_visible_only_to_the_user_who_started_it(api):
    job_id = api.as_user("nx.admin").post("/api/v1/system/selfcheck").get_json()["job_id"]
    api.as_user("nx.admin").wait_job(job_id)
    for other in ("nx.reviewer", "xq.admin", "yc.admin"):
        resp = api.as_user(other).get(f"/api/v1/jobs/{job_id}")
        assert resp.status_code == 404, (other, resp.get_json())
    assert api.as_user("nx.admin").get("/api/v1/jobs/no-such-job").status_code == 404


def test_only_the_province_admin_may_start_the_selfcheck(api):
    resp = api.as_user("xq.admin").post("/api/v1/system/selfcheck")
    assert resp.status_code == 403
    assert "省财政厅管理员" in resp.get_json()["message"]
    narrowed = api.as_user("nx.admin", scope="profile").post("/api/v1/system/selfcheck")
    assert narrowed.status_code == 403
    assert "admin" in narrowed.get_json()["message"]
