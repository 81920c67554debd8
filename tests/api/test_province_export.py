"""The province dashboard's Excel export (试点汇总表) as a job, through HTTP (issue 15 item 1): the job
finishes at 100 %, the workbook read back shows the tenants' codes grouped by city with 小计 and 合计
rows and the self-evaluation's grade; the filters narrow it; a county is refused, another user's job is
not theirs; the page's 导出 Excel button answers the shared progress bar and the download link."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from tests.api.test_province_pages import CODES, text
from tests.api.test_report_pages import browser
from tests.api.test_results import approved_self_evaluation
from tests.support.seeding import add_projects, program_with

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
URL = "/api/v1/province/dashboard/export"


@pytest.fixture()
def pilot(api, runtime, unique) -> dict[str, Any]:
    pid = program_with(api, runtime, unique, CODES)
    graded = approved_self_evaluation(api, pid, unique)
    add_projects(runtime, pid, ["640105"], unique)
    return {"program": pid, "graded": graded}


def export(user: Any, query: str) -> tuple[str, dict[str, Any]]:
    started = user.post(f"{URL}?{query}")
    assert started.status_code == 202, started.get_json()
    job_id = started.get_json()["job_id"]
    done = user.wait_job(job_id)
    assert done["status"] == "finished" and done["progress"] == 100, done
    return job_id, done


def sheet(resp: Any) -> Worksheet:
    assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
    assert resp.mimetype == XLSX and resp.headers["Content-Disposition"].startswith("attachment;")
    wb = load_workbook(io.BytesIO(resp.get_data()))
    assert wb.sheetnames == ["汇总"]
    return wb["汇总"]


def rows(ws: Worksheet) -> list[list[Any]]:
    return [list(r) for r in ws.iter_rows(values_only=True)]


def test_the_workbook_of_the_province(api, pilot):
    nx = api.as_user("nx.admin")
    job_id, done = export(nx, f"program_id={pilot['program']}")
    assert done["result"]["file_key"].startswith("exports/640000/")
    assert done["result"]["filename"].startswith("试点汇总表_看板试点") and done["result"][
        "filename"
    ].endswith(".xlsx")
    ws = sheet(nx.get(f"{URL}/{job_id}"))
    table = rows(ws)
    assert table[0][0] == "预算绩效一体化管理试点汇总表"
    header = table[3]
    assert header[:5] == ["地区代码", "地区", "项目", "阶段", "逾期"] and "自评等级" in header
    codes = {r[0] for r in table if isinstance(r[0], str) and re.fullmatch(r"\d{6}", r[0])}
    assert codes == set(CODES)
    graded = next(r for r in table if r[0] == "640104")
    assert graded[header.index("自评等级")] == "优" and graded[header.index("预算执行率")] == 92
    assert graded[header.index("阶段")] == "重点评价"
    late = next(r for r in table if r[0] == "640105")
    assert late[header.index("逾期")] == "事前评估"
    cities = [r[0] for r in table if isinstance(r[0], str) and r[0].startswith("小计：")]
    assert cities == ["小计：银川市", "小计：石嘴山市"]
    total = next(r for r in table if isinstance(r[0], str) and r[0].startswith("合计："))
    assert total[2] == "4 个地区 · 2 个项目" and total[header.index("自评等级")] == "优1"
    yinchuan = next(r for r in table if r[0] == "小计：银川市")
    assert yinchuan[header.index("逾期")] == "逾期 1"
    assert ws.page_setup.orientation == "landscape" and ws.print_title_rows == "$4:$4"


def test_filters_a_city_and_the_refusals(api, pilot):
    nx = api.as_user("nx.admin")
    job_id, _ = export(nx, f"program_id={pilot['program']}&overdue=true")
    table = rows(sheet(nx.get(f"{URL}/{job_id}")))
    assert {r[0] for r in table if r[0] in CODES} == {"640105"}
    assert "逾期：是" in table[1][0]
    yc = api.as_user("yc.admin")
    mine, done = export(yc, f"program_id={pilot['program']}")
    assert done["result"]["file_key"].startswith("exports/640100/")
    assert {r[0] for r in rows(sheet(yc.get(f"{URL}/{mine}"))) if r[0] in CODES} == {
        "640100",
        "640104",
        "640105",
    }
    # another user's job is not theirs; a county is refused; a bad filter is 422
    assert api.as_user("nx.admin").get(f"{URL}/{mine}").status_code == 404
    assert api.as_user("xq.admin").post(f"{URL}?program_id={pilot['program']}").status_code == 403
    assert nx.post(f"{URL}?program_id={pilot['program']}&warning=purple").status_code == 422


def test_the_page_button_shows_the_progress_bar_and_the_link(app, pilot):
    nx, token = browser(app, "nx.admin")
    started = nx.post(
        "/province/dashboard/export",
        data={"csrf_token": token, "program_id": str(pilot["program"]), "overdue": "1"},
        headers={"HX-Request": "true", "X-CSRFToken": token},
    )
    assert started.status_code == 200
    part = text(started)
    assert 'data-testid="job"' in part and "导出试点汇总表" in part
    job_id = re.search(r"/province/dashboard/export/([\w-]+)", part)
    assert job_id is not None
    for _ in range(200):
        polled = text(nx.get(f"/province/dashboard/export/{job_id.group(1)}"))
        if 'data-status="finished"' in polled:
            break
    assert "100%" in polled and 'data-testid="export-download"' in polled
    link = re.search(r'href="(/api/v1/province/dashboard/export/[\w-]+)"', polled)
    assert link is not None
    table = rows(sheet(nx.get(link.group(1))))
    assert {r[0] for r in table if r[0] in CODES} == {"640105"}
    # without htmx: back to the page, the bar in it
    plain = nx.post(
        "/province/dashboard/export", data={"csrf_token": token, "program_id": str(pilot["program"])}
    )
    assert plain.status_code == 302 and "job=" in plain.headers["Location"]
    assert 'data-testid="job"' in text(nx.get(plain.headers["Location"]))
