"""Writing the indicator library's Excel files: the export and the import template.

`write_export` / `export_xlsx` write what the list's filters select (`service.search_stmt`) in
openpyxl's write-only mode, streaming from the database; `template_xlsx` writes the import
template: the header row, one example row and the 填写说明 sheet. Both use the layout of
`layout`, with in-cell dropdowns for the fixed vocabularies. Text is written as text,
never as a formula. No Flask.
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import IO, Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from sqlalchemy import JSON, Select, case, cast, func, select
from sqlalchemy.orm import Session

from jixiao.platform.core.actor import Actor
from jixiao.platform.core.authz import authorize
from jixiao.platform.core.db import utcnow
from jixiao.platform.core.runtime import current_runtime
from jixiao.tenants.models import Tenant

from ..models import LEVEL1_OF, Indicator
from ..rules import DIRECTION_LABELS, KIND_LABELS, SCOPE_LABELS, VALUE_TYPE_LABELS
from ..service import level2_nodes, search_stmt
from . import MAX_UPLOAD_BYTES
from .layout import (
    COLUMNS,
    HELP_SHEET_TITLE,
    HISTORY_HELP,
    MAX_ROWS,
    SHEET_TITLE,
    STATUS_LABELS,
    TRAILING,
    Column,
    sheet_columns,
)

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
    # what an xlsx cell cannot hold (control characters) is dropped; printable text has none
    return value if value.isprintable() else ILLEGAL_CHARACTERS_RE.sub("", value)


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


# what the export reads of an indicator: columns, not ORM objects (its level 2 and its owner are
# a handful of rows, looked up once), then one column per historical year (`_year_columns`)
EXPORTED = (
    Indicator.code,
    Indicator.name,
    Indicator.level2_id,
    Indicator.category,
    Indicator.common_class,
    Indicator.kind,
    Indicator.scope,
    Indicator.explanation,
    Indicator.source,
    Indicator.value_type,
    Indicator.direction,
    Indicator.unit,
    Indicator.standard_value,
    Indicator.value_basis,
    Indicator.status,
    Indicator.tenant_id,
)


def _year_columns(years: Sequence[str]) -> list[Any]:
    """Each year's historical value as text, taken out of the JSON by the database."""
    return [Indicator.historical_values[year].as_string().label(f"year_{n}") for n, year in enumerate(years)]


def _row_values(row: Any, years: int, level2: dict[int, str], owners: dict[int, str]) -> list[Any]:
    node = level2[row.level2_id]
    return [
        row.code,
        row.name,
        LEVEL1_OF[node],
        node,
        row.category or "",
        row.common_class or "",
        KIND_LABELS.get(row.kind, row.kind),
        SCOPE_LABELS.get(row.scope, row.scope),
        row.explanation or "",
        row.source or "",
        VALUE_TYPE_LABELS.get(row.value_type, row.value_type),
        DIRECTION_LABELS.get(row.direction, row.direction),
        row.unit or "",
        row.standard_value or "",
        row.value_basis or "",
        *[row[len(EXPORTED) + n] or "" for n in range(years)],
        STATUS_LABELS.get(row.status, row.status),
        owners[row.tenant_id],
    ]


def export_filename(now: datetime | None = None) -> str:
    """`指标库导出_20261125.xlsx`, dated in the province's time zone."""
    zone = ZoneInfo(current_runtime().settings.timezone)
    return f"指标库导出_{(now or utcnow()).astimezone(zone):%Y%m%d}.xlsx"


def _years(session: Session, stmt: Select[Any]) -> set[str]:
    """The historical years the selected indicators have (each a column of the sheet)."""
    if session.get_bind().dialect.name == "postgresql":  # the database lists the keys
        history = Indicator.historical_values
        keys = func.json_object_keys(
            case((func.json_typeof(history) == "object", history), else_=cast("{}", JSON))
        )
        return set(session.execute(stmt.with_only_columns(keys).order_by(None).distinct()).scalars())
    years: set[str] = set()
    for values in session.execute(
        stmt.with_only_columns(Indicator.historical_values).execution_options(yield_per=2000)
    ).scalars():
        years.update(str(y) for y in (values or {}))
    return years


def write_export(session: Session, actor: Actor, filters: dict[str, Any], target: IO[bytes]) -> int:
    """Write the filtered list (the same filters as `service.search_stmt`) to `target`; the count.

    Two streaming passes (`yield_per`): the historical years present first (they are columns),
    then the rows, through openpyxl's write-only mode."""
    authorize(actor, "indicators.read")
    stmt = search_stmt(session, actor, **filters)
    ordered = sorted(_years(session, stmt))
    columns = sheet_columns(ordered)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(SHEET_TITLE)
    _prepare_sheet(ws, columns)
    ws.append([_cell(ws, c.header, header=True) for c in columns])
    level2 = {node.id: node.name for node in level2_nodes(session).values()}
    owners: dict[int, str] = {}
    count = 0
    selected = stmt.with_only_columns(*EXPORTED, *_year_columns(ordered))
    rows = session.execute(selected.execution_options(yield_per=2000))
    for batch in rows.partitions():
        missing = {row.tenant_id for row in batch} - owners.keys()
        if missing:
            for tenant in session.execute(select(Tenant).where(Tenant.id.in_(missing))).scalars():
                owners[tenant.id] = f"{tenant.code} {tenant.name}"
        for row in batch:
            ws.append([_value(ws, v) for v in _row_values(row, len(ordered), level2, owners)])
        count += len(batch)
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
    columns = sheet_columns(TEMPLATE_YEARS)
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
