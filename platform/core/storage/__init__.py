"""Object storage for evidence files: the interface both stores implement, and what they share.

The stores live next to this module: :class:`~.local.LocalStore` keeps objects in a local folder
(embedded/dev mode), :class:`~.s3.S3Store` in any S3 (MinIO, SeaweedFS, AWS), and
:func:`~.factory.make_store` picks one from the settings. This module holds the interface
(:class:`ObjectStore`, :class:`StoredObject`, the errors), key validation,
:func:`content_disposition` and the hashing/length-enforcing reader both stores write through.

Both stores implement :class:`ObjectStore` with identical semantics:

* **Keys** are ``/``-separated relative paths, validated the same way by both stores
  (:func:`validate_key`) so a key that works in development works in production.
* **Writes stream.** :meth:`ObjectStore.put_stream` reads the source in bounded chunks and
  computes SHA-256 and size on the way; memory stays bounded (1 MiB locally; for S3 a fixed
  set of part buffers, one more than the parts uploaded in parallel — :mod:`.multipart`).
  A write is all-or-nothing: if the source raises, the declared
  ``length`` does not match, or the store fails, no object (and no partial object) is left
  under the key and a previous object under that key is untouched. Errors raised *by the
  source stream* propagate unchanged; store failures become :class:`StoreError` subclasses.
* **Reads stream.** :meth:`ObjectStore.open_stream` is a context manager yielding an
  *iterator of ``bytes`` chunks* (at most :data:`CHUNK_SIZE` each, never empty); the file or
  HTTP connection is released when the ``with`` block exits. For a Flask response::

      def body() -> Iterator[bytes]:
          with store.open_stream(key) as chunks:
              yield from chunks

* **Presigned URLs**: S3 returns URLs signed for ``public_endpoint`` (what browsers reach);
  the local store returns ``None`` meaning "the app streams the bytes itself" (use
  :func:`content_disposition` for the same download header the S3 URL carries).

This package must not import Flask (it is used by domain code and the RQ worker).
"""

from __future__ import annotations

import hashlib
import unicodedata
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol
from urllib.parse import quote

CHUNK_SIZE = 1024 * 1024
"""Read/write chunk size; also the largest chunk ``open_stream`` yields."""

S3_PART_SIZE = 6 * 1024 * 1024
"""Default multipart part size for S3 uploads (and the single-PUT threshold); ``S3_PART_SIZE_MIB``."""

S3_PARALLEL_UPLOADS = 2
"""Default number of parts of one S3 upload sent at the same time; ``S3_PARALLEL_UPLOADS``."""

S3_MIN_PART_SIZE = 5 * 1024 * 1024
"""The smallest part S3 accepts (every part but the last)."""

DEFAULT_CONTENT_TYPE = "application/octet-stream"
MAX_KEY_BYTES = 1024
MAX_SEGMENT_BYTES = 200
_RESERVED_PREFIX = ".~"  # local temp files and sidecars; refused as a key segment everywhere


# --------------------------------------------------------------------------- errors


class StoreError(Exception):
    """Base class of object store errors."""


class StoreUnavailable(StoreError):
    """The store cannot be reached or refuses to work (network, credentials, disk)."""


class InvalidKey(StoreError, ValueError):
    """The key is not a safe relative ``/``-path (or collides with an existing prefix)."""


class ObjectNotFound(StoreError, KeyError):
    """No object under that key."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else "object not found"


# --------------------------------------------------------------------------- values


@dataclass(frozen=True)
class StoredObject:
    key: str
    size: int
    sha256: str | None  # hex; None when the store cannot tell without reading (S3 stat)
    content_type: str
    modified: datetime | None = None  # from `stat` (age-based housekeeping); None after a put


class Readable(Protocol):
    """What ``put_stream`` accepts: anything with ``read(n) -> bytes`` (files, BytesIO,
    ``request.stream``; a ``memoryview`` or ``bytearray`` will do too). Short reads are fine;
    ``b""`` means end of stream."""

    def read(self, size: int, /) -> bytes | bytearray | memoryview: ...


# --------------------------------------------------------------------------- helpers


def _key_problem(key: str, *, prefix: bool = False) -> str | None:
    if not isinstance(key, str):
        return "key must be a string"
    if not key and not prefix:
        return "key is empty"
    if key.startswith("/"):
        return "key must be relative (starts with '/')"
    if "\\" in key:
        return "key contains a backslash"
    for ch in key:
        code = ord(ch)
        if code < 0x20 or 0x7F <= code <= 0x9F:
            return f"key contains control character U+{code:04X}"
        if 0xD800 <= code <= 0xDFFF:
            return "key contains a lone surrogate"
    if len(key.encode("utf-8")) > MAX_KEY_BYTES:
        return f"key is longer than {MAX_KEY_BYTES} bytes"
    segments = key.split("/")
    if prefix:
        # the last segment of a prefix may be empty ("a/") or partial ("a/b"); it is only
        # checked for the things that would also be wrong inside a key
        last = segments.pop()
        if last in {".", ".."} or last.startswith(_RESERVED_PREFIX):
            return f"prefix segment {last!r} is not allowed"
    for segment in segments:
        if segment == "":
            return "key has an empty segment ('//' or trailing '/')"
        if segment in {".", ".."}:
            return f"key has a {segment!r} segment"
        if segment.startswith(_RESERVED_PREFIX):
            return f"key segments may not start with {_RESERVED_PREFIX!r}"
        if len(segment.encode("utf-8")) > MAX_SEGMENT_BYTES:
            return f"key segment longer than {MAX_SEGMENT_BYTES} bytes"
    return None


def validate_key(key: str) -> str:
    """Return ``key`` if it is a safe object key, else raise :class:`InvalidKey`.

    Refused: empty keys, absolute keys, backslashes, control characters (C0, DEL, C1),
    empty segments (``a//b``, trailing ``/``), ``.``/``..`` segments, segments starting
    with ``.~`` (reserved for the local store's temp/sidecar files), more than
    1024 bytes in total or 200 bytes per segment (UTF-8).
    """
    problem = _key_problem(key)
    if problem:
        raise InvalidKey(f"{problem}: {key!r}")
    return key


def _validate_prefix(prefix: str) -> str:
    problem = _key_problem(prefix, prefix=True)
    if problem:
        raise InvalidKey(f"invalid prefix ({problem}): {prefix!r}")
    return prefix


def content_disposition(download_name: str, *, inline: bool = False) -> str:
    """``Content-Disposition`` value carrying ``download_name`` (RFC 6266 / RFC 5987).

    ``attachment; filename="__.pdf"; filename*=UTF-8''%E4%BD%90%E8%AF%81.pdf`` — an ASCII
    fallback first for old clients, then the exact UTF-8 name that browsers prefer.
    """
    name = download_name.replace("\\", "/").rsplit("/", 1)[-1].strip() or "download"
    name = "".join(ch for ch in name if unicodedata.category(ch) not in {"Cc", "Cf", "Cs"}) or "download"
    fallback = "".join(ch if 0x20 <= ord(ch) < 0x7F and ch not in '"\\%' else "_" for ch in name)
    disposition = "inline" if inline else "attachment"
    return f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


class _HashingReader:
    """Wraps the caller's stream: fills reads up to the requested size (so the S3 SDK gets a
    whole part in one ``bytes``), hashes and counts what passes through, enforces the
    declared length, and remembers whether an exception came from the source itself.

    :meth:`readinto` fills a caller's buffer without an intermediate copy: the source may return
    any bytes-like object (``bytes``, ``bytearray``, ``memoryview``), and more than was asked
    for (the surplus is kept for the next read)."""

    def __init__(self, source: Readable, length: int | None) -> None:
        if length is not None and length < 0:
            raise ValueError("length must be >= 0 or None")
        self._source = source
        self._length = length
        self._digest = hashlib.sha256()
        self._probed = False
        self._surplus: memoryview | None = None
        self.size = 0
        self.eof = False
        self.source_error: BaseException | None = None

    def _source_read(self, size: int) -> bytes | bytearray | memoryview:
        if self._surplus is not None:
            surplus, self._surplus = self._surplus, None
            return surplus
        try:
            data = self._source.read(size)
        except BaseException as exc:
            self.source_error = exc
            raise
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"stream.read() returned {type(data).__name__}, expected bytes")
        return data

    def _allowed(self, size: int) -> int:
        """How much the next read may take (the declared length's rest); 0 at the end."""
        if self._length is None:
            return size
        remaining = self._length - self.size
        if remaining <= 0:
            self._probe_extra()
            return 0
        return min(size, remaining)

    def _counted(self, got: int) -> None:
        self.size += got
        if self._length is not None:
            if self.eof and self.size < self._length:
                raise StoreError(f"stream ended after {self.size} bytes; length={self._length} was declared")
            if self.size == self._length:
                self._probe_extra()

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            size = CHUNK_SIZE
        size = self._allowed(size)
        if size == 0:
            return b""
        buf = bytearray()
        while len(buf) < size and not self.eof:
            data = self._source_read(size - len(buf))
            if not data:
                self.eof = True
                break
            take = size - len(buf)
            if len(data) > take:
                self._surplus = memoryview(data)[take:]
                data = memoryview(data)[:take]
            buf += data
        chunk = bytes(buf)
        self._digest.update(chunk)
        self._counted(len(chunk))
        return chunk

    def readinto(self, view: memoryview) -> int:
        """Fill ``view`` (writable bytes) from the source; fewer bytes only at the end of the
        stream. Hashes and counts what was written, like :meth:`read`."""
        size = self._allowed(len(view))
        filled = 0
        while filled < size and not self.eof:
            data = self._source_read(size - filled)
            got = len(data)
            if not got:
                self.eof = True
                break
            if got > size - filled:
                got = size - filled
                self._surplus = memoryview(data)[got:]
                data = memoryview(data)[:got]
            view[filled : filled + got] = data
            filled += got
        if filled:
            self._digest.update(view[:filled])
        self._counted(filled)
        return filled

    def _probe_extra(self) -> None:
        if self._probed:
            return
        self._probed = True
        if self._source_read(1):
            raise StoreError(f"stream is longer than the declared length={self._length}")
        self.eof = True

    def hexdigest(self) -> str:
        return self._digest.hexdigest()


# --------------------------------------------------------------------------- interface


class ObjectStore(ABC):
    """Where evidence bytes live. See the module docstring for the shared semantics."""

    name: str  # "local" | "s3"

    @abstractmethod
    def put_stream(
        self, key: str, stream: Readable, *, content_type: str, length: int | None = None
    ) -> StoredObject:
        """Store the stream under ``key`` (replacing any object) and return what was stored,
        with the SHA-256 and size computed while streaming. ``length=None`` means unknown
        (S3: multipart upload, parts sent in parallel); a given ``length`` is enforced."""

    @abstractmethod
    def open_stream(self, key: str) -> AbstractContextManager[Iterator[bytes]]:
        """``with store.open_stream(key) as chunks: for chunk in chunks: ...``

        Raises :class:`ObjectNotFound` on entry when the key does not exist."""

    @abstractmethod
    def stat(self, key: str) -> StoredObject | None:
        """Metadata without reading the bytes, or ``None`` when absent."""

    @abstractmethod
    def delete(self, key: str) -> None:
        """Remove the object; a missing key is not an error."""

    def exists(self, key: str) -> bool:
        return self.stat(key) is not None

    @abstractmethod
    def list_keys(self, prefix: str = "") -> Iterator[str]:
        """Keys starting with ``prefix`` (plain string prefix, recursive), lazily.

        The order is unspecified: AWS/MinIO list in UTF-8 byte order, SeaweedFS lists
        folder by folder (``a/b/c`` before ``a/b-d``); LocalStore happens to use byte order."""

    @abstractmethod
    def presigned_get_url(
        self, key: str, expires: timedelta, *, download_name: str | None = None
    ) -> str | None:
        """A URL a browser can GET directly, or ``None``: the app must stream the object.
        ``download_name`` becomes the RFC 5987 ``Content-Disposition`` of the response."""

    @abstractmethod
    def presigned_put_url(self, key: str, expires: timedelta) -> str | None:
        """A URL a browser can PUT the bytes to directly, or ``None`` (upload through the app)."""

    @abstractmethod
    def check(self) -> None:
        """Raise :class:`StoreUnavailable` with a readable message unless the store works."""
