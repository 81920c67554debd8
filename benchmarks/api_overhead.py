"""API overhead (issue 17 target 1): an authenticated, tenant-filtered list endpoint of the app
under gunicorn against the floor of the same answer under the same server.

    .venv/bin/python benchmarks/api_overhead.py [--database-url URL] [--requests 3000] [--rounds 3]

Both servers: gunicorn, 2 worker processes with 1 thread each, on loopback, the database of
`DATABASE_URL` (default `postgresql+psycopg://postgres@127.0.0.1:5432/jixiao_bench_api`, created,
migrated and loaded with the demo when missing) and Redis (127.0.0.1:6379, database 5) as in
production:

* jixiao: `jixiao serve` — `GET /api/v1/indicators?page_size=20` as `xq.editor` (兴庆区) with a
  bearer token: OAuth2, the walls, row-level security, the search service, marshmallow;
* the floor: `benchmarks/baseline_api.py` — Flask + psycopg, the token's user, the count and the
  page by hand, the same JSON (checked equal before timing).

The load comes from ApacheBench (`ab`, apt package apache2-utils), a second process: 8 concurrent
keep-alive connections, `--requests` each round, the rounds alternating between the two servers;
each server's best round counts (its capacity): the 8 connections are accepted by whichever worker
wakes first, and in some rounds one worker takes all 8 and the other idles — such a round measures
one worker, at about half the rate, and both servers show them. The SQL statements of one request are counted in
this process through the Flask test client. Goals: ≥ 50 % of the floor's requests per second,
≤ 3 SQL statements a request.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import ensure_database, prepare  # noqa: E402
from results import Result, emit  # noqa: E402
from sqlalchemy import event  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

HERE = Path(__file__).resolve().parent
VENV_BIN = Path(sys.executable).parent
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/jixiao_bench_api"
REDIS_URL = "redis://127.0.0.1:6379/5"
PATH = "/api/v1/indicators?page_size=20"
USER, PASSWORD = "xq.editor", "Demo@2026"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until_up(url: str, token: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            req = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
            with urllib.request.urlopen(req, timeout=5) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"no answer from {url} within {timeout:.0f} s")


def start(argv: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        argv, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT, start_new_session=True
    )


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def ab(url: str, token: str, requests: int, concurrency: int) -> float:
    out = subprocess.run(
        [
            "ab",
            "-q",
            "-k",
            "-n",
            str(requests),
            "-c",
            str(concurrency),
            "-H",
            f"Authorization: Bearer {token}",
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    failed = re.search(r"Failed requests:\s+(\d+)", out)
    non2xx = re.search(r"Non-2xx responses:\s+(\d+)", out)
    if (failed and int(failed.group(1))) or non2xx:
        raise SystemExit(f"ab saw failures against {url}:\n{out}")
    found = re.search(r"Requests per second:\s+([\d.]+)", out)
    assert found, out
    return float(found.group(1))


def statements_per_request(rt: Any, token: str) -> int:
    """The SQL statements of the second of two identical requests (the first builds caches)."""
    from jixiao.platform.web.app import create_app

    app = create_app(runtime=rt)
    client = app.test_client()
    seen: list[str] = []
    engine = rt.db.engine
    listener = lambda *args: seen.append(args[2])  # noqa: E731
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get(PATH, headers=headers).status_code == 200
    event.listen(engine, "before_cursor_execute", listener)
    try:
        assert client.get(PATH, headers=headers).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    return len(seen)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL") or DEFAULT_URL)
    parser.add_argument("--requests", type=int, default=3000, help="requests per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--fresh", action="store_true", help="drop and recreate the database first")
    args = parser.parse_args()
    if shutil.which("ab") is None:
        raise SystemExit("needs ApacheBench: apt-get install apache2-utils (make bench installs it)")
    url = args.database_url
    if make_url(url).get_backend_name() != "postgresql":
        raise SystemExit("the API benchmark runs on PostgreSQL (DATABASE_URL=postgresql+psycopg://…)")
    ensure_database(url, fresh=args.fresh)
    work = Path(tempfile.mkdtemp(prefix="jixiao-bench-api-"))
    import dataclasses

    rt = prepare(url, work / "instance")
    rt.settings = dataclasses.replace(rt.settings, redis_url=REDIS_URL)
    from jixiao.platform.core.runtime import Runtime, install

    rt = install(Runtime.build(rt.settings))

    env = dict(os.environ)
    env.update(
        DATABASE_URL=url,
        REDIS_URL=REDIS_URL,
        JIXIAO_INSTANCE=str(work / "instance"),
        SECRET_KEY="benchmark",
        JIXIAO_LOG_LEVEL="WARNING",
        BASELINE_DSN=make_url(url).set(drivername="postgresql").render_as_string(hide_password=False),
    )
    env.pop("S3_ENDPOINT", None)
    app_port, base_port = free_port(), free_port()
    log = work / "servers.log"
    servers = [
        start(
            [
                str(VENV_BIN / "jixiao"),
                "serve",
                "--bind",
                f"127.0.0.1:{app_port}",
                "--workers",
                "2",
                "--threads",
                "1",
            ],
            env,
            log,
        ),
        start(
            [
                str(VENV_BIN / "gunicorn"),
                "--chdir",
                str(HERE),
                "-w",
                "2",
                "-k",
                "gthread",
                "--threads",
                "1",
                "--bind",
                f"127.0.0.1:{base_port}",
                "--log-level",
                "warning",
                "baseline_api:app",
            ],
            env,
            log,
        ),
    ]
    try:
        import json

        token = _token(rt)
        app_url, base_url = f"http://127.0.0.1:{app_port}{PATH}", f"http://127.0.0.1:{base_port}{PATH}"
        wait_until_up(app_url, token)
        wait_until_up(base_url, token)
        answers = []
        for target in (app_url, base_url):
            req = urllib.request.Request(target, headers={"Authorization": f"Bearer {token}"})
            with urllib.request.urlopen(req) as answer:
                answers.append(json.loads(answer.read()))
        if answers[0] != answers[1]:
            raise SystemExit(f"the floor's answer differs from the app's:\n{answers[0]}\n{answers[1]}")
        statements = statements_per_request(rt, token)
        for target in (app_url, base_url):  # warm both (the workers' first requests build caches)
            ab(target, token, 300, args.concurrency)
        jixiao, floor = [], []
        for _ in range(args.rounds):
            jixiao.append(ab(app_url, token, args.requests, args.concurrency))
            floor.append(ab(base_url, token, args.requests, args.concurrency))
    finally:
        for proc in servers:
            stop(proc)
    rps, base = max(jixiao), max(floor)
    emit(
        [
            Result(
                work="GET /api/v1/indicators?page_size=20, gunicorn 2 workers, ab -c 8",
                unit="rps",
                median=rps,
                baseline="hand-written Flask + psycopg, same JSON",
                baseline_value=base,
                goal="≥ 0.50× baseline, ≤ 3 SQL statements",
                met=rps >= 0.5 * base and statements <= 3,
                note=f"{statements} SQL statements a request; rounds {', '.join(f'{v:.0f}' for v in jixiao)} "
                f"vs {', '.join(f'{v:.0f}' for v in floor)}",
            )
        ],
        "api_overhead",
    )
    shutil.rmtree(work, ignore_errors=True)


def _token(rt: Any) -> str:
    from jixiao.platform.web.app import create_app

    client = create_app(runtime=rt).test_client()
    answer = client.post(
        "/oauth/token",
        data={"grant_type": "password", "client_id": "jixiao-cli", "username": USER, "password": PASSWORD},
    )
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return str(answer.get_json()["access_token"])


if __name__ == "__main__":
    main()
