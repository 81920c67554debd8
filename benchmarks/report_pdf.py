"""Printable report at pilot-report size: DOCX, PDF by WeasyPrint (from the HTML of the same model),
PDF by LibreOffice headless (from the DOCX).

    .venv/bin/python benchmarks/report_pdf.py              # 5 runs per engine
    .venv/bin/python benchmarks/report_pdf.py --runs 10 --keep /tmp/report-files

The document: 2 projects × 5 stage chapters (事前评估 … 结果应用), tables of 20–60 rows, 4 charts.
Each engine runs in its own child process (its peak RSS from `os.wait4`; LibreOffice's own process
is a grandchild, counted through the child's RUSAGE_CHILDREN) and renders the whole document from
the model N times. Printed per engine: median / p95 / first-run seconds, peak RSS, pages, text
fidelity (share of the section titles and table cell texts pdftotext finds), CJK fonts embedded
(pdffonts) and whether the header of the longest table repeats on the table's second page.
Not a test and not run by `make test`. Needs poppler-utils and libreoffice-writer-nogui.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from jixiao.platform.core.documents.docx import write_docx
from jixiao.platform.core.documents.model import Chart, Document, Facts, Paragraph, Section, Series, Table
from jixiao.platform.core.documents.pdf import write_pdf

ENGINES = ("docx", "weasyprint", "libreoffice")
STAGES = ("事前绩效评估", "绩效目标管理", "绩效运行监控", "绩效评价", "评价结果应用")
PROJECTS = ("兴庆区老旧小区改造提升项目", "兴庆区义务教育学生营养改善计划项目")
NUMERALS = "一二三四五六七八九十"
HEADER = ("序号", "指标名称", "指标值", "实际完成值", "完成率（%）", "偏差原因")
TEXT = (
    "按照《宁夏回族自治区预算绩效管理办法》的要求，项目单位对照年初设定的绩效目标，"
    "逐项核实产出数量、质量、时效和成本指标的完成情况，分析偏差原因并提出改进措施。"
)


def build_document() -> Document:
    chapters: list[Section] = []
    charts = 0
    for p, project in enumerate(PROJECTS):
        for s, stage in enumerate(STAGES):
            rows_count = 20 + 10 * s  # 20, 30, 40, 50, 60 rows
            rows = [
                [
                    str(r + 1),
                    f"{stage[:2]}指标{p + 1}-{s + 1}-{r + 1:02d}{'数量' if r % 3 == 0 else '质量'}",
                    f"{100 + r * 3}",
                    f"{90 + (r * 7) % 25}",
                    f"{(90 + (r * 7) % 25) / (100 + r * 3) * 100:.1f}",
                    "施工期受雨季影响" if r % 4 == 1 else "",
                ]
                for r in range(rows_count)
            ]
            blocks: list[Paragraph | Facts | Table | Chart] = [
                Paragraph(TEXT * 2),
                Facts((("项目名称", project), ("阶段", stage), ("主管部门", "兴庆区住房和城乡建设局"))),
            ]
            if stage in ("绩效运行监控", "绩效评价") and charts < 4:
                charts += 1
                blocks.append(
                    Chart(
                        title=f"图{charts} {project} {stage}",
                        kind="bar" if stage == "绩效运行监控" else "barh",
                        categories=[f"{m}月" for m in range(1, 13)]
                        if stage == "绩效运行监控"
                        else ["决策", "过程", "产出", "效益"],
                        series=(
                            Series("执行率", [float(m * 8) for m in range(1, 13)]),
                            Series("序时进度", [m * 8.33 for m in range(1, 13)]),
                        )
                        if stage == "绩效运行监控"
                        else (Series("得分", (18.0, 17.5, 30.0, 25.3)),),
                        unit="%" if stage == "绩效运行监控" else "分",
                        marks=(("序时进度", 75.0),) if stage == "绩效运行监控" else (),
                    )
                )
            table = Table(
                header=HEADER,
                rows=rows,
                caption=f"表{p * 5 + s + 1} {project}{stage}指标完成情况",
                widths=(0.6, 3.0, 1.0, 1.2, 1.1, 2.0),
                numeric=(2, 3, 4),
            )
            chapters.append(
                Section(
                    f"第{NUMERALS[p * 5 + s]}章 {project} {stage}",
                    blocks=tuple(blocks),
                    children=(
                        Section("（一）总体情况", 2, (Paragraph(TEXT), Paragraph(TEXT))),
                        Section("（二）指标完成情况", 2, (table,)),
                        Section("（三）存在问题及改进措施", 2, (Paragraph(TEXT, "note"),)),
                    ),
                )
            )
    return Document(
        title="宁夏回族自治区兴庆区 市县预算绩效一体化管理试点 试点报告",
        subtitle="第 1 版",
        cover=(("地区", "兴庆区"), ("试点", "市县预算绩效一体化管理试点"), ("生成日期", "2025年6月30日")),
        sections=tuple(chapters),
        footer="兴庆区财政局 · 试点报告",
        meta={"author": "兴庆区财政局", "subject": "试点报告"},
    )


def expected_texts(doc: Document) -> list[str]:
    found: list[str] = []

    def walk(sections: tuple[Section, ...] | list[Section]) -> None:
        for section in sections:
            found.append(section.title)
            for block in section.blocks:
                if isinstance(block, Table):
                    found.extend(cell for row in [block.header, *block.rows] for cell in row if cell)
            walk(list(section.children))

    walk(list(doc.sections))
    return found


# --- child: one engine, N runs ----------------------------------------------------------------------


def soffice_convert(docx: Path, outdir: Path, profile: str) -> Path:
    subprocess.run(
        ["soffice", f"-env:UserInstallation={profile}", "--headless", "--convert-to", "pdf",
         "--outdir", str(outdir), str(docx)],
        capture_output=True, timeout=300, check=True,
    )  # fmt: skip
    return outdir / (docx.stem + ".pdf")


def child(engine: str, runs: int, out: Path) -> None:
    doc = build_document()
    times: list[float] = []
    profile = f"file:///tmp/lo_bench_{uuid.uuid4().hex}"  # one profile per process, as a worker would
    work = Path(tempfile.mkdtemp(prefix="report_bench_"))
    try:
        for _ in range(runs):
            started = time.perf_counter()
            if engine == "docx":
                with (out / "report.docx").open("wb") as handle:
                    write_docx(doc, handle)
            elif engine == "weasyprint":
                buffer = io.BytesIO()
                write_pdf(doc, buffer)
                (out / "weasyprint.pdf").write_bytes(buffer.getvalue())
            else:
                with (work / "report.docx").open("wb") as handle:
                    write_docx(doc, handle)
                shutil.copyfile(soffice_convert(work / "report.docx", work, profile), out / "libreoffice.pdf")
            times.append(time.perf_counter() - started)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(profile.removeprefix("file://"), ignore_errors=True)
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(json.dumps({"times": times, "rss_self_kb": own, "rss_children_kb": children}))


# --- parent: run children, inspect the files ---------------------------------------------------------


def run_child(engine: str, runs: int, out: Path) -> tuple[list[float], int]:
    """The child's run times and its peak RSS in KiB (its own, or LibreOffice's if larger)."""
    with tempfile.TemporaryFile("w+") as stdout:
        cmd = [sys.executable, __file__, "--child", engine, "--runs", str(runs), "--keep", str(out)]
        process = subprocess.Popen(cmd, stdout=stdout)
        _pid, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode:
            raise SystemExit(f"{engine} failed ({process.returncode})")
        stdout.seek(0)
        result = json.loads(stdout.read().strip().splitlines()[-1])
    rss_kb = max(usage.ru_maxrss, int(result["rss_children_kb"]))  # wait4: the child itself
    return [float(t) for t in result["times"]], rss_kb


def pdf_facts(pdf: Path, doc: Document) -> dict[str, str]:
    squash = lambda text: re.sub(r"\s+", "", text)  # noqa: E731
    info = re.search(r"^Pages:\s+(\d+)", subprocess.check_output(["pdfinfo", pdf], text=True), re.M)
    pages = int(info[1]) if info else 0
    texts = [
        squash(subprocess.check_output(["pdftotext", "-f", str(n), "-l", str(n), pdf, "-"], text=True))
        for n in range(1, pages + 1)
    ]
    everything = "".join(texts)
    wanted = expected_texts(doc)
    fidelity = sum(squash(text) in everything for text in wanted) / len(wanted)
    fonts = subprocess.check_output(["pdffonts", pdf], text=True).splitlines()[2:]
    cjk = sorted(
        {
            line.split()[0].split("+")[-1]
            for line in fonts
            if re.search(r"CJK|Song|Hei|SC|Ming|Kai", line) and " yes " in line
        }
    )
    # the longest table (60 rows): the pages its rows are on; its header on the second of them
    longest = max(
        (b for s in doc.sections for c in s.children for b in c.blocks if isinstance(b, Table)),
        key=lambda t: len(t.rows),
    )
    keys = [squash(row[1]) for row in longest.rows]
    table_pages = [i for i, text in enumerate(texts) if any(key in text for key in keys)]
    repeated = "n/a"
    if len(table_pages) >= 2:
        second = texts[table_pages[1]]
        repeated = "yes" if all(squash(cell) in second for cell in longest.header) else "no"
    return {
        "pages": str(pages),
        "fidelity": f"{fidelity:.1%}",
        "cjk": ", ".join(cjk) or "none",
        "repeated": repeated,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keep", type=Path, help="folder for the produced files (default: a temp folder)")
    parser.add_argument("--child", choices=ENGINES, help=argparse.SUPPRESS)
    args = parser.parse_args()
    out = args.keep or Path(tempfile.mkdtemp(prefix="report_pdf_"))
    out.mkdir(parents=True, exist_ok=True)
    if args.child:
        child(args.child, args.runs, out)
        return
    doc = build_document()
    print(
        f"document: {len(doc.sections)} chapters, {len(expected_texts(doc))} titles + cells; {args.runs} runs each"
    )
    print(f"files in {out}\n")
    head = f"{'engine':<24}{'median s':>9}{'p95 s':>8}{'first s':>9}{'peak RSS':>10}{'pages':>7}{'text':>8}  header rep.  CJK fonts embedded"
    print(head)
    print("-" * len(head))
    for engine in ENGINES:
        runs, rss_kb = run_child(engine, args.runs, out)
        times = sorted(runs)
        p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
        label = {
            "docx": "DOCX (python-docx)",
            "weasyprint": "PDF WeasyPrint (HTML)",
            "libreoffice": "PDF LibreOffice (DOCX)",
        }[engine]
        facts = {"pages": "-", "fidelity": "-", "cjk": "-", "repeated": "-"}
        if engine != "docx":
            facts = pdf_facts(out / f"{engine}.pdf", doc)
        first = runs[0]
        print(
            f"{label:<24}{statistics.median(times):>9.2f}{p95:>8.2f}{first:>9.2f}{rss_kb / 1024:>8.0f}MB"
            f"{facts['pages']:>7}{facts['fidelity']:>8}  {facts['repeated']:<11}  {facts['cjk']}"
        )
    sizes = {
        name: (out / name).stat().st_size for name in ("report.docx", "weasyprint.pdf", "libreoffice.pdf")
    }
    print("\nfile sizes: " + ", ".join(f"{name} {size / 1024:.0f} KiB" for name, size in sizes.items()))
    print("LibreOffice times include writing the DOCX; its first run also creates the profile.")


if __name__ == "__main__":
    main()
