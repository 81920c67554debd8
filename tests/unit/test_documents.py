"""The printable-document renderers (platform/core/documents): one Chinese report, rendered once
per module to Word, to PDF (WeasyPrint) and from Word to PDF (LibreOffice), then read back the way
a reader meets it — headings, tables, pictures, page footers, table of contents, extractable text,
embedded CJK fonts."""

from __future__ import annotations

import io
import os
import re
import shutil
import struct
import subprocess
import uuid
import zlib
from dataclasses import dataclass
from pathlib import Path

import docx as python_docx
import pytest
from docx.enum.text import WD_ALIGN_PARAGRAPH

from jixiao.platform.core.documents.charts import font_families, render_png
from jixiao.platform.core.documents.docx import write_docx
from jixiao.platform.core.documents.model import (
    Chart,
    Document,
    Facts,
    Paragraph,
    Section,
    Series,
    Table,
)
from jixiao.platform.core.documents.pdf import to_html, write_pdf

pytestmark = pytest.mark.once

CHAPTERS = ("一、试点基本情况", "二、项目绩效目标与执行监控", "三、问题与整改")
SUBSECTIONS = ("（一）试点范围", "（二）组织保障", "（一）绩效目标审核", "（二）执行监控")
HEADER = ("序号", "项目名称", "主管部门", "预算金额（万元）", "执行率（%）")
PLACES = ("兴庆区", "金凤区", "西夏区", "永宁县", "贺兰县", "灵武市", "银川市", "石嘴山市")
WORKS = ("老旧小区改造", "义务教育营养餐", "高标准农田建设", "乡村道路养护", "城乡医疗救助")
DEPARTMENTS = ("住建局", "教育局", "农业农村局", "交通运输局", "民政局")
PROJECTS = [f"{PLACES[i % 8]}{WORKS[i % 5]}项目（第{i + 1}批）" for i in range(40)]


def _report() -> Document:
    rows = [
        [str(i + 1), name, DEPARTMENTS[i % 5], f"{120 + i * 37.5:,.2f}", f"{55 + (i * 7) % 45}.0"]
        for i, name in enumerate(PROJECTS)
    ]
    targets = Table(
        header=HEADER,
        rows=rows,
        caption="表1 试点项目绩效目标及执行情况",
        widths=(0.6, 4.4, 1.6, 1.8, 1.2),
        numeric=(3, 4),
    )
    execution = Chart(
        title="图1 各区县预算执行率",
        kind="bar",
        categories=PLACES[:6],
        series=(
            Series("预算执行率", (85, 92.5, None, 70, 101, 66)),
            Series("上年同期", (80, 88, 75, 72, 90, 60)),
        ),
        unit="%",
        marks=(("序时进度", 75.0),),
    )
    progress = Chart(
        title="图2 月度执行进度",
        kind="line",
        categories=[f"{m}月" for m in range(1, 13)],
        series=(Series("兴庆区", (5, 12, 20, None, 41, 50, 58, 66, 72, 80, 90, 98)),),
        unit="%",
        marks=(("及格线", 60.0),),
    )
    return Document(
        title="宁夏回族自治区兴庆区 市县预算绩效一体化管理试点 试点报告",
        subtitle="第 2 版",
        cover=(("地区", "兴庆区"), ("试点", "市县预算绩效一体化管理试点"), ("生成日期", "2025年6月30日")),
        footer="兴庆区财政局 · 试点报告（内部资料）",
        meta={"author": "兴庆区财政局", "subject": "预算绩效管理试点报告"},
        sections=(
            Section(
                CHAPTERS[0],
                blocks=(
                    Paragraph("兴庆区按照自治区财政厅的统一部署，开展市县预算绩效一体化管理试点。"),
                    Facts(
                        (("试点单位", "兴庆区财政局"), ("试点期间", "2025年1月至12月"), ("项目数", "40 个"))
                    ),
                ),
                children=(
                    Section(
                        SUBSECTIONS[0], 2, (Paragraph("覆盖区本级全部一级预算单位。\n涉及资金 1.2 亿元。"),)
                    ),
                    Section(
                        SUBSECTIONS[1],
                        2,
                        (Paragraph("成立试点工作领导小组\x07，由分管副区长任组长。", "note"),),
                    ),
                ),
            ),
            Section(
                CHAPTERS[1],
                blocks=(Paragraph("绩效目标随预算同步申报、同步审核、同步批复。", "emphasis"),),
                children=(
                    Section(SUBSECTIONS[2], 2, (targets,)),
                    Section(
                        SUBSECTIONS[3],
                        2,
                        (execution,),
                        children=(Section("1. 序时进度", 3, (progress, Paragraph("A&B <b>不加粗</b>"))),),
                    ),
                ),
            ),
            Section(
                CHAPTERS[2],
                blocks=(
                    Table(
                        header=("整改事项", "期限"),
                        rows=(),
                        caption="表2 整改事项清单",
                        empty="（暂无整改事项）",
                    ),
                    Paragraph("下一步将持续跟踪整改落实情况。"),
                ),
            ),
        ),
    )


def _tool(name: str) -> str:
    found = shutil.which(name) or (f"/usr/bin/{name}" if Path(f"/usr/bin/{name}").exists() else None)
    if found is None:
        message = f"{name} is not installed (Debian: poppler-utils / libreoffice-writer-nogui)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return found


def _squash(text: str) -> str:
    """Text without white space: pdftotext drops or adds spaces around CJK and wraps cells."""
    return re.sub(r"\s+", "", text)


def _run(*args: str | Path, timeout: float = 60) -> str:
    done = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=timeout, check=True)
    return done.stdout


@dataclass(frozen=True)
class Pdf:
    path: Path

    def text(self, page: int | None = None, *, layout: bool = False) -> str:
        pages = ["-f", str(page), "-l", str(page)] if page else []
        flags = ["-layout"] if layout else []
        return _run(_tool("pdftotext"), *flags, *pages, self.path, "-")

    def info(self) -> str:
        return _run(_tool("pdfinfo"), self.path)

    def pages(self) -> int:
        return int(re.search(r"^Pages:\s+(\d+)", self.info(), re.M).group(1))  # type: ignore[union-attr]

    def fonts(self) -> str:
        return _run(_tool("pdffonts"), self.path)


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("documents")
    report = _report()
    with (folder / "report.docx").open("wb") as handle:
        write_docx(report, handle)
    with (folder / "report.pdf").open("wb") as handle:
        write_pdf(report, handle)
    (folder / "report.html").write_text(to_html(report), encoding="utf-8")
    return {"docx": folder / "report.docx", "pdf": folder / "report.pdf", "html": folder / "report.html"}


@pytest.fixture(scope="module")
def word(files: dict[str, Path]) -> python_docx.document.Document:
    return python_docx.Document(str(files["docx"]))


@pytest.fixture(scope="module")
def pdf(files: dict[str, Path]) -> Pdf:
    return Pdf(files["pdf"])


# --- Word ------------------------------------------------------------------------------------------


def test_docx_headings_use_the_heading_styles(word: python_docx.document.Document) -> None:
    by_style: dict[str, list[str]] = {}
    for paragraph in word.paragraphs:
        by_style.setdefault(paragraph.style.name, []).append(paragraph.text)
    assert by_style["Heading 1"] == list(CHAPTERS)
    assert by_style["Heading 2"] == list(SUBSECTIONS)
    assert by_style["Heading 3"] == ["1. 序时进度"]
    fonts = word.styles["Heading 1"].element.rPr.rFonts
    assert fonts.get("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}eastAsia") == "黑体"
    section = word.sections[0]
    assert (round(section.page_width.cm, 1), round(section.page_height.cm, 1)) == (21.0, 29.7)
    assert word.core_properties.title.startswith("宁夏回族自治区兴庆区")
    assert word.core_properties.author == "兴庆区财政局"


def test_docx_tables_pictures_and_clean_text(word: python_docx.document.Document) -> None:
    data = [t for t in word.tables if t.rows and tuple(c.text for c in t.rows[0].cells) == HEADER]
    assert len(data) == 1
    table = data[0]
    assert len(table.rows) == 41
    assert [table.rows[i].cells[1].text for i in (1, 40)] == [PROJECTS[0], PROJECTS[39]]
    assert table.style.name == "Table Grid"
    assert (
        table.rows[0]._tr.trPr.find("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}tblHeader")
        is not None
    )
    assert table.rows[0].cells[0].paragraphs[0].runs[0].bold
    assert table.rows[5].cells[3].paragraphs[0].alignment == WD_ALIGN_PARAGRAPH.RIGHT
    assert table.rows[5].cells[1].paragraphs[0].alignment != WD_ALIGN_PARAGRAPH.RIGHT
    assert table.rows[5].cells[1].width > table.rows[5].cells[0].width * 3  # widths honoured
    facts = [t for t in word.tables if t.rows and t.rows[0].cells[0].text == "试点单位："]
    assert facts and facts[0].rows[0].cells[1].text == "兴庆区财政局"
    texts = [p.text for p in word.paragraphs]
    assert "（暂无整改事项）" in texts and "表2 整改事项清单" in texts
    assert "成立试点工作领导小组，由分管副区长任组长。" in texts  # the control character is gone
    assert "涉及资金 1.2 亿元。" in texts  # one paragraph per line
    assert len(word.inline_shapes) == 2
    assert "图1 各区县预算执行率" in texts and "图2 月度执行进度" in texts


def test_docx_footer_and_table_of_contents(word: python_docx.document.Document) -> None:
    footer = word.sections[0].footer._element.xml
    codes = re.findall(r"<w:instrText[^>]*>([^<]*)</w:instrText>", footer)
    assert [code.strip() for code in codes] == ["PAGE", "NUMPAGES"]
    assert "兴庆区财政局 · 试点报告（内部资料）" in word.sections[0].footer.paragraphs[0].text
    body = word.element.body.xml
    assert re.search(r'<w:instrText[^>]*>\s*TOC \\o "1-2"', body)
    toc = [p.text for p in word.paragraphs if p.style.name.startswith("TOC")]
    assert toc[:3] == [CHAPTERS[0], SUBSECTIONS[0], SUBSECTIONS[1]] and CHAPTERS[2] in toc
    assert "1. 序时进度" not in toc  # level 3 stays out of the contents
    assert 'w:updateFields w:val="true"' in word.settings.element.xml


# --- PDF (WeasyPrint) ------------------------------------------------------------------------------


def test_pdf_is_a4_with_searchable_chinese_text_and_page_numbers(pdf: Pdf) -> None:
    info = pdf.info()
    size = re.search(r"Page size:\s+([\d.]+) x ([\d.]+) pts", info)
    assert size and abs(float(size[1]) - 595.28) < 0.5 and abs(float(size[2]) - 841.89) < 0.5
    pages = pdf.pages()
    assert pages >= 5
    text = _squash(pdf.text())
    for title in (*CHAPTERS, *SUBSECTIONS, *PROJECTS, "（暂无整改事项）", "兴庆区财政局"):
        assert _squash(title) in text
    assert "成立试点工作领导小组，由分管副区长任组长。" in text
    assert f"第1页共{pages}页" in _squash(pdf.text(1))
    assert f"第{pages}页共{pages}页" in _squash(pdf.text(pages))
    assert "试点报告（内部资料）" in pdf.text(pages)


def test_pdf_embeds_a_cjk_font(pdf: Pdf) -> None:
    lines = pdf.fonts().splitlines()
    embedded = [
        line for line in lines if re.search(r"Noto\S*CJK", line, re.I) and re.search(r"\byes\b", line)
    ]
    assert embedded, "\n".join(lines)
    # the emb column (after name, type, encoding) says yes
    assert any(
        re.search(r"(CID|TrueType|Type)\S*\s.*?\s+yes\s+(yes|no)\s+(yes|no)", line) for line in embedded
    )


def test_pdf_contents_list_the_chapters_with_their_pages(pdf: Pdf) -> None:
    toc = pdf.text(2, layout=True)
    assert "目" in toc and "录" in toc
    for title in CHAPTERS:
        match = re.search(re.escape(title) + r"[\s.·…]*?(\d+)\s*$", toc, re.M)
        assert match, f"{title} not in the contents:\n{toc}"
        assert _squash(title) in _squash(pdf.text(int(match[1]))), f"{title} is not on page {match[1]}"
    assert SUBSECTIONS[2] in toc and "1. 序时进度" not in toc


def test_pdf_table_header_repeats_on_every_page_of_the_table(pdf: Pdf) -> None:
    texts = {n: _squash(pdf.text(n)) for n in range(1, pdf.pages() + 1)}
    pages = [n for n, text in texts.items() if any(_squash(p) in text for p in PROJECTS)]
    assert len(pages) >= 2  # the 40 rows span pages
    for number in pages:
        assert "项目名称主管部门" in texts[number], f"no table header on page {number}"


def _pdf_objects(path: Path) -> bytes:
    """The PDF's objects with the (zlib) streams inflated: WeasyPrint packs them in object streams."""
    data = path.read_bytes()
    parts = [data]
    for match in re.finditer(rb"stream\r?\n", data):
        end = data.find(b"endstream", match.end())
        try:
            parts.append(zlib.decompress(data[match.end() : end]))
        except zlib.error:
            continue  # images and fonts that are not deflated, or not whole
    return b"\n".join(parts)


def test_pdf_headings_are_bookmarks(pdf: Pdf) -> None:
    objects = _pdf_objects(pdf.path).lower()
    assert b"/outlines" in objects
    for title in (*CHAPTERS, SUBSECTIONS[3], "目录"):
        assert b"<feff" + title.encode("utf-16-be").hex().encode() + b">" in objects, title


def test_html_escapes_text_and_embeds_charts(files: dict[str, Path]) -> None:
    html = files["html"].read_text(encoding="utf-8")
    assert "A&amp;B &lt;b&gt;不加粗&lt;/b&gt;" in html
    assert "<b>不加粗" not in html
    assert html.count('src="data:image/png;base64,') == 2
    assert "http://" not in html and "https://" not in html


# --- charts ----------------------------------------------------------------------------------------


def _png_chunks(png: bytes) -> list[bytes]:
    chunks, at = [], 8
    while at < len(png):
        (length,) = struct.unpack(">I", png[at : at + 4])
        chunks.append(png[at + 4 : at + 8])
        at += 12 + length
    return chunks


def test_chart_png_is_deterministic_and_uses_a_cjk_font() -> None:
    assert font_families()[0].startswith("Noto Sans CJK")
    chart = Chart(
        "自评得分",
        "barh",
        ("兴庆区", "金凤区", "西夏区"),
        (Series("得分", (90.8, None, 58)),),
        "分",
        (("及格线", 60.0),),
    )
    first, second = render_png(chart), render_png(chart)
    assert first == second and first.startswith(b"\x89PNG\r\n\x1a\n")
    width, _height = struct.unpack(">II", first[16:24])
    assert abs(width - round(15 / 2.54 * 150)) <= 2
    assert b"tIME" not in _png_chunks(first) and b"tEXt" not in _png_chunks(first)
    empty = render_png(Chart("空", "line", (), ()))
    assert empty.startswith(b"\x89PNG") and zlib.crc32(empty) != zlib.crc32(first)


# --- Word → PDF (LibreOffice) ----------------------------------------------------------------------


def test_docx_converts_with_libreoffice(files: dict[str, Path], tmp_path: Path) -> None:
    soffice = _tool("soffice")
    profile = f"file:///tmp/lo_{uuid.uuid4().hex}"
    try:
        subprocess.run(
            [soffice, f"-env:UserInstallation={profile}", "--headless", "--convert-to", "pdf",
             "--outdir", str(tmp_path), str(files["docx"])],
            capture_output=True, timeout=120, check=True,
        )  # fmt: skip
    finally:
        shutil.rmtree(profile.removeprefix("file://"), ignore_errors=True)
    converted = Pdf(tmp_path / "report.pdf")
    text = _squash(converted.text())
    for title in (*CHAPTERS, *PROJECTS, "第1页共"):
        assert _squash(title) in text
    assert io.BytesIO(converted.path.read_bytes()).read(5) == b"%PDF-"
