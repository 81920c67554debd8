"""One behaviour suite, run against both object stores.

``local`` is a :class:`LocalStore` in ``tmp_path``; ``s3`` is an :class:`S3Store` on the real
SeaweedFS from ``tests.support.seaweed`` with a fresh bucket per test. No mocks.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import socket
import time
import tracemalloc
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit, urlunsplit

import pytest
from minio import Minio
from minio.deleteobjects import DeleteObject

from jixiao.platform.core.storage import (
    CHUNK_SIZE,
    S3_PART_SIZE,
    InvalidKey,
    ObjectNotFound,
    ObjectStore,
    StoredObject,
    StoreError,
    StoreUnavailable,
    content_disposition,
)
from jixiao.platform.core.storage.factory import make_store
from jixiao.platform.core.storage.local import LocalStore
from jixiao.platform.core.storage.s3 import S3Store

pytestmark = pytest.mark.once  # mode-independent: runs in the embedded pass only

if TYPE_CHECKING:  # imported by pytest as a plugin below; importing it here first
    from tests.support.seaweed import SeaweedS3  # would defeat its assertion rewriting

# The root conftest registers this too; registering a plugin twice is a no-op.
pytest_plugins = ["tests.support.seaweed"]

MiB = 1024 * 1024


# --------------------------------------------------------------------------- helpers


class SourceBroke(Exception):
    """Raised by a test stream halfway through (think: the client hung up)."""


class GeneratedStream:
    """A read()-able view of a chunk generator; holds at most one chunk at a time."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._pending = b""
        self.largest_read = 0

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            raise AssertionError("the store asked for the whole stream at once")
        self.largest_read = max(self.largest_read, size)
        while not self._pending:
            try:
                self._pending = next(self._chunks)
            except StopIteration:
                return b""
        out, self._pending = self._pending[:size], self._pending[size:]
        return out


def random_chunks(
    total: int, digest: hashlib._Hash, *, chunk: int = 256 * 1024, fail_after: int | None = None
) -> Iterator[bytes]:
    """``total`` random bytes in chunks, fed into ``digest`` as they are produced; raises
    :class:`SourceBroke` once ``fail_after`` bytes have been produced."""
    produced = 0
    while produced < total:
        if fail_after is not None and produced >= fail_after:
            raise SourceBroke(f"source broke after {produced} bytes")
        data = os.urandom(min(chunk, total - produced))
        digest.update(data)
        produced += len(data)
        yield data
    if fail_after is not None:
        raise SourceBroke("source broke at the very end")


def read_all(store: ObjectStore, key: str) -> bytes:
    with store.open_stream(key) as chunks:
        return b"".join(chunks)


def free_port() -> int:
    """A loopback port nobody listens on (bound then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def download_name(disposition: str) -> str | None:
    """The file name a browser saves under (RFC 6266: ``filename*`` wins over ``filename``).
    The stdlib email parser does not implement that precedence, hence this."""
    extended = re.search(r"filename\*\s*=\s*([A-Za-z0-9_-]+)'[^']*'([^;\s]+)", disposition)
    if extended:
        return unquote(extended.group(2), encoding=extended.group(1), errors="strict")
    plain = re.search(r'filename\s*=\s*"((?:[^"\\]|\\.)*)"', disposition)
    return plain.group(1) if plain else None


def raw_client(server: SeaweedS3) -> Minio:
    return Minio(server.host, server.access_key, server.secret_key, secure=False, region="us-east-1")


def pending_uploads(store: ObjectStore, server: SeaweedS3 | None) -> list[str]:
    """Names of unfinished multipart uploads in the store's bucket (S3 only)."""
    if not isinstance(store, S3Store) or server is None:
        return []
    result = raw_client(server)._list_multipart_uploads(store.bucket)
    return [str(upload.object_name) for upload in result.uploads]


def stray_local_files(store: ObjectStore) -> list[str]:
    """Temp files left in a LocalStore (``.~tmp.*``)."""
    if not isinstance(store, LocalStore) or not store.root.exists():
        return []
    return sorted(str(p.relative_to(store.root)) for p in store.root.rglob(".~tmp.*"))


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(params=["local", pytest.param("s3", marks=pytest.mark.real)])
def store_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def s3_server(store_kind: str, request: pytest.FixtureRequest) -> SeaweedS3 | None:
    if store_kind != "s3":
        return None
    server: SeaweedS3 = request.getfixturevalue("seaweed")
    return server


@pytest.fixture
def store(store_kind: str, s3_server: SeaweedS3 | None, tmp_path: Path) -> Iterator[ObjectStore]:
    if store_kind == "local":
        yield LocalStore(tmp_path / "objects")
        return
    assert s3_server is not None
    bucket = f"t-{uuid.uuid4().hex[:24]}"
    s3 = S3Store(s3_server.endpoint, s3_server.access_key, s3_server.secret_key, bucket)
    assert s3.ensure_bucket() is True
    try:
        yield s3
    finally:
        # drop the bucket so SeaweedFS drops its collection (and volumes) too
        client = raw_client(s3_server)
        names = [DeleteObject(o.object_name) for o in client.list_objects(bucket, recursive=True)]
        assert not list(client.remove_objects(bucket, names))
        client.remove_bucket(bucket)


# --------------------------------------------------------------------------- round trips


@pytest.mark.parametrize("declare_length", [True, False], ids=["length", "no-length"])
def test_round_trip_1mib(store: ObjectStore, declare_length: bool) -> None:
    payload = os.urandom(MiB)
    expected = hashlib.sha256(payload).hexdigest()
    key = "evidence/2026/证据 1.pdf"

    stored = store.put_stream(
        key,
        io.BytesIO(payload),
        content_type="application/pdf",
        length=len(payload) if declare_length else None,
    )

    assert stored == StoredObject(key, MiB, expected, "application/pdf")
    assert read_all(store, key) == payload
    with store.open_stream(key) as chunks:
        sizes = [len(c) for c in chunks]
    assert sizes and all(0 < s <= CHUNK_SIZE for s in sizes)
    info = store.stat(key)
    assert info is not None
    assert (info.key, info.size, info.content_type) == (key, MiB, "application/pdf")
    assert info.sha256 in ({expected} if store.name == "local" else {expected, None})


def test_overwrite_replaces_bytes_and_metadata(store: ObjectStore) -> None:
    store.put_stream("k/doc", io.BytesIO(b"first version"), content_type="text/plain")
    stored = store.put_stream("k/doc", io.BytesIO(b"second"), content_type="application/json")

    assert read_all(store, "k/doc") == b"second"
    info = store.stat("k/doc")
    assert info is not None
    assert (info.size, info.content_type) == (6, "application/json")
    assert stored.sha256 == hashlib.sha256(b"second").hexdigest()
    if store.name == "local":
        assert info.sha256 == stored.sha256


def test_empty_object(store: ObjectStore) -> None:
    stored = store.put_stream("k/empty", io.BytesIO(b""), content_type="text/plain", length=0)
    assert stored.size == 0 and stored.sha256 == hashlib.sha256(b"").hexdigest()
    assert read_all(store, "k/empty") == b""
    assert store.exists("k/empty")


@pytest.mark.parametrize("size", [S3_PART_SIZE, S3_PART_SIZE + 1], ids=["one-part", "part+1"])
def test_part_size_boundary_unknown_length(store: ObjectStore, size: int) -> None:
    """Exactly one part goes up as a single PUT, one byte more becomes a 2-part upload."""
    digest = hashlib.sha256()
    stored = store.put_stream(
        "big/boundary.bin", GeneratedStream(random_chunks(size, digest)), content_type="application/zip"
    )
    assert (stored.size, stored.sha256) == (size, digest.hexdigest())
    check = hashlib.sha256()
    with store.open_stream("big/boundary.bin") as chunks:
        for chunk in chunks:
            check.update(chunk)
    assert check.hexdigest() == digest.hexdigest()


def test_streams_64mib_of_unknown_length_in_bounded_memory(store: ObjectStore) -> None:
    """64 MiB from a generator (never materialised) with no length: S3 multipart with 16 MiB
    parts; the download is hashed chunk by chunk. Peak Python memory stays well below the
    payload size, which proves neither direction buffers the whole object."""
    size = 64 * MiB
    digest = hashlib.sha256()
    source = GeneratedStream(random_chunks(size, digest))

    tracemalloc.start()
    try:
        started = time.monotonic()
        stored = store.put_stream("big/64mib.bin", source, content_type="application/octet-stream")
        upload_seconds = time.monotonic() - started
        _, upload_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()

        downloaded = hashlib.sha256()
        received = 0
        started = time.monotonic()
        with store.open_stream("big/64mib.bin") as chunks:
            for chunk in chunks:
                assert len(chunk) <= CHUNK_SIZE
                downloaded.update(chunk)
                received += len(chunk)
        download_seconds = time.monotonic() - started
        _, download_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    print(
        f"\n[{store.name}] 64 MiB up {upload_seconds:.2f}s (peak {upload_peak / MiB:.1f} MiB), "
        f"down {download_seconds:.2f}s (peak {download_peak / MiB:.1f} MiB)"
    )
    assert stored.size == size and received == size
    assert stored.sha256 == digest.hexdigest() == downloaded.hexdigest()
    # one 16 MiB part (+ a copy or two inside the SDK) at most; never the 64 MiB payload
    assert upload_peak < 56 * MiB
    assert download_peak < 8 * MiB
    info = store.stat("big/64mib.bin")
    assert info is not None and info.size == size


# --------------------------------------------------------------------------- metadata and listing


def test_stat_exists_delete_and_list_by_prefix(store: ObjectStore) -> None:
    keys = ["t1/a.txt", "t1/b/c.txt", "t1/b-d.txt", "t1/b/e/f.txt", "t10/x", "证据/佐证.pdf", "u"]
    for key in keys:
        store.put_stream(key, io.BytesIO(key.encode()), content_type="text/plain")

    # order is unspecified (SeaweedFS lists folder by folder, not in S3 byte order)
    def listed(prefix: str) -> list[str]:
        found = list(store.list_keys(prefix))
        assert len(found) == len(set(found))
        return sorted(found)

    assert listed("t1/") == ["t1/a.txt", "t1/b-d.txt", "t1/b/c.txt", "t1/b/e/f.txt"]
    assert listed("t1") == ["t1/a.txt", "t1/b-d.txt", "t1/b/c.txt", "t1/b/e/f.txt", "t10/x"]
    assert listed("t1/b") == ["t1/b-d.txt", "t1/b/c.txt", "t1/b/e/f.txt"]
    assert listed("t1/b/") == ["t1/b/c.txt", "t1/b/e/f.txt"]
    assert listed("t1/b/e/f") == ["t1/b/e/f.txt"]
    assert listed("证据/") == ["证据/佐证.pdf"]
    assert listed("证") == ["证据/佐证.pdf"]
    assert listed("nothing/") == []
    assert listed("") == sorted(keys)
    if isinstance(store, LocalStore):
        assert list(store.list_keys("")) == sorted(keys)  # byte order, like AWS/MinIO

    info = store.stat("t1/b/c.txt")
    assert info is not None
    assert (info.key, info.size, info.content_type) == ("t1/b/c.txt", len(b"t1/b/c.txt"), "text/plain")
    assert store.stat("t1/missing") is None
    assert store.stat("t1/b") is None  # a prefix is not an object
    assert store.exists("t1/a.txt") and not store.exists("t1/missing")

    store.delete("t1/b/c.txt")
    store.delete("t1/b/c.txt")  # idempotent
    store.delete("never/existed")
    assert not store.exists("t1/b/c.txt")
    assert store.stat("t1/b/c.txt") is None
    assert listed("t1/b/") == ["t1/b/e/f.txt"]
    with pytest.raises(ObjectNotFound), store.open_stream("t1/b/c.txt"):
        pass

    for key in list(store.list_keys("")):
        store.delete(key)
    assert list(store.list_keys("")) == []
    if isinstance(store, LocalStore):
        assert [p.name for p in store.root.iterdir()] == []  # sidecars and empty folders gone


def test_open_stream_of_missing_key_raises_not_found(store: ObjectStore) -> None:
    with pytest.raises(ObjectNotFound) as excinfo, store.open_stream("no/such/object"):
        pass
    assert isinstance(excinfo.value, StoreError)


# --------------------------------------------------------------------------- failed writes


@pytest.mark.parametrize("fail_after", [1000, 20 * MiB], ids=["in-first-part", "after-a-part"])
def test_put_whose_stream_raises_leaves_nothing(
    store: ObjectStore, s3_server: SeaweedS3 | None, fail_after: int
) -> None:
    store.put_stream("up/existing.bin", io.BytesIO(b"old bytes"), content_type="text/plain")

    for key in ("up/new.bin", "up/existing.bin"):
        source = GeneratedStream(random_chunks(40 * MiB, hashlib.sha256(), fail_after=fail_after))
        with pytest.raises(SourceBroke):  # the source's own error, unchanged
            store.put_stream(key, source, content_type="application/octet-stream")

    assert store.stat("up/new.bin") is None
    assert not store.exists("up/new.bin")
    assert read_all(store, "up/existing.bin") == b"old bytes"  # the old object is untouched
    assert list(store.list_keys("up/")) == ["up/existing.bin"]
    assert stray_local_files(store) == []
    assert pending_uploads(store, s3_server) == []  # the SDK aborted the multipart upload


@pytest.mark.parametrize(
    ("declared", "actual"), [(100, 50), (100, 150), (0, 1), (S3_PART_SIZE + 10, S3_PART_SIZE + 20)]
)
def test_put_with_wrong_declared_length_leaves_nothing(
    store: ObjectStore, s3_server: SeaweedS3 | None, declared: int, actual: int
) -> None:
    digest = hashlib.sha256()
    with pytest.raises(StoreError, match="length"):
        store.put_stream(
            "len/x.bin",
            GeneratedStream(random_chunks(actual, digest)),
            content_type="application/octet-stream",
            length=declared,
        )
    assert not store.exists("len/x.bin")
    assert list(store.list_keys("len/")) == []
    assert stray_local_files(store) == []
    assert pending_uploads(store, s3_server) == []


# --------------------------------------------------------------------------- keys

BAD_KEYS = [
    "",
    "/etc/passwd",
    "../escape.txt",
    "a/../../escape.txt",
    "a/./b",
    "..",
    "a\\b",
    "a//b",
    "a/",
    "a/b\x00c",
    "a/b\nc",
    "a/\x7f",
    "a/.~tmp.123",
    "x" * 201,
    "/".join(["abcdefghi"] * 110),  # > 1024 bytes
]


@pytest.mark.parametrize("key", BAD_KEYS, ids=[repr(k)[:30] for k in BAD_KEYS])
def test_invalid_keys_are_refused(store: ObjectStore, tmp_path: Path, key: str) -> None:
    operations: list[Callable[[], object]] = [
        lambda: store.put_stream(key, io.BytesIO(b"x"), content_type="text/plain"),
        lambda: store.stat(key),
        lambda: store.exists(key),
        lambda: store.delete(key),
        lambda: store.open_stream(key).__enter__(),
        lambda: store.presigned_get_url(key, timedelta(minutes=1)),
        lambda: store.presigned_put_url(key, timedelta(minutes=1)),
    ]
    for operation in operations:
        with pytest.raises(InvalidKey):
            operation()
    assert not (tmp_path / "escape.txt").exists()
    assert list(store.list_keys("")) == []


def test_invalid_prefixes_are_refused(store: ObjectStore) -> None:
    for prefix in ["/abs", "../x", "a/../", "a\\", "a/\x00", "a//"]:
        with pytest.raises(InvalidKey):
            list(store.list_keys(prefix))


def test_good_unusual_keys_round_trip(store: ObjectStore) -> None:
    keys = [
        "a b/c+d=e&f?.pdf",
        "证据/2026年 佐证材料（一）.docx",
        "x/report..v2.pdf",
        "x/%41%2F.txt",
        "x/.hidden",
    ]
    for key in keys:
        store.put_stream(key, io.BytesIO(key.encode()), content_type="text/plain")
    for key in keys:
        assert read_all(store, key) == key.encode()
    assert sorted(store.list_keys("")) == sorted(keys)


def test_local_key_cannot_be_object_and_prefix(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "objects")
    store.put_stream("a/b", io.BytesIO(b"1"), content_type="text/plain")
    with pytest.raises(InvalidKey, match="collides"):
        store.put_stream("a/b/c", io.BytesIO(b"2"), content_type="text/plain")
    with pytest.raises(InvalidKey, match="prefix"):
        store.put_stream("a", io.BytesIO(b"3"), content_type="text/plain")
    assert list(store.list_keys("")) == ["a/b"]
    assert stray_local_files(store) == []


def test_local_sidecar_is_ignored_when_file_changed_behind_its_back(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "objects")
    store.put_stream("k/f.pdf", io.BytesIO(b"original"), content_type="application/pdf")
    path = tmp_path / "objects" / "k" / "f.pdf"
    replacement = path.with_name("other")
    replacement.write_bytes(b"tampered")  # same size, new inode
    os.replace(replacement, path)
    info = store.stat("k/f.pdf")
    assert info is not None and info.modified is not None
    assert info == StoredObject("k/f.pdf", 8, None, "application/octet-stream", info.modified)


# --------------------------------------------------------------------------- presigned URLs


def test_local_store_has_no_presigned_urls(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    assert store.presigned_get_url("a/b.pdf", timedelta(minutes=5), download_name="佐证.pdf") is None
    assert store.presigned_put_url("a/b.pdf", timedelta(minutes=5)) is None


def test_content_disposition_is_rfc5987() -> None:
    value = content_disposition("佐证.pdf")
    assert value == "attachment; filename=\"__.pdf\"; filename*=UTF-8''%E4%BD%90%E8%AF%81.pdf"
    assert download_name(value) == "佐证.pdf"
    tricky = content_disposition('报告 "终稿";v2%.pdf')
    assert download_name(tricky) == '报告 "终稿";v2%.pdf'
    assert tricky.startswith('attachment; filename="__ ____;v2_.pdf"; ')
    assert content_disposition("../../etc/passwd").endswith("filename*=UTF-8''passwd")
    assert content_disposition("a.pdf", inline=True).startswith("inline; ")


@pytest.mark.real
@pytest.mark.parametrize("store_kind", ["s3"], indirect=False)
def test_presigned_get_carries_the_utf8_download_name(store: ObjectStore, s3_server: SeaweedS3) -> None:
    assert isinstance(store, S3Store)
    payload = os.urandom(300_000)
    key = "evidence/7/0b6f.pdf"
    store.put_stream(key, io.BytesIO(payload), content_type="application/pdf")

    url = store.presigned_get_url(key, timedelta(minutes=5), download_name="佐证.pdf")
    assert url.startswith(s3_server.endpoint + "/")
    with urllib.request.urlopen(url, timeout=10) as response:
        body = response.read()
        disposition = response.headers["Content-Disposition"]
        content_type = response.headers["Content-Type"]
    assert body == payload
    assert content_type == "application/pdf"
    assert "filename*=UTF-8''%E4%BD%90%E8%AF%81.pdf" in disposition
    assert download_name(disposition) == "佐证.pdf"

    plain = store.presigned_get_url(key, timedelta(minutes=5))
    with urllib.request.urlopen(plain, timeout=10) as response:
        assert response.read() == payload
        assert response.headers["Content-Disposition"] is None

    # the signature is real: another object under the same signature is refused
    parts = urlsplit(url)
    forged = urlunsplit(parts._replace(path=parts.path.replace("0b6f", "0b6e")))
    with pytest.raises(urllib.error.HTTPError) as excinfo:
        urllib.request.urlopen(forged, timeout=10)
    assert excinfo.value.code == 403


@pytest.mark.real
@pytest.mark.parametrize("store_kind", ["s3"], indirect=False)
def test_presigned_put_accepts_a_browser_upload(store: ObjectStore) -> None:
    assert isinstance(store, S3Store)
    payload = os.urandom(200_000)
    url = store.presigned_put_url("browser/upload.pdf", timedelta(minutes=5))
    request = urllib.request.Request(
        url, data=payload, method="PUT", headers={"Content-Type": "application/pdf"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
    assert read_all(store, "browser/upload.pdf") == payload
    info = store.stat("browser/upload.pdf")
    assert info is not None and (info.size, info.content_type) == (len(payload), "application/pdf")


@pytest.mark.real
@pytest.mark.parametrize("store_kind", ["s3"], indirect=False)
def test_presigned_urls_use_the_public_endpoint(store: ObjectStore, s3_server: SeaweedS3) -> None:
    """URLs for browsers are signed for ``public_endpoint`` (here ``localhost`` instead of
    ``127.0.0.1``) and that host is what the server verifies."""
    assert isinstance(store, S3Store)
    port = urlsplit(s3_server.endpoint).port
    public = S3Store(
        s3_server.endpoint,
        s3_server.access_key,
        s3_server.secret_key,
        store.bucket,
        public_endpoint=f"http://localhost:{port}",
    )
    public.put_stream("p/x.txt", io.BytesIO(b"public bytes"), content_type="text/plain")
    url = public.presigned_get_url("p/x.txt", timedelta(minutes=5), download_name="x.txt")
    assert url.startswith(f"http://localhost:{port}/{store.bucket}/p/x.txt?")
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.read() == b"public bytes"

    put_url = public.presigned_put_url("p/y.txt", timedelta(minutes=5))
    assert put_url.startswith(f"http://localhost:{port}/")
    with urllib.request.urlopen(urllib.request.Request(put_url, data=b"y", method="PUT"), timeout=10):
        pass
    assert read_all(store, "p/y.txt") == b"y"


def test_presigning_needs_no_network() -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    store = S3Store(dead, "ak", "sk", "bucket", public_endpoint="https://files.example.org")
    started = time.monotonic()
    url = store.presigned_get_url("a/b.pdf", timedelta(hours=1), download_name="佐证.pdf")
    assert time.monotonic() - started < 0.5
    assert url.startswith("https://files.example.org/bucket/a/b.pdf?")
    assert "response-content-disposition=" in url and "X-Amz-Signature=" in url


# --------------------------------------------------------------------------- health


def test_check_passes_on_a_working_store(store: ObjectStore) -> None:
    store.check()


def test_check_on_a_closed_port_fails_fast() -> None:
    endpoint = f"http://127.0.0.1:{free_port()}"
    store = S3Store(endpoint, "ak", "sk", "bucket")
    started = time.monotonic()
    with pytest.raises(StoreUnavailable) as excinfo:
        store.check()
    assert time.monotonic() - started < 3
    assert endpoint in str(excinfo.value)
    assert "refused" in str(excinfo.value).lower()

    started = time.monotonic()
    with pytest.raises(StoreUnavailable):
        store.put_stream("a/b", io.BytesIO(b"x"), content_type="text/plain")
    with pytest.raises(StoreUnavailable):
        store.stat("a/b")
    with pytest.raises(StoreUnavailable), store.open_stream("a/b"):
        pass
    assert time.monotonic() - started < 5


@pytest.mark.real
def test_check_reports_refused_credentials(seaweed: SeaweedS3) -> None:
    store = S3Store(seaweed.endpoint, seaweed.access_key, "wrong-secret", seaweed.bucket)
    with pytest.raises(StoreUnavailable, match="credentials"):
        store.check()


def test_local_check_fails_when_root_is_unusable(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(StoreUnavailable, match="local object store"):
        LocalStore(blocker / "objects").check()
    LocalStore(tmp_path / "fresh" / "objects").check()


# --------------------------------------------------------------------------- factory


def test_make_store_picks_s3_only_when_an_endpoint_is_set(tmp_path: Path) -> None:
    common = dict(s3_access_key="ak", s3_secret_key="sk", s3_bucket="b", s3_region="us-east-1")
    local = make_store(s3_endpoint="", s3_public_endpoint="", local_root=tmp_path, **common)
    assert isinstance(local, LocalStore) and local.name == "local" and local.root == tmp_path
    s3 = make_store(s3_endpoint="http://127.0.0.1:9", s3_public_endpoint=None, local_root=tmp_path, **common)
    assert isinstance(s3, S3Store) and s3.name == "s3" and s3.bucket == "b"
    with pytest.raises(ValueError):
        make_store(s3_endpoint="127.0.0.1:9000", s3_public_endpoint=None, local_root=None, **common)
