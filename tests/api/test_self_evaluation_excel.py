"""The 项目支出绩效自评表 of a project's self-evaluation, exported as a job, through HTTP (issue 12 item 6;
FORMS.md). The worked example of DESIGN.md §6, submitted and through 初审 → export → the workbook
shows 9.20 budget points, 24.00 / 18.18 / 30.00 / 9.44 per line, 总分 90.83 and 自评等级 优 as the
service computed them, the conclusions, the signature block with the 初审; printable; the walls."""

from __future__ import annotations

import io
from typing import Any

from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from tests.api.test_project_lifecycle import new_project
from tests.api.test_self_evaluation import WORKED, body, opened, path, program_id, targets  # noqa: F401

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADERS = [
    "一级指标",
    "二级指标",
    "三级指标",
    "指标性质",
    "指标值",
    "度量单位",
    "完成值",
    "分值",
    "得分",
    "未完成原因分析",
]


def export(user: Any, pid: int) -> tuple[str, dict[str, Any]]:
    started = user.post(path(pid, "/export"))
    assert started.status_code == 202, started.get_json()
    job_id = started.get_json()["job_id"]
    done = user.wait_job(job_id)
    assert done["status"] == "finished" and done["progress"] == 100, done
    return job_id, done


def download(user: Any, pid: int, job_id: str) -> Worksheet:
    resp = user.get(path(pid, f"/export/{job_id}"))
    assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
    assert resp.mimetype == XLSX and resp.headers["Content-Disposition"].startswith("attachment;")
    wb = load_workbook(io.BytesIO(resp.data))
    assert wb.sheetnames == ["绩效自评表"]
    return wb["绩效自评表"]


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


def two(value: Any) -> str:
    return f"{value:.2f}"


def submitted(api, opened) -> int:  # noqa: F811
    pid, ids = opened
    editor = api.as_user("xq.editor")
    given = body(ids)
    given["lines"][0]["shortfall_reason"] = "两个小区因管线迁改延期"
    saved = editor.put(path(pid), json=given)
    assert saved.status_code == 200 and saved.get_json()["score"] == "90.83", saved.get_json()
    assert editor.post(path(pid, "/submit")).status_code == 200
    first = api.as_user("xq.dept").post(
        path(pid, "/reviews"), json={"decision": "approve", "comments": {"completeness": "材料齐全"}}
    )
    assert first.status_code == 200, first.get_json()
    return pid


def test_the_worked_example_exports_in_the_self_evaluation_table(api, opened):  # noqa: F811
    pid = submitted(api, opened)
    editor = api.as_user("xq.editor")
    project = editor.get(f"/api/v1/projects/{pid}").get_json()
    job_id, done = export(editor, pid)
    assert done["result"]["filename"] == f"绩效自评表_{project['name']}.xlsx"
    assert done["result"]["file_key"].startswith("exports/640104/")
    ws = download(editor, pid, job_id)

    assert ws["A1"].value == "项目支出绩效自评表"
    assert right_of(ws, "项目名称") == project["name"]
    assert right_of(ws, "主管部门") == "住房和城乡建设局"
    assert right_of(ws, "实施单位（盖章）") == "城市建设服务中心"
    assert right_of(ws, "自评年度") == f"{project['years'][-1]} 年" == "2023 年"
    assert below(ws, "项目年度目标") == "完成 100 个小区改造"
    assert below(ws, "年度目标完成情况") == "完成 80 个小区改造，居民满意度 85%"

    # the budget: 125.00 万元, 115.00 executed = 92.00 % → 9.20 of 10 points
    assert below(ws, "年初预算数") == 125 and below(ws, "预算执行数") == 115
    assert below(ws, "调整后预算数") is None
    assert two(below(ws, "预算执行率")) == "92.00"
    assert two(below(ws, "分值")) == "10.00" and two(below(ws, "得分")) == "9.20"
    find(ws, "预算执行情况（10.00 分）")

    # the indicators: points available and earned per line, as the service computed them
    header, _ = find(ws, "三级指标")
    assert [ws.cell(row=header, column=c).value for c in range(1, 11)] == HEADERS
    rows = {ws.cell(row=r, column=3).value: r for r in range(header + 1, header + 1 + len(WORKED))}
    assert list(rows) == [name for name, *_ in WORKED]
    earned = [two(ws.cell(row=rows[name], column=9).value) for name, *_ in WORKED]
    available = [two(ws.cell(row=rows[name], column=8).value) for name, *_ in WORKED]
    assert earned == ["24.00", "18.18", "30.00", "9.44"]
    assert available == ["30.00", "20.00", "30.00", "10.00"]
    first = [ws.cell(row=rows["改造小区数量"], column=c).value for c in range(1, 8)]
    assert first == ["产出", "数量", "改造小区数量", "≥", "100", "个", "80"]
    assert ws.cell(row=rows["改造小区数量"], column=10).value == "两个小区因管线迁改延期"
    assert ws.cell(row=rows["项目总成本"], column=1).value == "成本"
    assert ws.cell(row=rows["项目总成本"], column=4).value == "≤"
    assert ws.cell(row=rows["改造小区数量"], column=9).number_format == "0.00"

    # the total and the grade, the conclusions
    assert two(right_of(ws, "总分")) == "90.83"
    assert right_of(ws, "自评等级") == "优"
    assert right_of(ws, "评价结论") == "总体达到预期"
    assert right_of(ws, "存在问题") == "进度滞后"
    assert right_of(ws, "改进措施") == "加强调度"
    assert not any("分配给其他一级指标" in str(c.value or "") for r in ws.iter_rows() for c in r)

    # the signature block
    assert right_of(ws, "项目负责人") in ("", None) and right_of(ws, "财务负责人") in ("", None)
    assert "xq.editor" in right_of(ws, "填报人")
    assert "通过" in right_of(ws, "初审") and "完整性：材料齐全" in right_of(ws, "初审")
    assert right_of(ws, "复核") == "（未审核）"

    # printable
    assert ws.page_setup.orientation == "landscape"
    assert int(ws.page_setup.paperSize) == int(ws.PAPERSIZE_A4)
    assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToWidth == 1
    assert ws.print_title_rows == f"${header}:${header}"
    assert ws.print_area and "$A$1:$J$" in ws.print_area


def test_the_walls_and_whose_export_it_is(api, opened, program_id, unique):  # noqa: F811
    pid = submitted(api, opened)
    editor = api.as_user("xq.editor")
    job_id, _ = export(editor, pid)

    sibling = api.as_user("xx.admin")
    assert sibling.post(path(pid, "/export")).status_code == 404
    assert sibling.get(path(pid, f"/export/{job_id}")).status_code == 404
    city = api.as_user("yc.admin")
    assert city.get(path(pid, f"/export/{job_id}")).status_code == 404  # not the city's job
    city_job, done = export(city, pid)
    assert done["result"]["file_key"].startswith("exports/640104/")
    assert right_of(download(city, pid, city_job), "自评等级") == "优"

    # the editor's job, asked for under another project or as another kind of export: 404
    other = new_project(api, program_id, f"{unique}b")["id"]
    assert editor.get(path(other, f"/export/{job_id}")).status_code == 404
    assert editor.get(f"/api/v1/projects/{pid}/targets/export/{job_id}").status_code == 404
    # no self-evaluation before monitoring is complete: nothing to export
    closed = editor.post(path(other, "/export"))
    assert closed.status_code in (404, 409), closed.get_json()
