"""Issue 13's "done when", end to end through HTTP: xq.admin grants 宁夏绩评's eval.ningping read +
key_evaluation + evidence_read on one project until tomorrow; the evaluator sees that project and no
other, writes and submits a key evaluation with its report file, xq.admin accepts it; revoked, the
evaluator gets 403 naming the revocation; a grant past its expiry gives nothing; a rectification
notice with two items is answered and closed; the recommendation follows the grade unless overridden
with a reason; the disclosed project is on /public and in the public API without login, an
undisclosed one never."""

from __future__ import annotations

import io
from datetime import timedelta

from sqlalchemy import update

from jixiao.platform.core.db import utcnow
from jixiao.services.grants.models import Grant
from tests.api.test_key_evaluation import FOUR, grant, through_self_evaluation
from tests.api.test_project_lifecycle import create_program, new_project

PDF = b"%PDF-1.7\n" + b"0" * 512


def upload(api, pid: int, stage: str, purpose: str, name: str) -> int:
    resp = api.as_user("xq.editor").post(
        f"/api/v1/projects/{pid}/evidence",
        data={"file": (io.BytesIO(PDF), name), "stage": stage, "purpose": purpose},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()["id"]


def test_issue_13_done_when(app, api, runtime, unique):
    program = create_program(api, unique, 10)
    pid = through_self_evaluation(api, program, unique)
    other = new_project(api, program, f"{unique}二")["id"]  # same tenant, never granted
    given = grant(api, pid, ["read", "key_evaluation", "evidence_read"])  # until tomorrow
    evaluator, admin, editor = (api.as_user(u) for u in ("eval.ningping", "xq.admin", "xq.editor"))

    # exactly that project
    assert evaluator.get(f"/api/v1/projects/{pid}").status_code == 200
    assert evaluator.get(f"/api/v1/projects/{other}").status_code == 404
    listed = {p["id"] for p in evaluator.get("/api/v1/projects?page_size=200").get_json()["items"]}
    assert pid in listed and other not in listed

    # the key evaluation with its report file (uploaded by the bureau; the evaluator reads it)
    report = upload(api, pid, "evaluation", "评价报告", "重点评价报告.pdf")
    assert report in {f["id"] for f in evaluator.get(f"/api/v1/projects/{pid}/evidence").get_json()}
    body = {
        "scores": FOUR,
        "findings": "资金到位及时，效益指标偏低",
        "recommendations": "加强绩效跟踪",
        "report_evidence_id": report,
    }
    submitted = evaluator.post(f"/api/v1/projects/{pid}/evaluation/submit", json=body)
    assert submitted.status_code == 200, submitted.get_json()
    assert (submitted.get_json()["score"], submitted.get_json()["grade"]) == ("86.00", "良")
    accepted = admin.post(
        f"/api/v1/projects/{pid}/evaluation/decision", json={"decision": "accept", "opinion": "同意"}
    )
    assert accepted.status_code == 200, accepted.get_json()

    # revoked: 403 naming the revocation; a grant past its expiry gives nothing
    assert (
        admin.delete(f"/api/v1/projects/{pid}/grants/{given['id']}", json={"reason": "评价完成"}).status_code
        == 200
    )
    refused = evaluator.get(f"/api/v1/projects/{pid}")
    assert refused.status_code == 403 and "撤销" in refused.get_json()["message"]
    second = grant(api, other, ["read"])
    with runtime.db.transaction(system="test: the grant runs out") as s:
        s.execute(
            update(Grant).where(Grant.id == second["id"]).values(expires_at=utcnow() - timedelta(seconds=1))
        )
    assert evaluator.get(f"/api/v1/projects/{other}").status_code == 403

    # the rectification notice: two items answered and closed
    issued = admin.post(
        f"/api/v1/projects/{pid}/rectification-notices",
        json={
            "items": [
                {"text": "完善资金管理办法", "deadline": "2099-06-30"},
                {"text": "补充满意度调查", "deadline": "2099-06-30"},
            ]
        },
    )
    assert issued.status_code == 201, issued.get_json()
    nid = issued.get_json()["id"]
    evidence = upload(api, pid, "result_application", "整改材料", "整改报告.pdf")
    for item in issued.get_json()["items"]:
        base = f"/api/v1/rectification-notices/{nid}/items/{item['id']}"
        assert (
            editor.post(f"{base}/reply", json={"text": "已整改", "evidence_ids": [evidence]}).status_code
            == 200
        )
        assert admin.post(f"{base}/close", json={}).status_code == 200

    # the recommendation follows the accepted key evaluation's grade (良 → improve) unless a reason is given
    decision = f"/api/v1/projects/{pid}/result-application"
    differing = admin.put(decision, json={"budget_recommendation": "prioritise", "disclose": True})
    assert differing.status_code == 422 and "recommendation_reason" in str(differing.get_json()["errors"])
    decided = admin.put(decision, json={"budget_recommendation": "improve", "disclose": True})
    assert decided.status_code == 200, decided.get_json()
    assert (
        decided.get_json()["suggested_recommendation"] == "improve" and decided.get_json()["complete"] is True
    )

    # public, without login: the disclosed project, never the undisclosed one
    anonymous = app.test_client()
    page = anonymous.get("/public")
    assert page.status_code == 200 and "Set-Cookie" not in page.headers
    text = page.get_data(as_text=True)
    names = {p: editor.get(f"/api/v1/projects/{p}").get_json()["name"] for p in (pid, other)}
    assert names[pid] in text and names[other] not in text
    listed_public = anonymous.get("/api/v1/public/disclosures?page_size=200").get_json()["items"]
    assert names[pid] in {d["project_name"] for d in listed_public}
    assert names[other] not in {d["project_name"] for d in listed_public}
