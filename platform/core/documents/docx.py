"""A `Document` as a Word file (python-docx): A4, 宋体 body / 黑体 headings, a cover page, a real
TOC field (levels 1–2, prefilled with the chapter titles, refreshed by Word on open), headings in
the built-in Heading 1–3 styles, tables with a repeated bold header row, charts as PNG pictures,
and "footer · 第 X 页 共 Y 页" at the foot of every page."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import IO, Any

import docx as python_docx
from docx.enum.section import WD_ORIENT
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Emu, Pt, RGBColor

from .charts import render_png
from .model import Chart, Document, Facts, Paragraph, Section, Table

PAGE_WIDTH, PAGE_HEIGHT = Cm(21.0), Cm(29.7)
MARGIN_TOP, MARGIN_BOTTOM, MARGIN_LEFT, MARGIN_RIGHT = Cm(3.0), Cm(2.5), Cm(2.8), Cm(2.6)
TEXT_WIDTH = Emu(PAGE_WIDTH - MARGIN_LEFT - MARGIN_RIGHT)  # 15.6 cm
CHART_WIDTH_CM = 15.0
LATIN_FONT = "Times New Roman"
BODY_FONT = "宋体"
HEADING_FONT = "黑体"
HEADER_FILL = "D9E2F3"
# Characters XML 1.0 forbids (and lxml refuses): C0 controls but tab/newline/CR, lone surrogates,
# U+FFFE/U+FFFF. C1 controls are legal but print as garbage: dropped too (except NEL).
_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ud800-\udfff\ufffe\uffff]")
# settings.xml children that must come after w:updateFields (schema order)
# fmt: off
_AFTER_UPDATE_FIELDS = (
    "hdrShapeDefaults", "footnotePr", "endnotePr", "compat", "docVars", "rsids", "mathPr",
    "attachedSchema", "themeFontLang", "clrSchemeMapping", "doNotIncludeSubdocsInStats",
    "doNotAutoCompressPictures", "forceUpgrade", "captions", "readModeInkLockDown", "smartTagType",
    "schemaLibrary", "shapeDefaults", "doNotEmbedSmartTags", "decimalSymbol", "listSeparator",
)
# fmt: on

Docx = Any  # python-docx's Document object (its class is private)
# style ids (not names): setting a style by object makes python-docx search the styles each time
BODY = "BodyText"
TABLE_TEXT = "TableText"


def xml_safe(text: str) -> str:
    """`text` without the characters an XML file cannot hold."""
    return _ILLEGAL_XML.sub("", text)


def write_docx(doc: Document, handle: IO[bytes]) -> None:
    """Write `doc` as a .docx file to `handle`."""
    word = python_docx.Document()
    _page_setup(word)
    _styles(word)
    _properties(word, doc)
    _footer(word, doc.footer)
    _cover(word, doc)
    _contents(word, doc.sections)
    for section in doc.sections:
        _section(word, section)
    _update_fields_on_open(word)
    word.save(handle)


def _styled(paragraph: Any, style_id: str) -> Any:
    paragraph._p.get_or_add_pPr().style = style_id
    return paragraph


def _add(word: Docx, text: str, style_id: str) -> Any:
    return _styled(word.add_paragraph(text), style_id)


# --- page, styles, properties ---------------------------------------------------------------------


def _page_setup(word: Docx) -> None:
    section = word.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = PAGE_WIDTH, PAGE_HEIGHT
    section.top_margin, section.bottom_margin = MARGIN_TOP, MARGIN_BOTTOM
    section.left_margin, section.right_margin = MARGIN_LEFT, MARGIN_RIGHT
    section.header_distance, section.footer_distance = Cm(1.5), Cm(1.2)


def _set_fonts(rpr_parent: Any, east_asia: str, latin: str = LATIN_FONT) -> None:
    """Explicit fonts on an element holding a w:rPr (style, run or rPrDefault): the theme
    attributes would otherwise win over them."""
    rpr = rpr_parent.get_or_add_rPr() if hasattr(rpr_parent, "get_or_add_rPr") else rpr_parent
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for theme in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(theme), None)
    fonts.set(qn("w:ascii"), latin)
    fonts.set(qn("w:hAnsi"), latin)
    fonts.set(qn("w:cs"), latin)
    fonts.set(qn("w:eastAsia"), east_asia)


def _styles(word: Docx) -> None:
    styles = word.styles
    defaults = styles.element.find(qn("w:docDefaults"))
    rpr_default = defaults.find(qn("w:rPrDefault")).find(qn("w:rPr"))
    _set_fonts(rpr_default, BODY_FONT)
    lang = rpr_default.find(qn("w:lang"))
    if lang is not None:
        lang.set(qn("w:eastAsia"), "zh-CN")
    theme_lang = word.settings.element.find(qn("w:themeFontLang"))
    if theme_lang is not None:
        theme_lang.set(qn("w:eastAsia"), "zh-CN")

    normal = styles["Normal"]
    _set_fonts(normal.element, BODY_FONT)
    normal.font.size = Pt(12)  # 小四
    normal.paragraph_format.space_after = Pt(0)
    normal.paragraph_format.line_spacing = 1.15

    body = styles["Body Text"]
    _set_fonts(body.element, BODY_FONT)
    body.font.size = Pt(12)
    body.paragraph_format.first_line_indent = Pt(24)  # two characters
    body.paragraph_format.line_spacing = 1.5
    body.paragraph_format.space_after = Pt(3)
    body.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY

    for level, size, before, after in ((1, 16, 0, 12), (2, 14, 12, 6), (3, 12, 8, 4)):  # 三号 四号 小四
        heading = styles[f"Heading {level}"]
        _set_fonts(heading.element, HEADING_FONT)
        heading.font.size = Pt(size)
        heading.font.bold = True
        heading.font.color.rgb = RGBColor(0, 0, 0)
        heading.paragraph_format.space_before = Pt(before)
        heading.paragraph_format.space_after = Pt(after)
        heading.paragraph_format.keep_with_next = True
        heading.paragraph_format.page_break_before = level == 1  # each chapter on a new page

    caption = styles["Caption"]
    _set_fonts(caption.element, HEADING_FONT)
    caption.font.size = Pt(10.5)
    caption.font.color.rgb = RGBColor(0, 0, 0)
    caption.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    caption.paragraph_format.space_before = Pt(6)
    caption.paragraph_format.space_after = Pt(6)

    footer = styles["Footer"]
    footer.font.size = Pt(9)

    cell = styles.add_style("Table Text", WD_STYLE_TYPE.PARAGRAPH)
    cell.base_style = normal
    cell.font.size = Pt(10.5)  # 五号
    cell.paragraph_format.line_spacing = 1.0

    for level, indent in ((1, 0.0), (2, 0.74)):
        toc = styles.add_style(f"TOC {level}", WD_STYLE_TYPE.PARAGRAPH)
        toc.base_style = normal
        toc.font.size = Pt(12)
        toc.font.bold = level == 1
        toc.paragraph_format.left_indent = Cm(indent)
        toc.paragraph_format.space_after = Pt(4)


def _properties(word: Docx, doc: Document) -> None:
    core = word.core_properties
    author = xml_safe(doc.meta.get("author", ""))
    core.title = xml_safe(doc.title)
    core.subject = xml_safe(doc.meta.get("subject", ""))
    core.author = author
    core.last_modified_by = author
    core.keywords = xml_safe(doc.meta.get("keywords", ""))
    core.comments = xml_safe(doc.meta.get("description", ""))
    core.category = xml_safe(doc.meta.get("category", ""))
    core.language = "zh-CN"
    core.revision = 1
    now = datetime.now(UTC).replace(microsecond=0, tzinfo=None)
    core.created = core.modified = now


def _update_fields_on_open(word: Docx) -> None:
    """`<w:updateFields w:val="true"/>`: Word refreshes the TOC and page counts when it opens."""
    settings = word.settings.element
    flag = OxmlElement("w:updateFields")
    flag.set(qn("w:val"), "true")
    following = {qn(f"w:{name}") for name in _AFTER_UPDATE_FIELDS}
    following |= {qn("m:mathPr")}
    for child in settings:
        if child.tag in following:
            child.addprevious(flag)
            return
    settings.append(flag)


# --- fields, footer -------------------------------------------------------------------------------


def _field_char(paragraph: Any, kind: str) -> None:
    char = OxmlElement("w:fldChar")
    char.set(qn("w:fldCharType"), kind)
    if kind == "begin":
        char.set(qn("w:dirty"), "true")  # stale until updated
    paragraph.add_run()._r.append(char)


def _field_code(paragraph: Any, code: str) -> None:
    instr = OxmlElement("w:instrText")
    instr.set(qn("xml:space"), "preserve")
    instr.text = f" {code} "
    paragraph.add_run()._r.append(instr)


def _field(paragraph: Any, code: str, cached: str) -> None:
    _field_char(paragraph, "begin")
    _field_code(paragraph, code)
    _field_char(paragraph, "separate")
    paragraph.add_run(cached)
    _field_char(paragraph, "end")


def _footer(word: Docx, text: str) -> None:
    footer = word.sections[0].footer
    footer.is_linked_to_previous = False
    paragraph = footer.paragraphs[0]
    _styled(paragraph, "Footer")
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    if text.strip():
        paragraph.add_run(xml_safe(text) + "\u3000\u3000")
    paragraph.add_run("第 ")
    _field(paragraph, "PAGE", "1")
    paragraph.add_run(" 页 共 ")
    _field(paragraph, "NUMPAGES", "1")
    paragraph.add_run(" 页")


# --- cover, contents, sections --------------------------------------------------------------------


def _run(paragraph: Any, text: str, *, size: float | None = None, bold: bool = False, font: str = "") -> Any:
    run = paragraph.add_run(xml_safe(text))
    if size is not None:
        run.font.size = Pt(size)
    run.font.bold = bold or None
    if font:
        _set_fonts(run._r, font)
    return run


def _cover(word: Docx, doc: Document) -> None:
    title = word.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    title.paragraph_format.space_before = Cm(5)
    title.paragraph_format.space_after = Pt(18)
    title.paragraph_format.line_spacing = 1.3
    _run(title, doc.title, size=26, bold=True, font=HEADING_FONT)
    if doc.subtitle:
        subtitle = word.add_paragraph()
        subtitle.alignment = WD_ALIGN_PARAGRAPH.CENTER
        subtitle.paragraph_format.space_after = Cm(3)
        _run(subtitle, doc.subtitle, size=16, font=HEADING_FONT)
    else:
        title.paragraph_format.space_after = Cm(4)
    if doc.cover:
        lines = word.add_table(rows=len(doc.cover), cols=2)
        lines.alignment = WD_TABLE_ALIGNMENT.CENTER
        _no_borders(lines)
        _column_widths(lines, [Cm(4.0), Cm(8.0)])
        for row, (label, value) in zip(lines.rows, doc.cover, strict=True):
            left, right = row.cells
            left.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT
            _run(left.paragraphs[0], f"{label}：", size=15, font=HEADING_FONT)
            _run(right.paragraphs[0], value, size=15)
            for cell in row.cells:
                cell.paragraphs[0].paragraph_format.space_after = Pt(8)
    word.add_paragraph().add_run().add_break(WD_BREAK.PAGE)


def _toc_entries(sections: Sequence[Section]) -> Iterator[tuple[int, str]]:
    for section in sections:
        if section.level <= 2:
            yield section.level, section.title
        if section.level < 2:
            yield from _toc_entries(section.children)


def _contents(word: Docx, sections: Sequence[Section]) -> None:
    heading = word.add_paragraph()
    heading.alignment = WD_ALIGN_PARAGRAPH.CENTER
    heading.paragraph_format.space_after = Pt(18)
    _run(heading, "目　录", size=16, bold=True, font=HEADING_FONT)
    entries = list(_toc_entries(sections)) or [(1, "（无章节）")]
    # one field spanning several paragraphs, as Word writes it: begin/code/separate in the first,
    # the prefilled entries (titles, no page numbers until updated), end in the last
    for index, (level, title) in enumerate(entries):
        paragraph = _add(word, "", f"TOC{level}")
        if index == 0:
            _field_char(paragraph, "begin")
            _field_code(paragraph, 'TOC \\o "1-2" \\h \\z \\u')
            _field_char(paragraph, "separate")
        paragraph.add_run(xml_safe(title))
    end = word.add_paragraph()
    _field_char(end, "end")


def _section(word: Docx, section: Section) -> None:
    level = min(max(section.level, 1), 3)
    _add(word, xml_safe(section.title), f"Heading{level}")
    for block in section.blocks:
        if isinstance(block, Paragraph):
            _paragraph(word, block)
        elif isinstance(block, Facts):
            _facts(word, block)
        elif isinstance(block, Table):
            _table(word, block)
        elif isinstance(block, Chart):
            _chart(word, block)
    for child in section.children:
        _section(word, child)


def _paragraph(word: Docx, block: Paragraph) -> None:
    # one Word paragraph per line: a justified line ending in a manual break would be stretched
    for line in xml_safe(block.text).splitlines() or [""]:
        paragraph = _add(word, "", BODY)
        run = paragraph.add_run(line)
        if block.style == "emphasis":
            run.font.bold = True
        elif block.style == "note":
            paragraph.paragraph_format.first_line_indent = Pt(0)
            paragraph.paragraph_format.line_spacing = 1.2
            run.font.size = Pt(10.5)
            run.font.color.rgb = RGBColor(0x59, 0x59, 0x59)


# --- tables, charts -------------------------------------------------------------------------------


def _no_borders(table: Any) -> None:
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        element = OxmlElement(f"w:{edge}")
        element.set(qn("w:val"), "nil")
        borders.append(element)
    table._tbl.tblPr.append(borders)


def _column_widths(table: Any, widths: Sequence[int]) -> None:
    """Fixed layout with the given widths (EMU): gridCol for LibreOffice, tcW for Word."""
    table.autofit = False
    total = OxmlElement("w:tblW")
    total.set(qn("w:w"), str(sum(int(Emu(w).twips) for w in widths)))
    total.set(qn("w:type"), "dxa")
    existing = table._tbl.tblPr.find(qn("w:tblW"))
    if existing is not None:
        table._tbl.tblPr.remove(existing)
    table._tbl.tblPr.append(total)
    for column, width in zip(table.columns, widths, strict=True):
        column.width = width
    for row in table.rows:
        for cell, width in zip(row.cells, widths, strict=True):
            cell.width = width


def _row_flags(row: Any, *, header: bool) -> None:
    properties = row._tr.get_or_add_trPr()
    properties.append(OxmlElement("w:cantSplit"))
    if header:
        properties.append(OxmlElement("w:tblHeader"))  # repeated on every page


def _shade(cell: Any, fill: str) -> None:
    shading = OxmlElement("w:shd")
    shading.set(qn("w:val"), "clear")
    shading.set(qn("w:color"), "auto")
    shading.set(qn("w:fill"), fill)
    cell._tc.get_or_add_tcPr().append(shading)


def _caption(word: Docx, text: str, *, keep_with_next: bool) -> None:
    caption = _add(word, xml_safe(text), "Caption")
    caption.paragraph_format.keep_with_next = keep_with_next


def _facts(word: Docx, block: Facts) -> None:
    if not block.items:
        return
    table = word.add_table(rows=len(block.items), cols=2)
    _no_borders(table)
    _column_widths(table, [Cm(4.2), Emu(TEXT_WIDTH - Cm(4.2))])
    for row, (label, value) in zip(table.rows, block.items, strict=True):
        _row_flags(row, header=False)
        left, right = row.cells
        _styled(left.paragraphs[0], TABLE_TEXT)
        _styled(right.paragraphs[0], TABLE_TEXT)
        _run(left.paragraphs[0], f"{label.rstrip('：:')}：", bold=True)
        _run(right.paragraphs[0], value)
    word.add_paragraph()


def _table(word: Docx, block: Table) -> None:
    if block.caption:
        _caption(word, block.caption, keep_with_next=True)
    if not block.rows:
        empty = _add(word, xml_safe(block.empty), BODY)
        empty.paragraph_format.first_line_indent = Pt(0)
        empty.alignment = WD_ALIGN_PARAGRAPH.CENTER
        return
    columns = len(block.header)
    relative = list(block.widths) if block.widths and len(block.widths) == columns else [1.0] * columns
    scale = sum(relative) or 1.0
    widths = [Emu(int(TEXT_WIDTH * w / scale)) for w in relative]
    numeric = set(block.numeric)
    table = word.add_table(rows=len(block.rows) + 1, cols=columns)
    table.style = word.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    _column_widths(table, widths)
    for index, row in enumerate(table.rows):
        header = index == 0
        values = block.header if header else block.rows[index - 1]
        _row_flags(row, header=header)
        for column, cell in enumerate(row.cells):
            paragraph = cell.paragraphs[0]
            _styled(paragraph, TABLE_TEXT)
            if header:
                paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
                _shade(cell, HEADER_FILL)
            elif column in numeric:
                paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
            text = str(values[column]) if column < len(values) else ""
            _run(paragraph, text, bold=header)
    word.add_paragraph()


def _chart(word: Docx, block: Chart) -> None:
    width = min(CHART_WIDTH_CM, TEXT_WIDTH / 360000)
    png = render_png(block, width_cm=width, show_title=False)
    picture = word.add_paragraph()
    picture.alignment = WD_ALIGN_PARAGRAPH.CENTER
    picture.paragraph_format.keep_with_next = True
    picture.paragraph_format.space_before = Pt(6)
    picture.add_run().add_picture(io.BytesIO(png), width=Cm(width))
    _caption(word, block.title, keep_with_next=False)
