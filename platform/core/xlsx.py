"""What the official tables exported as .xlsx share (FORMS.md): the look (宋体, thin borders, grey
label cells), a small writer of merged, bordered blocks, the indicator table's level-1/level-2
cells merged over their lines, people and dates as the tables show them, money in 万元, and the
print setup (A4 landscape, one page wide, header rows repeated, a print area, page numbers).

No Flask and no capability: the 申报表 (`services/targets/excel/sheet.py`), the 监控表
(`services/monitoring/excel.py`) and the 自评表 (`services/evaluation/excel.py`) build on it, in
`jixiao worker` too."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from .runtime import current_runtime

FONT_NAME = "宋体"  # what the official tables use; LibreOffice substitutes a CJK font when absent
_THIN = Side(style="thin", color="000000")
BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
BODY_FONT = Font(name=FONT_NAME, size=10)
BOLD_FONT = Font(name=FONT_NAME, size=10, bold=True)
TITLE_FONT = Font(name=FONT_NAME, size=18, bold=True)
SUBTITLE_FONT = Font(name=FONT_NAME, size=11)
NOTE_FONT = Font(name=FONT_NAME, size=9, color="555555")
LABEL_FILL = PatternFill("solid", fgColor="F2F2F2")
CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
LEFT = Alignment(horizontal="left", vertical="center", wrap_text=True)
RIGHT = Alignment(horizontal="right", vertical="center", wrap_text=True)
MONEY_FORMAT = "#,##0.00"
NUMBER_FORMAT = "0.00"  # weights, points, rates in percent
OTHER_LEVEL1 = "其他"
CENT = Decimal("0.01")
TEN_THOUSAND = Decimal(10000)

T = TypeVar("T")
Groups = list[tuple[str, list[tuple[str, list[T]]]]]


# --- values as the tables show them -----------------------------------------------------------


def person(username: str | None, names: Mapping[str, str]) -> str:
    """`显示名（username）`, or the username alone when no display name is known."""
    if not username:
        return ""
    display = names.get(username)
    return f"{display}（{username}）" if display and display != username else username


def local(moment: datetime | None, fmt: str = "%Y-%m-%d") -> str:
    """A stored moment in the deployment's time zone (naive ones are UTC, as SQLite keeps them)."""
    if moment is None:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(ZoneInfo(current_runtime().settings.timezone)).strftime(fmt)


def text(value: Any) -> str:
    """Text a cell may hold (control characters an .xlsx refuses are dropped)."""
    return ILLEGAL_CHARACTERS_RE.sub("", "" if value is None else str(value))


def cents(value: Decimal | int | str | None) -> Decimal | None:
    return None if value is None else Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def wan(yuan: Decimal | int | str | None) -> Decimal | None:
    """Yuan → 万元 with two decimals (rounded half-up), as the tables print money."""
    return None if yuan is None else (Decimal(yuan) / TEN_THOUSAND).quantize(CENT, rounding=ROUND_HALF_UP)


def years(start: int, end: int) -> str:
    return f"{start}—{end} 年" if end > start else f"{start} 年"


def grouped(
    items: Iterable[T],
    framework: Mapping[str, Sequence[str]],
    level2_of: Callable[[T], str],
) -> Groups[T]:
    """Items grouped by level 1 then level 2, each in the framework's order (产出, 成本, 效益,
    满意度 …); items keep their order inside a level 2; unknown level 2s come last under 其他."""
    known = {level2 for children in framework.values() for level2 in children}
    by_level2: dict[str, list[T]] = {}
    for item in items:
        by_level2.setdefault(level2_of(item), []).append(item)
    groups: Groups[T] = []
    for level1, children in framework.items():
        present = [(level2, by_level2[level2]) for level2 in children if level2 in by_level2]
        if present:
            groups.append((level1, present))
    unknown = [(level2, found) for level2, found in by_level2.items() if level2 not in known]
    if unknown:
        groups.append((OTHER_LEVEL1, unknown))
    return groups


# --- writing ----------------------------------------------------------------------------------


@dataclass
class Sheet:
    """A small writer over a normal (not write-only) sheet: merged, bordered blocks by rows.
    `widths` are the columns' widths in characters (set on the sheet, used for row heights)."""

    ws: Worksheet
    widths: Sequence[float]

    def __post_init__(self) -> None:
        for column, width in enumerate(self.widths, start=1):
            self.ws.column_dimensions[get_column_letter(column)].width = width

    @property
    def last(self) -> int:
        return len(self.widths)

    def width(self, first: int, last: int) -> float:
        return float(sum(self.widths[first - 1 : last]))

    def put(
        self,
        row: int,
        first: int,
        last: int,
        value: Any,
        *,
        font: Font = BODY_FONT,
        align: Alignment = LEFT,
        fill: PatternFill | None = None,
        number_format: str | None = None,
        border: bool = True,
        last_row: int | None = None,
    ) -> None:
        """Write `value` into columns first..last of `row` (to `last_row`), merged when wider."""
        bottom = last_row or row
        cell = self.ws.cell(row=row, column=first)
        if isinstance(value, str):
            cell.value = text(value)
            cell.data_type = "s"  # text, never a formula (a value starting with = stays text)
        else:
            cell.value = value
        if number_format:
            cell.number_format = number_format
        if last > first or bottom > row:
            self.ws.merge_cells(start_row=row, start_column=first, end_row=bottom, end_column=last)
        for r in range(row, bottom + 1):
            for c in range(first, last + 1):
                target = self.ws.cell(row=r, column=c)
                target.font = font
                target.alignment = align
                if fill is not None:
                    target.fill = fill
                if border:
                    target.border = BORDER

    def label(self, row: int, first: int, last: int, value: str, *, last_row: int | None = None) -> None:
        self.put(row, first, last, value, font=BOLD_FONT, align=CENTER, fill=LABEL_FILL, last_row=last_row)

    def height(self, row: int, texts: Iterable[tuple[str, float]], minimum: float = 22) -> None:
        """Row height for wrapped text: (text, width in characters of its merged cells)."""
        lines = 1
        for content, width in texts:
            per_line = max(1, int(width / 2.0))  # CJK characters are about two widths wide
            count = sum(max(1, math.ceil(len(part) / per_line)) for part in (content or "").split("\n"))
            lines = max(lines, count)
        self.ws.row_dimensions[row].height = max(minimum, 15 * lines + 6)

    def fit(self, row: int, cells: Iterable[tuple[str, int, int]], minimum: float = 22) -> None:
        """Row height for texts in columns first..last: (text, first, last)."""
        self.height(row, [(content, self.width(first, last)) for content, first, last in cells], minimum)

    def title(self, title: str, subtitle: str, left: str, right: str) -> int:
        """Rows 1–3: the title, the subtitle, then `left` and `right` over the table; answers the
        next row."""
        last, half = self.last, max(1, self.last * 2 // 3)
        self.put(1, 1, last, title, font=TITLE_FONT, align=CENTER, border=False)
        self.ws.row_dimensions[1].height = 34
        self.put(2, 1, last, subtitle, font=SUBTITLE_FONT, align=CENTER, border=False)
        self.put(3, 1, half, left, align=LEFT, border=False)
        self.put(3, half + 1, last, right, align=RIGHT, border=False)
        self.ws.row_dimensions[3].height = 20
        return 4

    def headers(self, row: int, headers: Sequence[str], minimum: float = 24) -> None:
        for column, header in enumerate(headers, start=1):
            self.label(row, column, column, header)
        self.fit(row, [(h, c, c) for c, h in enumerate(headers, start=1)], minimum)

    def grouped_rows(self, row: int, groups: Groups[T], write: Callable[[int, T], None]) -> int:
        """The indicator table's body: `write(row, item)` per item, then the level-1 (column 1)
        and level-2 (column 2) cells merged vertically over their items; answers the next row."""
        for level1, children in groups:
            level1_top = row
            for level2, items in children:
                level2_top = row
                for item in items:
                    write(row, item)
                    row += 1
                self.put(level2_top, 2, 2, level2, align=CENTER, last_row=row - 1)
            self.put(level1_top, 1, 1, level1, align=CENTER, font=BOLD_FONT, last_row=row - 1)
        return row

    def footer(self, row: int, moment: datetime, exported_by: str = "") -> None:
        """导出时间 and 导出人, right-aligned under the table, no border."""
        line = f"导出时间：{local(moment, '%Y-%m-%d %H:%M')}"
        if exported_by:
            line += f"　导出人：{exported_by}"
        self.put(row, 1, self.last, line, font=NOTE_FONT, align=RIGHT, border=False)


def new_sheet(title: str, widths: Sequence[float]) -> tuple[Workbook, Sheet]:
    """A workbook of one sheet named `title`, its columns `widths` wide."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = title
    return wb, Sheet(ws, widths)


def print_setup(ws: Worksheet, *, header_rows: tuple[int, int], last_column: int, last_row: int) -> None:
    """A4 landscape, one page wide (as many pages down as needed), centred, the table's header
    rows repeated on every page, the print area over the form, 第 n 页，共 N 页 in the footer."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.5
    ws.print_title_rows = f"{header_rows[0]}:{header_rows[1]}"
    ws.print_area = f"A1:{get_column_letter(last_column)}{last_row}"
    ws.oddFooter.center.text = "第 &P 页，共 &N 页"
