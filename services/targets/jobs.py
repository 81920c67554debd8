"""RQ jobs of performance targets (DESIGN.md §8). No Flask: they run in `jixiao worker` too."""

from __future__ import annotations

import tempfile
import uuid
from typing import Any

from rq import get_current_job

from jixiao.platform.core.actor import Actor
from jixiao.platform.core.errors import DomainError
from jixiao.platform.core.jobs import fail_with, set_progress
from jixiao.platform.core.runtime import current_runtime

from . import excel


def export_targets(actor: Actor, project_id: int, number: int) -> dict[str, Any]:
    """Excel export (绩效目标申报表) of version `number` of a project's targets, for `actor`.

    Reads through a walled session of the actor (the walls and `projects.read` are checked again
    here: the job may run long after it was asked for), writes the workbook to a temporary file,
    streams it to the object store under `exports/{project tenant code}/{job id}.xlsx` and answers
    `{file_key, filename, size, project_id, version}`. Progress: reading 0→40 %, building 40→70 %,
    storing 70→100 %. Idempotent: a retry after a worker died writes the same key again."""
    rt = current_runtime()
    job = get_current_job()
    set_progress(5, "读取项目与绩效目标")
    try:
        with tempfile.TemporaryFile(prefix="jixiao-export-") as handle:
            with rt.db.transaction(actor) as session:
                project, target_set = excel.write_export(
                    session, actor, project_id, number, handle, progress=set_progress
                )
                tenant_code = project.owner.code
                filename = excel.export_filename(project.name, target_set.number)
            size = handle.seek(0, 2)
            handle.seek(0)
            set_progress(85, "保存到文件存储")
            key = excel.export_key(tenant_code, job.id if job is not None else uuid.uuid4().hex)
            stored = rt.store.put_stream(key, handle, content_type=excel.XLSX_MIME, length=size)
    except DomainError as exc:
        fail_with(exc.message)
        raise
    set_progress(100, "导出完成")
    return {
        "file_key": stored.key,
        "filename": filename,
        "size": stored.size,
        "project_id": project_id,
        "version": number,
    }
