"""One job facade (DESIGN.md §8).

Production: RQ on Redis, executed by `jixiao worker` processes. Embedded: the same RQ queue on an
in-process fakeredis server, drained by a background thread in this process — same job ids,
status and progress API, so pages and tests cannot tell the modes apart except by speed.

Job functions are plain functions taking an `Actor` first; they open their own walled session
through `current_runtime()` and report progress with `set_progress()`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import fakeredis
from redis import Redis
from rq import Queue, Retry, get_current_job
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from rq.timeouts import TimerDeathPenalty
from rq.worker import SimpleWorker

from .actor import Actor
from .errors import NotFound

STATUS_MAP = {
    JobStatus.QUEUED: "queued",
    JobStatus.DEFERRED: "queued",
    JobStatus.SCHEDULED: "queued",
    JobStatus.STARTED: "started",
    JobStatus.FINISHED: "finished",
    JobStatus.FAILED: "failed",
    JobStatus.STOPPED: "failed",
    JobStatus.CANCELED: "failed",
}


class _ThreadWorker(SimpleWorker):
    """RQ's SimpleWorker, safe off the main thread (no signal handlers, timer-based timeouts)."""

    death_penalty_class = TimerDeathPenalty

    def _install_signal_handlers(self) -> None:
        return None


@dataclass(frozen=True)
class JobInfo:
    id: str
    status: str
    progress: int
    message: str
    result: Any
    error: str | None
    description: str
    tenant_id: int | None
    user_id: int | None


class Jobs:
    def __init__(self, redis_url: str, queue_name: str = "jixiao") -> None:
        self.embedded = not redis_url
        self.connection: Redis = (
            fakeredis.FakeRedis(server=fakeredis.FakeServer()) if self.embedded else Redis.from_url(redis_url)
        )
        self.queue = Queue(queue_name, connection=self.connection)
        self._drain_lock = threading.Lock()
        self._pending = threading.Event()

    def enqueue(
        self,
        func: Callable[..., Any] | str,
        actor: Actor,
        *args: Any,
        description: str = "",
        timeout: int = 1800,
        **kwargs: Any,
    ) -> str:
        target: Any = func
        job = self.queue.enqueue(
            target,
            actor,
            *args,
            **kwargs,
            meta={"progress": 0, "message": "排队中", "tenant_id": actor.tenant_id, "user_id": actor.user_id},
            description=description or getattr(func, "__name__", str(func)),
            job_timeout=timeout,
            result_ttl=7 * 24 * 3600,
            failure_ttl=7 * 24 * 3600,
            retry=Retry(max=2, interval=[5, 30]),
        )
        if self.embedded:
            self._kick()
        return job.id

    def _kick(self) -> None:
        self._pending.set()
        if self._drain_lock.acquire(blocking=False):
            threading.Thread(target=self._drain, name="jixiao-jobs", daemon=True).start()

    def _drain(self) -> None:
        try:
            while self._pending.is_set():
                self._pending.clear()
                _ThreadWorker([self.queue], connection=self.connection).work(burst=True, with_scheduler=False)
        finally:
            self._drain_lock.release()
            if self._pending.is_set():
                self._kick()

    def info(self, job_id: str, actor: Actor) -> JobInfo:
        """Only the user who started the job sees it (another user's job is 404)."""
        try:
            job = Job.fetch(job_id, connection=self.connection)
        except (NoSuchJobError, ValueError):
            raise NotFound(f"任务 {job_id} 不存在") from None
        if job.meta.get("user_id") != actor.user_id or job.meta.get("tenant_id") != actor.tenant_id:
            raise NotFound(f"任务 {job_id} 不存在")
        status = STATUS_MAP.get(job.get_status(refresh=True), "queued")
        error = None
        result = None
        if status == "failed":
            latest = job.latest_result()
            error = job.meta.get("error") or (
                latest.exc_string.strip().splitlines()[-1] if latest and latest.exc_string else "任务失败"
            )
        elif status == "finished":
            result = job.return_value()
        progress = 100 if status == "finished" else int(job.meta.get("progress", 0))
        return JobInfo(
            id=job.id,
            status=status,
            progress=progress,
            message=str(job.meta.get("message", "")),
            result=result,
            error=error,
            description=job.description or "",
            tenant_id=job.meta.get("tenant_id"),
            user_id=job.meta.get("user_id"),
        )

    def ping(self) -> None:
        self.connection.ping()


def set_progress(percent: int, message: str = "") -> None:
    """Called from inside a job function; a no-op outside a job."""
    job = get_current_job()
    if job is None:
        return
    job.meta["progress"] = max(0, min(100, int(percent)))
    if message:
        job.meta["message"] = message
    job.save_meta()


def fail_with(message: str) -> None:
    """Record a readable failure message for the status endpoint (then raise in the caller)."""
    job = get_current_job()
    if job is not None:
        job.meta["error"] = message
        job.save_meta()
