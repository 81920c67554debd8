"""Excel import and export of the indicator library (指标库 Excel 导入导出; DESIGN.md §5, §8):
starting an import from an upload, and where the rest lives.

This module is the request side of an import: the cheap checks of an upload (`check_upload`), its
size limit (`MAX_UPLOAD_BYTES`), and `start_import`, which puts the file in the object store and
enqueues the job (`jobs.import_indicators`). The rest, by meaning:

- `layout`: the columns (`COLUMNS`) with each one's 填写说明, the sheet name, the row limit and
  the label vocabularies;
- `export`: the export (`export_xlsx`, `export_filename`) and the import template with its
  填写说明 sheet (which quotes this module's upload limit);
- `parse`: `parse_workbook` reads the file with openpyxl in read-only mode, row by row
  (never the whole file as a DOM), maps labels to API codes (`≥` or `>=`) and refuses files that
  are not xlsx, have wrong headers, no data rows or more than `MAX_ROWS` rows; `Reader` runs it
  in a thread of its own and hands the rows over a batch at a time;
- `plan`: `Judge` resolves each batch of rows against the library (own indicators
  prefetched by code and name in one query, as columns) and collects EVERY error as
  `{"row", "column", "rule"}`;
- `importing`: `Writer` writes the creates and updates a batch a statement (`bulk`) inside the
  caller's single transaction, with a version snapshot and an audit event per indicator;
  `run_import` reads, judges and writes at once and commits only a file without errors (all or
  nothing), with the summary event.

Imports run one way: `layout` ← this module ← `export`, and
`layout` ← `parse` ← `plan` ← `importing` ← `jobs` (`bulk` beside them).

Rows are matched by 指标编码; a row without a code is matched by name within the importer's own
library (so importing the same file twice creates nothing the second time), else it is created.
Rows of indicators owned by another tenant (the province's shared rows in a county's export) are
accepted when unchanged and refused when changed.

No Flask here (nor in the other modules of this package): the web layer and the worker both call them.
"""

from __future__ import annotations

import uuid
from typing import Any

from jixiao.platform.core.actor import Actor
from jixiao.platform.core.authz import authorize
from jixiao.platform.core.errors import DomainError, Forbidden, ValidationFailed
from jixiao.platform.core.runtime import current_runtime

from .layout import XLSX_MIME

ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # legacy .xls (and password-protected .xlsx)
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
IMPORT_JOB = "jixiao.services.indicators.jobs.import_indicators"


class UnsupportedFile(DomainError):
    """Not an Excel (.xlsx) file: 415."""

    status = 415
    status_name = "Unsupported Media Type"


class UploadTooLarge(DomainError):
    status = 413
    status_name = "Payload Too Large"


_NOT_EXCEL_TYPES = {
    "application/pdf",
    "application/json",
    "application/xml",
    "application/msword",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/vnd.ms-powerpoint",
}


class _LimitedUpload:
    """The upload's stream with its first bytes put back, refusing more than `limit` bytes."""

    def __init__(self, head: bytes, stream: Any, limit: int) -> None:
        self._head = head
        self._stream = stream
        self._limit = limit
        self._seen = 0

    def read(self, size: int = -1) -> bytes:
        if self._head:
            data, self._head = self._head, b""
        else:
            data = self._stream.read(size if size and size > 0 else 1024 * 1024)
        self._seen += len(data)
        if self._seen > self._limit:
            raise UploadTooLarge(f"文件超过 {self._limit // (1024 * 1024)} MiB 上限，请拆分后分批导入")
        return bytes(data)


def _read_head(stream: Any, size: int) -> bytes:
    head = b""
    while len(head) < size:
        chunk = stream.read(size - len(head))
        if not chunk:
            break
        head += chunk
    return head


def check_upload(filename: str, head: bytes, content_type: str | None = None) -> None:
    """The cheap checks done in the request: a name ending in .xlsx, a plausible declared type, and
    the ZIP signature every .xlsx starts with. Raises 422 / 415."""
    name = (filename or "").strip()
    if not name:
        raise ValidationFailed("请选择要导入的 .xlsx 文件", errors={"file": ["请选择要导入的 .xlsx 文件"]})
    if not name.lower().endswith(".xlsx"):
        raise UnsupportedFile(f"不是 Excel (.xlsx) 文件：「{name}」的扩展名不是 .xlsx")
    declared = (content_type or "").split(";")[0].strip().lower()
    if declared.startswith(("text/", "image/", "audio/", "video/", "font/")) or declared in _NOT_EXCEL_TYPES:
        raise UnsupportedFile(f"不是 Excel (.xlsx) 文件：上传的内容类型是 {declared}")
    if not head:
        raise UnsupportedFile("不是 Excel (.xlsx) 文件：文件是空的")
    if head.startswith(OLE_MAGIC):
        raise UnsupportedFile(
            "不是 Excel (.xlsx) 文件：这是旧版 .xls 或加密的工作簿，请在 Excel 中另存为 .xlsx（不加密）后再导入"
        )
    if not head.startswith(ZIP_MAGIC):
        raise UnsupportedFile("不是 Excel (.xlsx) 文件：文件内容不是 xlsx 格式（可能只是改了扩展名）")


def start_import(actor: Actor, filename: str, stream: Any, *, content_type: str | None = None) -> str:
    """Check the upload cheaply, put it in the object store and enqueue the import job; the job id.

    Used by the API (`POST /api/v1/indicators/import`) and the pages alike. `stream` is anything
    with `read(n)`; it is read once, in bounded chunks (at most `MAX_UPLOAD_BYTES`)."""
    authorize(actor, "indicators.write")
    if actor.tenant_id is None or not actor.tenant_code:
        raise Forbidden("只有地区用户可以维护指标库")
    head = _read_head(stream, len(ZIP_MAGIC))
    check_upload(filename, head, content_type)
    rt = current_runtime()
    key = f"imports/{actor.tenant_code}/{uuid.uuid4().hex}.xlsx"
    rt.store.put_stream(key, _LimitedUpload(head, stream, MAX_UPLOAD_BYTES), content_type=XLSX_MIME)
    name = filename.strip().replace("\\", "/").rsplit("/", 1)[-1]
    try:
        return rt.jobs.enqueue(IMPORT_JOB, actor, key, filename=name, description=f"导入指标库：{name}")
    except BaseException:
        rt.store.delete(key)
        raise
