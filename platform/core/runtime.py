"""The process-wide runtime: settings, database, jobs and object store, built once per process
(the web app, `jixiao worker`, or a test). Flask-free so job functions can use it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from . import actor_cache
from .config import Settings
from .db import Database
from .jobs import Jobs
from .storage import ObjectStore
from .storage.factory import make_store


@dataclass
class Runtime:
    settings: Settings
    db: Database
    jobs: Jobs
    store: ObjectStore

    @classmethod
    def build(cls, settings: Settings) -> Runtime:
        settings.instance_dir.mkdir(parents=True, exist_ok=True)
        store = make_store(
            s3_endpoint=settings.s3_endpoint,
            s3_access_key=settings.s3_access_key,
            s3_secret_key=settings.s3_secret_key,
            s3_bucket=settings.s3_bucket,
            s3_region=settings.s3_region,
            s3_public_endpoint=settings.s3_public_endpoint or None,
            local_root=settings.objects_dir,
            s3_part_size_mib=settings.s3_part_size_mib,
            s3_parallel_uploads=settings.s3_parallel_uploads,
        )
        db = Database(settings.database_url, settings.db_role)
        jobs = Jobs(settings.redis_url, settings.queue_name)
        if not jobs.embedded:
            # every process that writes tells the others when an actor's rows change, whether or
            # not it serves requests itself (the worker, `jixiao` commands)
            cache = actor_cache.ActorCache(jobs.connection, ttl=settings.actor_cache_seconds)
            actor_cache.watch(db.sessions, cache.bump)
            if settings.actor_cache_seconds > 0:
                db.actor_cache = cache
        return cls(settings, db, jobs, store)


_current: Runtime | None = None


def install(runtime: Runtime) -> Runtime:
    global _current
    _current = runtime
    return runtime


def installed() -> Runtime | None:
    """The runtime installed in this process, if any (without building one from the environment)."""
    return _current


@contextmanager
def temporarily(runtime: Runtime) -> Iterator[Runtime]:
    """Install `runtime` for the duration of the block, then put back whatever was installed."""
    global _current
    previous = _current
    _current = runtime
    try:
        yield runtime
    finally:
        _current = previous


def current_runtime() -> Runtime:
    if _current is None:
        install(Runtime.build(Settings.from_env()))
    assert _current is not None
    return _current
