"""The 专报 (a short summary of a program for 人大/政府): generated on demand as a job for the
province (every participant) or a city (its branch); its Word and PDF files are stored like the
other exports (`exports/{tenant code}/{job id}.docx|pdf`, kept 7 days, `jixiao exports cleanup`),
and downloaded by the user who asked for it (no Flask)."""

from __future__ import annotations

import tempfile
import uuid
from typing import Any

from rq import get_current_job
from sqlalchemy.orm import Session

from jixiao.platform.core import exports
from jixiao.platform.core.actor import Actor
from jixiao.platform.core.audit import record
from jixiao.platform.core.authz import authorize, policy
from jixiao.platform.core.db import utcnow
from jixiao.platform.core.documents.writers import write_docx, write_pdf
from jixiao.platform.core.errors import Conflict, DomainError, Forbidden, NotFound
from jixiao.platform.core.jobs import JobInfo, fail_with, set_progress
from jixiao.platform.core.runtime import current_runtime
from jixiao.services.programs.models import Program
from jixiao.services.programs.service import get_program
from jixiao.tenants.models import Tenant

from .content import build_briefing
from .models import MIME

KIND = "briefing"


@policy("reports.briefing", scope="reports:read")
def _may_brief(actor: Actor) -> None:
    """The province (every participant) and a city's bureau (its branch); a county never."""
    if actor.is_province and actor.has_role("province_admin", "province_reviewer"):
        return
    if actor.tenant_level == "city" and actor.has_role("bureau_admin"):
        return
    raise Forbidden("专报只能由省财政厅或市财政局生成（县区请使用试点报告）")


def check(session: Session, actor: Actor, program_id: int) -> Program:
    authorize(actor, "reports.briefing")
    program = get_program(session, actor, program_id)
    record(
        session,
        "briefing.generate",
        object_type="program",
        object_id=program.id,
        after={"tenant": actor.tenant_code},
    )
    return program


def key(tenant_code: str, job_id: str, fmt: str) -> str:
    return f"{exports.PREFIX}{tenant_code}/{job_id}.{fmt}"


def generate(actor: Actor, program_id: int) -> dict[str, Any]:
    rt = current_runtime()
    job = get_current_job()
    job_id = job.id if job is not None else uuid.uuid4().hex
    set_progress(5, "汇总试点数据")
    try:
        with tempfile.TemporaryFile() as docx, tempfile.TemporaryFile() as pdf:
            with rt.db.transaction(actor) as session:
                program = get_program(session, actor, program_id)
                root = session.get(Tenant, actor.tenant_id)
                assert root is not None
                document = build_briefing(session, actor, program, root, generated_at=utcnow())
                name = f"试点工作专报_{root.name}_{program.name}"
            set_progress(50, "生成 Word 文档")
            write_docx(document, docx)
            set_progress(70, "生成 PDF 文档")
            write_pdf(document, pdf)
            set_progress(90, "保存到文件存储")
            files = {}
            for fmt, handle in (("docx", docx), ("pdf", pdf)):
                size = handle.seek(0, 2)
                handle.seek(0)
                stored = rt.store.put_stream(
                    key(actor.tenant_code or "", job_id, fmt), handle, content_type=MIME[fmt], length=size
                )
                files[fmt] = {"key": stored.key, "size": stored.size}
    except DomainError as exc:
        fail_with(exc.message)
        raise
    set_progress(100, "专报已生成")
    return {
        "kind": KIND,
        "program_id": program_id,
        # `file_key` and `filename`: the PDF, as every export answers; the Word file beside it
        "file_key": files["pdf"]["key"],
        "filename": f"{name}.pdf",
        "size": files["pdf"]["size"],
        "files": files,
        "name": name,
    }


def download(info: JobInfo, actor: Actor, program_id: int, fmt: str) -> exports.Download:
    """The caller's finished 专报 job of this program: its `pdf` or `docx` (409 while it runs or when
    it failed, 404 for anything else)."""
    if fmt not in MIME:
        raise NotFound(f"没有 {fmt} 格式的专报文件（可选：docx、pdf）")
    found = exports.finished(
        info,
        kind=KIND,
        match={"program_id": program_id},
        tenant_code=actor.tenant_code or "",
        fallback_name=f"试点工作专报.{fmt}",
    )
    if fmt == "pdf":
        return found
    files = info.result.get("files") or {}
    stored = (files.get("docx") or {}).get("key", "")
    if not stored.startswith(exports.prefix(actor.tenant_code or "")):
        raise Conflict("专报的 Word 文件不存在，请重新生成")
    return exports.Download(
        key=stored, filename=f"{info.result.get('name')}.docx", size=files["docx"].get("size")
    )
