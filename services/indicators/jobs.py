"""RQ jobs of the indicator library (DESIGN.md §8). No Flask: they run in `jixiao worker` too."""

from __future__ import annotations

import tempfile
from contextlib import suppress
from pathlib import Path
from typing import Any

from rq import get_current_job

from jixiao.platform.core.actor import Actor
from jixiao.platform.core.jobs import set_progress
from jixiao.platform.core.runtime import current_runtime
from jixiao.platform.core.storage import ObjectNotFound, StoreError

from .excel import importing, parse


def import_indicators(actor: Actor, upload_key: str, *, filename: str = "") -> dict[str, Any]:
    """Excel import (指标导入) of an upload that `excel.start_import` put in the object store.

    Progress: the rows read (checked and written as they are read, a batch at a time) 2→95 %,
    then 99 % while committing. All or nothing: with any error the result lists them (`ok: false`)
    and nothing is written. Idempotent, so RQ may retry it after a worker died; the upload is
    deleted once the job has an answer (or gave up)."""
    rt = current_runtime()
    job = get_current_job()
    answered = False
    try:
        set_progress(1, "读取上传的文件")
        with tempfile.TemporaryDirectory(prefix="jixiao-import-") as folder:
            path = Path(folder) / "upload.xlsx"
            try:
                with rt.store.open_stream(upload_key) as chunks, path.open("wb") as out:
                    for chunk in chunks:
                        out.write(chunk)
            except ObjectNotFound:
                answered = True
                return importing.failure([parse.error(None, None, "上传的文件已不存在，请重新上传")], 0)
            result = importing.run_import(
                rt.db,
                actor,
                path,
                filename=filename,
                reference=job.id if job is not None else upload_key,
                progress=set_progress,
            )
        set_progress(100, "导入完成" if result["ok"] else f"未导入：{result['error_count']} 个错误")
        answered = True
        return result
    finally:
        # keep the upload for RQ's retry when this attempt crashed and another one will come
        if answered or job is None or not job.retries_left:
            with suppress(StoreError):
                rt.store.delete(upload_key)
