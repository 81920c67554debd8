"""A `Document` as HTML (Jinja, `templates/document.html`) and as PDF (WeasyPrint from that HTML):
A4 pages with "第 X 页 共 Y 页" at the foot, a cover, a table of contents with page numbers, headings
as PDF bookmarks, tables whose header repeats on every page, charts as the same PNGs as in the
Word file. WeasyPrint fetches nothing from the network: only data: URIs are allowed."""

from __future__ import annotations

import base64
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from .charts import render_png
from .docx import xml_safe
from .model import Chart, Document, Facts, Paragraph, Section, Table

TEMPLATES = Path(__file__).resolve().parent / "templates"
CHART_WIDTH_CM = 15.0


def css_string(value: str) -> Markup:
    """`value` as a quoted CSS string, safe inside a <style> element (no quote, backslash, angle
    bracket or ampersand left unescaped)."""
    escaped = "".join(
        f"\\{ord(char):x} " if char in "\\\"'<>&" or ord(char) < 0x20 else char for char in xml_safe(value)
    )
    return Markup(f'"{escaped}"')


_environment = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
_environment.filters["css_string"] = css_string
_environment.filters["clean"] = xml_safe


@dataclass
class _Node:
    """A section as the template walks it: anchor id, clean title, blocks with a `kind`."""

    anchor: str
    title: str
    level: int
    blocks: list[dict[str, Any]] = field(default_factory=list)
    children: list[_Node] = field(default_factory=list)


def _block(block: Paragraph | Facts | Table | Chart) -> dict[str, Any]:
    if isinstance(block, Paragraph):
        lines = xml_safe(block.text).splitlines() or [""]
        return {"kind": "paragraph", "lines": lines, "style": block.style}
    if isinstance(block, Facts):
        return {"kind": "facts", "items": [(xml_safe(k), xml_safe(v)) for k, v in block.items]}
    if isinstance(block, Table):
        columns = len(block.header)
        relative = list(block.widths) if block.widths and len(block.widths) == columns else [1.0] * columns
        scale = sum(relative) or 1.0
        return {
            "kind": "table",
            "caption": xml_safe(block.caption),
            "header": [xml_safe(cell) for cell in block.header],
            "rows": [[xml_safe(str(value)) for value in row] for row in block.rows],
            "widths": [round(100 * w / scale, 3) for w in relative],
            "numeric": set(block.numeric),
            "empty": xml_safe(block.empty),
        }
    png = render_png(block, width_cm=CHART_WIDTH_CM, show_title=False)
    return {
        "kind": "chart",
        "title": xml_safe(block.title),
        "src": "data:image/png;base64," + base64.b64encode(png).decode("ascii"),
    }


def _nodes(sections: Sequence[Section], counter: Iterator[int]) -> list[_Node]:
    return [
        _Node(
            anchor=f"s{next(counter)}",
            title=xml_safe(section.title),
            level=min(max(section.level, 1), 3),
            blocks=[_block(block) for block in section.blocks],
            children=_nodes(section.children, counter),
        )
        for section in sections
    ]


def _toc(nodes: Sequence[_Node]) -> Iterator[_Node]:
    for node in nodes:
        if node.level <= 2:
            yield node
        if node.level < 2:
            yield from _toc(node.children)


def to_html(doc: Document) -> str:
    """The whole document as one HTML page (styles inline, charts as data: URIs)."""
    nodes = _nodes(doc.sections, iter(range(1, 1_000_000)))
    return _environment.get_template("document.html").render(
        doc=doc,
        sections=nodes,
        toc=list(_toc(nodes)),
        author=doc.meta.get("author", ""),
        subject=doc.meta.get("subject", ""),
        keywords=doc.meta.get("keywords", ""),
        chart_width=CHART_WIDTH_CM,
    )


def write_pdf(doc: Document, handle: IO[bytes]) -> None:
    """Write `doc` as a PDF to `handle` (WeasyPrint; fonts from fontconfig, nothing fetched)."""
    from weasyprint import HTML  # heavy import (Pango, fontconfig): only when a PDF is made
    from weasyprint.urls import URLFetcher

    fetcher = URLFetcher(allowed_protocols={"data"}, allow_redirects=False)
    HTML(string=to_html(doc), base_url=None, url_fetcher=fetcher).write_pdf(handle)
