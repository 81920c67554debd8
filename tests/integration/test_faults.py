"""Faults on the real services (issue 16 item 4): each dependency fails under a running app.

Every fault is injected into a PRIVATE instance started here (free loopback ports, temp folders):
the session's PostgreSQL, Redis and SeaweedFS are shared with other tests and never stopped.

1. SeaweedFS killed while the app streams an evidence upload to it: 503 with the documented error
   body, no Evidence row, and (SeaweedFS restarted on the same data) no object under the project.
2. PostgreSQL restarted under a running gunicorn: /readyz goes red (503) and back to 200, the app
   process stays up, and a token issued before the restart works after it without restarting the app.
3. Redis stopped while an import job is queued (reads that need no Redis keep answering) and while
   it runs: once Redis is back the job finishes exactly once (its rows once, one audit event).
4. `jixiao worker` SIGKILLed mid-import: RQ's abandoned-job handling requeues it, a new worker runs
   it, and the rows and the import's audit event exist exactly once.
"""

from __future__ import annotations

import io
import os
import secrets
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.api.test_project_lifecycle import create_program, new_project
from tests.support import faults
from tests.support.faults import (
    PrivatePostgres,
    PrivateRedis,
    WebApp,
    Worker,
    app_env,
    http,
    login,
    run_jixiao,
    start_import,
    wait_until,
)
from tests.support.services import MODE

pytestmark = [
    pytest.mark.real,
    pytest.mark.skipif(MODE != "real", reason="faults are injected into real services (real mode only)"),
]

MiB = 1024 * 1024
PDF = b"%PDF-1.7\n"


# --------------------------------------------------------------------------- 1. SeaweedFS


class _KillingStream:
    """The upload as the store reads it; `before(total)` / `after(total)` run around each read with
    the bytes read so far (the fault is injected from there)."""

    def __init__(self, source: Any, before: Callable[[int], None], after: Callable[[int], None]) -> None:
        self.source = source
        self.before = before
        self.after = after
        self.total = 0

    def read(self, size: int = -1) -> bytes:
        self.before(self.total)
        data: bytes = self.source.read(size)
        self.total += len(data)
        self.after(self.total)
        return data


def _kill_seaweed(server: Any) -> None:
    """SIGKILL the whole `weed server` group, as a crash would (SIGTERM lets it drain for seconds)."""
    with suppress(ProcessLookupError):
        os.killpg(server.pid, signal.SIGKILL)
    server.stop()


@contextmanager
def _store_of(runtime: Any, store: Any) -> Iterator[None]:
    """Point the in-process runtime (the session's app) at another object store for a block."""
    original = runtime.store
    runtime.store = store
    try:
        yield
    finally:
        runtime.store = original


@pytest.mark.parametrize("moment", ["after_first_part", "during_first_part"])
def test_seaweedfs_killed_mid_upload_is_503_without_row_or_object(api, runtime, tmp_path, unique, moment):
    """A 30 MiB evidence file goes to S3 in a 16 MiB part and a 14 MiB part. SeaweedFS is killed
    `after_first_part` (part 1 is stored in an open multipart upload, part 2 finds the port closed)
    or `during_first_part` (a timer fires while part 1 is on the wire; part 2 waits for it)."""
    from jixiao.platform.core.storage.s3 import S3Store
    from tests.support.seaweed import start_seaweed

    project = new_project(api, create_program(api, unique, 10), unique)
    editor = api.as_user("xq.editor")
    store_dir = tmp_path / "seaweed"
    server = start_seaweed(store_dir)
    timer: threading.Thread | None = None
    killed = threading.Event()

    def kill_later() -> None:
        time.sleep(0.02)
        _kill_seaweed(server)
        killed.set()

    def before(total: int) -> None:
        if total > 16 * MiB:  # the SDK reads part 2: part 1 was sent (or is being sent)
            if moment == "after_first_part" and not killed.is_set():
                _kill_seaweed(server)
                killed.set()
            killed.wait(30)

    def after(total: int) -> None:
        nonlocal timer
        if moment == "during_first_part" and total > 16 * MiB and timer is None:
            timer = threading.Thread(target=kill_later, daemon=True)  # fires while part 1 is sent
            timer.start()

    class KillingStore(S3Store):
        def put_stream(self, key: str, stream: Any, **kwargs: Any) -> Any:
            return super().put_stream(key, _KillingStream(stream, before, after), **kwargs)

    store = KillingStore(server.endpoint, server.access_key, server.secret_key, server.bucket)
    content = PDF + os.urandom(30 * MiB - len(PDF))
    try:
        with _store_of(runtime, store):
            started = time.monotonic()
            resp = editor.post(
                f"/api/v1/projects/{project['id']}/evidence",
                data={
                    "file": (io.BytesIO(content), "中途断开.pdf"),
                    "stage": "assessment",
                    "purpose": "立项依据",
                },
                content_type="multipart/form-data",
            )
            elapsed = time.monotonic() - started
        if not killed.is_set():
            # seen only in the full real pass (alone, both moments inject the fault and pass): the
            # upload answered without the store reading past 16 MiB in a separate read — open in
            # issue 17's note; reported as xfail, never as a pass
            pytest.xfail(f"the fault was not injected ({resp.status_code} {resp.get_json()})")
    finally:
        server.stop()
        if timer is not None:
            timer.join(10)
    body = resp.get_json()
    assert resp.status_code == 503, (resp.status_code, body)
    assert body["code"] == 503 and body["status"] == "Service Unavailable", body
    assert body["message"].startswith("对象存储不可用"), body
    assert server.endpoint.split("://")[1] in body["message"], body
    assert elapsed < 30, f"the dead store took {elapsed:.1f} s to report"
    listed = editor.get(f"/api/v1/projects/{project['id']}/evidence?history=true")
    assert listed.status_code == 200 and listed.get_json() == [], listed.get_json()

    restarted = start_seaweed(store_dir)  # same data folder: did the store keep anything?
    try:
        after = S3Store(restarted.endpoint, restarted.access_key, restarted.secret_key, restarted.bucket)
        prefix = f"tenants/{project['tenant_code']}/projects/{project['id']}/"
        assert list(after.list_keys(prefix)) == []
        assert list(after.list_keys("tenants/")) == []
    finally:
        restarted.stop()


# --------------------------------------------------------------------------- 2. PostgreSQL


def test_postgresql_restart_turns_readyz_red_then_green_and_the_app_recovers(tmp_path):
    """A private cluster, migrated and bootstrapped by the CLI, under a gunicorn app: stop it
    (`pg_ctl stop -m fast`) → /readyz 503 naming the database, the app stays up; start it again →
    /readyz 200 and the token issued before the restart works, without restarting the app."""
    pg = PrivatePostgres()
    web: WebApp | None = None
    try:
        pg.init()
        pg.start()
        env = app_env(database_url=pg.url, instance=tmp_path / "instance", secret_key=secrets.token_hex(16))
        run_jixiao(env, "db", "upgrade")
        password = "Faults@2026-" + secrets.token_hex(4)
        run_jixiao(
            {**env, "JIXIAO_BOOTSTRAP_PASSWORD": password},
            "tenants",
            "bootstrap",
            "--code",
            "640000",
            "--name",
            "宁夏回族自治区",
            "--admin-username",
            "nx.admin",
        )
        web = WebApp(env, tmp_path / "web.log").start()
        status, body = http(web.base + "/readyz")
        assert status == 200 and body["checks"]["database"]["backend"] == "postgresql", body
        token = login(web.base, "nx.admin", password)
        status, me = http(web.base + "/api/v1/me", token=token)
        assert status == 200 and me["username"] == "nx.admin", me

        pg.stop()
        started = time.monotonic()

        def red() -> Any:
            status, body = http(web.base + "/readyz", timeout=10)
            return body if status == 503 else None

        body = wait_until(red, 10, "/readyz red after PostgreSQL stopped")
        assert time.monotonic() - started < 10
        assert body["status"] == "unavailable" and body["checks"]["database"]["ok"] is False, body
        assert body["checks"]["object_store"]["ok"] is True, body
        status, down = http(web.base + "/api/v1/me", token=token)
        # the API while the database is down: 503 with the documented body (platform/web/errors.py)
        assert status == 503 and down["code"] == 503 and "数据库" in down["message"], (status, down)
        assert web.alive(), f"gunicorn died with the database:\n{faults.tail(web.log)}"

        pg.start()
        wait_until(lambda: http(web.base + "/readyz")[0] == 200, 20, "/readyz green after PostgreSQL restart")
        assert web.alive()
        for _ in range(6):  # every pooled connection died with the server: none may leak out as a 500
            status, me = http(web.base + "/api/v1/me", token=token)
            assert status == 200 and me["username"] == "nx.admin", (status, me)
        fresh = login(web.base, "nx.admin", password)
        status, tenants = http(web.base + "/api/v1/tenants", token=fresh)
        assert status == 200, (status, tenants)
    finally:
        if web is not None:
            web.stop()
        pg.destroy()


# --------------------------------------------------------------------------- 3. Redis


@contextmanager
def _jobs_stack(settings: Any, tmp_path: Path) -> Iterator[tuple[PrivateRedis, WebApp, dict[str, str]]]:
    """A private Redis and a gunicorn app on it (the session's database and SeaweedFS); the caller
    starts its `jixiao worker`s with the yielded environment."""
    redis = PrivateRedis(tmp_path / "redis")
    web: WebApp | None = None
    try:
        redis.start()
        env = app_env(
            database_url=settings.database_url,
            instance=tmp_path / "instance",
            secret_key=settings.secret_key,
            redis_url=redis.url,
            queue=f"jixiao-faults-{secrets.token_hex(4)}",
            s3={
                "S3_ENDPOINT": settings.s3_endpoint,
                "S3_ACCESS_KEY": settings.s3_access_key,
                "S3_SECRET_KEY": settings.s3_secret_key,
                "S3_BUCKET": settings.s3_bucket,
                "S3_REGION": settings.s3_region,
            },
        )
        web = WebApp(env, tmp_path / "web.log").start()
        yield redis, web, env
    finally:
        if web is not None:
            web.stop()
        redis.stop()


def _rq_job(redis: PrivateRedis, job_id: str) -> Any:
    from rq.job import Job

    return Job.fetch(job_id, connection=redis.client())


def _api_job(web: WebApp, token: str, job_id: str) -> dict[str, Any]:
    status, body = http(f"{web.base}/api/v1/jobs/{job_id}", token=token)
    assert status == 200, (status, body)
    return dict(body)


def _ended(web: WebApp, token: str, job_id: str) -> Callable[[], dict[str, Any] | None]:
    def check() -> dict[str, Any] | None:
        job = _api_job(web, token, job_id)
        return job if job["status"] in ("finished", "failed") else None

    return check


def _effect(runtime: Any, tag: str, job_id: str) -> tuple[int, int, int]:
    """(indicators named after `tag`, their distinct codes, `indicator.import` events of the job)."""
    from jixiao.platform.core.audit import AuditEvent
    from jixiao.services.indicators.models import Indicator

    session = runtime.db.system_session("test: count an import's effect")
    try:
        named = Indicator.name.like(f"故障{tag}-%")
        rows = session.execute(select(func.count()).select_from(Indicator).where(named)).scalar_one()
        codes = session.execute(select(func.count(func.distinct(Indicator.code))).where(named)).scalar_one()
        events = session.execute(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "indicator.import", AuditEvent.object_id == job_id)
        ).scalar_one()
    finally:
        session.close()
    return int(rows), int(codes), int(events)


def test_redis_stopped_while_a_job_is_queued(settings, runtime, tmp_path, unique):
    """No worker: the import waits in the queue. Redis stops (SIGTERM: the append-only file keeps
    the queue); reads that need no Redis keep answering; Redis and a worker come back and the job
    runs exactly once."""
    rows = 20
    with _jobs_stack(settings, tmp_path) as (redis, web, env):
        token = login(web.base, "xq.admin")
        job_id = start_import(web.base, token, faults.indicator_workbook(rows, unique))
        assert _api_job(web, token, job_id)["status"] == "queued"

        redis.stop()
        status, ready = http(web.base + "/readyz")
        assert status == 503 and ready["checks"]["redis"]["ok"] is False, ready
        assert ready["checks"]["database"]["ok"] is True, ready
        status, projects = http(web.base + "/api/v1/projects", token=token)
        assert status == 200, (status, projects)
        status, me = http(web.base + "/api/v1/me", token=token)
        assert status == 200, (status, me)
        status, job = http(f"{web.base}/api/v1/jobs/{job_id}", token=token)
        # needs Redis: 503 with the documented body (platform/web/errors.py), as the password grant
        # (its rate limiter counts in Redis) and enqueueing a job
        assert status == 503 and job["code"] == 503 and "任务队列" in job["message"], (status, job)
        assert web.alive()

        redis.start()
        assert _api_job(web, token, job_id)["status"] == "queued"  # the append-only file kept it
        worker = Worker(env, tmp_path / "worker.log").start()
        try:
            done = wait_until(_ended(web, token, job_id), 60, "the queued import to finish")
            assert done["status"] == "finished", (done, faults.tail(tmp_path / "worker.log"))
            assert done["result"] == {"ok": True, "created": rows, "updated": 0, "unchanged": 0, "rows": rows}
        finally:
            worker.stop()
    assert _effect(runtime, unique, job_id) == (rows, rows, 1)


def _requeue_abandoned(redis: PrivateRedis, queue_name: str) -> None:
    """What the worker's maintenance does once a dead worker's job outlived its heartbeat, forced
    now: an abandoned STARTED job with retries left is retried (RQ 3.0 `StartedJobRegistry.cleanup`;
    the retry is scheduled after `Retry.interval[0]` = 5 s, the worker's scheduler enqueues it)."""
    from rq import Queue
    from rq.registry import StartedJobRegistry

    StartedJobRegistry(queue=Queue(queue_name, connection=redis.client())).cleanup(
        timestamp=time.time() + 3600
    )


def _take_over(redis: PrivateRedis, env: dict[str, str], job_id: str, log: Path) -> Worker:
    """After a worker died holding `job_id`: handle the abandoned job now (instead of ~10 minutes
    later, at the next worker's maintenance), let the dead worker's scheduler lock go (it expires
    61 s after its death) and start a new worker, whose scheduler enqueues the retry after 5 s."""
    from rq.scheduler import RQScheduler

    _requeue_abandoned(redis, env["JIXIAO_QUEUE"])
    assert _rq_job(redis, job_id).get_status() == "scheduled"  # retried: it had retries left
    redis.client().delete(RQScheduler.get_locking_key(env["JIXIAO_QUEUE"]))
    return Worker(env, log).start()


def test_redis_stopped_while_the_job_runs(settings, runtime, tmp_path, unique):
    """The worker runs a larger import when Redis stops for 2 s. `jixiao worker` exits on the lost
    connection (a Deployment restarts it: here a new one is started); the job it held stays STARTED
    in the append-only Redis, is retried once the abandoned job is handled, and ends finished with
    its rows written once and one import audit event."""
    rows = 1500
    content = faults.indicator_workbook(rows, unique)
    with _jobs_stack(settings, tmp_path) as (redis, web, env):
        token = login(web.base, "xq.admin")
        worker = Worker(env, tmp_path / "worker.log").start()
        second: Worker | None = None
        try:
            job_id = start_import(web.base, token, content)
            wait_until(
                lambda: (
                    _rq_job(redis, job_id).get_status() == "started"
                    and int(_rq_job(redis, job_id).meta.get("progress", 0)) >= 5
                ),
                30,
                "the import to run",
                interval=0.05,
            )
            worker.snapshot()  # remember its work-horse (own process group) to kill it if it outlives the worker
            redis.stop()
            time.sleep(2)
            redis.start()
            wait_until(
                lambda: worker.proc is not None and worker.proc.poll() is not None, 30, "the worker to exit"
            )
            worker.stop()  # reaps it, and whatever is left of its group
            assert _rq_job(redis, job_id).get_status() == "started"  # held by a dead worker
            second = _take_over(redis, env, job_id, tmp_path / "worker2.log")
            done = wait_until(_ended(web, token, job_id), 60, "the retried import to end")
            assert done["status"] == "finished", (done, faults.tail(tmp_path / "worker2.log"))
            assert done["result"] == {"ok": True, "created": rows, "updated": 0, "unchanged": 0, "rows": rows}
        finally:
            worker.stop()
            if second is not None:
                second.stop()
    assert _effect(runtime, unique, job_id) == (rows, rows, 1)


# --------------------------------------------------------------------------- 4. a worker killed


@contextmanager
def _audit_head_held(database_url: str) -> Iterator[Callable[[], None]]:
    """Hold the audit chain's head row (every commit that writes audit events takes it last, in
    `before_commit`): an import that reached its commit waits there. Yields `release()`."""
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    conn = engine.connect()
    conn.execute(text("SELECT last_id FROM audit_head WHERE id = 1 FOR UPDATE"))

    def release() -> None:
        if conn.in_transaction():
            conn.rollback()

    try:
        yield release
    finally:
        release()
        conn.close()
        engine.dispose()


@pytest.mark.parametrize("moment", ["while_writing", "after_commit"])
def test_worker_killed_mid_import_is_retried_and_imports_once(settings, runtime, tmp_path, unique, moment):
    """SIGKILL of `jixiao worker` (and its work-horse) during an Excel import of 4,000 indicators,
    `while_writing` (the transaction dies with the connection) or `after_commit` (the rows and the
    import's audit event are committed, the job is not yet marked finished: Redis holds the
    work-horse's next write with CLIENT PAUSE WRITE). A new worker takes the abandoned job over
    (RQ's StartedJobRegistry cleanup, forced): the job ends finished, the rows exist once, with one
    `indicator.import` event — the retry after the commit answers the committed result."""
    rows = 4000
    content = faults.indicator_workbook(rows, unique)
    with _jobs_stack(settings, tmp_path) as (redis, web, env):
        token = login(web.base, "xq.admin")
        worker = Worker(env, tmp_path / "worker.log").start()
        second: Worker | None = None

        def progress(job_id: str) -> int:
            job = _rq_job(redis, job_id)
            return int(job.meta.get("progress", 0)) if job.get_status() == "started" else -1

        try:
            if moment == "while_writing":
                job_id = start_import(web.base, token, content)
                wait_until(lambda: progress(job_id) >= 65, 60, "the import to write", interval=0.02)
                worker.kill()
                assert _rq_job(redis, job_id).get_status() == "started"
                # the backend notices the closed connection and rolls the transaction back
                wait_until(lambda: _effect(runtime, unique, job_id) == (0, 0, 0), 10, "nothing committed")
            else:
                with _audit_head_held(settings.database_url) as release:
                    job_id = start_import(web.base, token, content)
                    # its last write to Redis before the commit: progress 99, "提交"
                    wait_until(
                        lambda: (
                            progress(job_id) >= 99 and _rq_job(redis, job_id).meta.get("message") == "提交"
                        ),
                        60,
                        "the import to commit",
                        interval=0.02,
                    )
                    redis.client().execute_command("CLIENT", "PAUSE", "30000", "WRITE")
                    release()
                wait_until(lambda: _effect(runtime, unique, job_id)[2] == 1, 30, "the import's commit")
                worker.kill()
                redis.client().execute_command("CLIENT", "UNPAUSE")
                assert _effect(runtime, unique, job_id) == (rows, rows, 1)
            assert _rq_job(redis, job_id).get_status() == "started"  # held by a dead worker
            second = _take_over(redis, env, job_id, tmp_path / "worker2.log")
            done = wait_until(_ended(web, token, job_id), 60, "the retried import to end")
            assert done["status"] == "finished", (done, faults.tail(tmp_path / "worker2.log"))
            assert done["result"] == {"ok": True, "created": rows, "updated": 0, "unchanged": 0, "rows": rows}
            assert len(_rq_job(redis, job_id).results()) == 1  # one result: the retry's
        finally:
            worker.stop()
            if second is not None:
                second.stop()
    assert _effect(runtime, unique, job_id) == (rows, rows, 1)
