"""The S3 object store (MinIO, SeaweedFS, AWS...) through the ``minio`` SDK.

Implements :class:`~jixiao.platform.core.storage.ObjectStore` with the semantics described
there; SDK and network errors become its :class:`~jixiao.platform.core.storage.StoreError`
subclasses. ``minio`` and ``urllib3`` are imported lazily, when a store is built or fails.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any, NoReturn
from urllib.parse import urlsplit

from . import (
    CHUNK_SIZE,
    DEFAULT_CONTENT_TYPE,
    S3_MIN_PART_SIZE,
    S3_PARALLEL_UPLOADS,
    S3_PART_SIZE,
    ObjectNotFound,
    ObjectStore,
    Readable,
    StoredObject,
    StoreError,
    StoreUnavailable,
    _HashingReader,
    _validate_prefix,
    content_disposition,
    multipart,
    validate_key,
)

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

    ``part_size`` and ``parallel_uploads`` shape :meth:`put_stream` (:mod:`.multipart`): a
    stream longer than one part goes up in parts of ``part_size`` bytes (at least S3's 5 MiB),
    ``parallel_uploads`` of them at a time; an upload holds at most ``parallel_uploads + 1``
    parts in memory.
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
        part_size: int = S3_PART_SIZE,
        parallel_uploads: int = S3_PARALLEL_UPLOADS,
    ) -> None:
        import urllib3
        from minio import Minio

        if not S3_MIN_PART_SIZE <= part_size <= 5 * 1024**3:
            raise ValueError(f"S3 part size must be between 5 MiB and 5 GiB, got {part_size} bytes")
        if not 1 <= parallel_uploads <= 16:
            raise ValueError(f"S3 parallel uploads must be between 1 and 16, got {parallel_uploads}")
        self.part_size = part_size
        self.parallel_uploads = parallel_uploads
        host, secure = _split_endpoint(endpoint)
        self.endpoint = endpoint.rstrip("/")
        self.bucket = bucket
        self.region = region or "us-east-1"
        self._bucket_ready = False
        creds: dict[str, Any] = {"access_key": access_key, "secret_key": secret_key} if access_key else {}

        def pool(connect: float, read: float, attempts: int) -> urllib3.PoolManager:
            return urllib3.PoolManager(
                timeout=urllib3.Timeout(connect=connect, read=read),
                maxsize=max(10, 2 * parallel_uploads),
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
        try:
            multipart.upload(
                self._client,
                self.bucket,
                key,
                reader,
                content_type=content_type,
                part_size=self.part_size,
                parallel=self.parallel_uploads,
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
            # raw bytes exactly as stored: never undo a Content-Encoding the uploader set; each
            # piece as soon as it has come (one read of the socket, up to CHUNK_SIZE), so that
            # whoever streams them on is sending while the next piece arrives
            while chunk := response.read1(CHUNK_SIZE, decode_content=False):
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
        from minio.error import S3Error

        try:
            for obj in self._client.list_objects(self.bucket, prefix=prefix or None, recursive=True):
                name = obj.object_name
                if name and not obj.is_dir and not name.endswith("/"):
                    yield name
        except S3Error as exc:
            if exc.code != "NoSuchBucket":  # a bucket not made yet holds nothing
                self._raise(exc)
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
