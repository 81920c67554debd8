"""The two writers as the jobs call them, importing their engines on first use: python-docx,
matplotlib (the charts) and WeasyPrint take about a second to import, which a process that serves
pages or runs a `jixiao` command never needs (issue 17: `make run` restarts in < 3 s)."""

from __future__ import annotations

from typing import IO

from .model import Document


def write_docx(doc: Document, handle: IO[bytes]) -> None:
    """`docx.write_docx`: `doc` as a Word file to `handle`."""
    from .docx import write_docx as write

    write(doc, handle)


def write_pdf(doc: Document, handle: IO[bytes]) -> None:
    """`pdf.write_pdf`: `doc` as a PDF to `handle`."""
    from .pdf import write_pdf as write

    write(doc, handle)


def preload() -> None:
    """Import the engines now: a job worker does, before it forks the process of each job (which
    then inherits them instead of importing them again for every report)."""
    import weasyprint  # noqa: F401

    from . import charts, docx, pdf  # noqa: F401

    charts.font_families()  # matplotlib's font list, read once
