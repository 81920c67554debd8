"""Excel import and export of the indicator library (指标库 Excel 导入导出; DESIGN.md §5, §8).

The column layout is documented in `docs/indicator-excel.md` (Chinese and English) and defined
once here (`COLUMNS`): one header row in Chinese, one indicator per row, historical values in one
column per year (`2023年历史值`). Export and the import template write it; the import reads it.

Import is a job (`jobs.import_indicators`) in three steps, all-or-nothing:

1. `parse_workbook` reads the file with openpyxl in read-only mode, row by row (never the whole
   file as a DOM), maps labels to API codes (`≥` or `>=`) and refuses files that are not xlsx, have
   wrong headers, no data rows or more than `MAX_ROWS` rows;
2. `plan_import` resolves every row against the library in one pass (own indicators prefetched by
   code and name in one query) and collects EVERY error as `{"row", "column", "rule"}`;
3. `apply_plan` writes creates and updates in batches inside the caller's single transaction,
   with a version snapshot and an audit event per indicator (`run_import` adds the summary event).

Rows are matched by 指标编码; a row without a code is matched by name within the importer's own
library (so importing the same file twice creates nothing the second time), else it is created.
Rows of indicators owned by another tenant (the province's shared rows in a county's export) are
accepted when unchanged and refused when changed.

No Flask here: the web layer and the worker both call these functions.
"""

from __future__ import annotations

import io
import re
import tempfile
import uuid
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from sqlalchemy import select
from sqlalchemy.orm import Session

from jixiao.platform.core.actor import Actor
from jixiao.platform.core.audit import record
from jixiao.platform.core.authz import authorize
from jixiao.platform.core.db import Database, utcnow
from jixiao.platform.core.errors import DomainError, Forbidden, ValidationFailed
from jixiao.platform.core.runtime import current_runtime
from jixiao.tenants.models import Tenant

from .models import FRAMEWORK, LEVEL1_OF, VALUE_BASES, Indicator
from .rules import (
    DIRECTION_LABELS,
    KIND_LABELS,
    SCOPE_LABELS,
    VALUE_TYPE_LABELS,
    validate_fields,
)
from .service import (
    EDITABLE,
    KIND_CODES,
    apply_fields,
    fields_of,
    level2_nodes,
    pinyin_keys,
    search_stmt,
    version_row,
)

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # legacy .xls (and password-protected .xlsx)
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
MAX_UNZIPPED_BYTES = 512 * 1024 * 1024  # a 20 MiB upload that inflates beyond this is a zip bomb
MAX_ROWS = 50_000
MAX_ERRORS = 1000
BATCH = 200  # rows per flush and per progress report while writing
SHEET_TITLE = "指标"
HELP_SHEET_TITLE = "填写说明"
IMPORT_JOB = "jixiao.services.indicators.jobs.import_indicators"

Progress = Callable[[int, str], None]


class UnsupportedFile(DomainError):
    """Not an Excel (.xlsx) file: 415."""

    status = 415
    status_name = "Unsupported Media Type"


class UploadTooLarge(DomainError):
    status = 413
    status_name = "Payload Too Large"


# --- the layout -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    header: str
    key: str  # an EDITABLE field, or code / level1 / status / owner
    width: float
    required: bool  # the header must be present on import
    help: str
    allowed: str = ""


def _labels(labels: dict[str, str]) -> str:
    return "、".join(labels.values())


COLUMNS: tuple[Column, ...] = (
    Column(
        "指标编码",
        "code",
        18,
        True,
        "留空：新增指标（编码由系统生成；本单位已有同名指标时改为修改该指标）。"
        "填写：修改本单位该编码的指标；其他单位（如省级共享）的指标原样保留即可，修改会被拒绝。",
        "如 640104-CC-0007",
    ),
    Column("指标名称", "name", 28, True, "必填，同一单位内不能重名，最多 100 字。"),
    Column(
        "一级指标",
        "level1",
        10,
        True,
        "可留空（由二级指标推出）；填写时须与二级指标相符。",
        "、".join(FRAMEWORK),
    ),
    Column("二级指标", "level2", 14, True, "必填，财政部绩效指标框架的二级指标。", "、".join(LEVEL1_OF)),
    Column("行业领域", "category", 12, True, "可留空，如 教育、卫生健康、农业农村，最多 40 字。"),
    Column("共性类别", "common_class", 12, True, "可留空，如 会议、培训、设备购置，最多 40 字。"),
    Column("指标类型", "kind", 10, True, "必填。", _labels(KIND_LABELS)),
    Column("适用范围", "scope", 12, True, "必填：项目支出或部门整体支出。", _labels(SCOPE_LABELS)),
    Column("指标解释", "explanation", 40, True, "指标的含义和计算方法。"),
    Column("指标出处", "source", 30, True, "数据来源或政策依据。"),
    Column("值类型", "value_type", 10, True, "必填。", _labels(VALUE_TYPE_LABELS)),
    Column(
        "指标方向",
        "direction",
        10,
        True,
        "必填；也可填 >=、<=、=、range。定性指标不能用区间。",
        _labels(DIRECTION_LABELS),
    ),
    Column("计量单位", "unit", 10, True, "定量指标必填，如 %、人次、元/人·天，最多 20 字。"),
    Column(
        "标准值",
        "standard_value",
        14,
        True,
        "定量指标须为数字；区间指标填“下限,上限”（如 3500,4200）；定性指标填文字。",
    ),
    Column("标准值依据", "value_basis", 14, True, "必填。", "、".join(VALUE_BASES)),
)
HISTORY_HELP = Column(
    "2023年历史值",
    "history",
    14,
    False,
    "可选，每年一列，列名为“四位年份+年历史值”（如 2022年历史值），可增删年份列。"
    "定量指标须为数字。空单元格表示该年无历史值；文件中没有的年份列保持原值。",
)
TRAILING: tuple[Column, ...] = (
    Column(
        "状态",
        "status",
        10,
        False,
        "导出时填写；导入时不能修改（退出、恢复请在页面上操作）。新增指标须为“在用”或留空。",
        "在用、已退出",
    ),
    Column("所属单位", "owner", 24, False, "仅导出时填写（单位代码 + 名称），导入时忽略。"),
)
HEADER_KEYS = {c.header: c.key for c in (*COLUMNS, *TRAILING)}
KEY_HEADERS = {c.key: c.header for c in (*COLUMNS, *TRAILING)}
REQUIRED_HEADERS = [c.header for c in COLUMNS if c.required]
YEAR_HEADER = re.compile(r"^(\d{4})年历史值$")
STATUS_LABELS = {"active": "在用", "retired": "已退出"}


def year_header(year: str) -> str:
    return f"{year}年历史值"


def _lookup(labels: dict[str, str], *aliases: tuple[str, str]) -> dict[str, str]:
    table = {code: code for code in labels}
    table.update({label: code for code, label in labels.items()})
    table.update({alias: code for alias, code in aliases})
    return table


VOCABULARIES: dict[str, tuple[dict[str, str], dict[str, str]]] = {
    # field: (accepted text → API code, API code → label shown)
    "kind": (_lookup(KIND_LABELS), KIND_LABELS),
    "scope": (_lookup(SCOPE_LABELS), SCOPE_LABELS),
    "value_type": (_lookup(VALUE_TYPE_LABELS), VALUE_TYPE_LABELS),
    "direction": (
        _lookup(DIRECTION_LABELS, ("＝", "="), ("≧", ">="), ("≦", "<="), ("＞＝", ">="), ("＜＝", "<=")),
        DIRECTION_LABELS,
    ),
}
STATUS_LOOKUP = _lookup(STATUS_LABELS)


def _vocabulary_message(field_key: str) -> str:
    table, labels = VOCABULARIES[field_key]
    return f"{KEY_HEADERS[field_key]}须为：{'、'.join(labels.values())}（也接受 {'、'.join(labels)}）"


# --- cells ------------------------------------------------------------------------------------


def _text(value: Any) -> str:
    """A cell's value as the text the library stores (numbers without a spurious `.0`)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value).strip()


def _clean(value: Any) -> Any:
    """What an xlsx cell can hold of a stored text (no control characters), compared stripped."""
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub("", value).strip()
    return value


def _comparable(data: dict[str, Any]) -> dict[str, Any]:
    out = {k: _clean(data.get(k)) for k in EDITABLE if k != "historical_values"}
    for k in ("category", "common_class"):
        out[k] = out[k] or None
    for k in ("explanation", "source", "unit", "standard_value"):
        out[k] = out[k] or ""
    out["historical_values"] = {
        str(y): _clean(str(v)) for y, v in (data.get("historical_values") or {}).items() if _clean(str(v))
    }
    return out


HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
WRAP = Alignment(wrap_text=True, vertical="top")


def _cell(ws: Any, value: Any, *, header: bool = False) -> WriteOnlyCell:
    cell = WriteOnlyCell(ws, value=ILLEGAL_CHARACTERS_RE.sub("", value) if isinstance(value, str) else value)
    if isinstance(value, str) and value.startswith("="):
        cell.data_type = "s"  # text, never a formula (no formula injection through library data)
    if header:
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
    return cell


def _value(ws: Any, value: Any) -> Any:
    """A data cell: plain values where possible (openpyxl binds them onto one reused cell, fast);
    empty text left out; text that looks like a formula kept as text."""
    if not isinstance(value, str):
        return value
    if not value:
        return None
    if value.startswith("=") and len(value) > 1:
        return _cell(ws, value)
    return ILLEGAL_CHARACTERS_RE.sub("", value)


def _headers(years: Sequence[str]) -> list[Column]:
    history = [
        Column(year_header(y), f"year:{y}", HISTORY_HELP.width, False, HISTORY_HELP.help) for y in years
    ]
    return [*COLUMNS, *history, *TRAILING]


def _dropdowns(ws: Any, columns: Sequence[Column]) -> None:
    """In-cell lists for the fixed vocabularies (a hint only: the import checks every value)."""
    for index, column in enumerate(columns, start=1):
        if column.key in ("level1", "level2", "kind", "scope", "value_type", "direction", "value_basis"):
            choices = column.allowed.replace("、", ",")
            validation = DataValidation(
                type="list", formula1=f'"{choices}"', allow_blank=True, showErrorMessage=False
            )
            letter = get_column_letter(index)
            validation.add(f"{letter}2:{letter}1048576")
            ws.data_validations.append(validation)  # (write-only sheets lack add_data_validation)


def _prepare_sheet(ws: Any, columns: Sequence[Column]) -> None:
    for index, column in enumerate(columns, start=1):
        ws.column_dimensions[get_column_letter(index)].width = column.width
    ws.freeze_panes = "A2"
    _dropdowns(ws, columns)


def _row_values(indicator: Indicator, years: Sequence[str]) -> list[Any]:
    history = indicator.historical_values or {}
    return [
        indicator.code,
        indicator.name,
        indicator.level1_name,
        indicator.level2.name,
        indicator.category or "",
        indicator.common_class or "",
        KIND_LABELS.get(indicator.kind, indicator.kind),
        SCOPE_LABELS.get(indicator.scope, indicator.scope),
        indicator.explanation or "",
        indicator.source or "",
        VALUE_TYPE_LABELS.get(indicator.value_type, indicator.value_type),
        DIRECTION_LABELS.get(indicator.direction, indicator.direction),
        indicator.unit or "",
        indicator.standard_value or "",
        indicator.value_basis or "",
        *[str(history.get(y, "")) for y in years],
        STATUS_LABELS.get(indicator.status, indicator.status),
        f"{indicator.owner.code} {indicator.owner.name}",
    ]


# --- export -----------------------------------------------------------------------------------


def export_filename(now: datetime | None = None) -> str:
    """`指标库导出_20261125.xlsx`, dated in the province's time zone."""
    zone = ZoneInfo(current_runtime().settings.timezone)
    return f"指标库导出_{(now or utcnow()).astimezone(zone):%Y%m%d}.xlsx"


def write_export(session: Session, actor: Actor, filters: dict[str, Any], target: IO[bytes]) -> int:
    """Write the filtered list (the same filters as `service.search_stmt`) to `target`; the count.

    Two streaming passes (`yield_per`): the historical years present first (they are columns),
    then the rows, through openpyxl's write-only mode."""
    authorize(actor, "indicators.read")
    stmt = search_stmt(actor, **filters)
    years: set[str] = set()
    for history in session.execute(
        stmt.with_only_columns(Indicator.historical_values).execution_options(yield_per=2000)
    ).scalars():
        years.update(str(y) for y in (history or {}))
    ordered = sorted(years)
    columns = _headers(ordered)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(SHEET_TITLE)
    _prepare_sheet(ws, columns)
    ws.append([_cell(ws, c.header, header=True) for c in columns])
    count = 0
    for indicator in session.execute(stmt.execution_options(yield_per=500)).scalars():
        ws.append([_value(ws, v) for v in _row_values(indicator, ordered)])
        count += 1
    wb.save(target)
    return count


def export_xlsx(session: Session, actor: Actor, filters: dict[str, Any]) -> Iterator[bytes]:
    """The export as chunks of bytes. The workbook is written (to an anonymous temporary file)
    before this returns, so the caller's session may be closed while the chunks are sent."""
    handle = tempfile.TemporaryFile()  # noqa: SIM115 - closed by the generator
    try:
        write_export(session, actor, filters, handle)
        handle.seek(0)
    except BaseException:
        handle.close()
        raise
    return _chunks(handle)


def _chunks(handle: IO[bytes]) -> Iterator[bytes]:
    try:
        while chunk := handle.read(256 * 1024):
            yield chunk
    finally:
        handle.close()


TEMPLATE_EXAMPLE: dict[str, Any] = {
    "code": "示例（导入前请删除本行）",
    "name": "参训人员结业考核合格率",
    "level1": "产出",
    "level2": "质量",
    "category": "",
    "common_class": "培训",
    "kind": "共性",
    "scope": "项目",
    "explanation": "培训结业考核合格的人数占实际参训人数的比例，反映培训质量。",
    "source": "培训结业考核成绩册、培训签到表",
    "value_type": "定量",
    "direction": "≥",
    "unit": "%",
    "standard_value": "95",
    "value_basis": "计划标准",
    "status": "在用",
    "owner": "",
}
TEMPLATE_YEARS = ("2022", "2023", "2024")
TEMPLATE_HISTORY = {"2022": "93", "2023": "95", "2024": "96"}


def template_xlsx() -> bytes:
    """The import template: the header row, one example row (a 培训 indicator) and a second
    sheet 填写说明 explaining every column and its allowed values."""
    columns = _headers(TEMPLATE_YEARS)
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = SHEET_TITLE
    for index, column in enumerate(columns, start=1):
        cell = ws.cell(row=1, column=index, value=column.header)
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
        example = TEMPLATE_EXAMPLE.get(column.key, "")
        if column.key.startswith("year:"):
            example = TEMPLATE_HISTORY.get(column.key[5:], "")
        if example:
            ws.cell(row=2, column=index, value=example).data_type = "s"  # text, as typed
    _prepare_sheet(ws, columns)

    help_ws = wb.create_sheet(HELP_SHEET_TITLE)
    help_ws.append(["列名", "导入时", "填写说明", "可选值"])
    for cell in help_ws[1]:
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
    for column in (*COLUMNS, HISTORY_HELP, *TRAILING):
        needed = "须有此列" if column.required else ("忽略" if column.key == "owner" else "可选列")
        help_ws.append([column.header, needed, column.help, column.allowed])
    help_ws.append([])
    for line in (
        "一行一个指标，第 1 行为表头，列名须与本模板一致（列的顺序可以不同）。",
        "第 2 行是示例，导入前请删除或改成实际指标（示例行的编码不能导入）。",
        "导入先检查所有行：任何一行有错，整批都不写入，并列出每个错误所在的行号、列和规则。",
        f"单次最多导入 {MAX_ROWS} 行，文件不超过 {MAX_UPLOAD_BYTES // (1024 * 1024)} MiB。",
        "导出的文件可直接修改后再导入；同一文件重复导入不会重复新增。",
    ):
        help_ws.append([line])
    for letter, width in zip("ABCD", (16, 10, 70, 40), strict=True):
        help_ws.column_dimensions[letter].width = width
    for row in help_ws.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = WRAP
    help_ws.freeze_panes = "A2"
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


# --- starting an import (request side) --------------------------------------------------------

_NOT_EXCEL_TYPES = {
    "application/pdf",
    "application/json",
    "application/xml",
    "application/msword",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/vnd.ms-powerpoint",
}


class _LimitedUpload:
    """The upload's stream with its first bytes put back, refusing more than `limit` bytes."""

    def __init__(self, head: bytes, stream: Any, limit: int) -> None:
        self._head = head
        self._stream = stream
        self._limit = limit
        self._seen = 0

    def read(self, size: int = -1) -> bytes:
        if self._head:
            data, self._head = self._head, b""
        else:
            data = self._stream.read(size if size and size > 0 else 1024 * 1024)
        self._seen += len(data)
        if self._seen > self._limit:
            raise UploadTooLarge(f"文件超过 {self._limit // (1024 * 1024)} MiB 上限，请拆分后分批导入")
        return bytes(data)


def _read_head(stream: Any, size: int) -> bytes:
    head = b""
    while len(head) < size:
        chunk = stream.read(size - len(head))
        if not chunk:
            break
        head += chunk
    return head


def check_upload(filename: str, head: bytes, content_type: str | None = None) -> None:
    """The cheap checks done in the request: a name ending in .xlsx, a plausible declared type, and
    the ZIP signature every .xlsx starts with. Raises 422 / 415."""
    name = (filename or "").strip()
    if not name:
        raise ValidationFailed("请选择要导入的 .xlsx 文件", errors={"file": ["请选择要导入的 .xlsx 文件"]})
    if not name.lower().endswith(".xlsx"):
        raise UnsupportedFile(f"不是 Excel (.xlsx) 文件：「{name}」的扩展名不是 .xlsx")
    declared = (content_type or "").split(";")[0].strip().lower()
    if declared.startswith(("text/", "image/", "audio/", "video/", "font/")) or declared in _NOT_EXCEL_TYPES:
        raise UnsupportedFile(f"不是 Excel (.xlsx) 文件：上传的内容类型是 {declared}")
    if not head:
        raise UnsupportedFile("不是 Excel (.xlsx) 文件：文件是空的")
    if head.startswith(OLE_MAGIC):
        raise UnsupportedFile(
            "不是 Excel (.xlsx) 文件：这是旧版 .xls 或加密的工作簿，请在 Excel 中另存为 .xlsx（不加密）后再导入"
        )
    if not head.startswith(ZIP_MAGIC):
        raise UnsupportedFile("不是 Excel (.xlsx) 文件：文件内容不是 xlsx 格式（可能只是改了扩展名）")


def start_import(actor: Actor, filename: str, stream: Any, *, content_type: str | None = None) -> str:
    """Check the upload cheaply, put it in the object store and enqueue the import job; the job id.

    Used by the API (`POST /api/v1/indicators/import`) and the pages alike. `stream` is anything
    with `read(n)`; it is read once, in bounded chunks (at most `MAX_UPLOAD_BYTES`)."""
    authorize(actor, "indicators.write")
    if actor.tenant_id is None or not actor.tenant_code:
        raise Forbidden("只有地区用户可以维护指标库")
    head = _read_head(stream, len(ZIP_MAGIC))
    check_upload(filename, head, content_type)
    rt = current_runtime()
    key = f"imports/{actor.tenant_code}/{uuid.uuid4().hex}.xlsx"
    rt.store.put_stream(key, _LimitedUpload(head, stream, MAX_UPLOAD_BYTES), content_type=XLSX_MIME)
    name = filename.strip().replace("\\", "/").rsplit("/", 1)[-1]
    try:
        return rt.jobs.enqueue(IMPORT_JOB, actor, key, filename=name, description=f"导入指标库：{name}")
    except BaseException:
        rt.store.delete(key)
        raise


# --- parsing ----------------------------------------------------------------------------------


def error(row: int | None, column: str | None, rule: str) -> dict[str, Any]:
    """One import error: Excel row number (None: the whole file), Chinese column header, rule."""
    return {"row": row, "column": column, "rule": rule}


@dataclass
class Row:
    """One data row, read and mapped to API codes but not yet judged."""

    number: int  # the Excel row number
    code: str
    data: dict[str, Any]  # EDITABLE fields; historical_values: this row's non-empty year cells
    level1: str
    status: str | None  # API code; None when the column is absent or the cell empty
    label_errors: dict[str, str] = field(default_factory=dict)  # field → message (unknown labels)


@dataclass
class ParsedFile:
    rows: list[Row]
    errors: list[dict[str, Any]]  # file-level errors (the rows are not judged then)
    years: list[str]  # the year columns present
    data_rows: int


def _zip_problem(path: Path) -> str | None:
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            inflated = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError):
        return "文件已损坏或不是 Excel (.xlsx) 文件"
    if "xl/workbook.xml" not in names:
        return "不是 Excel (.xlsx) 文件（可能是 Word 文档或其他压缩包）"
    if inflated > MAX_UNZIPPED_BYTES:
        return f"文件解压后超过 {MAX_UNZIPPED_BYTES // (1024 * 1024)} MiB，请拆分后分批导入"
    return None


_ROW_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?row[\s/>]")


def _count_rows(path: Path, member: str) -> int:
    """Row elements in a sheet whose size is not declared (openpyxl's write-only files): a quick
    regex pass over the inflated XML, for the progress bar only; 0 when unknown."""
    if not member:
        return 0
    count, tail = 0, b""
    try:
        with zipfile.ZipFile(path) as archive, archive.open(member.lstrip("/")) as xml:
            while chunk := xml.read(1024 * 1024):
                buffer = tail + chunk
                keep = len(buffer) - 32  # a tag never spans more than this: count it in the next round
                count += sum(1 for m in _ROW_TAG.finditer(buffer) if m.start() < keep)
                tail = buffer[max(keep, 0) :]
        return count + len(_ROW_TAG.findall(tail))
    except (KeyError, OSError, zipfile.BadZipFile):
        return 0


def _header_text(value: Any) -> str:
    return re.sub(r"\s+", "", _text(value)).strip("*＊")


def _read_header(values: Sequence[Any]) -> tuple[dict[int, str], list[dict[str, Any]], list[str]]:
    """Column index → key, file-level errors (row 1), the year columns."""
    columns: dict[int, str] = {}
    errors: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    years: list[str] = []
    known = "、".join([*REQUIRED_HEADERS, "YYYY年历史值", *(c.header for c in TRAILING)])
    for index, raw in enumerate(values):
        header = _header_text(raw)
        if not header:
            continue
        key = HEADER_KEYS.get(header)
        year = YEAR_HEADER.match(header)
        if key is None and year:
            key = f"year:{year.group(1)}"
        if key is None:
            errors.append(error(1, header, f"无法识别的列「{header}」，列名须与导入模板一致：{known}"))
        elif key in seen:
            errors.append(
                error(1, header, f"列「{header}」出现了两次（第 {seen[key]} 列和第 {index + 1} 列）")
            )
        else:
            seen[key] = index + 1
            columns[index] = key
            if year:
                years.append(year.group(1))
    for header in REQUIRED_HEADERS:
        if HEADER_KEYS[header] not in seen:
            errors.append(error(1, header, f"缺少列「{header}」（请使用导入模板或导出的文件）"))
    return columns, errors, sorted(years)


def _parse_row(number: int, cells: dict[str, str], years: Sequence[str]) -> Row:
    label_errors: dict[str, str] = {}
    data: dict[str, Any] = {
        "name": cells.get("name", ""),
        "level2": cells.get("level2", ""),
        "category": cells.get("category") or None,
        "common_class": cells.get("common_class") or None,
        "explanation": cells.get("explanation", ""),
        "source": cells.get("source", ""),
        "unit": cells.get("unit", ""),
        "standard_value": cells.get("standard_value", ""),
        "value_basis": cells.get("value_basis", ""),
        "historical_values": {y: v for y in years if (v := cells.get(f"year:{y}", ""))},
    }
    for key, (table, _labels_shown) in VOCABULARIES.items():
        raw = cells.get(key, "")
        code = table.get(raw) or table.get(raw.lower())
        if code is None:
            label_errors[key] = _vocabulary_message(key)
            data[key] = raw
        else:
            data[key] = code
    status_text = cells.get("status", "")
    status = STATUS_LOOKUP.get(status_text) if status_text else None
    if status_text and status is None:
        label_errors["status"] = "状态须为：在用、已退出"
        status = status_text
    return Row(number, cells.get("code", ""), data, cells.get("level1", ""), status, label_errors)


def _blank(values: Sequence[Any]) -> bool:
    return all(v is None or (isinstance(v, str) and not v.strip()) for v in values)


def parse_workbook(path: Path | str, *, progress: Progress | None = None) -> ParsedFile:
    """Read the first sheet (or the sheet named 指标) row by row in read-only mode."""
    path = Path(path)
    problem = _zip_problem(path)
    if problem:
        return ParsedFile([], [error(None, None, problem)], [], 0)
    try:
        wb = load_workbook(path, read_only=True, data_only=True, keep_links=False)
    except Exception as exc:  # openpyxl raises many kinds (zip, XML, KeyError …) for a broken package
        return ParsedFile(
            [], [error(None, None, f"无法读取 Excel 文件，文件可能已损坏（{type(exc).__name__}）")], [], 0
        )
    try:
        return _parse_sheet(wb, path, progress)
    except _Unreadable as exc:
        return ParsedFile([], [error(exc.row, None, str(exc))], [], 0)
    finally:
        wb.close()


class _Unreadable(Exception):
    def __init__(self, message: str, row: int | None) -> None:
        super().__init__(message)
        self.row = row


def _sheet_rows(ws: Any) -> Iterator[tuple[Any, ...]]:
    """The sheet's rows; a broken sheet (bad XML, bad cell) becomes one readable error."""
    iterator = ws.iter_rows(values_only=True)
    number = 0
    while True:
        try:
            values = next(iterator)
        except StopIteration:
            return
        except Exception as exc:
            raise _Unreadable(
                f"无法读取 Excel 文件：第 {number + 1} 行附近的内容已损坏（{type(exc).__name__}）", number + 1
            ) from exc
        number += 1
        yield values


def _parse_sheet(wb: Any, path: Path, progress: Progress | None) -> ParsedFile:
    """Read the chosen sheet (named 指标, else the first) of an open read-only workbook."""
    sheets = wb.worksheets
    if not sheets:
        return ParsedFile([], [error(None, None, "文件中没有工作表")], [], 0)
    ws = wb[SHEET_TITLE] if SHEET_TITLE in wb.sheetnames else sheets[0]
    estimate = getattr(ws, "max_row", None) or _count_rows(path, getattr(ws, "_worksheet_path", ""))
    # trust the rows, not the declared dimension: some writers declare it wrong
    ws.reset_dimensions()
    values = _sheet_rows(ws)
    header = next(values, None)
    if header is None or _blank(header):
        if any(not _blank(v) for v in values):
            return ParsedFile([], [error(1, None, "第 1 行须为表头（指标编码、指标名称……）")], [], 0)
        return ParsedFile([], [error(None, None, "文件中没有数据行")], [], 0)
    columns, errors, years = _read_header(header)
    if errors:
        return ParsedFile([], errors, years, 0)
    rows: list[Row] = []
    for number, raw in enumerate(values, start=2):
        if _blank(raw):
            continue
        if len(rows) >= MAX_ROWS:
            return ParsedFile(
                [],
                [
                    error(
                        None,
                        None,
                        f"单次最多导入 {MAX_ROWS} 行，本文件超过 {MAX_ROWS} 行；请拆分后分批导入",
                    )
                ],
                years,
                len(rows) + 1,
            )
        cells = {key: _text(raw[i]) if i < len(raw) else "" for i, key in columns.items()}
        rows.append(_parse_row(number, cells, years))
        if progress is not None and len(rows) % BATCH == 0:
            share = len(rows) / estimate if estimate > len(rows) else 0.99
            progress(2 + int(48 * share), f"读取第 {number} 行")
    if not rows:
        return ParsedFile([], [error(None, None, "文件中没有数据行")], years, 0)
    return ParsedFile(rows, [], years, len(rows))


# --- judging every row against the library ----------------------------------------------------


@dataclass
class Plan:
    owner: Tenant
    creates: list[Row] = field(default_factory=list)
    updates: list[tuple[Row, Indicator, dict[str, Any]]] = field(default_factory=list)
    unchanged: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def _merged(row: Row, indicator: Indicator | None, years: Sequence[str]) -> dict[str, Any]:
    """The row's fields; historical years without a column in the file keep their stored value."""
    data = dict(row.data)
    if indicator is not None:
        kept = {y: v for y, v in (indicator.historical_values or {}).items() if str(y) not in years}
        data["historical_values"] = {**kept, **row.data["historical_values"]}
    return data


def _differences(row: Row, indicator: Indicator, merged: dict[str, Any]) -> list[str]:
    """The headers whose value differs from the stored indicator, in column order."""
    before = _comparable(fields_of(indicator))
    after = _comparable(merged)
    changed = []
    for column in COLUMNS:
        key = column.key
        if key == "level1":
            if row.level1 and row.level1 != indicator.level1_name:
                changed.append(column.header)
        elif key in before and key != "historical_values" and before[key] != after[key]:
            changed.append(column.header)
    old, new = before["historical_values"], after["historical_values"]
    for year in sorted(set(old) | set(new)):
        if old.get(year) != new.get(year):
            changed.append(year_header(year))
    if row.status is not None and row.status != indicator.status:
        changed.append(KEY_HEADERS["status"])
    return changed


def _column_of(field_key: str, message: str, years: Iterable[str]) -> str:
    if field_key == "historical_values":
        for year in years:
            if message.startswith(f"{year} 年") or f"「{year}」" in message:
                return year_header(year)
        return "历史值"
    return KEY_HEADERS.get(field_key, field_key)


def _field_errors(row: Row, merged: dict[str, Any]) -> list[dict[str, Any]]:
    out = [error(row.number, KEY_HEADERS[k], m) for k, m in row.label_errors.items() if k != "status"]
    for key, messages in validate_fields(merged).items():
        if key in row.label_errors:
            continue  # already said in the spreadsheet's own words
        for message in messages:
            out.append(error(row.number, _column_of(key, message, merged["historical_values"]), message))
    if row.level1:
        level2 = merged.get("level2")
        if row.level1 not in FRAMEWORK:
            out.append(error(row.number, "一级指标", f"一级指标须为：{'、'.join(FRAMEWORK)}"))
        elif level2 in LEVEL1_OF and LEVEL1_OF[level2] != row.level1:
            out.append(
                error(
                    row.number,
                    "一级指标",
                    f"二级指标「{level2}」属于一级指标「{LEVEL1_OF[level2]}」，与「{row.level1}」不符",
                )
            )
    return out


_POSITIONS = {c.header: float(n) for n, c in enumerate(COLUMNS)} | {
    c.header: float(len(COLUMNS) + 1 + n) for n, c in enumerate(TRAILING)
}


def _column_position(header: str | None) -> float:
    """Errors of one row are listed in the layout's column order (years between 标准值依据 and 状态)."""
    if header is None:
        return -1.0
    year = YEAR_HEADER.match(header)
    if year:
        return len(COLUMNS) + int(year.group(1)) / 10_000
    return _POSITIONS.get(header, len(COLUMNS) + len(TRAILING) + 1.0)


def _batched(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def plan_import(
    session: Session, actor: Actor, parsed: ParsedFile, *, progress: Progress | None = None
) -> Plan:
    """Judge every row; collect every error. Writes nothing."""
    authorize(actor, "indicators.write")
    owner = session.get(Tenant, actor.tenant_id) if actor.tenant_id is not None else None
    if owner is None:
        raise Forbidden("只有地区用户可以维护指标库")
    plan = Plan(owner=owner, errors=list(parsed.errors))
    if parsed.errors:
        return plan
    own = list(session.execute(select(Indicator).where(Indicator.tenant_id == owner.id)).scalars())
    own_by_code = {i.code: i for i in own}
    own_by_name = {i.name: i for i in own}
    wanted = sorted({r.code for r in parsed.rows if r.code and r.code not in own_by_code})
    others: dict[str, Indicator] = {}
    for chunk in _batched(wanted, 500):
        for indicator in session.execute(select(Indicator).where(Indicator.code.in_(chunk))).scalars():
            others[indicator.code] = indicator
    if progress is not None:
        progress(52, "核对指标库")

    years = parsed.years
    code_rows: dict[str, int] = {}
    target_rows: dict[int, int] = {}  # indicator id → the row that edits it
    name_rows: dict[str, int] = {}  # final names in the owner's library → row
    errors = plan.errors
    for row in parsed.rows:
        target: Indicator | None = None
        if row.code:
            if row.code in code_rows:
                errors.append(
                    error(row.number, "指标编码", f"指标编码「{row.code}」与第 {code_rows[row.code]} 行重复")
                )
                continue
            code_rows[row.code] = row.number
            target = own_by_code.get(row.code)
            if target is None:
                other = others.get(row.code)
                if other is None:
                    rule = (
                        "这是导入模板的示例行，请删除本行或清空指标编码后再导入"
                        if row.code.startswith("示例")
                        else f"未知的指标编码「{row.code}」（新增指标请将编码留空）"
                    )
                    errors.append(error(row.number, "指标编码", rule))
                    continue
                changed = _differences(row, other, _merged(row, other, years))
                if changed:
                    errors.append(
                        error(
                            row.number,
                            changed[0],
                            f"指标 {other.code} 属于{other.owner.name}，不能修改"
                            f"（修改了：{'、'.join(changed)}）；如需调整，请在页面上从它派生本单位指标",
                        )
                    )
                else:
                    plan.unchanged += 1
                continue
        else:
            target = own_by_name.get(row.data["name"])

        if target is not None:
            if target.id in target_rows:
                errors.append(
                    error(
                        row.number,
                        "指标编码" if row.code else "指标名称",
                        f"与第 {target_rows[target.id]} 行是同一个指标（{target.code}）",
                    )
                )
                continue
            target_rows[target.id] = row.number
        merged = _merged(row, target, years)
        name = str(merged.get("name") or "").strip()
        if name:
            if name in name_rows:
                errors.append(
                    error(row.number, "指标名称", f"指标名称「{name}」与第 {name_rows[name]} 行重复")
                )
            else:
                name_rows[name] = row.number
        if target is None:
            if "status" in row.label_errors:
                errors.append(error(row.number, "状态", row.label_errors["status"]))
            elif row.status == "retired":
                errors.append(error(row.number, "状态", "新增指标的状态须为“在用”；退出请在页面上操作"))
            problems = _field_errors(row, merged)
            errors.extend(problems)
            if not problems:
                plan.creates.append(row)
            continue

        changed = _differences(row, target, merged)
        if not changed:
            plan.unchanged += 1
            continue
        if "状态" in changed:
            errors.append(
                error(
                    row.number,
                    "状态",
                    row.label_errors.get("status") or "状态请在页面上通过退出/恢复操作修改",
                )
            )
            changed.remove("状态")
            if not changed:
                continue
        if target.status != "active":
            errors.append(
                error(row.number, changed[0], f"指标 {target.code} 已退出，不能修改；请先在页面上恢复")
            )
            continue
        problems = _field_errors(row, merged)
        clash = own_by_name.get(name)
        if clash is not None and clash.id != target.id:
            problems.append(error(row.number, "指标名称", f"本单位已有名为「{name}」的指标（{clash.code}）"))
        errors.extend(problems)
        if not problems:
            plan.updates.append((row, target, merged))
    errors.sort(key=lambda e: (e["row"] or 0, _column_position(e["column"])))
    if progress is not None:
        progress(60, f"检查完成：{len(errors)} 个错误" if errors else "检查通过，开始写入")
    return plan


# --- writing ----------------------------------------------------------------------------------


def _next_sequences(session: Session, owner: Tenant) -> dict[str, int]:
    """The next free sequence number per kind, computed once (numerically: `-10000` > `-9999`)."""
    out = {}
    for kind, short in KIND_CODES.items():
        prefix = f"{owner.code}-{short}-"
        codes = session.execute(
            select(Indicator.code)
            .where(Indicator.code.startswith(prefix))
            .execution_options(all_tenants=True)
        ).scalars()
        numbers = [int(tail) for c in codes if (tail := c[len(prefix) :]).isdigit()]
        out[kind] = max(numbers, default=0) + 1
    return out


def apply_plan(
    session: Session, actor: Actor, plan: Plan, *, progress: Progress | None = None
) -> dict[str, int]:
    """Write a plan without errors inside the caller's transaction: updates, then creates, flushed
    in batches, each with its version snapshot and audit event."""
    if plan.errors:
        raise ValueError("a plan with errors is never applied")
    nodes = level2_nodes(session)
    owner = plan.owner
    total = max(len(plan.updates) + len(plan.creates), 1)
    done = 0

    def report() -> None:
        if progress is not None:
            progress(60 + int(39 * done / total), f"写入 {done}/{total}")

    for chunk in _batched(plan.updates, BATCH):
        befores = []
        for _row, indicator, merged in chunk:
            befores.append(indicator.to_audit())
            apply_fields(indicator, merged, nodes)
        session.flush()  # bumps each version (optimistic lock: a concurrent edit fails the job)
        for (_row, indicator, _merged_data), before in zip(chunk, befores, strict=True):
            session.add(version_row(indicator, "update", actor))
            record(
                session,
                "indicator.update",
                object_type="indicator",
                object_id=indicator.id,
                before=before,
                after=indicator.to_audit(),
            )
        done += len(chunk)
        report()

    sequences = _next_sequences(session, owner) if plan.creates else {}
    shared = owner.level == "province"
    for chunk in _batched(plan.creates, BATCH):
        created = []
        for row in chunk:
            data = row.data
            kind = data["kind"]
            code = f"{owner.code}-{KIND_CODES[kind]}-{sequences[kind]:04d}"
            sequences[kind] += 1
            full, initials = pinyin_keys(data["name"])
            indicator = Indicator(
                tenant_id=owner.id,
                code=code,
                name_pinyin=full,
                name_initials=initials,
                shared=shared,
                level2_id=nodes[data["level2"]].id,
                **{k: data.get(k) for k in EDITABLE if k != "level2"},
            )
            indicator.level2 = nodes[data["level2"]]
            created.append(indicator)
        session.add_all(created)
        session.flush()
        session.add_all([version_row(i, "create", actor) for i in created])
        for indicator in created:
            record(
                session,
                "indicator.create",
                object_type="indicator",
                object_id=indicator.id,
                after={**indicator.to_audit(), "derived_from": None, "origin": None, "via": "excel"},
                tenant_id=owner.id,
                actor=actor,
            )
        done += len(chunk)
        report()
    session.flush()
    return {"created": len(plan.creates), "updated": len(plan.updates), "unchanged": plan.unchanged}


def failure(errors: list[dict[str, Any]], rows: int) -> dict[str, Any]:
    return {"ok": False, "errors": errors[:MAX_ERRORS], "error_count": len(errors), "rows": rows}


def run_import(
    db: Database,
    actor: Actor,
    path: Path | str,
    *,
    filename: str = "",
    reference: str | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Parse, judge and — only when every row is fine — write, in one transaction.

    The result: `{"ok": false, "errors": [...first 1000...], "error_count": N, "rows": M}` or
    `{"ok": true, "created": a, "updated": b, "unchanged": c, "rows": M}`."""
    authorize(actor, "indicators.write")
    parsed = parse_workbook(path, progress=progress)
    if parsed.errors:
        return failure(parsed.errors, parsed.data_rows)
    with db.transaction(actor) as session:
        plan = plan_import(session, actor, parsed, progress=progress)
        if not plan.ok:
            session.rollback()
            return failure(plan.errors, parsed.data_rows)
        counts = apply_plan(session, actor, plan, progress=progress)
        record(
            session,
            "indicator.import",
            object_type="indicator_import",
            object_id=reference,
            after={"file": filename, "rows": parsed.data_rows, **counts},
        )
        if progress is not None:
            progress(99, "提交")
    return {"ok": True, **counts, "rows": parsed.data_rows}
