"""Exports of the standard tables as jobs (DESIGN.md §8): one flow for every .xlsx a capability
exports (绩效目标申报表, 监控表, 自评表). No Flask: the job runs in `jixiao worker` too.

1. The API validates what is asked for (walls, the object exported: 404 before any job exists)
   and calls `start(actor, job, *args, description=…)`, which enqueues the capability's job.
2. The job function calls `run(actor, kind, write)`: `write(session, handle, progress)` builds the
   workbook into a temporary file inside a walled session of the actor (the walls are checked
   again there: the job may run long after it was asked for) and answers a `Written`; the file is
   streamed to the object store under `exports/{project tenant code}/{job id}.xlsx` and the job
   answers `{kind, file_key, filename, size, **Written.result}`. Progress: 5 % on start, the
   writer's own steps, 85 % storing, 100 % done. Idempotent: a retry writes the same key again.
3. The download: `finished(info, kind=…, match={…}, tenant_code=…)` checks that the caller's own
   finished job (`Jobs.info` answers 404 for anyone else's) is an export of this `kind` of this
   object (every `match` field equal, the key under the tenant's prefix) — 409 while it runs or
   when it failed, 404 otherwise — and `open_file(store, found)` opens the stored object as
   chunks and headers for the API to stream back.
4. Housekeeping: `cleanup(store, now)` deletes exports older than their job's result (7 days),
   run daily by `jixiao exports cleanup`."""

from __future__ import annotations

import re
import tempfile
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import IO, Any

from rq import get_current_job
from sqlalchemy.orm import Session

from .actor import Actor
from .errors import Conflict, DomainError, NotFound
from .jobs import JobInfo, fail_with, set_progress
from .runtime import current_runtime
from .storage import ObjectNotFound, ObjectStore, content_disposition

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PREFIX = "exports/"
KEPT = timedelta(days=7)  # as long as the export job's result (its download link) lives
GONE = "导出的文件已不存在，请重新导出"
_UNSAFE_NAME = re.compile(r'[\\/:*?"<>|\x00-\x1f]+')
ProgressFn = Callable[[int, str], None]


def no_progress(percent: int, message: str) -> None:
    return None


# --- names and keys ---------------------------------------------------------------------------


def filename(title: str, subject: str, suffix: str = "") -> str:
    """`<表名>_<项目名>[_<suffix>].xlsx`; characters a file system refuses become _."""
    name = _UNSAFE_NAME.sub("_", subject).strip(" .") or "项目"
    tail = f"_{_UNSAFE_NAME.sub('_', suffix)}" if suffix else ""
    return f"{title}_{name}{tail}.xlsx"


def key(tenant_code: str, name: str) -> str:
    return f"{PREFIX}{tenant_code}/{name}.xlsx"


def prefix(tenant_code: str) -> str:
    return f"{PREFIX}{tenant_code}/"


# --- starting and running ---------------------------------------------------------------------


def start(actor: Actor, job: str, *args: Any, description: str, timeout: int = 600) -> str:
    """Enqueue the export job `job` (dotted path of a function `job(actor, *args)`); its id."""
    return current_runtime().jobs.enqueue(job, actor, *args, description=description, timeout=timeout)


@dataclass(frozen=True)
class Written:
    """What a writer answers once the workbook is in the handle."""

    tenant_code: str  # the project's tenant: the file is stored under its prefix
    filename: str
    result: dict[str, Any] = field(default_factory=dict)  # what `finished` matches on, and more


Writer = Callable[[Session, IO[bytes], ProgressFn], Written]


def run(actor: Actor, kind: str, write: Writer, *, first: str = "读取数据") -> dict[str, Any]:
    """The body of an export job (see the module): write, store, report progress; a domain error
    (the walls, a vanished object) fails the job with its message."""
    rt = current_runtime()
    job = get_current_job()
    set_progress(5, first)
    try:
        with tempfile.TemporaryFile(prefix="jixiao-export-") as handle:
            with rt.db.transaction(actor) as session:
                written = write(session, handle, set_progress)
            size = handle.seek(0, 2)
            handle.seek(0)
            set_progress(85, "保存到文件存储")
            name = job.id if job is not None else uuid.uuid4().hex
            stored = rt.store.put_stream(
                key(written.tenant_code, name), handle, content_type=XLSX_MIME, length=size
            )
    except DomainError as exc:
        fail_with(exc.message)
        raise
    set_progress(100, "导出完成")
    return {
        **written.result,
        "kind": kind,
        "file_key": stored.key,
        "filename": written.filename,
        "size": stored.size,
    }


# --- downloading ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Download:
    key: str
    filename: str
    size: int | None


def finished(
    info: JobInfo,
    *,
    kind: str,
    match: Mapping[str, Any],
    tenant_code: str,
    fallback_name: str,
) -> Download:
    """The stored file of a finished export job (see the module): 409 while it is queued or runs
    and when it failed; 404 when it is not an export of this `kind` whose result has every
    `match` field equal and whose key is under the tenant's prefix."""
    if info.status in ("queued", "started"):
        raise Conflict(
            f"导出任务尚未完成（{'排队中' if info.status == 'queued' else '进行中'}），请稍后再下载"
        )
    if info.status == "failed":
        raise Conflict(f"导出任务失败：{info.error or '未知原因'}，请重新导出")
    result = info.result if isinstance(info.result, dict) else {}
    stored = str(result.get("file_key") or "")
    if (
        result.get("kind") != kind
        or any(result.get(name) != value for name, value in match.items())
        or not stored.startswith(prefix(tenant_code))
    ):
        raise NotFound(f"任务 {info.id} 不是本项目的此项导出")
    size = result.get("size")
    return Download(
        key=stored,
        filename=str(result.get("filename") or fallback_name),
        size=int(size) if isinstance(size, int) else None,
    )


@dataclass
class Opened:
    """A stored export opened for streaming: iterate `chunks`, send `headers`, `close` when done
    (iterating to the end closes it too)."""

    chunks: Iterator[bytes]
    headers: dict[str, str]
    close: Callable[[], None]
    mimetype: str = XLSX_MIME


def open_file(store: ObjectStore, found: Download) -> Opened:
    """Open the stored file (404 `GONE` once housekeeping deleted it) with its download headers."""
    stack = ExitStack()
    try:
        chunks = stack.enter_context(store.open_stream(found.key))
    except ObjectNotFound:
        raise NotFound(GONE) from None

    def body() -> Iterator[bytes]:
        with stack:
            yield from chunks

    headers = {"Content-Disposition": content_disposition(found.filename)}
    if found.size is not None:
        headers["Content-Length"] = str(found.size)
    return Opened(body(), headers, stack.close)


# --- housekeeping -----------------------------------------------------------------------------


def cleanup(store: ObjectStore, now: datetime, kept: timedelta = KEPT) -> list[str]:
    """Delete exported files older than `kept` (their job, and so their download, has expired);
    answers the keys deleted. Run daily by `jixiao exports cleanup`."""
    deleted = []
    for found in list(store.list_keys(PREFIX)):
        info = store.stat(found)
        if info is not None and info.modified is not None and now - info.modified > kept:
            store.delete(found)
            deleted.append(found)
    return deleted
