"""Step 1 of an Excel import: reading the uploaded workbook into rows (`parse_workbook`, `Reader`).

openpyxl in read-only mode, row by row (never the whole file as a DOM); the import reads in a
thread of its own (`Reader`) and takes the rows a batch at a time. File-level problems
(not an xlsx, a zip bomb, a broken sheet, unknown, duplicate or missing headers, no data rows,
more than `MAX_ROWS` rows) become errors of the `ParsedFile`; each data row becomes a `Row` with
its labels mapped to API codes (`≥` or `>=`), unknown labels noted but not yet judged — that is
`plan`'s. `error` is the one shape of an import error, `{"row", "column", "rule"}`. No Flask.
"""

from __future__ import annotations

import queue
import re
import threading
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

from openpyxl.reader.excel import ExcelReader
from openpyxl.worksheet._read_only import ReadOnlyWorksheet

from .layout import (
    HEADER_KEYS,
    KEY_HEADERS,
    MAX_ROWS,
    REQUIRED_HEADERS,
    SHEET_TITLE,
    STATUS_LOOKUP,
    TRAILING,
    VOCABULARIES,
    YEAR_HEADER,
)

MAX_UNZIPPED_BYTES = 512 * 1024 * 1024  # a 20 MiB upload that inflates beyond this is a zip bomb
BATCH = 200  # rows per progress report while reading, and per flush and report while writing

Progress = Callable[[int, str], None]
QUEUED = 64  # batches of rows a `Reader` reads ahead of its consumer


def _vocabulary_message(field_key: str) -> str:
    table, labels = VOCABULARIES[field_key]
    return f"{KEY_HEADERS[field_key]}须为：{'、'.join(labels.values())}"


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
class Batch:
    """Rows as they are read (`parse_workbook`'s `on_batch`), with what a consumer needs to judge
    them and to show how far the reading got."""

    rows: list[Row]
    years: list[str]
    estimate: int  # rows the sheet seems to hold (for a progress bar), 0 when unknown
    read: int  # data rows read so far


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
_DIMENSION = re.compile(rb'<(?:[A-Za-z_][\w.-]*:)?dimension\s+ref="[A-Z]+\d+:[A-Z]+(\d+)"')
_SHEET_DATA = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?sheetData[\s/>]")


def _count_rows(path: Path, member: str) -> int:
    """The rows of a sheet, for the progress bar only: its declared dimension (what Excel writes
    before the rows), else the row elements (openpyxl's write-only files declare none) counted by
    a quick regex pass over the inflated XML; 0 when unknown."""
    if not member:
        return 0
    count, tail, first = 0, b"", True
    try:
        with zipfile.ZipFile(path) as archive, archive.open(member.lstrip("/")) as xml:
            while chunk := xml.read(1024 * 1024):
                if first:
                    first = False
                    data = _SHEET_DATA.search(chunk)
                    declared = _DIMENSION.search(chunk, 0, data.start() if data else len(chunk))
                    if declared:
                        return int(declared.group(1))
                buffer = tail + chunk
                keep = len(buffer) - 32  # a tag never spans more than this: count it in the next round
                count += sum(1 for m in _ROW_TAG.finditer(buffer) if m.start() < keep)
                tail = buffer[max(keep, 0) :]
        return count + len(_ROW_TAG.findall(tail))
    except (KeyError, OSError, zipfile.BadZipFile):
        return 0


class _UnsizedSheet(ReadOnlyWorksheet):
    """A read-only sheet that does not learn its size on opening. openpyxl's reads the sheet's
    XML up to its declared dimension — which openpyxl's own write-only files (our exports) do not
    declare, so that is a whole pass over the sheet before the first row, a quarter of reading it.
    The import trusts the rows anyway (`reset_dimensions`) and estimates their number apart."""

    def _get_size(self) -> None:
        return None


class _WorkbookReader(ExcelReader):
    """`openpyxl.load_workbook(read_only=True)` with `_UnsizedSheet`s (openpyxl 3.1's reader: the
    same steps, the worksheets made as its `read_worksheets` makes them; chart sheets left out,
    as `Workbook.worksheets` leaves them out)."""

    def read_worksheets(self) -> None:
        for sheet, rel in self.parser.find_sheets():
            if rel.target not in self.valid_files or "chartsheet" in rel.Type:
                continue
            ws = _UnsizedSheet(self.wb, sheet.name, rel.target, self.shared_strings)
            ws.sheet_state = sheet.state
            self.wb._sheets.append(ws)


def _open_workbook(path: Path) -> Any:
    reader = _WorkbookReader(path, read_only=True, data_only=True, keep_links=False)
    reader.read()
    return reader.wb


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


def parse_workbook(
    path: Path | str, *, progress: Progress | None = None, on_batch: Callable[[Batch], None] | None = None
) -> ParsedFile:
    """Read the first sheet (or the sheet named 指标) row by row in read-only mode; `on_batch` is
    handed the rows a batch (`BATCH`) at a time as they are read (the file's errors, if any, are
    the `ParsedFile`'s in the end)."""
    path = Path(path)
    problem = _zip_problem(path)
    if problem:
        return ParsedFile([], [error(None, None, problem)], [], 0)
    try:
        wb = _open_workbook(path)
    except Exception as exc:  # openpyxl raises many kinds (zip, XML, KeyError …) for a broken package
        return ParsedFile(
            [], [error(None, None, f"无法读取 Excel 文件，文件可能已损坏（{type(exc).__name__}）")], [], 0
        )
    try:
        return _parse_sheet(wb, path, progress, on_batch)
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


def _parse_sheet(
    wb: Any, path: Path, progress: Progress | None, on_batch: Callable[[Batch], None] | None
) -> ParsedFile:
    """Read the chosen sheet (named 指标, else the first) of an open read-only workbook."""
    sheets = wb.worksheets
    if not sheets:
        return ParsedFile([], [error(None, None, "文件中没有工作表")], [], 0)
    ws = wb[SHEET_TITLE] if SHEET_TITLE in wb.sheetnames else sheets[0]
    estimate = _count_rows(path, getattr(ws, "_worksheet_path", ""))
    ws.reset_dimensions()  # trust the rows, not a declared dimension: some writers declare it wrong
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
    handed = 0
    placed = list(columns.items())
    for number, raw in enumerate(values, start=2):
        if _blank(raw):
            continue
        if len(rows) >= MAX_ROWS:
            too_many = f"单次最多导入 {MAX_ROWS} 行，本文件超过 {MAX_ROWS} 行；请拆分后分批导入"
            return ParsedFile([], [error(None, None, too_many)], years, len(rows) + 1)
        width = len(raw)
        cells = {
            key: (v.strip() if (v := raw[i]).__class__ is str else _text(v)) if i < width else ""
            for i, key in placed
        }
        rows.append(_parse_row(number, cells, years))
        if len(rows) % BATCH == 0:
            if progress is not None:
                share = len(rows) / estimate if estimate > len(rows) else 0.99
                progress(2 + int(48 * share), f"读取第 {number} 行")
            if on_batch is not None:
                on_batch(Batch(rows[handed:], years, estimate, len(rows)))
                handed = len(rows)
    if not rows:
        return ParsedFile([], [error(None, None, "文件中没有数据行")], years, 0)
    if on_batch is not None and handed < len(rows):
        on_batch(Batch(rows[handed:], years, estimate, len(rows)))
    return ParsedFile(rows, [], years, len(rows))


class _Stopped(Exception):
    """The consumer of a `Reader` went away: stop reading."""


class Reader:
    """`parse_workbook` in a thread of its own, so that the import judges and writes the rows read
    so far — waiting on the database, which frees the interpreter — while the next ones are read.
    Iterate for the `Batch`es as they come; then `result` is the `ParsedFile` (its `errors` the
    file's). Use as a context manager: leaving it stops the reading.

    The reading thread touches no database session and reports no progress (a job's progress is
    its own thread's: the consumer reports it)."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.result: ParsedFile | None = None
        self._queue: queue.Queue[Batch | ParsedFile | BaseException] = queue.Queue(QUEUED)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, name="jixiao-excel-reader", daemon=True)

    def __enter__(self) -> Reader:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _put(self, item: Batch | ParsedFile | BaseException) -> None:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return
            except queue.Full:
                continue
        raise _Stopped

    def _read(self) -> None:
        try:
            parsed = parse_workbook(self.path, on_batch=self._put)
        except _Stopped:
            return
        except BaseException as exc:  # handed to the consumer, raised there
            outcome: ParsedFile | BaseException = exc
        else:
            outcome = parsed
        try:
            self._put(outcome)
        except _Stopped:
            return

    def __iter__(self) -> Iterator[Batch]:
        while True:
            item = self._queue.get()
            if isinstance(item, Batch):
                yield item
            elif isinstance(item, ParsedFile):
                self.result = item
                return
            else:
                raise item
