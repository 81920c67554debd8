"""Excel export of performance targets in the 绩效目标申报表 layout, as a job, through HTTP (both
modes: in real mode the job runs in the `jixiao worker` process and the file is stored on S3).

Approved targets → export → the job finishes at 100 % → download → the workbook shows the project
block, the goals, every indicator under merged level-1/level-2 cells in the Ministry's order, the
weights' total and the reviewers; an older version exports its own values; the walls hold."""

from __future__ import annotations

import io
from typing import Any
from urllib.parse import quote

import pytest
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet
from rq.job import Job, JobStatus

from tests.api.test_project_lifecycle import create_program, new_project, through_assessment

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADERS = [
    "一级指标",
    "二级指标",
    "三级指标",
    "指标方向",
    "指标值",
    "计量单位",
    "权重",
    "指标值确定依据",
    "指标值说明",
]
GOAL = "完成 12 个老旧小区改造，惠及居民 3000 户，居住环境明显改善"
MIDTERM = "到 2024 年底完成辖区内 2000 年前建成的老旧小区改造"


def _line(name, level2, direction, value, unit, weight, basis="计划标准", note="", value_type="quantitative"):
    return {
        "name": name,
        "level2": level2,
        "value_type": value_type,
        "direction": direction,
        "target_value": value,
        "unit": unit,
        "weight": weight,
        "value_basis": basis,
        "note": note,
    }


# Deliberately out of the Ministry's order: the export sorts them by level 1, then level 2.
LINES = [
    _line("居民满意度", "服务对象满意度", ">=", "90", "%", "10", "历史标准", "问卷调查"),
    _line("受益居民户数", "社会效益", ">=", "3000", "户", "15"),
    _line("改造小区数量", "数量", ">=", "12", "个", "20", note="以竣工验收为准"),
    _line("项目总成本", "经济成本", "<=", "1250000", "元", "7.5", "预算支出标准"),
    _line("工程验收合格率", "质量", "=", "100", "%", "10", "行业标准"),
    _line("按期完工率", "时效", ">=", "95", "%", "10"),
    _line("改造楼栋数", "数量", ">=", "48", "栋", "10"),
    _line("居住环境改善情况", "社会效益", "=", "明显改善", "", "10", value_type="qualitative"),
    _line("户均改造成本", "经济成本", "range", "3500,4200", "元/户", "7.5", "预算支出标准"),
]
# (level 1, level 2, line names) in the order the official table shows them
EXPECTED = [
    ("产出", "数量", ["改造小区数量", "改造楼栋数"]),
    ("产出", "质量", ["工程验收合格率"]),
    ("产出", "时效", ["按期完工率"]),
    ("成本", "经济成本", ["项目总成本", "户均改造成本"]),
    ("效益", "社会效益", ["受益居民户数", "居住环境改善情况"]),
    ("满意度", "服务对象满意度", ["居民满意度"]),
]


# --- helpers ----------------------------------------------------------------------------------


@pytest.fixture()
def program_id(api, unique) -> int:
    return create_program(api, f"{unique}X", 10)


def approved_project(api, program_id: int, unique: str) -> dict[str, Any]:
    """A two-year project through 事前评估, with targets filled, submitted, 初审 and 复核 approved."""
    project = new_project(api, program_id, unique, years=(2023, 2024))
    pid = project["id"]
    through_assessment(api, pid)
    editor = api.as_user("xq.editor")
    saved = editor.put(
        f"/api/v1/projects/{pid}/targets",
        json={"overall_goal": GOAL, "midterm_goal": MIDTERM, "indicators": LINES},
    )
    assert saved.status_code == 200, saved.get_json()
    submitted = editor.post(f"/api/v1/projects/{pid}/targets/submit")
    assert submitted.status_code == 200, submitted.get_json()
    first = api.as_user("xq.dept").post(
        f"/api/v1/projects/{pid}/targets/reviews",
        json={"decision": "approve", "comments": {"completeness": "指标完整", "feasibility": "可行"}},
    )
    assert first.status_code == 200, first.get_json()
    final = api.as_user("xq.admin").post(
        f"/api/v1/projects/{pid}/targets/reviews", json={"decision": "approve"}
    )
    assert final.status_code == 200 and final.get_json()["status"] == "approved", final.get_json()
    return project


def export(user: Any, pid: int, body: dict[str, Any] | None = None) -> tuple[str, dict[str, Any]]:
    started = user.post(f"/api/v1/projects/{pid}/targets/export", json=body or {})
    assert started.status_code == 202, started.get_json()
    job_id = started.get_json()["job_id"]
    done = user.wait_job(job_id)
    assert done["status"] == "finished", done
    assert done["progress"] == 100
    return job_id, done


def download(user: Any, pid: int, job_id: str) -> tuple[Any, Worksheet]:
    resp = user.get(f"/api/v1/projects/{pid}/targets/export/{job_id}")
    assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
    assert resp.mimetype == XLSX
    wb = load_workbook(io.BytesIO(resp.data))
    assert wb.sheetnames == ["绩效目标申报表"]
    return resp, wb["绩效目标申报表"]


def find(ws: Worksheet, value: str, *, after_row: int = 0) -> tuple[int, int]:
    for row in ws.iter_rows(min_row=after_row + 1):
        for cell in row:
            if cell.value == value:
                return cell.row, cell.column
    raise AssertionError(f"「{value}」 not in the sheet")


def span(ws: Worksheet, row: int, column: int) -> tuple[int, int, int, int]:
    """(min_row, min_col, max_row, max_col) of the merged range holding the cell (or the cell)."""
    for merged in ws.merged_cells.ranges:
        if merged.min_row <= row <= merged.max_row and merged.min_col <= column <= merged.max_col:
            return merged.min_row, merged.min_col, merged.max_row, merged.max_col
    return row, column, row, column


def right_of(ws: Worksheet, label: str, *, after_row: int = 0) -> Any:
    """The value of the cell just right of the (possibly merged) label cell."""
    row, column = find(ws, label, after_row=after_row)
    _, _, _, last = span(ws, row, column)
    return ws.cell(row=row, column=last + 1).value


def indicator_rows(ws: Worksheet) -> tuple[int, int]:
    """(first data row, 合计 row) of the indicator table."""
    header, _ = find(ws, "三级指标")
    assert [ws.cell(row=header, column=c).value for c in range(1, 10)] == HEADERS
    total, _ = find(ws, "合计", after_row=header)
    return header + 1, total


def table(ws: Worksheet) -> list[dict[str, Any]]:
    first, total = indicator_rows(ws)
    rows = []
    for r in range(first, total):
        values = {h: ws.cell(row=r, column=c).value for c, h in enumerate(HEADERS, start=1)}
        values["row"] = r
        rows.append(values)
    return rows


# --- tests ------------------------------------------------------------------------------------


def test_the_approved_targets_export_in_the_official_layout(api, program_id, unique):
    project = approved_project(api, program_id, unique)
    pid = project["id"]
    editor = api.as_user("xq.editor")
    job_id, done = export(editor, pid)
    assert done["result"]["filename"] == f"绩效目标申报表_{project['name']}_v1.xlsx"
    assert done["result"]["file_key"].startswith("exports/640104/")
    resp, ws = download(editor, pid, job_id)
    disposition = resp.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert quote(f"绩效目标申报表_{project['name']}_v1.xlsx", safe="") in disposition
    assert int(resp.headers["Content-Length"]) == len(resp.data) == done["result"]["size"]

    # title and print setup
    assert ws["A1"].value == "项目支出绩效目标申报表"
    assert span(ws, 1, 1) == (1, 1, 1, 9)
    assert "2023" in ws["A2"].value
    assert ws.page_setup.orientation == "landscape"
    assert int(ws.page_setup.paperSize) == int(ws.PAPERSIZE_A4)
    assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToWidth == 1

    # the project block
    assert right_of(ws, "项目名称") == project["name"]
    assert right_of(ws, "主管部门") == "住房和城乡建设局"
    assert right_of(ws, "实施单位") == "城市建设服务中心"
    assert right_of(ws, "项目类别") == "工程基建"
    assert "2023" in right_of(ws, "实施年度") and "2024" in right_of(ws, "实施年度")
    row, column = find(ws, "项目资金（元）")
    assert span(ws, row, column)[2] == row + 1  # over 年度资金总额 and 其中：财政拨款
    assert right_of(ws, "年度资金总额") == 1250000
    budget_row, budget_col = find(ws, "年度资金总额")
    budget_cell = ws.cell(row=budget_row, column=span(ws, budget_row, budget_col)[3] + 1)
    assert budget_cell.number_format == "#,##0.00"
    assert right_of(ws, "其中：财政拨款") == 1250000
    assert right_of(ws, "资金来源") == "一般公共预算"

    # the overall goal
    assert right_of(ws, "总体目标") == "年度目标"
    assert right_of(ws, "年度目标") == GOAL
    assert right_of(ws, "中长期目标") == MIDTERM
    goal_row, _ = find(ws, "年度目标")
    assert ws.cell(row=goal_row, column=3).alignment.wrap_text

    # the indicator table: the Ministry's order, level 1 and level 2 merged over their lines
    rows = table(ws)
    assert [r["三级指标"] for r in rows] == [name for _, _, names in EXPECTED for name in names]
    at = 0
    for level1 in ("产出", "成本", "效益", "满意度"):
        groups = [(level2, names) for l1, level2, names in EXPECTED if l1 == level1]
        count = sum(len(names) for _, names in groups)
        top = rows[at]["row"]
        assert ws.cell(row=top, column=1).value == level1
        assert span(ws, top, 1) == (top, 1, top + count - 1, 1), level1
        for level2, names in groups:
            first = rows[at]["row"]
            assert ws.cell(row=first, column=2).value == level2
            assert span(ws, first, 2) == (first, 2, first + len(names) - 1, 2), level2
            at += len(names)
    by_name = {r["三级指标"]: r for r in rows}
    assert by_name["改造小区数量"] | {"row": 0} == {
        "row": 0,
        "一级指标": "产出",
        "二级指标": "数量",
        "三级指标": "改造小区数量",
        "指标方向": "≥",
        "指标值": "12",
        "计量单位": "个",
        "权重": 20,
        "指标值确定依据": "计划标准",
        "指标值说明": "以竣工验收为准",
    }
    assert by_name["项目总成本"]["指标方向"] == "≤" and by_name["项目总成本"]["权重"] == 7.5
    assert by_name["户均改造成本"]["指标值"] == "3500,4200" and by_name["户均改造成本"]["指标方向"] == "区间"
    assert by_name["居住环境改善情况"]["指标值"] == "明显改善"
    assert by_name["居民满意度"]["指标值确定依据"] == "历史标准"
    for r in rows:
        assert isinstance(r["指标值"], str), r  # values stay text, as entered
        assert ws.cell(row=r["row"], column=7).number_format == "0.00"
        assert ws.cell(row=r["row"], column=3).border.left.style == "thin"
    _, total_row = indicator_rows(ws)
    assert ws.cell(row=total_row, column=7).value == 100
    assert ws.cell(row=total_row, column=7).number_format == "0.00"

    # the signature block
    assert "兴庆区项目单位填报人" in right_of(ws, "填报人") and "xq.editor" in right_of(ws, "填报人")
    first_row, _ = find(ws, "初审")
    assert "通过" in right_of(ws, "初审") and "完整性：指标完整" in right_of(ws, "初审")
    assert "xq.dept" in right_of(ws, "审核人", after_row=first_row - 1)
    assert "兴庆区主管部门审核人" in right_of(ws, "审核人", after_row=first_row - 1)
    finance_row, _ = find(ws, "复核")
    assert finance_row == first_row + 1
    assert right_of(ws, "审核人", after_row=finance_row - 1) == "兴庆区财政局管理员（xq.admin）"
    assert str(ws.cell(row=finance_row, column=9).value).startswith("日期：20")
    assert right_of(ws, "版本") == "第 1 版（已审核通过）"
    with pytest.raises(AssertionError):
        find(ws, "调整原因")


def test_an_older_version_exports_its_own_values_and_the_adjustment_its_reason(api, program_id, unique):
    pid = approved_project(api, program_id, unique)["id"]
    editor = api.as_user("xq.editor")
    adjusted = editor.post(
        f"/api/v1/projects/{pid}/targets/adjustments",
        json={"reason": "政策变化", "explanation": "上级补助标准调整，改造数量增加"},
    )
    assert adjusted.status_code == 201
    changed = [dict(line) for line in LINES]
    changed[2]["target_value"] = "15"
    saved = editor.put(
        f"/api/v1/projects/{pid}/targets",
        json={"overall_goal": "完成 15 个老旧小区改造", "midterm_goal": MIDTERM, "indicators": changed},
    )
    assert saved.status_code == 200

    job_id, done = export(editor, pid)  # the current version: the adjustment's draft
    assert done["result"]["filename"].endswith("_v2.xlsx")
    _, ws = download(editor, pid, job_id)
    assert {r["三级指标"]: r["指标值"] for r in table(ws)}["改造小区数量"] == "15"
    assert right_of(ws, "年度目标") == "完成 15 个老旧小区改造"
    assert right_of(ws, "版本") == "第 2 版（填报中）"
    assert right_of(ws, "调整原因") == "政策变化：上级补助标准调整，改造数量增加"
    assert right_of(ws, "初审") == "（未审核）"

    job_id, done = export(editor, pid, {"version": 1})
    assert done["result"]["filename"].endswith("_v1.xlsx") and done["result"]["version"] == 1
    _, ws = download(editor, pid, job_id)
    assert {r["三级指标"]: r["指标值"] for r in table(ws)}["改造小区数量"] == "12"
    assert right_of(ws, "年度目标") == GOAL
    assert right_of(ws, "版本") == "第 1 版（已审核通过）"
    assert "xq.admin" in right_of(ws, "审核人", after_row=find(ws, "复核")[0] - 1)

    missing = editor.post(f"/api/v1/projects/{pid}/targets/export", json={"version": 99})
    assert missing.status_code == 404 and "99" in missing.get_json()["message"]


def test_the_walls_and_whose_job_it_is(api, program_id, unique):
    pid = approved_project(api, program_id, unique)["id"]
    editor, dept = api.as_user("xq.editor"), api.as_user("xq.dept")
    job_id, _ = export(editor, pid)

    # another user of the same tenant cannot fetch the editor's file, but can export their own
    assert dept.get(f"/api/v1/projects/{pid}/targets/export/{job_id}").status_code == 404
    own, _ = export(dept, pid)
    download(dept, pid, own)

    # a sibling county sees nothing; the city above reads (and exports) upward
    sibling = api.as_user("xx.admin")
    assert sibling.post(f"/api/v1/projects/{pid}/targets/export", json={}).status_code == 404
    assert sibling.get(f"/api/v1/projects/{pid}/targets/export/{job_id}").status_code == 404
    city = api.as_user("yc.admin")
    assert city.get(f"/api/v1/projects/{pid}/targets/export/{job_id}").status_code == 404
    city_job, done = export(city, pid)
    assert done["result"]["file_key"].startswith("exports/640104/")  # stored under the project's tenant
    _, ws = download(city, pid, city_job)
    assert right_of(ws, "项目名称").startswith("老旧小区改造")

    # the job belongs to the caller but is not this project's export: 404
    other = new_project(api, program_id, f"{unique}b")["id"]
    assert editor.get(f"/api/v1/projects/{other}/targets/export/{job_id}").status_code == 404
    assert editor.get(f"/api/v1/projects/{pid}/targets/export/not-a-job").status_code == 404
    # nothing filed yet: nothing to export
    assert editor.post(f"/api/v1/projects/{other}/targets/export", json={}).status_code == 404


def test_the_file_is_not_served_before_the_job_has_finished(api, runtime, program_id, unique):
    """A job that is queued, started or failed answers 409. Catching a real job in those states
    is a race in both modes, so the test stores a job in each state itself (the same RQ store the
    app reads, never put on the queue: no worker touches it)."""
    pid = approved_project(api, program_id, unique)["id"]
    editor = api.as_user("xq.editor")
    done_id, _ = export(editor, pid)
    meta = Job.fetch(done_id, connection=runtime.jobs.connection).meta
    job = Job.create(
        "jixiao.services.targets.jobs.export_targets",
        args=(),
        connection=runtime.jobs.connection,
        status=JobStatus.QUEUED,
        meta={"progress": 0, "message": "排队中", "tenant_id": meta["tenant_id"], "user_id": meta["user_id"]},
        ttl=600,
    )
    job.save()
    url = f"/api/v1/projects/{pid}/targets/export/{job.id}"
    queued = editor.get(url)
    assert queued.status_code == 409 and "排队" in queued.get_json()["message"]
    job.set_status(JobStatus.STARTED)
    started = editor.get(url)
    assert started.status_code == 409 and "进行中" in started.get_json()["message"]
    job.meta["error"] = "绩效目标版本 7 不存在"
    job.save_meta()
    job.set_status(JobStatus.FAILED)
    failed = editor.get(url)
    assert failed.status_code == 409 and "失败" in failed.get_json()["message"]
    assert api.as_user("xq.dept").get(url).status_code == 404  # still nobody else's business


def test_old_exports_are_cleaned_up_and_then_say_so(
    api, runtime, settings, real_services, program_id, unique
):
    from datetime import UTC, datetime, timedelta

    from jixiao.services.targets import excel as targets_excel
    from tests.support.cli import run_cli

    pid = approved_project(api, program_id, unique)["id"]
    editor = api.as_user("xq.editor")
    job_id, done = export(editor, pid)
    key = done["result"]["file_key"]
    info = runtime.store.stat(key)
    assert info is not None and info.modified is not None
    assert abs(datetime.now(UTC) - info.modified) < timedelta(minutes=5)

    kept = run_cli(settings, real_services, "exports", "cleanup")  # the daily command: a fresh one stays
    assert kept.returncode == 0, kept.stderr
    assert "已清理过期的导出文件" in kept.stdout
    download(editor, pid, job_id)

    deleted = targets_excel.cleanup_exports(runtime.store, datetime.now(UTC) + timedelta(days=8))
    assert key in deleted and runtime.store.stat(key) is None
    gone = editor.get(f"/api/v1/projects/{pid}/targets/export/{job_id}")
    assert gone.status_code == 404 and "重新导出" in gone.get_json()["message"]
