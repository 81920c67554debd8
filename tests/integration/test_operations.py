"""Operations (issue 16 item 8), as an operator sees them: `jixiao serve` and `jixiao worker` run as
processes against the test session's database (and, in real mode, its Redis and S3), with
`JIXIAO_LOG_FORMAT=json`.

Every line either writes is one JSON object; each request leaves one access line that names its
request id (the `X-Request-ID` the client got), user, tenant, route and status; no password, token
or refresh token is ever written. SIGTERM lets a request in flight (its body still arriving) finish,
and a running job finish, before the process exits 0.
"""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from jixiao.platform.core import logs
from jixiao.platform.core.actor import Actor
from tests.support.cli import clean_env
from tests.support.services import MODE

JIXIAO = str(Path(sys.executable).with_name("jixiao"))
OPS_SETTINGS = (
    "JIXIAO_LOG_FORMAT",
    "JIXIAO_LOG_LEVEL",
    "JIXIAO_BIND",
    "JIXIAO_WEB_WORKERS",
    "JIXIAO_WEB_THREADS",
    "JIXIAO_WEB_TIMEOUT",
    "JIXIAO_WEB_GRACEFUL_TIMEOUT",
)
LISTENING = re.compile(r"Listening at: http://127\.0\.0\.1:(\d+)")


def process_env(settings: Any, real_services: Any, **overrides: str) -> dict[str, str]:
    """The environment an operator gives the processes: the session's database (and services)."""
    env = clean_env(
        *OPS_SETTINGS,
        DATABASE_URL=settings.database_url,
        JIXIAO_INSTANCE=str(settings.instance_dir),
        SECRET_KEY=settings.secret_key,
    )
    if real_services is not None:
        env.update(real_services.env(settings))
    env.update(JIXIAO_LOG_FORMAT="json", JIXIAO_LOG_LEVEL="INFO", **overrides)
    return env


@dataclass
class Process:
    proc: subprocess.Popen[bytes]
    out: Path
    err: Path
    port: int = 0

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        return self.out.read_text(encoding="utf-8") + self.err.read_text(encoding="utf-8")

    def lines(self) -> list[str]:
        return [line for line in self.output().splitlines() if line.strip()]

    def records(self) -> list[dict[str, Any]]:
        """Every line, parsed: a line that is not one JSON object fails the test, naming it."""
        records = []
        for line in self.lines():
            try:
                record = json.loads(line)
            except ValueError:
                pytest.fail(f"a log line is not JSON: {line!r}")
            assert isinstance(record, dict), line
            assert {"ts", "level", "logger", "msg"} <= record.keys(), line
            assert datetime.fromisoformat(record["ts"]).utcoffset() == timedelta(0), f"not UTC: {line}"
            records.append(record)
        return records

    def stop(self, timeout: float) -> int:
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout)


@contextmanager
def started(args: list[str], env: dict[str, str], folder: Path) -> Iterator[Process]:
    folder.mkdir(parents=True, exist_ok=True)
    out, err = folder / "stdout.log", folder / "stderr.log"
    with out.open("wb") as out_file, err.open("wb") as err_file:
        proc = subprocess.Popen([JIXIAO, *args], stdout=out_file, stderr=err_file, env=env, cwd=folder)
    process = Process(proc, out, err)
    try:
        yield process
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


@contextmanager
def serving(settings: Any, real_services: Any, folder: Path, **overrides: str) -> Iterator[Process]:
    """`jixiao serve` on a free loopback port (gunicorn binds port 0 and logs the one it got)."""
    env = process_env(settings, real_services, JIXIAO_BIND="127.0.0.1:0", JIXIAO_WEB_WORKERS="1", **overrides)
    with started(["serve"], env, folder) as server:
        deadline = time.monotonic() + 60
        while not server.port:
            assert server.proc.poll() is None, f"jixiao serve exited at start:\n{server.output()}"
            assert time.monotonic() < deadline, f"jixiao serve did not listen:\n{server.output()}"
            found = LISTENING.search(server.output())
            if found:
                server.port = int(found.group(1))
            else:
                time.sleep(0.05)
        while call(server.base + "/healthz")[0] != 200:
            assert server.proc.poll() is None, f"jixiao serve exited at start:\n{server.output()}"
            assert time.monotonic() < deadline, f"/healthz never answered:\n{server.output()}"
            time.sleep(0.05)
        yield server


def call(
    url: str, data: dict[str, str] | None = None, token: str = ""
) -> tuple[int, dict[str, str], dict[str, Any]]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    request = urllib.request.Request(url, data=body, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status, got, raw = response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        status, got, raw = exc.code, dict(exc.headers), exc.read()
    except OSError:
        return 0, {}, {}
    try:
        payload = json.loads(raw) if raw else {}
    except ValueError:
        payload = {}
    return status, got, payload


def password_grant(settings: Any, username: str) -> dict[str, str]:
    return {
        "grant_type": "password",
        "client_id": "jixiao-cli",
        "username": username,
        "password": settings.demo_password,
    }


def test_serve_logs_json_with_request_context_and_no_secret(settings, real_services, runtime, tmp_path):
    with serving(settings, real_services, tmp_path / "serve") as server:
        status, headers, tokens = call(server.base + "/oauth/token", password_grant(settings, "xq.editor"))
        assert status == 200, tokens
        access, refresh = tokens["access_token"], tokens["refresh_token"]
        token_rid = headers["X-Request-ID"]

        status, headers, me = call(server.base + "/api/v1/me", token=access)
        assert status == 200 and me["username"] == "xq.editor", me
        me_rid = headers["X-Request-ID"]
        status, headers, projects = call(server.base + "/api/v1/projects", token=access)
        assert status == 200, projects
        projects_rid = headers["X-Request-ID"]
        # a client that puts its token in the query string: refused, and the token is not logged
        status, headers, _ = call(server.base + f"/api/v1/projects?access_token={access}", token=access)
        assert status == 422
        query_rid = headers["X-Request-ID"]
        status, _, renewed = call(
            server.base + "/oauth/token",
            {"grant_type": "refresh_token", "client_id": "jixiao-cli", "refresh_token": refresh},
        )
        assert status == 200, renewed

        assert server.stop(timeout=30) == 0, server.output()

    records = server.records()
    output = server.output()
    for secret in (
        settings.demo_password,
        access,
        refresh,
        renewed["access_token"],
        renewed["refresh_token"],
    ):
        assert secret not in output, "a password or token was logged"
    assert "Bearer" not in output and "Authorization" not in output

    lines = {r["request_id"]: r for r in records if r["logger"] == "jixiao.access"}
    assert sum(r["logger"] == "jixiao.access" for r in records) == len(lines), "one access line per request"
    expected = {
        token_rid: ("POST", "/oauth/token", 200, None, None),
        me_rid: ("GET", "/api/v1/me", 200, "xq.editor", "640104"),
        projects_rid: ("GET", "/api/v1/projects", 200, "xq.editor", "640104"),
        query_rid: ("GET", "/api/v1/projects", 422, None, None),
    }
    for rid, (method, route, status, user, tenant) in expected.items():
        line = lines[rid]
        assert (line["method"], line["route"], line["status"], line["user"], line["tenant"]) == (
            method,
            route,
            status,
            user,
            tenant,
        ), line
        assert line["path"] == route  # without its query string
        assert isinstance(line["duration_ms"], int | float) and line["duration_ms"] >= 0
    # gunicorn's own lines are JSON as well; its access log is off (one access line per request)
    assert any(r["logger"] == "gunicorn.error" and r["msg"].startswith("Booting worker") for r in records)
    assert not any(r["logger"] == "gunicorn.access" for r in records)


def test_serve_sigterm_lets_the_request_in_flight_finish(settings, real_services, runtime, tmp_path):
    """A login whose body is still arriving when SIGTERM comes (a slow link): the server stops
    accepting, waits for it, answers it 200, then exits 0 well within the graceful timeout."""
    with serving(settings, real_services, tmp_path / "serve", JIXIAO_WEB_GRACEFUL_TIMEOUT="15") as server:
        body = urllib.parse.urlencode(password_grant(settings, "xq.admin")).encode()
        conn = socket.create_connection(("127.0.0.1", server.port), timeout=30)
        with conn:
            conn.sendall(
                b"POST /oauth/token HTTP/1.1\r\n"
                + f"Host: 127.0.0.1:{server.port}\r\n".encode()
                + b"Content-Type: application/x-www-form-urlencoded\r\nConnection: close\r\n"
                + f"Content-Length: {len(body)}\r\n\r\n".encode()
                + body[:10]
            )
            time.sleep(0.8)  # the worker has accepted the connection and is reading the body
            signalled = time.monotonic()
            server.proc.send_signal(signal.SIGTERM)
            time.sleep(1.0)
            assert server.proc.poll() is None, "the server exited with a request in flight"
            conn.sendall(body[10:])
            response = b""
            while chunk := conn.recv(65536):
                response += chunk
        assert response.startswith(b"HTTP/1.1 200"), response[:300]
        assert b'"access_token"' in response
        assert server.proc.wait(20) == 0, server.output()
        assert time.monotonic() - signalled < 15

    records = server.records()
    messages = [(r["logger"], r["msg"]) for r in records]
    assert ("gunicorn.error", "Handling signal: term") in messages
    assert any(m.startswith("Worker exiting") for _, m in messages)
    assert ("gunicorn.error", "Shutting down: Master") in messages
    finished = [r for r in records if r["logger"] == "jixiao.access" and r["route"] == "/oauth/token"]
    assert [(r["method"], r["status"]) for r in finished] == [("POST", 200)]
    assert finished[0]["duration_ms"] >= 1000  # it spanned the signal
    assert settings.demo_password not in server.output()


@pytest.mark.skipif(MODE != "real", reason="needs Redis and a `jixiao worker` process: runs in the real pass")
def test_worker_sigterm_lets_the_running_job_finish(settings, real_services, runtime, tmp_path):
    """RQ's warm shutdown: SIGTERM while a job runs, the job finishes, the worker exits 0."""
    from redis import Redis
    from rq import Queue
    from rq.job import JobStatus

    name = f"{settings.queue_name}-ops-{os.getpid()}"  # not the session worker's queue
    queue = Queue(name, connection=Redis.from_url(settings.redis_url))
    job = queue.enqueue("time.sleep", 2, job_timeout=60)
    env = process_env(settings, real_services, JIXIAO_QUEUE=name)
    try:
        with started(["worker"], env, tmp_path / "worker") as worker:
            deadline = time.monotonic() + 30
            while job.get_status(refresh=True) != JobStatus.STARTED:
                assert worker.proc.poll() is None, f"jixiao worker exited:\n{worker.output()}"
                assert time.monotonic() < deadline, f"the job never started:\n{worker.output()}"
                time.sleep(0.05)
            worker.proc.send_signal(signal.SIGTERM)
            time.sleep(0.5)
            assert worker.proc.poll() is None, "the worker left its running job"
            assert worker.proc.wait(15) == 0, worker.output()
        assert job.get_status(refresh=True) == JobStatus.FINISHED
    finally:
        queue.delete(delete_jobs=True)

    messages = [r["msg"] for r in worker.records() if r["logger"].startswith("rq.")]
    warm = next(i for i, m in enumerate(messages) if "warm shut down requested" in m)
    done = next(i for i, m in enumerate(messages) if "Job OK" in m)
    assert warm < done, messages


class Capture(logging.Handler):
    """The access lines, formatted as each format writes them (while the request is still current)."""

    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.json: list[dict[str, Any]] = []
        self._text = logs.formatter("text")
        self._json = logs.formatter("json")

    def emit(self, record: logging.LogRecord) -> None:
        self.text.append(self._text.format(record))
        self.json.append(json.loads(self._json.format(record)))


@contextmanager
def captured(logger: str) -> Iterator[Capture]:
    handler = Capture()
    target = logging.getLogger(logger)
    target.addHandler(handler)
    previous = target.level
    target.setLevel(logging.INFO)
    try:
        yield handler
    finally:
        target.removeHandler(handler)
        target.setLevel(previous)


@pytest.mark.once
def test_access_line_in_text_format_and_context_on_every_line(app, client, api):
    """In process: the text format's access line names the request too; a secret in the query string
    or in a signed upload's path never reaches it; any line logged inside a request carries its
    context."""
    token = api.token("xq.editor")
    secret = "s3cr3t-" + os.urandom(4).hex()
    with captured("jixiao.access") as access:
        me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        refused = client.get(f"/api/v1/projects?access_token={secret}&password={secret}")
        upload = client.put(f"/api/v1/public/evidence-uploads/{secret}", data=b"x")
    assert me.status_code == 200 and refused.status_code in (401, 422)
    assert upload.status_code >= 400
    assert len(access.text) == 3
    rid = me.headers["X-Request-ID"]
    assert (
        "GET /api/v1/me 200 " in access.text[0]
        and f"request_id={rid} user=xq.editor tenant=640104" in (access.text[0])
    )
    assert access.json[0]["route"] == "/api/v1/me" and access.json[0]["request_id"] == rid
    for line in access.text + [json.dumps(j) for j in access.json]:
        assert secret not in line and token not in line
    assert access.json[2]["path"] == "/api/v1/public/evidence-uploads/[redacted]"

    actor = Actor(
        user_id=1,
        username="xq.editor",
        tenant_id=1,
        tenant_code="640104",
        tenant_level="county",
        roles=frozenset(),
        scopes=frozenset(),
    )
    from flask import g

    from jixiao.platform.web.context import request_id

    with captured("jixiao.test.operations") as lines, app.test_request_context("/api/v1/projects/7"):
        g.actor = actor
        rid = request_id()
        logging.getLogger("jixiao.test.operations").warning("项目 %s 已读取", 7)
    assert lines.json[0] | {"ts": None} == {
        "ts": None,
        "level": "WARNING",
        "logger": "jixiao.test.operations",
        "msg": "项目 7 已读取",
        "request_id": rid,
        "user": "xq.editor",
        "tenant": "640104",
        "route": "/api/v1/projects/<int:project_id>",
        "method": "GET",
        "ip": None,  # a request context made by the test has no client address
    }
    assert (
        logs.formatter("json").format(logging.makeLogRecord({"msg": "出了请求"})).count('"request_id"') == 0
    )
    with pytest.raises(ValueError, match="JIXIAO_LOG_FORMAT"):
        logs.formatter("xml")
