"""Evidence files streamed end to end through the real HTTP server (issue "evidence", DESIGN.md §7).

* 1 MiB and 300 MiB PDFs, generated on the fly from a seeded PRNG and hashed while being sent
  (never whole in memory), round-trip through ``live_server`` with matching SHA-256 — stored in
  the mode's store (local folder, or SeaweedFS S3 in real mode).
* The process's peak RSS (the app runs in-process, in the live server's threads) stays far below
  the file size, and no temporary file is written: the multipart body streams to the store as it
  arrives (platform/web/formdata.py), in S3 parts sent in parallel (storage/multipart.py).
* A file of several parts reads back byte for byte; a file over the program's limit found while
  streaming is refused (413) with nothing left: no object, no unfinished multipart upload, no row;
  fields may come after the file (evidence.js sends it first): a small file is held until they
  have come, a large one is stored first and removed again when a field after it is wrong.
* Store unreachable: 503 with a Chinese message, nothing recorded.
* Store stopped while the app streams to it (real mode): the upload fails, no row, no object.
* Database fails after the object was stored: the object is removed again (no object without row).

No mocks: failures are real (a closed port, a killed SeaweedFS, a read-only database session).
"""

from __future__ import annotations

import dataclasses
import hashlib
import http.client
import io
import json
import os
import random
import secrets
import signal
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy.exc import DBAPIError
from werkzeug.serving import make_server

from jixiao.platform.core.runtime import current_runtime, install
from tests.api.test_project_lifecycle import new_project
from tests.support.services import MODE

MiB = 1024 * 1024
MAGIC = b"%PDF-1.7\n"
RSS_BOUND = 150 * MiB  # generous: a whole 300 MiB file in memory would blow it twice over


# --------------------------------------------------------------------------- payloads and HTTP


class Payload:
    """``size`` deterministic pseudo-random bytes starting with the PDF magic, produced in 1 MiB
    chunks; ``sha256``/``sent`` are filled in while the chunks are consumed."""

    def __init__(self, size: int, seed: int) -> None:
        self.size = size
        self.seed = seed
        self.sent = 0
        self._digest = hashlib.sha256()

    def chunks(self, chunk: int = MiB) -> Iterator[bytes]:
        rng = random.Random(self.seed)
        remaining = self.size
        first = True
        while remaining:
            n = min(chunk, remaining)
            data = (MAGIC + rng.randbytes(n - len(MAGIC))) if first else rng.randbytes(n)
            first = False
            self._digest.update(data)
            self.sent += n
            remaining -= n
            yield data

    @property
    def sha256(self) -> str:
        assert self.sent == self.size, "payload not fully sent"
        return self._digest.hexdigest()


def post_evidence(
    base_url: str,
    token: str,
    project_id: int,
    payload: Payload,
    filename: str,
    *,
    stage: str = "assessment",
    purpose: str = "立项依据",
    timeout: float = 300.0,
) -> tuple[int, dict[str, Any]]:
    """A hand-built multipart/form-data POST over a real socket: the fields, then the file
    written chunk by chunk from the generator, with an exact Content-Length (as browsers send)."""
    boundary = "----jixiao" + secrets.token_hex(12)
    head = b""
    for name, value in (("stage", stage), ("purpose", purpose)):
        head += f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
    head += (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        "Content-Type: application/pdf\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    url = urlsplit(base_url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=timeout)
    try:
        conn.putrequest("POST", f"/api/v1/projects/{project_id}/evidence")
        conn.putheader("Authorization", f"Bearer {token}")
        conn.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
        conn.putheader("Content-Length", str(len(head) + payload.size + len(tail)))
        conn.putheader("Accept", "application/json")
        conn.endheaders()
        conn.send(head)
        for chunk in payload.chunks():
            conn.send(chunk)
        conn.send(tail)
        resp = conn.getresponse()
        body = resp.read()
        return resp.status, json.loads(body) if body else {}
    finally:
        conn.close()


def get_hashed(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], str, int]:
    """GET without following redirects, hashing the body in 1 MiB reads (never kept whole)."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=300)
    try:
        conn.request("GET", parts.path + (f"?{parts.query}" if parts.query else ""), headers=headers or {})
        resp = conn.getresponse()
        digest = hashlib.sha256()
        size = 0
        while chunk := resp.read(MiB):
            digest.update(chunk)
            size += len(chunk)
        return resp.status, dict(resp.getheaders()), digest.hexdigest(), size
    finally:
        conn.close()


def download(base_url: str, token: str, evidence_id: int) -> tuple[str, int]:
    """Through the app's authorization check; real mode: 302 to a presigned SeaweedFS URL."""
    status, headers, sha, size = get_hashed(
        f"{base_url}/api/v1/evidence/{evidence_id}/download", {"Authorization": f"Bearer {token}"}
    )
    if MODE == "real":
        assert status == 302, status
        status, headers, sha, size = get_hashed(headers["Location"])  # no bearer token to the store
        assert status == 200, status
    else:
        assert status == 200, status
        assert headers["X-Content-SHA256"] == sha
    assert "filename*=UTF-8''" in headers["Content-Disposition"]
    return sha, size


# --------------------------------------------------------------------------- memory watch


def _status_kib(field: str) -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise AssertionError(f"{field} not in /proc/self/status")


class MemoryWatch:
    """Peak RSS of this process over a block (VmHWM reset via /proc/self/clear_refs, plus a
    sampling thread as a fallback), and the largest unlinked temporary file it held open (where
    werkzeug spools a multipart upload)."""

    def __init__(self) -> None:
        self.start_rss = 0
        self.peak_rss = 0
        self.largest_spool = 0
        self._hwm_reset = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._tmp = os.path.realpath(tempfile.gettempdir())

    def _sample(self) -> None:
        while not self._stop.wait(0.02):
            self.peak_rss = max(self.peak_rss, _status_kib("VmRSS"))
            with suppress(OSError):
                for fd in os.listdir("/proc/self/fd"):
                    with suppress(OSError):
                        target = os.readlink(f"/proc/self/fd/{fd}")
                        if target.startswith(self._tmp) and target.endswith("(deleted)"):
                            self.largest_spool = max(
                                self.largest_spool, os.stat(f"/proc/self/fd/{fd}").st_size
                            )

    def __enter__(self) -> MemoryWatch:
        try:
            with open("/proc/self/clear_refs", "w") as fh:
                fh.write("5")  # reset the peak RSS (VmHWM) to the current RSS
            self._hwm_reset = True
        except OSError:
            self._hwm_reset = False
        self.start_rss = self.peak_rss = _status_kib("VmRSS")
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        if self._hwm_reset:
            self.peak_rss = max(self.peak_rss, _status_kib("VmHWM"))

    @property
    def growth(self) -> int:
        return self.peak_rss - self.start_rss


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def program_id(api) -> int:
    """A program of our own whose evidence limit (400 MiB) admits the 300 MiB file."""
    resp = api.as_user("nx.admin").post(
        "/api/v1/programs",
        json={
            "name": f"佐证流式{secrets.token_hex(3)}",
            "start": "2022-08-01",
            "end": "2099-12-31",
            "tenant_codes": ["640104", "640105", "640100"],
            "max_projects_per_tenant": 20,
            "settings": {"evidence": {"max_size_mib": 400}},
        },
    )
    assert resp.status_code == 201, resp.get_json()
    return int(resp.get_json()["id"])


@pytest.fixture()
def project(api, program_id, unique) -> dict:
    return new_project(api, program_id, unique)


@pytest.fixture()
def keep_runtime() -> Iterator[None]:
    """create_app installs its runtime process-wide; put the session's back afterwards."""
    original = current_runtime()
    try:
        yield
    finally:
        install(original)


def evidence_rows(api, project_id: int) -> list[dict]:
    resp = api.as_user("xq.editor").get(f"/api/v1/projects/{project_id}/evidence?history=true")
    assert resp.status_code == 200, resp.get_json()
    return list(resp.get_json())


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def second_app(settings: Any, instance: Path, **overrides: Any) -> Iterator[Any]:
    """Another app on the session's database with other store settings (installs its runtime)."""
    from jixiao.platform.web.app import create_app

    instance.mkdir(parents=True, exist_ok=True)
    app = create_app(dataclasses.replace(settings, instance_dir=instance, **overrides))
    app.config.update(TESTING=True)
    try:
        yield app
    finally:
        app.extensions["jixiao"].db.dispose()


@contextmanager
def serve(app: Any) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(10)


# --------------------------------------------------------------------------- round trips


def round_trip(api, live_server: str, project_id: int, size: int, name: str) -> dict:
    token = api.token("xq.editor")
    payload = Payload(size, seed=size)
    status, item = post_evidence(live_server, token, project_id, payload, name)
    assert status == 201, item
    assert item["size"] == size and item["sha256"] == payload.sha256
    assert item["filename"] == name and item["content_type"] == "application/pdf"
    sha, got = download(live_server, token, item["id"])
    assert (sha, got) == (payload.sha256, size)
    return item


def test_one_mib_round_trip_over_http(api, live_server, project):
    round_trip(api, live_server, project["id"], 1 * MiB, "立项批复（1MiB）.pdf")


def test_300_mib_round_trip_in_bounded_memory(api, live_server, project):
    """300 MiB > the default 200 MiB limit: the program raised it to 400 MiB. The peak RSS of the
    whole process (client, server threads, store client) over upload + download must stay under
    RSS_BOUND, so the file was never held whole; and no temporary file held it either."""
    started = time.monotonic()
    with MemoryWatch() as watch:
        round_trip(api, live_server, project["id"], 300 * MiB, "大文件（300MiB）.pdf")
    elapsed = time.monotonic() - started
    print(
        f"300 MiB round trip ({MODE}): {elapsed:.1f} s, RSS +{watch.growth / MiB:.0f} MiB, "
        f"largest temp spool {watch.largest_spool / MiB:.0f} MiB"
    )
    assert watch.growth < RSS_BOUND, f"RSS grew by {watch.growth / MiB:.0f} MiB for a 300 MiB file"
    # the body streamed to the store as it arrived: no temporary file (werkzeug's spool) held it —
    # a spool of the body would be hundreds of MiB; a few KiB are another thread's (the embedded
    # pass's in-process jobs)
    assert watch.largest_spool < MiB, watch.largest_spool


def test_a_file_of_exactly_the_limit_is_accepted(api, live_server, unique):
    """The limit is on the FILE (``size > limit`` is refused), not on the multipart body, which
    carries a few hundred bytes of boundaries and fields on top of it."""
    resp = api.as_user("nx.admin").post(
        "/api/v1/programs",
        json={
            "name": f"佐证上限{unique}",
            "start": "2022-08-01",
            "end": "2099-12-31",
            "tenant_codes": ["640104"],
            "max_projects_per_tenant": 5,
            "settings": {"evidence": {"max_size_mib": 1}},
        },
    )
    assert resp.status_code == 201, resp.get_json()
    project = new_project(api, resp.get_json()["id"], unique)
    token = api.token("xq.editor")
    status, body = post_evidence(live_server, token, project["id"], Payload(MiB, seed=1), "恰好上限.pdf")
    assert status == 201, (status, body)
    status, body = post_evidence(live_server, token, project["id"], Payload(MiB + 1, seed=2), "超出.pdf")
    assert status == 413 and "1 MiB" in body["message"], (status, body)


# --------------------------------------------------------------------------- failures


def test_store_unreachable_is_503_with_a_message_and_nothing_recorded(
    api, settings, project, tmp_path, keep_runtime
):
    before = evidence_rows(api, project["id"])
    port = closed_port()
    with second_app(
        settings,
        tmp_path / "instance",
        s3_endpoint=f"http://127.0.0.1:{port}",
        s3_access_key="k",
        s3_secret_key="s",
        s3_bucket="jixiao-unreachable",
    ) as app:
        started = time.monotonic()
        resp = app.test_client().post(
            f"/api/v1/projects/{project['id']}/evidence",
            headers={"Authorization": f"Bearer {api.token('xq.editor')}"},
            data={
                "file": (io.BytesIO(MAGIC + os.urandom(64 * 1024)), "立项批复.pdf"),
                "stage": "assessment",
                "purpose": "立项依据",
            },
            content_type="multipart/form-data",
        )
        elapsed = time.monotonic() - started
    assert resp.status_code == 503, resp.get_json()
    body = resp.get_json()
    assert body["message"].startswith("对象存储不可用"), body
    assert f"127.0.0.1:{port}" in body["message"]
    assert elapsed < 30, f"the unreachable store took {elapsed:.1f} s to report"
    assert evidence_rows(api, project["id"]) == before == []


def _tree_bytes(root: Path) -> int:
    total = 0
    for folder, _dirs, files in os.walk(root):
        for name in files:
            with suppress(OSError):
                total += os.stat(os.path.join(folder, name)).st_size
    return total


@pytest.mark.skipif(MODE != "real", reason="needs a SeaweedFS to stop (real mode only)")
def test_store_stopped_mid_upload_leaves_no_row_and_no_object(api, settings, project, tmp_path, keep_runtime):
    """The app is streaming the body to S3 in parts as it arrives when SeaweedFS dies (SIGKILL of
    its process group, as a crash would). The request fails (or the connection is cut while the
    client still sends), no row; SeaweedFS restarted on the same data holds no object either."""
    from jixiao.platform.core.storage.s3 import S3Store
    from tests.support.seaweed import start_seaweed

    store_dir = tmp_path / "seaweed"
    server = start_seaweed(store_dir)
    try:
        with (
            second_app(
                settings,
                tmp_path / "instance",
                s3_endpoint=server.endpoint,
                s3_access_key=server.access_key,
                s3_secret_key=server.secret_key,
                s3_bucket=server.bucket,
            ) as app,
            serve(app) as base_url,
        ):
            baseline = _tree_bytes(server.data_dir)
            payload = Payload(160 * MiB, seed=7)
            outcome: dict[str, Any] = {}

            def send() -> None:
                try:
                    outcome["response"] = post_evidence(
                        base_url, api.token("xq.editor"), project["id"], payload, "中途断开.pdf", timeout=120
                    )
                except (OSError, http.client.HTTPException) as exc:
                    outcome["error"] = exc

            uploader = threading.Thread(target=send, daemon=True)
            uploader.start()
            deadline = time.monotonic() + 120
            # wait until the app is writing to the store (the first part is arriving) ...
            while _tree_bytes(server.data_dir) < baseline + 2 * MiB:
                assert uploader.is_alive(), f"upload ended before the store saw any bytes: {outcome}"
                assert time.monotonic() < deadline, "the store never received the upload"
                time.sleep(0.01)
            # ... then stop it hard: SIGTERM lets weed drain (and finish the upload) for seconds
            with suppress(ProcessLookupError):
                os.killpg(server.pid, signal.SIGKILL)
            server.stop()
            killed_at = _tree_bytes(server.data_dir) - baseline
            uploader.join(180)
            assert not uploader.is_alive(), "the upload hung after the store died"
            print(f"store killed after it stored ~{killed_at / MiB:.0f} MiB of 160: {outcome}")
    finally:
        server.stop()

    if "response" in outcome:
        status, body = outcome["response"]
        assert status >= 500, (status, body)
        if status == 503:
            assert body["message"].startswith("对象存储不可用"), body
    assert evidence_rows(api, project["id"]) == []

    restarted = start_seaweed(store_dir)  # same data folder: what did the store keep?
    try:
        store = S3Store(restarted.endpoint, restarted.access_key, restarted.secret_key, restarted.bucket)
        prefix = f"tenants/{project['tenant_code']}/projects/{project['id']}/"
        assert list(store.list_keys(prefix)) == []
    finally:
        restarted.stop()


class CountingReader(io.BytesIO):
    """Only observes: how many bytes the store pulled out of the upload."""

    consumed = 0

    def read(self, size: int | None = -1) -> bytes:
        data = super().read(size)
        self.consumed += len(data)
        return data


def _read_only(session: Any) -> None:
    """Make the session's transaction refuse writes (SQLite: on the connection, which dies with
    the test's own engine)."""
    conn = session.connection()
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("PRAGMA query_only = ON")
    else:
        conn.exec_driver_sql("SET TRANSACTION READ ONLY")  # the first statement of the transaction


def test_database_failure_after_the_object_was_stored_removes_the_object(api, settings, project):
    """The row cannot be written (a read-only transaction: a real database error at INSERT,
    after put_stream stored the whole object): the error propagates and the object is gone."""
    from jixiao.platform.core.db import Database
    from jixiao.services.evidence import service
    from jixiao.tenants.service import build_actor, find_login_user

    store = current_runtime().store
    prefix = f"tenants/{project['tenant_code']}/projects/{project['id']}/"
    data = MAGIC + os.urandom(256 * 1024)
    stream = CountingReader(data)
    database = Database(settings.database_url)  # its own pool: no read-only connection leaks
    try:
        with database.transaction(system="test: build the editor's actor") as s:
            user = find_login_user(s, "xq.editor")
            assert user is not None
            editor = build_actor(s, user)
        session = database.session(editor)
        _read_only(session)
        try:
            with pytest.raises(DBAPIError):
                service.upload(
                    session,
                    editor,
                    project["id"],
                    stage="assessment",
                    purpose="立项依据",
                    filename="写库失败.pdf",
                    stream=stream,
                    store=store,
                )
        finally:
            session.close()
    finally:
        database.dispose()
    assert stream.consumed == len(data), "the failure came before the object was stored"
    assert list(store.list_keys(prefix)) == []
    assert evidence_rows(api, project["id"]) == []


# --------------------------------------------------------------------------- streaming (issue 17)


def multipart_body(
    before: dict[str, str], file: tuple[str, bytes] | None, after: dict[str, str] | None = None
) -> tuple[bytes, str]:
    """A multipart/form-data body with the fields in the order given around the file."""
    boundary = "----jixiao" + secrets.token_hex(12)
    body = b""

    def field(name: str, value: str) -> bytes:
        return f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()

    for name, value in before.items():
        body += field(name, value)
    if file is not None:
        body += (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{file[0]}"\r\n'
                "Content-Type: application/pdf\r\n\r\n"
            ).encode()
            + file[1]
            + b"\r\n"
        )
    for name, value in (after or {}).items():
        body += field(name, value)
    return body + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def post_raw(api, project_id: int, body: bytes, content_type: str) -> Any:
    return api.as_user("xq.editor").post(
        f"/api/v1/projects/{project_id}/evidence", data=body, content_type=content_type
    )


def pdf(size: int, seed: int) -> bytes:
    return MAGIC + random.Random(seed).randbytes(size - len(MAGIC))


def stored_keys(project: dict) -> list[str]:
    return list(
        current_runtime().store.list_keys(f"tenants/{project['tenant_code']}/projects/{project['id']}/")
    )


@contextmanager
def store_of(store: Any) -> Iterator[None]:
    """The in-process runtime (the session's app and its live server) on another store for a block."""
    rt = current_runtime()
    original = rt.store
    rt.store = store
    try:
        yield
    finally:
        rt.store = original


class PartRecorder:
    """Wraps an S3Store's SDK client: counts the part uploads and the most at once."""

    def __init__(self, client: Any, fail_part: int | None = None) -> None:
        self._client = client
        self._lock = threading.Lock()
        self._running = 0
        self.parts = 0
        self.most_at_once = 0
        self.aborted = 0
        self.fail_part = fail_part

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def _upload_part(self, *args: Any) -> Any:
        with self._lock:
            self._running += 1
            self.parts += 1
            self.most_at_once = max(self.most_at_once, self._running)
        try:
            time.sleep(0.05)  # long enough for the next part to start beside this one
            if args[5] == self.fail_part:
                raise ConnectionResetError(f"the store dropped part {args[5]}")
            return self._client._upload_part(*args)
        finally:
            with self._lock:
                self._running -= 1

    def _abort_multipart_upload(self, *args: Any) -> Any:
        self.aborted += 1
        return self._client._abort_multipart_upload(*args)


def small_part_store(seaweed: Any, **recorder: Any) -> tuple[Any, PartRecorder]:
    from jixiao.platform.core.storage.s3 import S3Store

    store = S3Store(
        seaweed.endpoint,
        seaweed.access_key,
        seaweed.secret_key,
        current_runtime().store.bucket,  # type: ignore[attr-defined]
        part_size=5 * MiB,
        parallel_uploads=3,
    )
    spy = PartRecorder(store._client, **recorder)
    store._client = spy  # type: ignore[assignment]
    return store, spy


def pending_multipart_uploads(seaweed: Any) -> list[str]:
    from minio import Minio

    raw = Minio(seaweed.host, seaweed.access_key, seaweed.secret_key, secure=False, region="us-east-1")
    result = raw._list_multipart_uploads(current_runtime().store.bucket)  # type: ignore[attr-defined]
    return [str(upload.object_name) for upload in result.uploads]


@pytest.mark.skipif(MODE != "real", reason="S3 multipart parts: real mode only")
def test_a_file_of_several_parts_goes_up_in_parallel_parts_and_reads_back(api, live_server, project, request):
    """20 MiB over a real socket with 5 MiB parts: 4 parts, more than one on the wire at a time;
    the object is one whole (its ETag says 4 parts) and reads back byte for byte."""
    from minio import Minio

    seaweed = request.getfixturevalue("seaweed")
    store, spy = small_part_store(seaweed)
    payload = Payload(20 * MiB, seed=20)
    with store_of(store):
        status, item = post_evidence(live_server, api.token("xq.editor"), project["id"], payload, "四段.pdf")
    assert status == 201, item
    assert (item["size"], item["sha256"]) == (20 * MiB, payload.sha256)
    assert spy.parts == 4 and spy.most_at_once >= 2, (spy.parts, spy.most_at_once)
    key = stored_keys(project)[0]
    raw = Minio(seaweed.host, seaweed.access_key, seaweed.secret_key, secure=False, region="us-east-1")
    assert raw.stat_object(store.bucket, key).etag.endswith("-4")
    assert download(live_server, api.token("xq.editor"), item["id"]) == (payload.sha256, 20 * MiB)
    assert pending_multipart_uploads(seaweed) == []


@pytest.mark.skipif(MODE != "real", reason="S3 multipart parts: real mode only")
def test_a_part_the_store_drops_aborts_the_upload_and_keeps_nothing(api, project, request):
    seaweed = request.getfixturevalue("seaweed")
    store, spy = small_part_store(seaweed, fail_part=3)
    body, content_type = multipart_body(
        {"stage": "assessment", "purpose": "其他"}, ("断开.pdf", pdf(22 * MiB, 3))
    )
    with store_of(store):
        resp = post_raw(api, project["id"], body, content_type)
    assert resp.status_code == 503 and resp.get_json()["message"].startswith("对象存储不可用"), (
        resp.get_json()
    )
    assert spy.aborted == 1 and spy.parts <= 5, (spy.aborted, spy.parts)
    assert stored_keys(project) == [] and evidence_rows(api, project["id"]) == []
    assert pending_multipart_uploads(seaweed) == []


def test_a_file_over_the_limit_found_while_streaming_is_413_and_leaves_nothing(api, unique, request):
    """The body's length passes the early check (the limit plus 1 MiB for the form), the file
    does not: the guard trips while the file streams — after two parts went to the store — and
    the multipart upload is aborted. No object, no unfinished upload, no row."""
    resp = api.as_user("nx.admin").post(
        "/api/v1/programs",
        json={
            "name": f"佐证流式上限{unique}",
            "start": "2022-08-01",
            "end": "2099-12-31",
            "tenant_codes": ["640104"],
            "max_projects_per_tenant": 5,
            "settings": {"evidence": {"max_size_mib": 12}},
        },
    )
    assert resp.status_code == 201, resp.get_json()
    project = new_project(api, resp.get_json()["id"], unique)
    body, content_type = multipart_body(
        {"stage": "assessment", "purpose": "其他"}, ("超出.pdf", pdf(12 * MiB + 512 * 1024, 4))
    )
    if MODE == "real":
        seaweed = request.getfixturevalue("seaweed")
        store, spy = small_part_store(seaweed)
        with store_of(store):
            refused = post_raw(api, project["id"], body, content_type)
        assert spy.parts >= 1 and spy.aborted == 1, (spy.parts, spy.aborted)
        assert pending_multipart_uploads(seaweed) == []
    else:
        refused = post_raw(api, project["id"], body, content_type)
    assert refused.status_code == 413 and "12 MiB" in refused.get_json()["message"], refused.get_json()
    assert stored_keys(project) == [] and evidence_rows(api, project["id"]) == []
    from jixiao.platform.core.storage.local import LocalStore

    store = current_runtime().store
    if isinstance(store, LocalStore):
        assert not list(store.root.rglob(".~tmp.*")), "a temp file of the local store was left"


def test_the_upload_writes_no_temporary_file(api, project, monkeypatch):
    """werkzeug's form parser spools a file part to a temporary file; the upload never calls it
    (nor anything else of `tempfile` that would spool)."""
    import werkzeug.formparser

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the upload tried to spool to a temporary file")

    for name in ("SpooledTemporaryFile", "TemporaryFile", "NamedTemporaryFile"):
        monkeypatch.setattr(tempfile, name, refuse)
        monkeypatch.setattr(werkzeug.formparser, name, refuse, raising=False)
    data = pdf(12 * MiB, 5)
    body, content_type = multipart_body({"stage": "assessment", "purpose": "其他"}, ("不落盘.pdf", data))
    resp = post_raw(api, project["id"], body, content_type)
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["sha256"] == hashlib.sha256(data).hexdigest()


def test_fields_after_a_small_file_are_read_before_it_is_stored(api, project):
    """evidence.js and `curl -F file=@x.pdf -F stage=…` send the file first: a file of at most
    4 MiB is held until the fields have come, then checked and stored as usual."""
    data = pdf(300 * 1024, 6)
    body, content_type = multipart_body({}, ("先文件.pdf", data), {"stage": "assessment", "purpose": "其他"})
    resp = post_raw(api, project["id"], body, content_type)
    assert resp.status_code == 201, resp.get_json()
    item = resp.get_json()
    assert (item["stage"], item["purpose"], item["sha256"]) == (
        "assessment",
        "其他",
        hashlib.sha256(data).hexdigest(),
    )
    assert "/assessment/" in evidence_key(item["id"])
    replaced, content_type = multipart_body(
        {"purpose": "其他"},
        ("替换.pdf", pdf(1000, 7)),
        {"stage": "assessment", "supersedes": str(item["id"])},
    )
    newer = post_raw(api, project["id"], replaced, content_type)
    assert newer.status_code == 201 and newer.get_json()["supersedes"] == item["id"], newer.get_json()
    wrong, content_type = multipart_body({}, ("错.pdf", pdf(1000, 7)), {"stage": "nope", "purpose": "其他"})
    refused = post_raw(api, project["id"], wrong, content_type)
    assert refused.status_code == 422 and "stage" in refused.get_json()["errors"], refused.get_json()


def test_fields_after_a_streamed_file_are_checked_after_it(api, project):
    """A file over 4 MiB before `stage` and `purpose` streams to the store first (under a key
    without the stage); the fields after it are checked then — right: 201; wrong: 422 naming the
    field, and the object is removed again. A `supersedes` after the file counts too."""
    large = pdf(5 * MiB, 8)
    body, content_type = multipart_body(
        {}, ("大文件在前.pdf", large), {"stage": "assessment", "purpose": "其他"}
    )
    first = post_raw(api, project["id"], body, content_type)
    assert first.status_code == 201, first.get_json()
    item = first.get_json()
    assert (item["stage"], item["size"], item["sha256"]) == (
        "assessment",
        len(large),
        hashlib.sha256(large).hexdigest(),
    )
    assert evidence_key(item["id"]).count("/") == 4  # tenants/<code>/projects/<id>/<uuid>

    body, content_type = multipart_body(
        {"stage": "assessment", "purpose": "其他"}, ("替换在后.pdf", large), {"supersedes": str(item["id"])}
    )
    newer = post_raw(api, project["id"], body, content_type)
    assert newer.status_code == 201 and newer.get_json()["supersedes"] == item["id"], newer.get_json()

    for before, after, named in (
        ({}, {"stage": "nope", "purpose": "其他"}, "stage"),
        ({"purpose": "其他"}, {"stage": "monitoring"}, None),  # a stage not reached: 409
        ({"stage": "assessment", "purpose": "其他"}, {"colour": "red"}, "colour"),
        ({"stage": "assessment", "purpose": "其他"}, {"supersedes": "999999"}, None),  # 404
    ):
        body, content_type = multipart_body(before, ("错字段.pdf", large), after)
        refused = post_raw(api, project["id"], body, content_type)
        assert refused.status_code in (404, 409, 422), refused.get_json()
        if named:
            assert refused.status_code == 422 and named in str(refused.get_json()["errors"]), (
                refused.get_json()
            )
    rows = evidence_rows(api, project["id"])
    assert sorted(row["id"] for row in rows) == sorted([item["id"], newer.get_json()["id"]])
    assert sorted(stored_keys(project)) == sorted(evidence_key(row["id"]) for row in rows)


def evidence_key(evidence_id: int) -> str:
    from jixiao.services.evidence.models import Evidence

    with current_runtime().db.transaction(system="test: the key of an evidence item") as s:
        item = s.get(Evidence, evidence_id)
        assert item is not None
        return str(item.object_key)


def test_a_form_field_of_the_wrong_kind_is_named_as_before(api, project):
    """The fields still go through the form's schema: a bad `supersedes` or an unknown field is
    422 naming it, before anything is stored."""
    bad, content_type = multipart_body(
        {"stage": "assessment", "purpose": "其他", "supersedes": "abc"}, ("x.pdf", pdf(100, 1))
    )
    resp = post_raw(api, project["id"], bad, content_type)
    assert resp.status_code == 422 and "supersedes" in resp.get_json()["errors"]["form"], resp.get_json()
    unknown, content_type = multipart_body(
        {"stage": "assessment", "purpose": "其他", "colour": "red"}, ("x.pdf", pdf(100, 1))
    )
    resp = post_raw(api, project["id"], unknown, content_type)
    assert resp.status_code == 422 and "colour" in resp.get_json()["errors"]["form"], resp.get_json()
    missing, content_type = multipart_body({"stage": "assessment"}, None)
    resp = post_raw(api, project["id"], missing, content_type)
    assert resp.status_code == 422 and set(resp.get_json()["errors"]) >= {"file", "purpose"}, resp.get_json()
    assert stored_keys(project) == [] and evidence_rows(api, project["id"]) == []
