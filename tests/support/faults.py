"""Private services to break, and the app as subprocesses, for `tests/integration/test_faults.py`.

Every fault is injected into an instance started here (free loopback ports, a temp folder), never
into the session's shared PostgreSQL / Redis / SeaweedFS. Each helper stops what it started
(SIGTERM to the process group, then SIGKILL) and is safe to stop twice.
"""

from __future__ import annotations

import glob
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.support.cli import clean_env

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
DEMO_PASSWORD = "Demo@2026"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(check: Callable[[], Any], timeout: float, what: str, interval: float = 0.1) -> Any:
    """Poll `check` until it answers something truthy; AssertionError naming `what` after `timeout`."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        try:
            last = check()
            if last:
                return last
        except Exception as exc:  # noqa: BLE001 - "not yet"
            last = exc
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout:.0f} s (last: {last!r})")
        time.sleep(interval)


def stop_group(proc: subprocess.Popen[bytes] | None, grace: float = 5.0) -> None:
    """SIGTERM the process group (started with start_new_session), wait, then SIGKILL it."""
    if proc is None:
        return
    if proc.poll() is None:
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        with suppress(subprocess.TimeoutExpired):
            proc.wait(grace)
    with suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    with suppress(subprocess.TimeoutExpired):
        proc.wait(10)


def spawn(
    args: list[str], env: dict[str, str], log: Path, cwd: Path | None = None
) -> subprocess.Popen[bytes]:
    out = open(log, "ab")  # noqa: SIM115 - the child holds it; closed here right after the fork
    try:
        return subprocess.Popen(
            args,
            env=env,
            cwd=cwd or REPO,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    finally:
        out.close()


def tail(path: Path, lines: int = 60) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


# --------------------------------------------------------------------------- Redis


@dataclass
class PrivateRedis:
    """`redis-server` on a free port with an append-only file, so a restart keeps the queue."""

    folder: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> PrivateRedis:
        self.folder.mkdir(parents=True, exist_ok=True)
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        args = [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "yes"]
        args += ["--appendfsync", "always", "--dir", str(self.folder), "--daemonize", "no"]
        self.proc = spawn(args, os.environ.copy(), self.folder / "redis.log", cwd=self.folder)
        wait_until(self.ping, 15, f"private redis on {self.port}")
        return self

    def ping(self) -> bool:
        from redis import Redis

        return bool(Redis.from_url(self.url, socket_connect_timeout=1, socket_timeout=1).ping())

    def stop(self) -> None:
        """SIGTERM: Redis shuts down cleanly (the AOF is flushed and kept)."""
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            with suppress(subprocess.TimeoutExpired):
                proc.wait(10)
        stop_group(proc, grace=0.1)

    def client(self) -> Any:
        from redis import Redis

        return Redis.from_url(self.url, socket_connect_timeout=2, socket_timeout=5)


# --------------------------------------------------------------------------- PostgreSQL


def _pg_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        raise FileNotFoundError(f"PostgreSQL's {name} not found under /usr/lib/postgresql/*/bin")
    return found[-1]


@dataclass
class PrivatePostgres:
    """A throw-away cluster (initdb as the `postgres` OS user when run as root) on a free port."""

    folder: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="jixiao-pg-")))
    port: int = field(default_factory=free_port)
    started: bool = False

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    @property
    def data(self) -> Path:
        return self.folder / "data"

    def _run(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        cmd = list(args)
        if os.geteuid() == 0:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False, cwd="/")
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
        return done

    def init(self) -> PrivatePostgres:
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres", "postgres")
        self._run(_pg_bin("initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8")
        return self

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            _pg_bin("pg_ctl"), "-D", str(self.data), "-o", options, "-l", str(self.folder / "pg.log"), "-w",
            "start",
        )  # fmt: skip
        self.started = True

    def stop(self) -> None:
        if self.started:
            self._run(_pg_bin("pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")
            self.started = False

    def destroy(self) -> None:
        with suppress(Exception):
            self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)

    def log(self) -> str:
        return tail(self.folder / "pg.log")


# --------------------------------------------------------------------------- the app


def app_env(
    *,
    database_url: str,
    instance: Path,
    secret_key: str,
    redis_url: str = "",
    queue: str = "jixiao",
    s3: dict[str, str] | None = None,
) -> dict[str, str]:
    """The environment of a web app / worker / CLI subprocess (nothing inherited from this one)."""
    instance.mkdir(parents=True, exist_ok=True)
    env = clean_env(
        "JIXIAO_QUEUE",
        "S3_REGION",
        DATABASE_URL=database_url,
        JIXIAO_INSTANCE=str(instance),
        SECRET_KEY=secret_key,
        REDIS_URL=redis_url,
        JIXIAO_QUEUE=queue,
        JIXIAO_LOG_LEVEL="INFO",
        PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""),
    )
    env.update(s3 or {})
    return env


def run_jixiao(env: dict[str, str], *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [str(BIN / "jixiao"), *args], env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert done.returncode == 0, f"jixiao {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done


@dataclass
class WebApp:
    """`gunicorn "jixiao.platform.web.app:create_app()"` with one worker, as production runs it."""

    env: dict[str, str]
    log: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60) -> WebApp:
        args = [
            str(BIN / "gunicorn"),
            "jixiao.platform.web.app:create_app()",
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            "1",
            "--threads",
            "4",
            "--timeout",
            "120",
        ]
        self.proc = spawn(args, self.env, self.log)

        def up() -> bool:
            assert self.proc is not None and self.proc.poll() is None, f"gunicorn exited:\n{tail(self.log)}"
            return http(self.base + "/healthz", timeout=2)[0] == 200

        wait_until(up, timeout, f"gunicorn on {self.port}", interval=0.2)
        return self

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        stop_group(proc)


def descendants(pid: int) -> list[int]:
    """The processes below `pid` (from /proc), children first."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    found: list[int] = []
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(0), []):
            found.append(child)
            todo.append(child)
    return found


def running(pid: int, marker: str = "jixiao") -> bool:
    """`pid` is alive (not a zombie) and is still one of ours (its command line names `marker`)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            state = fh.read().rsplit(")", 1)[1].split()[0]
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            cmdline = fh.read().decode(errors="replace")
    except (OSError, IndexError):
        return False
    return state != "Z" and marker in cmdline


@dataclass
class Worker:
    """`jixiao worker` on the environment's Redis. RQ runs each job in a work-horse that leaves
    the worker's process group (`os.setpgrp`), so the horse's pid is remembered (`snapshot`) and
    killed by pid as well."""

    env: dict[str, str]
    log: Path
    proc: subprocess.Popen[bytes] | None = None
    known: set[int] = field(default_factory=set)

    def start(self) -> Worker:
        self.proc = spawn([str(BIN / "jixiao"), "worker"], self.env, self.log)
        time.sleep(0.3)
        assert self.proc.poll() is None, f"jixiao worker exited at start:\n{tail(self.log)}"
        return self

    def snapshot(self) -> set[int]:
        """Remember the worker's current children (its work-horse, its scheduler)."""
        if self.proc is not None and self.proc.poll() is None:
            self.known.update(descendants(self.proc.pid))
        return {pid for pid in self.known if running(pid)}

    def _kill_known(self) -> None:
        for pid in sorted(self.known):
            if running(pid):
                with suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        wait_until(lambda: not any(running(pid) for pid in self.known), 10, "the worker's children to die")

    def stop(self) -> None:
        self.snapshot()
        proc, self.proc = self.proc, None
        stop_group(proc, grace=10)
        self._kill_known()

    def kill(self) -> None:
        """SIGKILL the worker, its work-horse and its scheduler at once, as the OOM killer or a
        lost node would: no cleanup at all."""
        self.snapshot()
        proc, self.proc = self.proc, None
        if proc is not None:
            with suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            self._kill_known()
            proc.wait(10)


# --------------------------------------------------------------------------- HTTP


def http(
    url: str,
    *,
    method: str = "GET",
    token: str | None = None,
    data: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 30,
) -> tuple[int, Any]:
    """One request; (status, parsed JSON body or the raw text). Never raises on an HTTP status."""
    request = urllib.request.Request(url, data=data, method=method, headers=dict(headers or {}))
    request.add_header("Accept", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:  # noqa: S310 - loopback only
            status, body = resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        status, body = exc.code, exc.read()
    try:
        return status, json.loads(body) if body else None
    except ValueError:
        return status, body.decode(errors="replace")


def login(base: str, username: str, password: str = DEMO_PASSWORD) -> str:
    """The OAuth2 password grant of the first-party client `jixiao-cli` (API.md)."""
    form = urllib.parse.urlencode(
        {"grant_type": "password", "client_id": "jixiao-cli", "username": username, "password": password}
    ).encode()
    status, body = http(
        base + "/oauth/token",
        method="POST",
        data=form,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert status == 200, (status, body)
    return str(body["access_token"])


def multipart(
    fields: dict[str, str], file_field: str, filename: str, content: bytes, mime: str
) -> tuple[bytes, str]:
    """A multipart/form-data body and its Content-Type."""
    boundary = "----jixiao-faults-" + os.urandom(8).hex()
    parts = b""
    for name, value in fields.items():
        parts += f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
    parts += (
        f'--{boundary}\r\nContent-Disposition: form-data; name="{file_field}"; filename="{filename}"\r\n'
        f"Content-Type: {mime}\r\n\r\n"
    ).encode()
    return parts + content + f"\r\n--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


# --------------------------------------------------------------------------- indicator imports


def indicator_workbook(rows: int, tag: str) -> bytes:
    """An import workbook of `rows` new indicators named `故障{tag}-NNNNN` (the benchmark's rows)."""
    from openpyxl import Workbook

    from jixiao.services.indicators.excel import layout
    from jixiao.services.indicators.models import LEVEL1_OF

    level2 = list(LEVEL1_OF)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(layout.SHEET_TITLE)
    ws.append([c.header for c in layout.COLUMNS])
    for n in range(rows):
        quantitative = n % 5 != 0
        name = f"故障{tag}-{n:05d}"
        ws.append(
            [
                "",
                name,
                "",
                level2[n % len(level2)],
                "教育",
                "培训",
                "共性" if n % 2 else "个性",
                "项目",
                f"按台账统计的{name}，年度累计。",
                "项目单位年度台账",
                "定量" if quantitative else "定性",
                "≥" if quantitative else "=",
                "%" if quantitative else "",
                "95" if quantitative else "达成",
                "计划标准",
            ]
        )
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def start_import(base: str, token: str, content: bytes, filename: str = "faults.xlsx") -> str:
    """POST /api/v1/indicators/import → 202 {job_id}."""
    body, content_type = multipart(
        {}, "file", filename, content, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    status, answer = http(
        base + "/api/v1/indicators/import",
        method="POST",
        token=token,
        data=body,
        headers={"Content-Type": content_type},
    )
    assert status == 202, (status, answer)
    return str(answer["job_id"])
