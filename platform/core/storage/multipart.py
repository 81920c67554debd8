"""The S3 upload of a stream: one PUT when it fits in a part, else a multipart upload whose parts
go up in parallel — in bounded memory, and all-or-nothing.

The caller's thread reads the stream into part buffers (hashing on the way, see
:class:`~jixiao.platform.core.storage._HashingReader`) while at most ``parallel`` parts are on
the wire, sent by a small pool of threads. There are at most ``parallel + 1`` buffers of
``part_size`` bytes, reused from part to part: the reader waits for a free one, so a slow store
slows the reader down instead of filling the memory. The buffers are anonymous memory maps:
their pages become resident only as they are written (a small file costs its own size) and go
back to the system when the upload ends.

A failure anywhere — the source raises, a part is refused, the store goes away — stops the
reading, lets the parts already on the wire finish (so none can race the abort), aborts the
multipart upload and raises the first error: the key keeps whatever it held before. The error is
raised unchanged; :class:`~jixiao.platform.core.storage.s3.S3Store` translates the SDK's.

The part uploads use the SDK's own (private) multipart calls — ``_create_multipart_upload``,
``_upload_part``, ``_complete_multipart_upload``, ``_abort_multipart_upload`` — with the part as a
``memoryview`` of its buffer (the SDK signs and sends any bytes-like body): the SDK's public
``put_object`` copies every part, reads the next part before it notices a failed one, and aborts
while parts may still be in flight.
"""

from __future__ import annotations

import logging
import mmap
import queue
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import suppress
from typing import Any

from . import _HashingReader

log = logging.getLogger(__name__)


class _Buffers:
    """At most ``count`` part buffers of ``size`` bytes, made when first needed and reused."""

    def __init__(self, count: int, size: int) -> None:
        self.size = size
        self._count = count
        self._made: list[mmap.mmap] = []
        self._free: queue.SimpleQueue[mmap.mmap] = queue.SimpleQueue()

    def take(self) -> mmap.mmap:
        """A free buffer; waits for one to be given back when all are in use."""
        try:
            return self._free.get_nowait()
        except queue.Empty:
            if len(self._made) < self._count:
                buffer = mmap.mmap(-1, self.size)
                self._made.append(buffer)
                return buffer
        return self._free.get()

    def give(self, buffer: mmap.mmap) -> None:
        self._free.put(buffer)

    def close(self) -> None:
        for buffer in self._made:
            # a view may still be held by a traceback (a failed part): the map is then
            # released with it
            with suppress(BufferError):
                buffer.close()
        self._made.clear()


def upload(
    client: Any,
    bucket: str,
    key: str,
    reader: _HashingReader,
    *,
    content_type: str,
    part_size: int,
    parallel: int,
) -> None:
    """Store everything ``reader`` yields under ``key`` (see the module docstring)."""
    buffers = _Buffers(parallel + 1, part_size)
    try:
        first = buffers.take()
        filled = reader.readinto(memoryview(first))
        if filled == part_size:
            second = buffers.take()
            more = reader.readinto(memoryview(second))
            if more:
                _MultipartUpload(client, bucket, key, content_type, buffers, parallel).run(
                    reader, [(first, filled), (second, more)]
                )
                return
            buffers.give(second)
        body: bytes | memoryview = memoryview(first)[:filled] if filled else b""
        client._put_object(bucket, key, body, {"Content-Type": content_type})
        del body
    finally:
        buffers.close()


class _MultipartUpload:
    def __init__(
        self, client: Any, bucket: str, key: str, content_type: str, buffers: _Buffers, parallel: int
    ) -> None:
        self.client = client
        self.bucket = bucket
        self.key = key
        self.content_type = content_type
        self.buffers = buffers
        self.parallel = parallel
        self.etags: dict[int, str] = {}
        self.failure: BaseException | None = None
        self._lock = threading.Lock()

    def run(self, reader: _HashingReader, ready: list[tuple[mmap.mmap, int]]) -> None:
        """Upload the parts in ``ready``, then the rest of ``reader`` part by part."""
        upload_id: str = self.client._create_multipart_upload(
            self.bucket, self.key, {"Content-Type": self.content_type}
        )
        pool = ThreadPoolExecutor(max_workers=self.parallel, thread_name_prefix="s3-part")
        futures: list[Future[None]] = []
        try:
            number = 0
            for buffer, filled in ready:
                number += 1
                futures.append(pool.submit(self._send, upload_id, number, buffer, filled))
            filled = ready[-1][1]
            while filled == self.buffers.size and self.failure is None:
                buffer = self.buffers.take()  # waits while every buffer is on the wire
                if self.failure is not None:
                    self.buffers.give(buffer)
                    break
                filled = reader.readinto(memoryview(buffer))
                if not filled:
                    self.buffers.give(buffer)
                    break
                number += 1
                futures.append(pool.submit(self._send, upload_id, number, buffer, filled))
            pool.shutdown(wait=True)
            if self.failure is not None:
                raise self.failure
            parts = [_part(n, self.etags[n]) for n in range(1, number + 1)]
            self.client._complete_multipart_upload(self.bucket, self.key, upload_id, parts)
        except BaseException:
            # no part may still be on the wire when the upload is aborted
            pool.shutdown(wait=True, cancel_futures=True)
            self._abort(upload_id)
            raise

    def _send(self, upload_id: str, number: int, buffer: mmap.mmap, filled: int) -> None:
        try:
            if self.failure is not None:
                return
            body = memoryview(buffer)[:filled]
            try:
                etag = self.client._upload_part(self.bucket, self.key, body, None, upload_id, number)
            finally:
                del body
            with self._lock:
                self.etags[number] = etag
        except BaseException as exc:
            with self._lock:
                if self.failure is None:
                    self.failure = exc
        finally:
            self.buffers.give(buffer)

    def _abort(self, upload_id: str) -> None:
        try:
            self.client._abort_multipart_upload(self.bucket, self.key, upload_id)
        except Exception as exc:  # the store is gone: the first error is the one to report
            log.warning("could not abort the multipart upload of %s: %s", self.key, exc)


def _part(number: int, etag: str) -> Any:
    from minio.datatypes import Part

    return Part(number, etag)
