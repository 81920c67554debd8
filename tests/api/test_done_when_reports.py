"""Issue 14 "done when", through HTTP: two counties (640104, 640105) each with a project through
evaluation; both reports generate (Word + PDF, the PDF's text holds the five stage titles and the
project name, a CJK font embedded); 640105 submits → `nx.admin` returns it with an opinion →
640105 regenerates and submits → `nx.admin` passes it, the history shows both rounds, a second
acceptance is 409; `yc.admin` reads both and gives a preliminary opinion but cannot accept;
`xx.admin` gets 404 on 640104's report; the accepted project is published as a case that
`xq.editor` applies as a template; the 专报 generates. The work queue shows each step."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.api.test_project_lifecycle import create_program, new_project, through_assessment
from tests.api.test_results import approved_self_evaluation

STAGE_TITLES = ("事前评估", "目标管理", "跟踪监控", "绩效评价", "结果应用")
CHECKLIST = {
    "事前绩效评估": 15,
    "绩效目标管理": 20,
    "绩效跟踪监控": 20,
    "绩效评价": 20,
    "结果应用": 15,
    "资料完整性": 10,
}


def checklist(**scores: float) -> list[dict]:
    return [
        {"item": item, "score": str(scores.get(item, top * 0.8)), "comment": f"{item}评分说明"}
        for item, top in CHECKLIST.items()
    ]


def generate(api, who: str, program_id: int) -> dict:
    client = api.as_user(who)
    started = client.post("/api/v1/pilot-reports", json={"program_id": program_id})
    assert started.status_code == 202, started.get_json()
    body = started.get_json()
    job = client.wait_job(body["job_id"], timeout=180)
    assert job["status"] == "finished", job
    assert job["progress_seen"][-1] == 100
    report = client.get(f"/api/v1/pilot-reports/{body['report_id']}")
    assert report.status_code == 200
    return report.get_json()


def download(client, url: str) -> bytes:
    resp = client.get(url)
    if resp.status_code == 302:  # S3: the presigned URL
        import urllib.request

        with urllib.request.urlopen(resp.headers["Location"]) as found:  # noqa: S310 - loopback
            return found.read()
    assert resp.status_code == 200, resp.status_code
    return resp.data


def pdf_text_and_fonts(data: bytes) -> tuple[str, str]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "r.pdf"
        path.write_bytes(data)
        text = subprocess.run(
            ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
        )
        fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True)
    return text.stdout, fonts.stdout


def tasks(api, who: str, kind: str) -> list[dict]:
    found = api.as_user(who).get(f"/api/v1/me/tasks?kind={kind}&stage=pilot_report")
    assert found.status_code == 200, found.get_json()
    return found.get_json()["items"]


@pytest.fixture()
def lifecycle(api, unique):
    program_id = create_program(api, unique, 10)
    xq = approved_self_evaluation(api, program_id, unique, "xq")
    xx = approved_self_evaluation(api, program_id, unique + "西", "xx")
    return program_id, xq, xx


def test_issue_14_done_when(api, lifecycle, unique):
    program_id, xq_project, xx_project = lifecycle
    assert shutil.which("pdftotext") and shutil.which("pdffonts")

    # both reports generate, Word + PDF, with the five stage titles and the project names
    reports = {}
    for tenant in ("xq", "xx"):
        report = generate(api, f"{tenant}.admin", program_id)
        assert report["status"] == "draft" and report["version"] == 1
        assert {f["format"] for f in report["files"]} == {"docx", "pdf"}
        client = api.as_user(f"{tenant}.admin")
        pdf = next(f for f in report["files"] if f["format"] == "pdf")
        text, fonts = pdf_text_and_fonts(download(client, pdf["download_url"]))
        for title in STAGE_TITLES:
            assert title in text, title
        name = client.get(f"/api/v1/projects/{xq_project if tenant == 'xq' else xx_project}").get_json()[
            "name"
        ]
        assert name in text.replace(" ", "") or name in text
        assert "CJK" in fonts and " yes " in fonts, fonts
        docx = next(f for f in report["files"] if f["format"] == "docx")
        assert download(client, docx["download_url"])[:2] == b"PK"
        reports[tenant] = report
    xq_id, xx_id = reports["xq"]["id"], reports["xx"]["id"]

    # the bureau's to-do: compile and submit the report (every project's self-evaluation approved)
    assert any(t["link"] == f"/reports/{xx_id}" for t in tasks(api, "xx.admin", "fill"))

    # walls: sideways 404, above reads
    assert api.as_user("xx.admin").get(f"/api/v1/pilot-reports/{xq_id}").status_code == 404
    assert api.as_user("xq.admin").get(f"/api/v1/pilot-reports/{xx_id}").status_code == 404
    for rid in (xq_id, xx_id):
        assert api.as_user("yc.admin").get(f"/api/v1/pilot-reports/{rid}").status_code == 200
    listed = {
        r["id"]
        for r in api.as_user("yc.admin")
        .get(f"/api/v1/pilot-reports?program_id={program_id}")
        .get_json()["items"]
    }
    assert {xq_id, xx_id} <= listed
    only_own = {
        r["id"]
        for r in api.as_user("xx.admin")
        .get(f"/api/v1/pilot-reports?program_id={program_id}")
        .get_json()["items"]
    }
    assert only_own == {xx_id}

    # accepting before a submission is 409; 640105 submits; twice is 409
    nx = api.as_user("nx.admin")
    early = nx.post(
        f"/api/v1/pilot-reports/{xx_id}/acceptance", json={"checklist": checklist(), "outcome": "pass"}
    )
    assert early.status_code == 409
    xx = api.as_user("xx.admin")
    submitted = xx.post(f"/api/v1/pilot-reports/{xx_id}/submit")
    assert submitted.status_code == 200, submitted.get_json()
    assert submitted.get_json()["status"] == "submitted" and submitted.get_json()["submitted_version"] == 1
    again = xx.post(f"/api/v1/pilot-reports/{xx_id}/submit")
    assert again.status_code == 409 and "不能重复报送" in again.get_json()["message"]
    assert any(t["link"] == f"/reports/{xx_id}" for t in tasks(api, "nx.admin", "accept"))
    assert any(t["link"] == f"/reports/{xx_id}" for t in tasks(api, "yc.admin", "opinion"))

    # the city gives a preliminary opinion, once, and never accepts; a county never accepts
    yc = api.as_user("yc.admin")
    denied = yc.post(
        f"/api/v1/pilot-reports/{xx_id}/acceptance", json={"checklist": checklist(), "outcome": "pass"}
    )
    assert denied.status_code == 403
    assert (
        xx.post(
            f"/api/v1/pilot-reports/{xx_id}/acceptance", json={"checklist": checklist(), "outcome": "pass"}
        ).status_code
        == 403
    )
    opinion = yc.post(f"/api/v1/pilot-reports/{xx_id}/opinions", json={"text": f"初审意见{unique}：内容完整"})
    assert opinion.status_code == 200, opinion.get_json()
    assert yc.post(f"/api/v1/pilot-reports/{xx_id}/opinions", json={"text": "再提一次"}).status_code == 409
    assert not any(t["link"] == f"/reports/{xx_id}" for t in tasks(api, "yc.admin", "opinion"))

    # bad checklists: a missing item, a score above its maximum, a pass below the pass mark
    missing = nx.post(
        f"/api/v1/pilot-reports/{xx_id}/acceptance", json={"checklist": checklist()[:-1], "outcome": "pass"}
    )
    assert missing.status_code == 422 and "资料完整性" in str(missing.get_json())
    above = nx.post(
        f"/api/v1/pilot-reports/{xx_id}/acceptance",
        json={"checklist": checklist(事前绩效评估=16), "outcome": "pass"},
    )
    assert above.status_code == 422 and "事前绩效评估" in str(above.get_json())
    low = {item: 5 for item in CHECKLIST}
    below = nx.post(
        f"/api/v1/pilot-reports/{xx_id}/acceptance", json={"checklist": checklist(**low), "outcome": "pass"}
    )
    assert below.status_code == 422 and "及格线" in str(below.get_json())
    assert api.as_user("xx.admin").get(f"/api/v1/pilot-reports/{xx_id}").get_json()["acceptance"] == []

    # round 1: returned with an opinion
    returned = nx.post(
        f"/api/v1/pilot-reports/{xx_id}/acceptance",
        json={"checklist": checklist(**low), "outcome": "return", "opinion": f"请补充监控纠偏材料{unique}"},
    )
    assert returned.status_code == 200, returned.get_json()
    assert returned.get_json()["status"] == "returned"
    assert any(t["link"] == f"/reports/{xx_id}" for t in tasks(api, "xx.admin", "revise"))
    same = xx.post(f"/api/v1/pilot-reports/{xx_id}/submit")
    assert same.status_code == 409 and "重新生成" in same.get_json()["message"]

    # 640105 regenerates (version 2) and submits; round 2 passes
    second = generate(api, "xx.admin", program_id)
    assert second["id"] == xx_id and second["version"] == 2
    assert xx.post(f"/api/v1/pilot-reports/{xx_id}/submit").get_json()["submitted_version"] == 2
    passed = nx.post(
        f"/api/v1/pilot-reports/{xx_id}/acceptance",
        json={"checklist": checklist(), "outcome": "pass", "opinion": "同意通过验收"},
    )
    assert passed.status_code == 200, passed.get_json()
    body = passed.get_json()
    assert body["status"] == "accepted"
    assert [(r["round"], r["version"], r["outcome"]) for r in body["acceptance"]] == [
        (1, 1, "return"),
        (2, 2, "pass"),
    ]
    assert body["acceptance"][1]["total"] == "80.00"
    by_version = {v["number"]: v for v in body["versions"]}
    assert [r["outcome"] for r in by_version[1]["reviews"] if r["kind"] == "acceptance"] == ["return"]
    assert [r["kind"] for r in by_version[1]["reviews"]] == ["opinion", "acceptance"]
    assert [r["outcome"] for r in by_version[2]["reviews"]] == ["pass"]
    twice = nx.post(
        f"/api/v1/pilot-reports/{xx_id}/acceptance", json={"checklist": checklist(), "outcome": "pass"}
    )
    assert twice.status_code == 409

    # 规范管理蓝本: not from a report that is not accepted; from the accepted one, applied by xq.editor
    refused = nx.post("/api/v1/cases", json={"project_id": xq_project, "title": f"蓝本{unique}"})
    assert refused.status_code == 409
    case = nx.post("/api/v1/cases", json={"project_id": xx_project, "title": f"规范管理蓝本{unique}"})
    assert case.status_code == 201, case.get_json()
    case_body = case.get_json()
    assert case_body["category"] == "规范管理蓝本" and case_body["report_id"] == xx_id
    assert len(case_body["targets"]) == 4 and case_body["scores"]["self_grade"] == "优"
    editor = api.as_user("xq.editor")
    assert editor.get(f"/api/v1/cases/{case_body['id']}").status_code == 200
    fresh = new_project(api, program_id, unique + "蓝本")["id"]
    through_assessment(api, fresh)
    applied = editor.post(
        f"/api/v1/projects/{fresh}/targets/apply-template", json={"case_id": case_body["id"]}
    )
    assert applied.status_code == 200, applied.get_json()
    lines = applied.get_json()["indicators"]
    assert [(line["name"], line["target_value"]) for line in lines] == [
        (t["name"], t["target_value"]) for t in case_body["targets"]
    ]
    assert sum(float(line["weight"]) for line in lines) == 100

    # the 专报 (province) generates; a county may not
    started = nx.post(f"/api/v1/programs/{program_id}/briefings")
    assert started.status_code == 202, started.get_json()
    job = nx.wait_job(started.get_json()["job_id"], timeout=180)
    assert job["status"] == "finished", job
    text, _ = pdf_text_and_fonts(
        download(nx, f"/api/v1/programs/{program_id}/briefings/{job['id']}/files/pdf")
    )
    assert "专报" in text
    assert download(nx, f"/api/v1/programs/{program_id}/briefings/{job['id']}/files/docx")[:2] == b"PK"
    assert api.as_user("xq.admin").post(f"/api/v1/programs/{program_id}/briefings").status_code == 403
