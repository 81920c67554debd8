"""The job that builds a pilot report version (DESIGN.md §8): read the stage data in a walled
session of the user who asked, write the Word and the PDF from one content model, store both, then
record the version — in that order, so that a failure leaves no version behind (and no object: the
stored files are deleted when the version can't be recorded), and the page says why.

Idempotent: the job's id is the version's key and names its objects; a retried job (worker death,
Redis back) finds the version it made, or writes the same keys again."""

from __future__ import annotations

import contextlib
import hashlib
import tempfile
import uuid
from collections.abc import Callable
from typing import IO, Any

from rq import get_current_job
from sqlalchemy import func, select

from jixiao.platform.core.actor import Actor
from jixiao.platform.core.audit import record
from jixiao.platform.core.db import utcnow
from jixiao.platform.core.documents.writers import write_docx, write_pdf
from jixiao.platform.core.errors import DomainError
from jixiao.platform.core.jobs import fail_with, set_progress
from jixiao.platform.core.runtime import current_runtime

from .content import build_pilot_report
from .models import MIME, PilotReport, PilotReportVersion
from .service import get_report

PREFIX = "reports/"


def object_key(tenant_code: str, report_id: int, job_id: str, fmt: str) -> str:
    return f"{PREFIX}{tenant_code}/{report_id}/{job_id}.{fmt}"


def _sha256(handle: IO[bytes]) -> str:
    digest = hashlib.sha256()
    handle.seek(0)
    for chunk in iter(lambda: handle.read(1 << 20), b""):
        digest.update(chunk)
    handle.seek(0)
    return digest.hexdigest()


def _existing(session: Any, report_id: int, job_id: str) -> PilotReportVersion | None:
    return session.execute(
        select(PilotReportVersion).where(
            PilotReportVersion.report_id == report_id, PilotReportVersion.job_id == job_id
        )
    ).scalar_one_or_none()


def _result(report: PilotReport, version: PilotReportVersion) -> dict[str, Any]:
    return {"kind": "pilot_report", "report_id": report.id, "version": version.number}


def _failed(actor: Actor, report_id: int, job_id: str, message: str) -> None:
    """Say why on the report (the page shows it), unless a later generation was asked for since."""
    with current_runtime().db.transaction(actor) as session:
        report = session.get(PilotReport, report_id)
        if report is not None and report.last_job_id == job_id:
            report.last_error = message[:500]


def generate(
    actor: Actor, report_id: int, progress: Callable[[int, str], None] = set_progress
) -> dict[str, Any]:
    rt = current_runtime()
    job = get_current_job()
    job_id = job.id if job is not None else uuid.uuid4().hex
    progress(5, "读取试点数据")
    stored: list[str] = []
    try:
        with (
            tempfile.TemporaryFile(prefix="jixiao-report-") as docx,
            tempfile.TemporaryFile(prefix="jixiao-report-") as pdf,
        ):
            with rt.db.transaction(actor) as session:
                report = get_report(session, actor, report_id)
                found = _existing(session, report.id, job_id)
                if found is not None:  # a retry of a job that got as far as recording its version
                    progress(100, "报告已生成")
                    return _result(report, found)
                number = len(report.versions) + 1
                built = build_pilot_report(
                    session,
                    actor,
                    report.program,
                    report.owner,
                    version=number,
                    generated_at=utcnow(),
                    progress=progress,
                )
                code = report.owner.code
            progress(72, "生成 Word 文档")
            write_docx(built.document, docx)
            progress(80, "生成 PDF 文档")
            write_pdf(built.document, pdf)
            progress(90, "保存到文件存储")
            files: dict[str, tuple[str, int, str]] = {}
            for fmt, handle in (("docx", docx), ("pdf", pdf)):
                size = handle.seek(0, 2)
                sha = _sha256(handle)
                key = object_key(code, report_id, job_id, fmt)
                rt.store.put_stream(key, handle, content_type=MIME[fmt], length=size)
                stored.append(key)
                files[fmt] = (key, size, sha)
        with rt.db.transaction(actor) as session:
            report = get_report(session, actor, report_id)
            # one number per version, even in a race: lock the report's row (its id alone — the
            # joined relationships can't be locked on PostgreSQL)
            session.execute(select(PilotReport.id).where(PilotReport.id == report.id).with_for_update())
            found = _existing(session, report.id, job_id)
            if found is not None:
                return _result(report, found)
            number = (
                session.execute(
                    select(func.max(PilotReportVersion.number)).where(
                        PilotReportVersion.report_id == report.id
                    )
                ).scalar()
                or 0
            ) + 1
            version = PilotReportVersion(
                tenant_id=report.tenant_id,
                report_id=report.id,
                number=number,
                job_id=job_id,
                generated_by=actor.username,
                docx_key=files["docx"][0],
                docx_size=files["docx"][1],
                docx_sha256=files["docx"][2],
                pdf_key=files["pdf"][0],
                pdf_size=files["pdf"][1],
                pdf_sha256=files["pdf"][2],
                project_names=built.project_names,
                figures=built.figures,
            )
            session.add(version)
            if report.last_job_id == job_id:
                report.last_error = None
            session.flush()
            record(
                session,
                "pilot_report.version",
                object_type="pilot_report",
                object_id=report.id,
                after={"version": number, "job_id": job_id, "pdf_sha256": files["pdf"][2]},
            )
            result = _result(report, version)
    except Exception as exc:
        for key in stored:  # no orphan object: the version that would have named it does not exist
            with contextlib.suppress(Exception):  # the original failure is what the user must read
                rt.store.delete(key)
        message = (
            exc.message if isinstance(exc, DomainError) else f"生成报告失败：{type(exc).__name__}: {exc}"
        )
        try:
            _failed(actor, report_id, job_id, message)
        finally:
            fail_with(message)
        raise
    progress(100, "报告已生成")
    return result
