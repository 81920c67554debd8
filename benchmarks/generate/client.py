"""Requests to the app over generated data, as the province-scale benchmarks (dashboard.py,
work_queue.py) make them: the app built as the tests build it, a user signed in through the login
form (pages) or by a password grant (the API's bearer token), the SQL statements a request sends,
and timed repetitions (wall clock, the process's CPU, statements, answer size)."""

from __future__ import annotations

import re
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def sized_url(url: str, size: int, largest: int) -> str:
    """The database of one size of a run over several (`--tenants 30,3000`): the largest in the
    database named, each other in its own (`<name>_<size>`) — each reused as it is found."""
    if size == largest:
        return url
    parsed = make_url(url)
    name = parsed.database or "bench.db"
    if parsed.get_backend_name() == "sqlite":
        stem, dot, suffix = name.rpartition(".")
        sized = f"{stem}_{size}.{suffix}" if dot else f"{name}_{size}"
    else:
        sized = f"{name}_{size}"
    return parsed.set(database=sized).render_as_string(hide_password=False)


class Statements:
    """SQL statements sent to the database while `on` (each cursor execution)."""

    def __init__(self, engine: Any) -> None:
        self.count, self.on = 0, False
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, *_args: Any) -> None:
        if self.on:
            self.count += 1


def bearer(app: Any, username: str, password: str) -> dict[str, str]:
    token = app.test_client().post(
        "/oauth/token",
        data={
            "grant_type": "password",
            "client_id": "jixiao-cli",
            "username": username,
            "password": password,
        },
    )
    assert token.status_code == 200, token.get_json()
    return {"Authorization": f"Bearer {token.get_json()['access_token']}"}


def signed_in(app: Any, username: str, password: str) -> Any:
    """A page client signed in through the login form."""
    page = app.test_client()
    form = page.get("/login")
    found = CSRF.search(form.get_data(as_text=True))
    assert found, "the login form carries a csrf_token"
    login = page.post(
        "/login", data={"csrf_token": found.group(1), "username": username, "password": password}
    )
    assert login.status_code == 302, login.status_code
    return page


@dataclass
class Figures:
    median: float  # ms, wall clock
    p95: float
    cpu: float  # ms of this process's CPU (the app's share; the database's is not in it), median
    statements: int
    size: int  # bytes of the answer (HTTP), or items (a service's list)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def measure(call: Callable[[], Any], counter: Statements, runs: int, warmup: int) -> Figures:
    """`call` warmed up, then timed `runs` times; an HTTP answer must be 200. The statements must
    be the same on every run (or the figure would hide an N+1)."""

    def size_of(found: Any) -> int:
        if hasattr(found, "status_code"):
            assert found.status_code == 200, found.status_code
            return len(found.data)
        return len(found)

    for _ in range(warmup):
        size_of(call())
    times, cpu, counts = [], [], set()
    size = 0
    for _ in range(runs):
        counter.count, counter.on = 0, True
        start, used = time.perf_counter(), time.process_time()
        found = call()
        times.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - used) * 1000)
        counter.on = False
        counts.add(counter.count)
        size = size_of(found)
    assert len(counts) == 1, f"statements differ between identical calls: {counts}"
    return Figures(
        statistics.median(times), percentile(times, 0.95), statistics.median(cpu), counts.pop(), size
    )
