"""Excel export and import of the indicator library, through HTTP as a client sees it (both modes:
in real mode the import job runs in the `jixiao worker` process and the upload goes to S3).

The issue's "done when": export → edit one cell badly → the import fails naming the row and nothing
changes; fixed → the import succeeds, the change is visible, versioned and audited."""

from __future__ import annotations

import io
import zipfile
from typing import Any
from urllib.parse import quote
from xml.sax.saxutils import escape

from openpyxl import Workbook, load_workbook

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADERS = [
    "指标编码",
    "指标名称",
    "一级指标",
    "二级指标",
    "行业领域",
    "共性类别",
    "指标类型",
    "适用范围",
    "指标解释",
    "指标出处",
    "值类型",
    "指标方向",
    "计量单位",
    "标准值",
    "标准值依据",
]


# --- helpers ----------------------------------------------------------------------------------


def _sheet(content: bytes) -> tuple[list[str], list[list[Any]]]:
    wb = load_workbook(io.BytesIO(content))
    ws = wb.worksheets[0]
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    return [str(h) for h in rows[0]], rows[1:]


def _export(user: Any, query: str) -> bytes:
    resp = user.get(f"/api/v1/indicators/export?{query}")
    assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
    assert resp.mimetype == XLSX
    return bytes(resp.data)


def _edit(content: bytes, code: str, changes: dict[str, Any]) -> bytes:
    """Set cells of the row whose 指标编码 is `code` (by header)."""
    wb = load_workbook(io.BytesIO(content))
    ws = wb.worksheets[0]
    headers = [c.value for c in ws[1]]
    for row in ws.iter_rows(min_row=2):
        if row[0].value == code:
            for header, value in changes.items():
                row[headers.index(header)].value = value
            break
    else:
        raise AssertionError(f"{code} not in the workbook")
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _append(content: bytes, values: dict[str, Any]) -> tuple[bytes, int]:
    wb = load_workbook(io.BytesIO(content))
    ws = wb.worksheets[0]
    headers = [c.value for c in ws[1]]
    ws.append([values.get(h) for h in headers])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue(), ws.max_row


def _row_of(content: bytes, code: str) -> int:
    _headers, rows = _sheet(content)
    return next(n for n, r in enumerate(rows, start=2) if r[0] == code)


def _post(user: Any, data: bytes, filename: str = "指标.xlsx", content_type: str | None = XLSX) -> Any:
    file: Any = (io.BytesIO(data), filename, content_type) if content_type else (io.BytesIO(data), filename)
    return user.post("/api/v1/indicators/import", data={"file": file}, content_type="multipart/form-data")


def _import(user: Any, data: bytes, filename: str = "指标.xlsx") -> dict[str, Any]:
    resp = _post(user, data, filename)
    assert resp.status_code == 202, resp.get_json()
    done: dict[str, Any] = user.wait_job(resp.get_json()["job_id"])
    assert done["status"] == "finished", done
    done["job_id"] = resp.get_json()["job_id"]
    return done


def _create(user: Any, name: str, **over: Any) -> dict[str, Any]:
    body = {
        "name": name,
        "level2": "数量",
        "category": "教育",
        "common_class": "培训",
        "kind": "individual",
        "scope": "project",
        "explanation": "按培训台账统计的教师培训人次。",
        "source": "培训台账",
        "value_type": "quantitative",
        "direction": ">=",
        "unit": "人次",
        "standard_value": "100",
        "value_basis": "计划标准",
        "historical_values": {"2023": "90", "2024": "95"},
        **over,
    }
    resp = user.post("/api/v1/indicators", json=body)
    assert resp.status_code == 201, resp.get_json()
    created: dict[str, Any] = resp.get_json()
    return created


def _workbook(rows: list[list[Any]]) -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _raw_xlsx(header: list[str], rows: int) -> bytes:
    """A minimal valid xlsx written directly (fast for many rows): the header, then `rows` rows
    with one name each."""

    def cell(ref: str, text: str) -> str:
        return f'<c r="{ref}" t="inlineStr"><is><t>{escape(text)}</t></is></c>'

    letters = [chr(ord("A") + i) for i in range(len(header))]
    parts = ['<row r="1">', *(cell(f"{c}1", h) for c, h in zip(letters, header, strict=True)), "</row>"]
    parts += [f'<row r="{n}">{cell(f"B{n}", f"指标{n}")}</row>' for n in range(2, rows + 2)]
    sheet = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f"<sheetData>{''.join(parts)}</sheetData></worksheet>"
    )
    files = {
        "[Content_Types].xml": '<?xml version="1.0" encoding="UTF-8"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        "</Types>",
        "_rels/.rels": '<?xml version="1.0" encoding="UTF-8"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Target="xl/workbook.xml" '
        'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"/>'
        "</Relationships>",
        "xl/workbook.xml": '<?xml version="1.0" encoding="UTF-8"?>'
        '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        '<sheets><sheet name="指标" sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": '<?xml version="1.0" encoding="UTF-8"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Target="worksheets/sheet1.xml" '
        'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"/>'
        "</Relationships>",
        "xl/worksheets/sheet1.xml": sheet,
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return out.getvalue()


# --- export and template ----------------------------------------------------------------------


def test_export_with_filters_matches_the_list(api):
    user = api.as_user("xq.editor")
    query = "level1=产出&common_class=培训&owner=shared"
    resp = user.get(f"/api/v1/indicators/export?{query}")
    assert resp.status_code == 200
    disposition = resp.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''" + quote("指标库导出_") in disposition and disposition.endswith(".xlsx")

    wb = load_workbook(io.BytesIO(resp.data))
    ws = wb.worksheets[0]
    assert ws.freeze_panes == "A2"
    assert ws["A1"].font.b is True
    header, rows = _sheet(bytes(resp.data))
    assert header == [*HEADERS, "2022年历史值", "2023年历史值", "2024年历史值", "状态", "所属单位"]

    listed = user.get(f"/api/v1/indicators?{query}&page_size=200").get_json()
    assert listed["total"] == len(rows) >= 4
    assert [r[0] for r in rows] == [i["code"] for i in listed["items"]]
    first = dict(zip(header, rows[0], strict=True))
    item = listed["items"][0]
    assert first["指标名称"] == item["name"] and first["二级指标"] == item["level2"]
    assert first["一级指标"] == "产出" and first["共性类别"] == "培训"
    assert first["指标类型"] == "共性" and first["适用范围"] == "项目" and first["值类型"] == "定量"
    assert first["指标方向"] == {">=": "≥", "<=": "≤", "=": "=", "range": "区间"}[item["direction"]]
    assert first["标准值"] == item["standard_value"]
    assert first["2023年历史值"] == item["historical_values"]["2023"]
    assert first["状态"] == "在用" and first["所属单位"] == "640000 宁夏回族自治区"


def test_the_import_template_downloads_with_its_instructions(api):
    resp = api.as_user("xq.editor").get("/api/v1/indicators/import-template")
    assert resp.status_code == 200 and resp.mimetype == XLSX
    assert "filename*=UTF-8''" in resp.headers["Content-Disposition"]
    wb = load_workbook(io.BytesIO(resp.data))
    assert wb.sheetnames == ["指标", "填写说明"]
    header, rows = _sheet(bytes(resp.data))
    assert (
        header[: len(HEADERS)] == HEADERS and "2024年历史值" in header and header[-2:] == ["状态", "所属单位"]
    )
    example = dict(zip(header, rows[0], strict=True))
    assert example["共性类别"] == "培训" and example["指标方向"] == "≥"
    notes = [r[0] for r in wb["填写说明"].iter_rows(min_row=2, values_only=True)]
    assert set(HEADERS) <= set(notes)
    # the untouched template names its example row instead of importing it
    done = _import(api.as_user("xq.admin"), bytes(resp.data))
    assert done["result"]["ok"] is False
    assert done["result"]["errors"][0]["row"] == 2 and "示例行" in done["result"]["errors"][0]["rule"]


# --- the "done when" ------------------------------------------------------------------


def test_a_bad_cell_fails_the_import_naming_the_row_and_nothing_changes_then_the_fix_imports(api, unique):
    admin = api.as_user("xq.admin")
    first = _create(admin, f"教师培训人次{unique}")
    second = _create(admin, f"培训课程门数{unique}", unit="门", standard_value="12")
    exported = _export(admin, f"owner=own&q={unique}")
    assert sorted(r[0] for r in _sheet(exported)[1]) == sorted([first["code"], second["code"]])
    row = _row_of(exported, first["code"])

    broken = _edit(exported, first["code"], {"标准值": "abc"})
    done = _import(admin, broken)
    assert done["progress"] == 100
    result = done["result"]
    assert result["ok"] is False and result["rows"] == 2 and result["error_count"] == 1
    assert result["errors"] == [
        {"row": row, "column": "标准值", "rule": "定量指标的标准值须为数字，「abc」不是数字"}
    ]
    for before in (first, second):
        now = admin.get(f"/api/v1/indicators/{before['id']}").get_json()
        assert now["standard_value"] == before["standard_value"] and now["version"] == 1

    fixed = _edit(exported, first["code"], {"标准值": 120, "2024年历史值": 98})
    done = _import(admin, fixed, filename="兴庆区指标.xlsx")
    assert done["result"] == {"ok": True, "created": 0, "updated": 1, "unchanged": 1, "rows": 2}
    assert done["progress"] == 100 and done["progress_seen"][-1] == 100
    now = admin.get(f"/api/v1/indicators/{first['id']}").get_json()
    assert now["standard_value"] == "120" and now["version"] == 2
    assert now["historical_values"] == {"2023": "90", "2024": "98"}
    versions = admin.get(f"/api/v1/indicators/{first['id']}/versions").get_json()
    assert [(v["version"], v["action"]) for v in versions] == [(2, "update"), (1, "create")]
    events = admin.get(f"/api/v1/audit-events?object_type=indicator&object_id={first['id']}").get_json()
    update = next(e for e in events["items"] if e["action"] == "indicator.update")
    assert update["username"] == "xq.admin"
    assert update["before"]["standard_value"] == "100" and update["after"]["standard_value"] == "120"
    summary = admin.get(
        f"/api/v1/audit-events?object_type=indicator_import&object_id={done['job_id']}"
    ).get_json()
    assert summary["total"] == 1
    assert summary["items"][0]["after"] == {
        "file": "兴庆区指标.xlsx",
        "rows": 2,
        "created": 0,
        "updated": 1,
        "unchanged": 1,
    }

    # the same file again changes nothing; the job is visible to its own user only
    again = _import(admin, fixed)
    assert again["result"] == {"ok": True, "created": 0, "updated": 0, "unchanged": 2, "rows": 2}
    assert admin.get(f"/api/v1/indicators/{first['id']}").get_json()["version"] == 2
    for other in ("xq.editor", "xx.admin", "nx.admin"):
        assert api.as_user(other).get(f"/api/v1/jobs/{again['job_id']}").status_code == 404


def test_a_row_without_code_creates_an_indicator_and_only_its_tenant_sees_it(api, runtime, unique):
    admin = api.as_user("xq.admin")
    _create(admin, f"送教下乡次数{unique}")
    exported = _export(admin, f"owner=own&q={unique}")
    name = f"乡村教师培训覆盖率{unique}"
    content, row = _append(
        exported,
        {
            "指标名称": name,
            "二级指标": "质量",
            "共性类别": "培训",
            "指标类型": "individual",
            "适用范围": "项目",
            "值类型": "定量",
            "指标方向": ">=",
            "计量单位": "%",
            "标准值": 95,
            "标准值依据": "计划标准",
            "2024年历史值": 91.5,
        },
    )
    assert row == 3
    done = _import(admin, content)
    assert done["result"] == {"ok": True, "created": 1, "updated": 0, "unchanged": 1, "rows": 2}
    found = admin.get(f"/api/v1/indicators?q={name}").get_json()
    assert found["total"] == 1
    created = found["items"][0]
    assert created["code"].startswith("640104-IN-") and created["owner_code"] == "640104"
    assert created["level1"] == "产出" and created["direction"] == ">=" and created["standard_value"] == "95"
    assert created["historical_values"] == {"2024": "91.5"} and created["version"] == 1
    events = admin.get(f"/api/v1/audit-events?object_type=indicator&object_id={created['id']}").get_json()
    assert [e["action"] for e in events["items"]] == ["indicator.create"]

    # importing the same file again matches the new row by name: nothing is created twice
    again = _import(admin, content)
    assert again["result"] == {"ok": True, "created": 0, "updated": 0, "unchanged": 2, "rows": 2}
    assert admin.get(f"/api/v1/indicators?q={name}").get_json()["total"] == 1

    # the sibling county sees nothing of it; the city above reads it
    assert api.as_user("xx.admin").get(f"/api/v1/indicators/{created['id']}").status_code == 404
    assert api.as_user("xx.admin").get(f"/api/v1/indicators?q={name}").get_json()["total"] == 0
    sibling = _export(api.as_user("xx.admin"), f"q={unique}&status=all")
    assert _sheet(sibling) == ([*HEADERS, "状态", "所属单位"], [])  # not even the years leak
    assert api.as_user("yc.admin").get(f"/api/v1/indicators/{created['id']}").status_code == 200
    # every upload was removed from the object store once its job had answered
    assert list(runtime.store.list_keys("imports/640104/")) == []


def test_shared_province_rows_import_unchanged_but_a_change_is_refused(api):
    admin = api.as_user("xq.admin")
    exported = _export(admin, "owner=shared&common_class=培训")
    _header, rows = _sheet(exported)
    assert rows and all(r[0].startswith("640000-") for r in rows)
    done = _import(admin, exported)
    assert done["result"] == {
        "ok": True,
        "created": 0,
        "updated": 0,
        "unchanged": len(rows),
        "rows": len(rows),
    }

    code = rows[0][0]
    before = next(
        i
        for i in admin.get("/api/v1/indicators?owner=shared&common_class=培训&page_size=200").get_json()[
            "items"
        ]
        if i["code"] == code
    )
    changed = _edit(exported, code, {"标准值": "1"})
    result = _import(admin, changed)["result"]
    assert result["ok"] is False and result["error_count"] == 1
    problem = result["errors"][0]
    assert problem["row"] == 2 and problem["column"] == "标准值"
    assert f"指标 {code} 属于宁夏回族自治区，不能修改" in problem["rule"]
    after = admin.get(f"/api/v1/indicators/{before['id']}").get_json()
    assert after["standard_value"] == before["standard_value"] and after["version"] == before["version"]


def test_every_bad_row_is_listed_with_row_column_and_rule(api, unique):
    admin = api.as_user("xq.admin")
    mine = _create(admin, f"培训班次{unique}", unit="期", standard_value="4")
    exported = _export(admin, f"owner=own&q={unique}")
    content = _edit(exported, mine["code"], {"指标方向": "大于", "状态": "已退出", "2023年历史值": "很多"})
    content, dup_row = _append(
        content,
        {
            "指标名称": f"培训班次{unique}x",
            "一级指标": "效益",
            "二级指标": "数量",
            "指标类型": "共性",
            "适用范围": "项目",
            "值类型": "定性",
            "指标方向": "区间",
            "标准值依据": "随便",
        },
    )
    content, unknown_row = _append(content, {"指标编码": "640105-IN-9999", "指标名称": "别人的"})
    result = _import(admin, content)["result"]
    assert result["ok"] is False
    found = {(e["row"], e["column"]) for e in result["errors"]}
    assert {
        (2, "指标方向"),
        (2, "2023年历史值"),
        (2, "状态"),
        (dup_row, "一级指标"),
        (dup_row, "指标方向"),
        (dup_row, "标准值依据"),
        (unknown_row, "指标编码"),
    } <= found, result["errors"]
    rules = {(e["row"], e["column"]): e["rule"] for e in result["errors"]}
    assert rules[(2, "状态")] == "状态请在页面上通过退出/恢复操作修改"
    assert rules[(2, "指标方向")].startswith("指标方向须为：≥、≤、=、区间")
    assert "属于一级指标「产出」" in rules[(dup_row, "一级指标")]
    assert "未知的指标编码「640105-IN-9999」" in rules[(unknown_row, "指标编码")]  # never says whose
    assert admin.get(f"/api/v1/indicators/{mine['id']}").get_json()["version"] == 1


# --- bad files --------------------------------------------------------------------------------


def test_files_that_are_not_xlsx_are_refused_in_the_request(api):
    admin = api.as_user("xq.admin")
    text = _post(admin, "指标编码,指标名称\n".encode(), filename="指标.xlsx")
    assert text.status_code == 415 and text.get_json()["message"].startswith("不是 Excel (.xlsx) 文件")
    empty = _post(admin, b"", filename="空.xlsx")
    assert empty.status_code == 415 and "空" in empty.get_json()["message"]
    xls = _post(admin, b"\xd0\xcf\x11\xe0" + b"\0" * 100, filename="旧.xlsx")
    assert xls.status_code == 415 and ".xls" in xls.get_json()["message"]
    named = _post(admin, _workbook([HEADERS]), filename="指标.csv", content_type="text/csv")
    assert named.status_code == 415 and "扩展名" in named.get_json()["message"]
    declared = _post(admin, _workbook([HEADERS]), filename="指标.xlsx", content_type="text/plain")
    assert declared.status_code == 415 and "text/plain" in declared.get_json()["message"]
    raw = admin.post("/api/v1/indicators/import", data=b"PK\x03\x04", content_type="application/octet-stream")
    assert raw.status_code == 415
    missing = admin.post("/api/v1/indicators/import", data={}, content_type="multipart/form-data")
    assert missing.status_code == 422 and missing.get_json()["errors"] == {
        "file": ["请选择要导入的 .xlsx 文件"]
    }
    too_big = _post(admin, b"PK\x03\x04" + b"\0" * (21 * 1024 * 1024))
    assert too_big.status_code == 413 and "20 MiB" in too_big.get_json()["message"]
    # reading the library is not enough to write it
    editor = _post(api.as_user("xq.editor"), _workbook([HEADERS]))
    assert editor.status_code == 403


def test_bad_workbooks_finish_with_a_clear_error_and_write_nothing(api):
    admin = api.as_user("xq.admin")
    before = admin.get("/api/v1/indicators?owner=own&status=all&page_size=1").get_json()["total"]

    wrong = _import(admin, _workbook([["名称", "类型", *HEADERS[2:-1]], ["培训人次", "共性"]]))["result"]
    assert wrong["ok"] is False
    assert {(e["row"], e["column"]) for e in wrong["errors"]} >= {
        (1, "名称"),
        (1, "类型"),
        (1, "指标编码"),
        (1, "标准值依据"),
    }
    assert any(e["rule"] == "缺少列「标准值依据」（请使用导入模板或导出的文件）" for e in wrong["errors"])

    for content in (_workbook([]), _workbook([HEADERS])):
        result = _import(admin, content)["result"]
        assert result == {
            "ok": False,
            "errors": [{"row": None, "column": None, "rule": "文件中没有数据行"}],
            "error_count": 1,
            "rows": 0,
        }

    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("word/document.xml", "<w:document/>")
    docx = _import(admin, archive.getvalue(), filename="其实是Word.xlsx")["result"]
    assert docx["ok"] is False and "不是 Excel (.xlsx) 文件" in docx["errors"][0]["rule"]

    broken = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(_workbook([HEADERS, ["", "培训人次"]]))) as good,
        zipfile.ZipFile(broken, "w") as bad,
    ):
        for item in good.infolist():
            data = good.read(item)
            bad.writestr(item, data[: len(data) // 2] if item.filename.endswith("sheet1.xml") else data)
    truncated = _import(admin, broken.getvalue())["result"]
    assert truncated["ok"] is False and truncated["errors"][0]["rule"].startswith("无法读取 Excel 文件")
    assert truncated["errors"][0]["column"] is None

    huge = _import(admin, _raw_xlsx(HEADERS, 50_001))["result"]
    assert huge["ok"] is False
    assert huge["errors"] == [{"row": None, "column": None, "rule": huge["errors"][0]["rule"]}]
    assert huge["errors"][0]["rule"].startswith("单次最多导入 50000 行")

    after = admin.get("/api/v1/indicators?owner=own&status=all&page_size=1").get_json()["total"]
    assert after == before
