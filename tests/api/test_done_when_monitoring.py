"""Issue 12's "done when", end to end through HTTP as the users would: 兴庆区's editor takes a project
with approved targets (DESIGN.md §6's worked example) through a March round whose forecast flags a
line that will end red, a September round refused until the red line has reason and measure,
finance's confirmation and a 约谈 answered with a file; then the self-evaluation scores 90.83 / 优,
passes 初审 and 复核; 西夏区 sees none of it, 银川市 reads it all; both tables download."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from tests.api.test_project_lifecycle import create_program, new_project, through_assessment
from tests.api.test_self_evaluation import approved_targets, body

LATER = "2099-12-31"


@pytest.fixture()
def program_id(api, unique) -> int:
    return create_program(api, unique, 10)


def progress(ids: list[int], values: list[tuple[str, str]], explained: dict[int, dict] | None = None) -> list:
    return [
        {"target_indicator_id": i, "planned_value": p, "actual_value": a, **(explained or {}).get(n, {})}
        for n, (i, (p, a)) in enumerate(zip(ids, values, strict=True))
    ]


EXPLAINED = {"reason": "部分小区居民意见未统一，开工推迟", "measure": "街道逐户协调，10 月底前全部开工"}


def workbook(user, start: str, fetch: str) -> list[list]:
    started = user.post(start)
    assert started.status_code == 202, started.get_json()
    job = user.wait_job(started.get_json()["job_id"])
    assert job["status"] == "finished", job
    got = user.get(f"{fetch}/{started.get_json()['job_id']}")
    assert got.status_code == 200
    sheet = load_workbook(io.BytesIO(got.data)).active
    return [[c for c in row if c is not None] for row in sheet.iter_rows(values_only=True)]


def test_issue_12_done_when(api, program_id, unique):
    editor, admin, dept = (api.as_user(u) for u in ("xq.editor", "xq.admin", "xq.dept"))
    pid = new_project(api, program_id, unique)["id"]
    through_assessment(api, pid)
    ids = approved_targets(api, pid)
    rounds = f"/api/v1/projects/{pid}/monitoring-rounds"

    # March: 15 of 20 planned (75 %, yellow, explained); 15 / 24.66 % time progress → 60.8 of 100 by
    # December: the forecast flags it red already now
    march = editor.post(
        rounds,
        json={
            "period": "2023-03",
            "as_of": "2023-03-31",
            "budget_executed": "300000.00",
            "progress": progress(
                ids, [("20", "15"), ("250000", "240000"), ("90", "90"), ("90", "90")], {0: EXPLAINED}
            ),
        },
    )
    assert march.status_code == 201, march.get_json()
    first = march.get_json()["progress"][0]
    assert (first["completion"], first["warning"]) == ("75.00", "yellow")
    assert first["forecast"]["warning"] == "red" and first["forecast"]["completion"] == "60.83"

    # September: 52 of 80 planned = 65 % → red; refused until reason and measure are given
    september = {
        "period": "2023-09",
        "as_of": "2023-09-30",
        "budget_executed": "850000.00",
        "progress": progress(ids, [("80", "52"), ("750000", "700000"), ("90", "90"), ("90", "90")]),
    }
    refused = editor.post(rounds, json=september)
    assert refused.status_code == 422
    assert "改造小区数量" in str(refused.get_json()["errors"]) and "65.00" in str(
        refused.get_json()["errors"]
    )
    september["progress"][0] |= EXPLAINED
    reported = editor.post(rounds, json=september)
    assert reported.status_code == 201, reported.get_json()
    rid = reported.get_json()["id"]
    assert reported.get_json()["progress"][0]["warning"] == "red"

    # finance confirms, and issues a 约谈 that the editor answers with a file
    assert admin.post(f"{rounds}/{rid}/confirm").status_code == 200
    issued = admin.post(
        f"{rounds}/{rid}/corrections", json={"kind": "约谈", "text": "开工率偏低，请说明", "deadline": LATER}
    )
    assert issued.status_code == 201, issued.get_json()
    cid = issued.get_json()["id"]
    file_id = editor.post(
        f"/api/v1/projects/{pid}/evidence",
        data={
            "file": (io.BytesIO(b"%PDF-1.7\n" + b"0" * 512), "约谈记录.pdf"),
            "stage": "monitoring",
            "purpose": "其他",
        },
        content_type="multipart/form-data",
    ).get_json()["id"]
    answered = editor.post(
        f"{rounds}/{rid}/corrections/{cid}/reply", json={"text": "已约谈施工单位", "evidence_ids": [file_id]}
    )
    assert answered.status_code == 200 and answered.get_json()["status"] == "answered"

    # the self-evaluation of the worked example: 90.83, 优; 初审 and 复核 pass
    evaluation = f"/api/v1/projects/{pid}/self-evaluation"
    submitted = editor.post(f"{evaluation}/submit", json=body(ids))
    assert submitted.status_code == 200, submitted.get_json()
    assert (submitted.get_json()["score"], submitted.get_json()["grade"]) == ("90.83", "优")
    for reviewer in (dept, admin):
        passed = reviewer.post(f"{evaluation}/reviews", json={"decision": "approve", "comments": {}})
        assert passed.status_code == 200, passed.get_json()
    assert passed.get_json()["status"] == "approved"
    stages = {s["stage"]: s["status"] for s in editor.get(f"/api/v1/projects/{pid}").get_json()["stages"]}
    assert stages["monitoring"] == "approved" and stages["self_evaluation"] == "approved"

    # 西夏区: 404 on all of it; 银川市 reads it
    reads = [
        rounds,
        f"{rounds}/{rid}",
        f"{rounds}/{rid}/corrections/{cid}",
        f"/api/v1/projects/{pid}/corrections",
        evaluation,
    ]
    sibling, city = api.as_user("xx.admin"), api.as_user("yc.admin")
    assert [sibling.get(p).status_code for p in reads] == [404] * len(reads)
    assert [city.get(p).status_code for p in reads] == [200] * len(reads)

    # both tables download, with the figures above
    monitoring_rows = workbook(editor, f"{rounds}/{rid}/export", f"{rounds}/{rid}/export")
    assert any("改造小区数量" in row and "红色" in row for row in monitoring_rows)
    evaluation_rows = workbook(city, f"{evaluation}/export", f"{evaluation}/export")
    flat = [str(c) for row in evaluation_rows for c in row]
    assert "优" in flat and any(c in ("90.83", "90.83 分") for c in flat)
