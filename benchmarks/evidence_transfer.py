"""Evidence transfer (issue 17 target 4): a 1 GiB evidence file through the app to SeaweedFS (S3)
and back, against the `minio` SDK moving the same file directly.

    .venv/bin/python benchmarks/evidence_transfer.py [--database-url URL] [--size-mib 1024] [--rounds 2]

Set-up: a real SeaweedFS (`tests/support/seaweed.py`, in a temporary folder, removed at the end),
the database of `DATABASE_URL` (default `postgresql+psycopg://postgres@127.0.0.1:5432/
jixiao_bench_evidence`, created, migrated and loaded with the demo when missing), Redis
(127.0.0.1:6379, database 5) and `jixiao serve` — gunicorn, one worker process with its 4 threads,
configured for that S3 as in production. A program whose evidence limit admits the file and a
project of 兴庆区 are made once and reused; the file (`--size-mib`, random bytes behind a PDF
header) is made once in the temp folder and reused.

Each round, alternating:

* direct put: `Minio.fput_object` of the file (the SDK's defaults: parts of 5 MiB, 3 at a time);
* upload through the app: `POST /api/v1/projects/{id}/evidence` as `xq.editor` (bearer token), a
  multipart body with `stage` and `purpose` first (`--file-first`: after the file, as the page's
  evidence.js sends them), the file sent with `socket.sendfile`; the app
  worker's resident memory is sampled every 10 ms (and its VmHWM reset before), and its open
  files are watched for a temporary spool;
* direct get: `Minio.get_object`, read in 1 MiB pieces;
* download through the app: `GET /evidence/{id}/inline` (the stream the preview page shows, the
  one route that sends the bytes through the app in S3 mode; a page session), read in 1 MiB pieces.

Rows: upload MiB/s against the direct put (goal ≥ 0.85×), the worker's RSS growth during the
upload (goal < 32 MiB), download MiB/s against the direct get (goal ≥ 0.85×). The uploads are
deleted again through the API (the stage is a draft), so the database keeps no evidence of it.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import logging
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))  # tests.support.seaweed

from generate import ensure_database, prepare  # noqa: E402
from results import Result, emit  # noqa: E402

VENV_BIN = Path(sys.executable).parent
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/jixiao_bench_evidence"
REDIS_URL = "redis://127.0.0.1:6379/5"
PASSWORD = "Demo@2026"
PROGRAM = "佐证传输基准"
MiB = 1024 * 1024
MAGIC = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"


# --------------------------------------------------------------------------- set-up


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_file(path: Path, size: int) -> None:
    """`size` random bytes behind a PDF header (made once, reused while its size fits)."""
    if path.exists() and path.stat().st_size == size:
        return
    with path.open("wb") as out:
        out.write(MAGIC)
        left = size - len(MAGIC)
        block = os.urandom(8 * MiB)
        while left > 0:
            # vary each block a little so no two parts of the file are equal
            piece = secrets.token_bytes(16) + block[16:]
            out.write(piece[: min(left, len(piece))])
            left -= len(piece)


def api_client(rt: Any) -> Any:
    from jixiao.platform.web.app import create_app

    return create_app(runtime=rt).test_client()


def token(client: Any, username: str) -> str:
    answer = client.post(
        "/oauth/token",
        data={
            "grant_type": "password",
            "client_id": "jixiao-cli",
            "username": username,
            "password": PASSWORD,
        },
    )
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return str(answer.get_json()["access_token"])


def program_and_project(rt: Any, size_mib: int) -> int:
    """The benchmark's program (evidence limit above the file) and 兴庆区's project in it: made on
    the first run, the limit raised when a larger file asks for it."""
    from sqlalchemy import select

    from jixiao.services.programs.models import Program
    from jixiao.services.projects.models import Project

    client = api_client(rt)
    admin = {"Authorization": f"Bearer {token(client, 'nx.admin')}"}
    editor = {"Authorization": f"Bearer {token(client, 'xq.editor')}"}
    limit = size_mib + 1
    with rt.db.transaction(system="benchmark: find the evidence program") as s:
        program = s.execute(select(Program).where(Program.name == PROGRAM)).scalar_one_or_none()
        program_id = program.id if program else None
        current = int(program.effective_settings["evidence"]["max_size_mib"]) if program else 0
        project_id = None
        if program is not None:
            project_id = s.execute(
                select(Project.id).where(Project.program_id == program.id).order_by(Project.id)
            ).scalar()
    if program_id is None:
        made = client.post(
            "/api/v1/programs",
            headers=admin,
            json={
                "name": PROGRAM,
                "start": "2022-08-01",
                "end": "2099-12-31",
                "tenant_codes": ["640104"],
                "max_projects_per_tenant": 5,
                "settings": {"evidence": {"max_size_mib": limit}},
            },
        )
        assert made.status_code == 201, made.get_json()
        program_id = made.get_json()["id"]
    elif current < limit:
        version = client.get(f"/api/v1/programs/{program_id}", headers=admin).get_json()["version"]
        patched = client.patch(
            f"/api/v1/programs/{program_id}",
            headers=admin,
            json={"settings": {"evidence": {"max_size_mib": limit}}, "version": version},
        )
        assert patched.status_code == 200, patched.get_json()
    if project_id is None:
        made = client.post(
            "/api/v1/projects",
            headers=editor,
            json={
                "program_id": program_id,
                "name": "佐证材料传输基准项目",
                "department": "住房和城乡建设局",
                "implementing_unit": "城市建设服务中心",
                "budget_amount": "1250000.00",
                "fund_source": "一般公共预算",
                "project_class": "工程基建",
                "years": [2023],
                "serves_public": True,
            },
        )
        assert made.status_code == 201, made.get_json()
        project_id = made.get_json()["id"]
    return int(project_id)


def start_app(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            str(VENV_BIN / "jixiao"),
            "serve",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--timeout",
            "600",
        ],
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def wait_until_up(base: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(base + "/readyz", timeout=5) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"the app at {base} did not become ready within {timeout:.0f} s")


def worker_pid(master: int) -> int:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        if children:
            return int(children[0])
        time.sleep(0.2)
    raise SystemExit("no gunicorn worker appeared")


def page_session(base: str, username: str) -> str:
    """A page login (the inline stream is a page's route): the session cookie's header value."""
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(base + "/login").read().decode()
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', page
    )
    assert found, "no csrf_token on the login page"
    form = urllib.parse.urlencode({"username": username, "password": PASSWORD, "csrf_token": found.group(1)})
    opener.open(urllib.request.Request(base + "/login", data=form.encode(), method="POST")).read()
    cookies = "; ".join(f"{c.name}={c.value}" for c in jar)
    assert "session" in cookies, "the login did not start a session"
    return cookies


# --------------------------------------------------------------------------- measuring


def cpu_seconds(pid: int | None = None) -> float:
    """User + system CPU of a process (all its threads); this process when `pid` is None."""
    if pid is None:
        return time.process_time()
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Cpu:
    """CPU seconds the app worker, SeaweedFS and this client spent over a block."""

    def __init__(self, worker: int, weed: int) -> None:
        self.pids = {"app": worker, "weed": weed, "client": None}
        self.used: dict[str, float] = {}

    def __enter__(self) -> Cpu:
        self._start = {name: cpu_seconds(pid) for name, pid in self.pids.items()}
        return self

    def __exit__(self, *exc: object) -> None:
        self.used = {name: cpu_seconds(pid) - self._start[name] for name, pid in self.pids.items()}

    def __str__(self) -> str:
        return " ".join(f"{name} {seconds:.1f}" for name, seconds in self.used.items() if seconds >= 0.05)


def _status(pid: int, field: str) -> int:
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    return 0


class Watch:
    """The worker's peak RSS over a block (VmHWM reset first; sampled every 10 ms as well) and
    the largest deleted temporary file it held open (a spooled upload)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.start = self.peak = 0
        self.spool = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._tmp = os.path.realpath(tempfile.gettempdir())

    def _sample(self) -> None:
        while not self._stop.wait(0.01):
            self.peak = max(self.peak, _status(self.pid, "VmRSS"))
            try:
                fds = os.listdir(f"/proc/{self.pid}/fd")
            except OSError:
                continue
            for fd in fds:
                try:
                    target = os.readlink(f"/proc/{self.pid}/fd/{fd}")
                    if target.endswith("(deleted)") and not target.startswith("/dev/shm"):
                        self.spool = max(self.spool, os.stat(f"/proc/{self.pid}/fd/{fd}").st_size)
                except OSError:
                    pass

    def __enter__(self) -> Watch:
        with contextlib.suppress(OSError):  # reset VmHWM to the current RSS
            Path(f"/proc/{self.pid}/clear_refs").write_text("5")
        self.start = self.peak = _status(self.pid, "VmRSS")
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _status(self.pid, "VmHWM"))

    @property
    def growth(self) -> int:
        return self.peak - self.start


def upload(
    base: str, bearer: str, project_id: int, path: Path, name: str, file_first: bool = False
) -> tuple[float, dict[str, Any]]:
    """POST the file as a script would (the fields, then the file) or as evidence.js does (the
    file first), the file's bytes sent with sendfile."""
    boundary = "----jixiao" + secrets.token_hex(12)
    fields = b""
    for field, value in (("stage", "assessment"), ("purpose", "其他")):
        fields += (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"\r\n\r\n{value}\r\n'.encode()
        )
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
        "Content-Type: application/pdf\r\n\r\n"
    ).encode()
    tail = b"\r\n"
    if file_first:
        tail += fields
    else:
        head = fields + head
    tail += f"--{boundary}--\r\n".encode()
    size = path.stat().st_size
    parts = urllib.parse.urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=600)
    started = time.perf_counter()
    try:
        conn.putrequest("POST", f"/api/v1/projects/{project_id}/evidence")
        conn.putheader("Authorization", f"Bearer {bearer}")
        conn.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
        conn.putheader("Content-Length", str(len(head) + size + len(tail)))
        conn.putheader("Accept", "application/json")
        conn.endheaders()
        conn.send(head)
        assert conn.sock is not None
        with path.open("rb") as fh:
            conn.sock.sendfile(fh)
        conn.send(tail)
        resp = conn.getresponse()
        body = json.loads(resp.read() or b"{}")
        elapsed = time.perf_counter() - started
    finally:
        conn.close()
    if resp.status != 201:
        raise SystemExit(f"the upload through the app failed: {resp.status} {body}")
    assert body["size"] == size, body
    return elapsed, body


def download(base: str, cookies: str, evidence_id: int, size: int) -> float:
    parts = urllib.parse.urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=600)
    buf = memoryview(bytearray(MiB))
    started = time.perf_counter()
    try:
        conn.request("GET", f"/evidence/{evidence_id}/inline", headers={"Cookie": cookies})
        resp = conn.getresponse()
        if resp.status != 200:
            raise SystemExit(f"the download through the app failed: {resp.status} {resp.read()[:500]!r}")
        got = 0
        while n := resp.readinto(buf):
            got += n
        elapsed = time.perf_counter() - started
    finally:
        conn.close()
    assert got == size, (got, size)
    return elapsed


def direct_put(client: Any, bucket: str, key: str, path: Path) -> float:
    started = time.perf_counter()
    client.fput_object(bucket, key, str(path), content_type="application/pdf")
    return time.perf_counter() - started


def direct_get(client: Any, bucket: str, key: str, size: int) -> float:
    started = time.perf_counter()
    response = client.get_object(bucket, key)
    got = 0
    try:
        for chunk in response.stream(MiB, decode_content=False):
            got += len(chunk)
    finally:
        response.close()
        response.release_conn()
    assert got == size, (got, size)
    return time.perf_counter() - started


# --------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL") or DEFAULT_URL)
    parser.add_argument("--size-mib", type=int, default=1024, help="the file's size [1024]")
    parser.add_argument("--rounds", type=int, default=2, help="rounds of the four transfers [2]")
    parser.add_argument("--fresh", action="store_true", help="drop and recreate the database first")
    parser.add_argument(
        "--file-first", action="store_true", help="send the file before the fields, as evidence.js does"
    )
    args = parser.parse_args()
    from minio import Minio
    from sqlalchemy.engine import make_url

    from tests.support.seaweed import start_seaweed

    url = args.database_url
    if make_url(url).get_backend_name() != "postgresql":
        print("note: the figures that count are on PostgreSQL (DATABASE_URL=postgresql+psycopg://…)")
    ensure_database(url, fresh=args.fresh)
    work = Path(tempfile.gettempdir()) / "jixiao-bench-evidence"
    work.mkdir(exist_ok=True)
    rt = prepare(url, work / "instance")
    logging.getLogger("jixiao").setLevel(logging.WARNING)  # the in-process client's access lines
    project_id = program_and_project(rt, args.size_mib)
    client = api_client(rt)
    bearer = token(client, "xq.editor")
    size = args.size_mib * MiB
    path = work / f"evidence-{args.size_mib}mib.pdf"
    make_file(path, size)
    warm = work / "warm-up.pdf"
    make_file(warm, 24 * MiB)

    seaweed = start_seaweed(tempfile.mkdtemp(prefix="seaweed-", dir=work))
    server: subprocess.Popen[bytes] | None = None
    uploads: list[float] = []
    puts: list[float] = []
    gets: list[float] = []
    downloads: list[float] = []
    growth: list[float] = []
    spools: list[int] = []
    made: list[int] = []
    try:
        s3 = Minio(
            seaweed.host,
            access_key=seaweed.access_key,
            secret_key=seaweed.secret_key,
            secure=False,
            region="us-east-1",
        )
        env = dict(os.environ)
        env.update(seaweed.env())
        env.update(
            DATABASE_URL=url,
            REDIS_URL=REDIS_URL,
            JIXIAO_INSTANCE=str(work / "instance"),
            SECRET_KEY=rt.settings.secret_key,
            JIXIAO_LOG_LEVEL="WARNING",
            JIXIAO_MAX_UPLOAD_MIB=str(args.size_mib + 2),
        )
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = start_app(env, port, work / "server.log")
        wait_until_up(base)
        pid = worker_pid(server.pid)
        cookies = page_session(base, "xq.editor")
        # warm the worker (imports, pools, the first part buffers) before anything is measured
        _, item = upload(base, bearer, project_id, warm, "预热.pdf")
        made.append(item["id"])
        download(base, cookies, item["id"], warm.stat().st_size)
        for round_no in range(args.rounds):
            key = f"bench/direct-{round_no}.pdf"
            cpu = [Cpu(pid, seaweed.pid) for _ in range(4)]
            with cpu[0]:
                puts.append(direct_put(s3, seaweed.bucket, key, path))
            with cpu[1], Watch(pid) as watch:
                elapsed, item = upload(
                    base, bearer, project_id, path, f"传输基准{round_no}.pdf", file_first=args.file_first
                )
            made.append(item["id"])
            uploads.append(elapsed)
            growth.append(watch.growth / MiB)
            spools.append(watch.spool)
            with cpu[2]:
                gets.append(direct_get(s3, seaweed.bucket, key, size))
            with cpu[3]:
                downloads.append(download(base, cookies, item["id"], size))
            s3.remove_object(seaweed.bucket, key)
            print(
                f"round {round_no + 1}: put {puts[-1]:.1f} s ({cpu[0]}), "
                f"app upload {uploads[-1]:.1f} s ({cpu[1]}; RSS +{growth[-1]:.1f} MiB), "
                f"get {gets[-1]:.1f} s ({cpu[2]}), app download {downloads[-1]:.1f} s ({cpu[3]}) "
                "[CPU seconds]",
                flush=True,
            )
    finally:
        for evidence_id in made:
            client.delete(f"/api/v1/evidence/{evidence_id}", headers={"Authorization": f"Bearer {bearer}"})
        if server is not None:
            stop(server)
        seaweed.stop()
        shutil.rmtree(seaweed.data_dir.parent, ignore_errors=True)
    mib = args.size_mib

    def rate(seconds: list[float]) -> tuple[float, float]:
        speeds = [mib / s for s in seconds]
        return statistics.median(speeds), min(speeds)  # the slowest round as the "p95" of a rate

    up, up_low = rate(uploads)
    put, _ = rate(puts)
    down, down_low = rate(downloads)
    get, _ = rate(gets)
    rss = max(growth)
    rows = [
        Result(
            work=f"{mib} MiB evidence upload through the app to SeaweedFS",
            unit="MiB/s",
            median=up,
            p95=up_low,
            baseline="direct minio fput_object",
            baseline_value=put,
            goal="≥ 0.85× baseline",
            met=up >= 0.85 * put,
            note=f"{len(uploads)} rounds, the slowest as p95; app {', '.join(f'{s:.1f}' for s in uploads)} s "
            f"vs direct {', '.join(f'{s:.1f}' for s in puts)} s",
        ),
        Result(
            work="app worker RSS growth during the upload",
            unit="MiB",
            median=statistics.median(growth),
            p95=rss,
            goal="< 32 MiB, no temporary spool",
            met=rss < 32 and max(spools) == 0,
            note=f"largest temporary file held {max(spools) / MiB:.0f} MiB",
        ),
        Result(
            work=f"{mib} MiB evidence download through the app's stream",
            unit="MiB/s",
            median=down,
            p95=down_low,
            baseline="direct minio get_object",
            baseline_value=get,
            goal="≥ 0.85× baseline",
            met=down >= 0.85 * get,
            note=f"app {', '.join(f'{s:.1f}' for s in downloads)} s vs direct {', '.join(f'{s:.1f}' for s in gets)} s",
        ),
    ]
    emit(rows, "evidence_transfer")


if __name__ == "__main__":
    main()
