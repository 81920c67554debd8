"""A version's files: the name they download as, and the download behind the authorization check
(a short-lived presigned URL on S3, the stream from a local folder)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.orm import Session

from jixiao.platform.core.actor import Actor
from jixiao.platform.core.audit import record
from jixiao.platform.core.errors import NotFound
from jixiao.platform.core.runtime import current_runtime
from jixiao.platform.core.storage import ObjectStore

from .models import FORMATS, MIME, PilotReport, PilotReportVersion
from .service import get_report

_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f]+')


def filename(report: PilotReport, number: int, fmt: str) -> str:
    name = _UNSAFE.sub("_", f"试点报告_{report.owner.name}_{report.program.name}_第{number}版")
    return f"{name}.{fmt}"


@dataclass(frozen=True)
class Found:
    report: PilotReport
    version: PilotReportVersion
    key: str
    size: int
    sha256: str
    filename: str
    content_type: str
    store: ObjectStore
    url: str | None


def find(session: Session, actor: Actor, report_id: int, number: int, fmt: str) -> Found:
    report = get_report(session, actor, report_id)
    if fmt not in FORMATS:
        raise NotFound(f"没有 {fmt} 格式的报告文件（可选：{'、'.join(FORMATS)}）")
    version = report.version(number)
    if version is None:
        raise NotFound(f"试点报告没有第 {number} 版")
    key, size, sha = version.file(fmt)
    store = current_runtime().store
    return Found(report, version, key, size, sha, filename(report, number, fmt), MIME[fmt], store, None)


def download(session: Session, actor: Actor, report_id: int, number: int, fmt: str) -> Found:
    found = find(session, actor, report_id, number, fmt)
    record(
        session,
        "pilot_report.download",
        object_type="pilot_report",
        object_id=report_id,
        after={"version": number, "format": fmt},
        tenant_id=found.report.tenant_id,
    )
    url = found.store.presigned_get_url(found.key, timedelta(minutes=5), download_name=found.filename)
    return Found(**{**found.__dict__, "url": url})
