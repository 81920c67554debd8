"""The 项目支出绩效目标执行监控表 of a monitoring round, exported as a job, through HTTP (issue 12 item 6;
FORMS.md). A March round then a September round in which 受益居民户数 is at 65 % (red, with reason
and measure) and finance confirms it → export → the job finishes at 100 % → the workbook shows the
project, the budget in 万元 with 序时进度 and its warning, every line with its completion, warning
(red fill on the red line), forecast, reason, likelihood and measure, and the signature block;
printable; the walls hold."""

from __future__ import annotations

import io
from typing import Any

import pytest
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from tests.api.test_monitoring import EXPLAINED, approved_project, march_body, post_round, september_body
from tests.api.test_project_lifecycle import create_program, new_project

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADERS = [
    "一级指标",
    "二级指标",
    "三级指标",
    "年度指标值",
    "期内计划值",
    "期内实际完成值",
    "完成率",
    "预警",
    "全年预计完成值",
    "偏差原因分析",
    "完成目标可能性",
    "纠偏措施",
    "备注",
]


@pytest.fixture()
def program_id(api, unique) -> int:
    return create_program(api, unique, 10)


@pytest.fixture()
def confirmed(api, program_id, unique) -> tuple[int, int, int]:
    """(project, March round, September round): both reported, September confirmed by finance."""
    pid, ids = approved_project(api, program_id, unique)
    march = post_round(api, pid, march_body(ids))
    assert march.status_code == 201, march.get_json()
    body = september_body(ids)
    body["progress"][2] |= {"reason_category": "其他", "likelihood": "有可能"}
    september = post_round(api, pid, body)
    assert september.status_code == 201, september.get_json()
    rid = september.get_json()["id"]
    done = api.as_user("xq.admin").post(f"/api/v1/projects/{pid}/monitoring-rounds/{rid}/confirm")
    assert done.status_code == 200, done.get_json()
    return pid, march.get_json()["id"], rid


def url(pid: int, rid: int, job_id: str = "") -> str:
    return f"/api/v1/projects/{pid}/monitoring-rounds/{rid}/export" + (f"/{job_id}" if job_id else "")


def export(user: Any, pid: int, rid: int) -> tuple[str, dict[str, Any]]:
    started = user.post(url(pid, rid))
    assert started.status_code == 202, started.get_json()
    job_id = started.get_json()["job_id"]
    done = user.wait_job(job_id)
    assert done["status"] == "finished" and done["progress"] == 100, done
    return job_id, done


def download(user: Any, pid: int, rid: int, job_id: str) -> Worksheet:
    resp = user.get(url(pid, rid, job_id))
    assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
    assert resp.mimetype == XLSX and resp.headers["Content-Disposition"].startswith("attachment;")
    wb = load_workbook(io.BytesIO(resp.data))
    assert wb.sheetnames == ["绩效监控表"]
    return wb["绩效监控表"]


def find(ws: Worksheet, value: str) -> tuple[int, int]:
    for row in ws.iter_rows():
        for cell in row:
            if cell.value == value:
                return cell.row, cell.column
    raise AssertionError(f"「{value}」 not in the sheet")


def right_of(ws: Worksheet, label: str) -> Any:
    row, column = find(ws, label)
    for merged in ws.merged_cells.ranges:
        if merged.min_row <= row <= merged.max_row and merged.min_col <= column <= merged.max_col:
            column = merged.max_col
    return ws.cell(row=row, column=column + 1).value


def below(ws: Worksheet, label: str) -> Any:
    row, column = find(ws, label)
    return ws.cell(row=row + 1, column=column).value


def table(ws: Worksheet) -> dict[str, dict[str, Any]]:
    header, _ = find(ws, "三级指标")
    assert [ws.cell(row=header, column=c).value for c in range(1, 14)] == HEADERS
    rows: dict[str, dict[str, Any]] = {}
    r = header + 1
    while ws.cell(row=r, column=3).value:
        rows[ws.cell(row=r, column=3).value] = {
            h: ws.cell(row=r, column=c) for c, h in enumerate(HEADERS, start=1)
        }
        r += 1
    return rows


def test_the_september_round_exports_in_the_monitoring_table(api, confirmed):
    pid, _, rid = confirmed
    editor = api.as_user("xq.editor")
    project = editor.get(f"/api/v1/projects/{pid}").get_json()
    job_id, done = export(editor, pid, rid)
    assert done["result"]["filename"] == f"绩效监控表_{project['name']}_2023-09.xlsx"
    assert done["result"]["file_key"].startswith("exports/640104/")
    ws = download(editor, pid, rid, job_id)

    assert ws["A1"].value == "项目支出绩效目标执行监控表"
    assert "2023-09" in ws["A2"].value and "2023-09-30" in ws["A2"].value
    assert "万元" in str(ws.cell(row=3, column=9).value)
    assert right_of(ws, "项目名称") == project["name"]
    assert right_of(ws, "主管部门") == "住房和城乡建设局"
    assert right_of(ws, "实施单位") == "城市建设服务中心"
    assert right_of(ws, "监控期") == "2023-09（截至 2023-09-30）"

    # the budget in 万元: 125.00 budgeted, 85.00 executed = 68.00 % against 74.79 % time progress
    assert below(ws, "年初预算数") == 125
    assert below(ws, "调整后预算数") is None
    assert below(ws, "期内执行数") == 85
    assert f"{below(ws, '执行率'):.2f}" == "68.00"
    assert f"{below(ws, '序时进度'):.2f}" == "74.79"
    assert below(ws, "全年预计执行数") is not None
    assert below(ws, "预算预警") == "绿色"
    rate_row, rate_col = find(ws, "执行率")
    assert ws.cell(row=rate_row + 1, column=rate_col).number_format == '0.00"%"'

    assert below(ws, "年度总体目标")  # the approved version's overall goal
    situation = below(ws, "期内执行情况")
    assert "红色 1 项" in situation and "序时进度 74.79%" in situation

    # the indicators: one row per line, the red one filled red, its reason and measure
    rows = table(ws)
    assert set(rows) == {"改造小区数量", "项目总成本", "受益居民户数", "居民满意度"}
    red = rows["受益居民户数"]
    assert red["年度指标值"].value == "≥3000户"
    assert (red["期内计划值"].value, red["期内实际完成值"].value) == ("2000", "1300")
    assert f"{red['完成率'].value:.2f}" == "65.00"
    assert red["预警"].value == "红色"
    assert red["预警"].fill.fgColor.rgb.endswith("FFC7CE")
    assert red["偏差原因分析"].value == f"其他：{EXPLAINED['reason']}"
    assert red["纠偏措施"].value == EXPLAINED["measure"]
    assert red["完成目标可能性"].value == "有可能"
    assert "户" in red["全年预计完成值"].value and "红色" in red["全年预计完成值"].value
    green = rows["改造小区数量"]
    assert green["预警"].value == "绿色" and green["预警"].fill.fgColor.rgb.endswith("C6EFCE")
    assert rows["项目总成本"]["年度指标值"].value == "≤1250000元"
    assert rows["改造小区数量"]["一级指标"].value == "产出"

    # the signature block
    assert "xq.editor" in right_of(ws, "填报人")
    assert str(right_of(ws, "报送时间")).startswith("20")
    assert right_of(ws, "财政确认") == "兴庆区财政局管理员（xq.admin）"
    assert str(right_of(ws, "确认时间")).startswith("20")
    assert right_of(ws, "状态") == "已确认"

    # printable: A4 landscape, one page wide, the indicator header repeated, a print area
    assert ws.page_setup.orientation == "landscape"
    assert int(ws.page_setup.paperSize) == int(ws.PAPERSIZE_A4)
    assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToWidth == 1
    header_row, _ = find(ws, "三级指标")
    assert ws.print_title_rows == f"${header_row}:${header_row}"
    assert ws.print_area and "$A$1:$M$" in ws.print_area


def test_a_returned_round_shows_the_opinion(api, program_id, unique):
    pid, ids = approved_project(api, program_id, unique)
    rid = post_round(api, pid, march_body(ids)).get_json()["id"]
    returned = api.as_user("xq.admin").post(
        f"/api/v1/projects/{pid}/monitoring-rounds/{rid}/return", json={"opinion": "户数偏差原因不具体"}
    )
    assert returned.status_code == 200, returned.get_json()
    job_id, _ = export(api.as_user("xq.editor"), pid, rid)
    ws = download(api.as_user("xq.editor"), pid, rid, job_id)
    assert right_of(ws, "退回意见") == "户数偏差原因不具体"
    assert "xq.admin" in right_of(ws, "财政退回")
    assert right_of(ws, "状态") == "已退回"
    assert "2023-03" in ws["A2"].value


def test_the_walls_and_whose_export_it_is(api, confirmed, program_id, unique):
    pid, march, rid = confirmed
    editor = api.as_user("xq.editor")
    job_id, _ = export(editor, pid, rid)

    sibling = api.as_user("xx.admin")
    assert sibling.post(url(pid, rid)).status_code == 404
    assert sibling.get(url(pid, rid, job_id)).status_code == 404
    city = api.as_user("yc.admin")
    assert city.get(url(pid, rid, job_id)).status_code == 404  # not the city's job
    city_job, done = export(city, pid, rid)
    assert done["result"]["file_key"].startswith("exports/640104/")
    assert right_of(download(city, pid, rid, city_job), "财政确认").endswith("（xq.admin）")

    # the job is the editor's but of another round, another project, or another kind: 404
    assert editor.get(url(pid, march, job_id)).status_code == 404
    other = new_project(api, program_id, f"{unique}b")["id"]
    assert editor.get(url(other, rid, job_id)).status_code == 404
    targets_job = editor.post(f"/api/v1/projects/{pid}/targets/export", json={}).get_json()["job_id"]
    assert editor.wait_job(targets_job)["status"] == "finished"
    assert editor.get(url(pid, rid, targets_job)).status_code == 404
    assert editor.get(f"/api/v1/projects/{pid}/targets/export/{job_id}").status_code == 404
    # a round that does not exist, or of another project
    assert editor.post(url(pid, 999999999)).status_code == 404
    assert editor.post(url(other, rid)).status_code == 404
