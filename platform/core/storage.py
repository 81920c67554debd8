"""Object storage for evidence files: a local folder (embedded/dev mode) or any S3 (MinIO).

Both stores implement :class:`ObjectStore` with identical semantics:

* **Keys** are ``/``-separated relative paths, validated the same way by both stores
  (:func:`validate_key`) so a key that works in development works in production.
* **Writes stream.** :meth:`ObjectStore.put_stream` reads the source in bounded chunks and
  computes SHA-256 and size on the way; memory stays bounded (1 MiB locally, one 16 MiB
  multipart part for S3). A write is all-or-nothing: if the source raises, the declared
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

This module must not import Flask (it is used by domain code and the RQ worker).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import unicodedata
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NoReturn, Protocol
from urllib.parse import quote, urlsplit

__all__ = [
    "CHUNK_SIZE",
    "S3_PART_SIZE",
    "InvalidKey",
    "LocalStore",
    "ObjectNotFound",
    "ObjectStore",
    "Readable",
    "S3Store",
    "StoreError",
    "StoreUnavailable",
    "StoredObject",
    "content_disposition",
    "make_store",
    "validate_key",
]

CHUNK_SIZE = 1024 * 1024
"""Read/write chunk size; also the largest chunk ``open_stream`` yields."""

S3_PART_SIZE = 16 * 1024 * 1024
"""Multipart part size for S3 uploads (and the single-PUT threshold)."""

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
    ``request.stream``). Short reads are fine; ``b""`` means end of stream."""

    def read(self, size: int, /) -> bytes: ...


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
    declared length, and remembers whether an exception came from the source itself."""

    def __init__(self, source: Readable, length: int | None) -> None:
        if length is not None and length < 0:
            raise ValueError("length must be >= 0 or None")
        self._source = source
        self._length = length
        self._digest = hashlib.sha256()
        self._probed = False
        self.size = 0
        self.eof = False
        self.source_error: BaseException | None = None

    def _source_read(self, size: int) -> bytes:
        try:
            data = self._source.read(size)
        except BaseException as exc:
            self.source_error = exc
            raise
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"stream.read() returned {type(data).__name__}, expected bytes")
        return bytes(data)

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            size = CHUNK_SIZE
        if self._length is not None:
            remaining = self._length - self.size
            if remaining <= 0:
                self._probe_extra()
                return b""
            size = min(size, remaining)
        buf = bytearray()
        while len(buf) < size and not self.eof:
            data = self._source_read(size - len(buf))
            if not data:
                self.eof = True
                break
            buf += data
        chunk = bytes(buf)
        self._digest.update(chunk)
        self.size += len(chunk)
        if self._length is not None:
            if self.eof and self.size < self._length:
                raise StoreError(f"stream ended after {self.size} bytes; length={self._length} was declared")
            if self.size == self._length:
                self._probe_extra()
        return chunk

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
        (S3: multipart upload with 16 MiB parts); a given ``length`` is enforced."""

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


# --------------------------------------------------------------------------- local folder


class LocalStore(ObjectStore):
    """Objects as files under ``root``: key ``a/b/c.pdf`` is ``root/a/b/c.pdf``.

    Writes go to ``.~tmp.*`` in the target folder, are fsynced, then ``os.replace``d into
    place. The content type and SHA-256 live in a sidecar ``.~meta.<name>.json`` next to the
    file; it records the data file's inode and size and is ignored when they no longer
    match (e.g. a crash between the two renames). ``list_keys`` skips every ``.~`` entry.

    Unlike S3, a key cannot be both an object and a prefix (``a`` and ``a/b``): the second
    write raises :class:`InvalidKey`.
    """

    name = "local"

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root).absolute()

    def __repr__(self) -> str:
        return f"LocalStore({str(self.root)!r})"

    # paths
    def _path(self, key: str) -> Path:
        return self.root.joinpath(*validate_key(key).split("/"))

    @staticmethod
    def _meta_path(path: Path) -> Path:
        return path.with_name(f"{_RESERVED_PREFIX}meta.{path.name}.json")

    def _unavailable(self, exc: OSError, what: str) -> StoreUnavailable:
        return StoreUnavailable(f"local object store at {self.root}: cannot {what}: {exc.strerror or exc}")

    # writing
    def _make_temp(self, parent: Path, key: str) -> tuple[int, str]:
        for _ in range(5):
            try:
                parent.mkdir(parents=True, exist_ok=True)
            except (FileExistsError, NotADirectoryError) as exc:
                raise InvalidKey(f"key {key!r} collides with an existing object on its path") from exc
            except OSError as exc:
                raise self._unavailable(exc, f"create folder {parent}") from exc
            try:
                return tempfile.mkstemp(prefix=f"{_RESERVED_PREFIX}tmp.", dir=parent)
            except FileNotFoundError:
                continue  # a concurrent delete pruned the empty folder; recreate it
            except OSError as exc:
                raise self._unavailable(exc, f"write in {parent}") from exc
        raise StoreUnavailable(f"local object store at {self.root}: folder {parent} keeps disappearing")

    def put_stream(
        self, key: str, stream: Readable, *, content_type: str, length: int | None = None
    ) -> StoredObject:
        path = self._path(key)
        reader = _HashingReader(stream, length)
        content_type = content_type or DEFAULT_CONTENT_TYPE
        fd, tmp_name = self._make_temp(path.parent, key)
        meta_tmp: str | None = None
        try:
            with os.fdopen(fd, "wb") as out:
                while chunk := reader.read(CHUNK_SIZE):
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
                inode = os.fstat(out.fileno()).st_ino
            stored = StoredObject(key, reader.size, reader.hexdigest(), content_type)
            meta_fd, meta_tmp = tempfile.mkstemp(prefix=f"{_RESERVED_PREFIX}tmp.", dir=path.parent)
            with os.fdopen(meta_fd, "w", encoding="utf-8") as meta_out:
                json.dump(
                    {
                        "size": stored.size,
                        "sha256": stored.sha256,
                        "content_type": content_type,
                        "inode": inode,
                    },
                    meta_out,
                )
            try:
                os.replace(tmp_name, path)
            except IsADirectoryError as exc:
                raise InvalidKey(f"key {key!r} is a prefix of existing objects") from exc
            tmp_name = ""
            os.replace(meta_tmp, self._meta_path(path))
            meta_tmp = None
            self._fsync_dir(path.parent)
            return stored
        except OSError as exc:
            if reader.source_error is exc:
                raise
            raise self._unavailable(exc, f"write {key!r}") from exc
        finally:
            for leftover in (tmp_name, meta_tmp):
                if leftover:
                    with suppress(OSError):
                        os.unlink(leftover)

    @staticmethod
    def _fsync_dir(folder: Path) -> None:
        with suppress(OSError):
            dir_fd = os.open(folder, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)

    # reading
    @contextmanager
    def open_stream(self, key: str) -> Iterator[Iterator[bytes]]:
        path = self._path(key)
        try:
            handle = open(path, "rb")  # noqa: SIM115 - closed in finally
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError) as exc:
            raise ObjectNotFound(key) from exc
        except OSError as exc:
            raise self._unavailable(exc, f"read {key!r}") from exc
        try:
            yield self._chunks(handle)
        finally:
            handle.close()

    @staticmethod
    def _chunks(handle: Any) -> Iterator[bytes]:
        while chunk := handle.read(CHUNK_SIZE):
            yield chunk

    def stat(self, key: str) -> StoredObject | None:
        path = self._path(key)
        try:
            st = path.stat()
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError as exc:
            raise self._unavailable(exc, f"stat {key!r}") from exc
        if not path.is_file():
            return None
        sha256: str | None = None
        content_type = DEFAULT_CONTENT_TYPE
        try:
            meta = json.loads(self._meta_path(path).read_text(encoding="utf-8"))
            if meta.get("inode") == st.st_ino and meta.get("size") == st.st_size:
                sha256 = meta.get("sha256")
                content_type = meta.get("content_type") or DEFAULT_CONTENT_TYPE
        except (OSError, ValueError):
            pass  # no/stale sidecar: the bytes are still the truth
        return StoredObject(key, st.st_size, sha256, content_type, datetime.fromtimestamp(st.st_mtime, UTC))

    def delete(self, key: str) -> None:
        path = self._path(key)
        try:
            path.unlink()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            pass
        except OSError as exc:
            raise self._unavailable(exc, f"delete {key!r}") from exc
        with suppress(OSError):
            self._meta_path(path).unlink()
        parent = path.parent
        while parent != self.root and self.root in parent.parents:
            try:
                parent.rmdir()  # only succeeds when empty
            except OSError:
                break
            parent = parent.parent

    def list_keys(self, prefix: str = "") -> Iterator[str]:
        _validate_prefix(prefix)
        folder, _, partial = prefix.rpartition("/")
        start = self.root.joinpath(*folder.split("/")) if folder else self.root
        return self._walk(start, f"{folder}/" if folder else "", partial)

    def _walk(self, folder: Path, base: str, partial: str) -> Iterator[str]:
        try:
            with os.scandir(folder) as it:
                entries = [entry for entry in it if entry.name.startswith(partial)]
        except (FileNotFoundError, NotADirectoryError):
            return
        except OSError as exc:
            raise self._unavailable(exc, f"list {folder}") from exc
        items: list[tuple[str, os.DirEntry[str], bool]] = []
        for entry in entries:
            if _key_problem(entry.name) is not None:  # .~ files, undecodable names, ...
                continue
            is_dir = entry.is_dir(follow_symlinks=False)
            # dirs sort as "name/" so the walk yields keys in S3 (UTF-8 byte) order
            items.append((entry.name + "/" if is_dir else entry.name, entry, is_dir))
        items.sort(key=lambda item: item[0])
        for _, entry, is_dir in items:
            if is_dir:
                yield from self._walk(Path(entry.path), f"{base}{entry.name}/", "")
            elif entry.is_file(follow_symlinks=False):
                yield base + entry.name

    # URLs: the app streams local objects itself
    def presigned_get_url(
        self, key: str, expires: timedelta, *, download_name: str | None = None
    ) -> str | None:
        validate_key(key)
        return None

    def presigned_put_url(self, key: str, expires: timedelta) -> str | None:
        validate_key(key)
        return None

    def check(self) -> None:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            fd, probe = tempfile.mkstemp(prefix=f"{_RESERVED_PREFIX}check.", dir=self.root)
            os.close(fd)
            os.unlink(probe)
        except OSError as exc:
            raise self._unavailable(exc, "write its root folder") from exc


# --------------------------------------------------------------------------- S3 / MinIO


_NOT_FOUND_CODES = frozenset({"NoSuchKey", "NoSuchObject", "ResourceNotFound", "NotFound"})
_AUTH_CODES = frozenset(
    {"AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "InvalidToken"}
)


def _split_endpoint(url: str, *, default_secure: bool | None = None) -> tuple[str, bool]:
    """``http://host:port`` → (``host:port``, secure). A bare ``host:port`` is accepted only
    when ``default_secure`` says which scheme to assume."""
    if "://" not in url:
        if default_secure is None:
            raise ValueError(f"S3 endpoint must be a URL like http://host:port, got {url!r}")
        url = ("https://" if default_secure else "http://") + url
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise ValueError(f"S3 endpoint must be an http(s) URL, got {url!r}")
    if parts.path not in {"", "/"} or parts.query or parts.fragment:
        raise ValueError(f"S3 endpoint must not have a path or query, got {url!r}")
    return parts.netloc, parts.scheme == "https"


class S3Store(ObjectStore):
    """Objects in one S3 bucket through the ``minio`` SDK (MinIO, SeaweedFS, AWS...).

    No network I/O happens in the constructor. The bucket is created if missing by
    :meth:`ensure_bucket`, which runs once before the first write and on every
    :meth:`check`. Presigned URLs are signed offline by a second client configured with
    ``public_endpoint`` (the host browsers reach) and the explicit region.

    ``stat`` cannot report the SHA-256 (S3 does not keep it), so ``sha256`` is ``None``
    there; keep the digest ``put_stream`` returned.
    """

    name = "s3"

    def __init__(
        self,
        endpoint: str,
        access_key: str,
        secret_key: str,
        bucket: str,
        region: str = "us-east-1",
        public_endpoint: str | None = None,
        *,
        connect_timeout: float = 3.0,
        read_timeout: float = 120.0,
        retries: int = 2,
    ) -> None:
        import urllib3
        from minio import Minio

        host, secure = _split_endpoint(endpoint)
        self.endpoint = endpoint.rstrip("/")
        self.bucket = bucket
        self.region = region or "us-east-1"
        self._bucket_ready = False
        creds: dict[str, Any] = {"access_key": access_key, "secret_key": secret_key} if access_key else {}

        def pool(connect: float, read: float, attempts: int) -> urllib3.PoolManager:
            return urllib3.PoolManager(
                timeout=urllib3.Timeout(connect=connect, read=read),
                maxsize=10,
                retries=urllib3.Retry(
                    total=attempts,
                    connect=attempts,
                    read=attempts,
                    backoff_factor=0.2,
                    status_forcelist=[500, 502, 503, 504],
                ),
            )

        self._client = Minio(
            host,
            secure=secure,
            region=self.region,
            http_client=pool(connect_timeout, read_timeout, retries),
            **creds,
        )
        # /readyz must answer fast even when the endpoint black-holes packets
        self._probe = Minio(
            host,
            secure=secure,
            region=self.region,
            http_client=pool(min(connect_timeout, 2.0), 5.0, 0),
            **creds,
        )
        if public_endpoint:
            public_host, public_secure = _split_endpoint(public_endpoint, default_secure=secure)
            # region set explicitly → the SDK never asks the server (signing stays offline)
            self._signer = Minio(
                public_host, secure=public_secure, region=self.region, http_client=pool(1.0, 1.0, 0), **creds
            )
        else:
            self._signer = self._client

    def __repr__(self) -> str:
        return f"S3Store({self.endpoint!r}, bucket={self.bucket!r})"

    # errors
    def _translate(self, exc: BaseException, key: str | None = None) -> StoreError | None:
        """The :class:`StoreError` for an SDK/network exception, or None if it is neither."""
        import urllib3
        from minio.error import InvalidResponseError, S3Error, ServerError

        where = f"S3 endpoint {self.endpoint} (bucket {self.bucket!r})"
        if isinstance(exc, S3Error):
            if exc.code in _NOT_FOUND_CODES and key is not None:
                return ObjectNotFound(key)
            if exc.code == "NoSuchBucket":
                return StoreUnavailable(f"{where}: the bucket does not exist")
            if exc.code in _AUTH_CODES:
                return StoreUnavailable(f"{where}: credentials refused ({exc.code}: {exc.message})")
            return StoreError(f"{where}: {exc.code}: {exc.message}")
        if isinstance(exc, (ServerError, InvalidResponseError)):
            return StoreUnavailable(f"{where} answered with an error: {exc}")
        if isinstance(exc, urllib3.exceptions.MaxRetryError):
            return StoreUnavailable(f"{where} is unreachable: {exc.reason}")
        if isinstance(exc, (urllib3.exceptions.HTTPError, OSError)):
            return StoreUnavailable(f"{where} is unreachable: {exc}")
        return None

    def _raise(self, exc: BaseException, key: str | None = None) -> NoReturn:
        mapped = self._translate(exc, key)
        if mapped is None:
            raise exc
        raise mapped from exc

    # bucket
    def ensure_bucket(self) -> bool:
        """Create the bucket if it does not exist; True when it was created."""
        return self._ensure_bucket(self._client)

    def _ensure_bucket(self, client: Any) -> bool:
        from minio.error import S3Error

        try:
            if client.bucket_exists(self.bucket):
                self._bucket_ready = True
                return False
            try:
                self._client.make_bucket(self.bucket)
            except S3Error as exc:
                if exc.code not in {"BucketAlreadyOwnedByYou", "BucketAlreadyExists"}:
                    raise
            self._bucket_ready = True
            return True
        except Exception as exc:
            self._raise(exc)

    def check(self) -> None:
        """Reachable, credentials accepted, bucket present (created if missing). Uses a
        client without retries and with short timeouts so /readyz answers quickly."""
        try:
            self._ensure_bucket(self._probe)
        except StoreUnavailable:
            raise
        except StoreError as exc:
            raise StoreUnavailable(str(exc)) from exc

    # objects
    def put_stream(
        self, key: str, stream: Readable, *, content_type: str, length: int | None = None
    ) -> StoredObject:
        validate_key(key)
        content_type = content_type or DEFAULT_CONTENT_TYPE
        reader = _HashingReader(stream, length)
        if not self._bucket_ready:
            self.ensure_bucket()
        if length == 0:
            reader.read(1)  # the SDK reads nothing for length 0: make sure nothing follows
        try:
            # one part in flight: bounded memory, and no part upload can race the abort
            # the SDK sends when the source fails
            self._client.put_object(
                self.bucket,
                key,
                reader,  # type: ignore[arg-type]  # duck-typed BinaryIO (read only)
                length if length is not None else -1,
                content_type=content_type,
                part_size=S3_PART_SIZE,
                num_parallel_uploads=1,
            )
        except Exception as exc:
            if reader.source_error is exc or isinstance(exc, StoreError):
                raise
            self._raise(exc, key)
        return StoredObject(key, reader.size, reader.hexdigest(), content_type)

    @contextmanager
    def open_stream(self, key: str) -> Iterator[Iterator[bytes]]:
        validate_key(key)
        try:
            response = self._client.get_object(self.bucket, key)
        except Exception as exc:
            self._raise(exc, key)
        try:
            yield self._chunks(response, key)
        finally:
            response.close()
            response.release_conn()

    def _chunks(self, response: Any, key: str) -> Iterator[bytes]:
        try:
            # raw bytes exactly as stored: never undo a Content-Encoding the uploader set
            for chunk in response.stream(CHUNK_SIZE, decode_content=False):
                if chunk:
                    yield chunk
        except Exception as exc:
            self._raise(exc, key)

    def stat(self, key: str) -> StoredObject | None:
        from minio.error import S3Error

        validate_key(key)
        try:
            info = self._client.stat_object(self.bucket, key)
        except S3Error as exc:
            if exc.code in _NOT_FOUND_CODES:
                return None
            self._raise(exc, key)
        except Exception as exc:
            self._raise(exc, key)
        if info.is_dir:
            return None
        return StoredObject(
            key, int(info.size or 0), None, info.content_type or DEFAULT_CONTENT_TYPE, info.last_modified
        )

    def delete(self, key: str) -> None:
        validate_key(key)
        try:
            self._client.remove_object(self.bucket, key)
        except Exception as exc:
            mapped = self._translate(exc, key)
            if isinstance(mapped, ObjectNotFound):
                return
            self._raise(exc, key)

    def list_keys(self, prefix: str = "") -> Iterator[str]:
        _validate_prefix(prefix)
        return self._list(prefix)

    def _list(self, prefix: str) -> Iterator[str]:
        try:
            for obj in self._client.list_objects(self.bucket, prefix=prefix or None, recursive=True):
                name = obj.object_name
                if name and not obj.is_dir and not name.endswith("/"):
                    yield name
        except Exception as exc:
            self._raise(exc)

    def presigned_get_url(self, key: str, expires: timedelta, *, download_name: str | None = None) -> str:
        validate_key(key)
        headers: dict[str, str | list[str] | tuple[str]] | None = None
        if download_name:
            headers = {"response-content-disposition": content_disposition(download_name)}
        return self._signer.presigned_get_object(self.bucket, key, expires=expires, response_headers=headers)

    def presigned_put_url(self, key: str, expires: timedelta) -> str:
        validate_key(key)
        return self._signer.presigned_put_object(self.bucket, key, expires=expires)


# --------------------------------------------------------------------------- factory


def make_store(
    *,
    s3_endpoint: str | None,
    s3_access_key: str | None,
    s3_secret_key: str | None,
    s3_bucket: str | None,
    s3_region: str | None,
    s3_public_endpoint: str | None,
    local_root: Path | str | None,
) -> ObjectStore:
    """S3 when ``s3_endpoint`` is set (non-empty), else the local folder. No network I/O."""
    if s3_endpoint:
        if not s3_bucket:
            raise ValueError("S3_BUCKET must be set when S3_ENDPOINT is")
        return S3Store(
            s3_endpoint,
            s3_access_key or "",
            s3_secret_key or "",
            s3_bucket,
            region=s3_region or "us-east-1",
            public_endpoint=s3_public_endpoint or None,
        )
    if not local_root:
        raise ValueError("either S3_ENDPOINT or a local object folder is required")
    return LocalStore(Path(local_root))
