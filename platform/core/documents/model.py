"""The content model of a printable document: what the Word and the PDF renderers both read, so
that the two files say the same thing.

A `Document` has a cover (title, subtitle, label/value lines), then `Section`s (level 1 headings
make the table of contents; levels 2–3 are sub-headings), each a sequence of blocks: paragraphs,
key/value lists, tables and charts. Text is plain (no markup); the renderers escape it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal


@dataclass(frozen=True)
class Paragraph:
    text: str
    style: Literal["body", "note", "emphasis"] = "body"


@dataclass(frozen=True)
class Facts:
    """Label / value lines (项目名称：…), shown as a two-column borderless table."""

    items: Sequence[tuple[str, str]]


@dataclass(frozen=True)
class Table:
    header: Sequence[str]
    rows: Sequence[Sequence[str]]
    caption: str = ""
    # relative column widths (same length as header); None: equal
    widths: Sequence[float] | None = None
    # columns aligned right (numbers, money): indexes into header
    numeric: Sequence[int] = ()
    empty: str = "（无）"  # shown instead of the table when it has no rows


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float | None]  # None: no value at that category


@dataclass(frozen=True)
class Chart:
    """A bar or line chart drawn server-side (PNG) into both files."""

    title: str
    kind: Literal["bar", "line", "barh"]
    categories: Sequence[str]
    series: Sequence[Series]
    unit: str = ""  # the value axis' unit (%, 分 …)
    # horizontal reference lines (e.g. 序时进度 100 %, 及格线 60): (label, value)
    marks: Sequence[tuple[str, float]] = ()


Block = Paragraph | Facts | Table | Chart


@dataclass(frozen=True)
class Section:
    title: str
    level: int = 1  # 1: a chapter (in the table of contents), 2–3: sub-headings
    blocks: Sequence[Block] = ()
    children: Sequence[Section] = ()


@dataclass(frozen=True)
class Document:
    title: str  # 宁夏回族自治区兴庆区 市县预算绩效一体化管理试点 试点报告
    subtitle: str = ""  # 第 2 版
    cover: Sequence[tuple[str, str]] = ()  # 地区, 试点, 生成日期, 版本 …
    sections: Sequence[Section] = ()
    footer: str = ""  # a line at the foot of every page, before the page number
    meta: dict[str, str] = field(default_factory=dict)  # author, subject (the files' properties)
