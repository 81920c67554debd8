"""The province dashboard at province scale (issue 15 item 1, issue 17 target 5): the demo province
plus N generated counties, each with 2 projects of the running program carried through the
lifecycle (benchmarks/generate), then timed requests of the province admin (`nx.admin`) through
the app (Flask test client, the app built as the tests build it):

    GET /api/v1/province/dashboard?program_id=…          (bearer token, JSON)
    GET /province/dashboard?program_id=…                 (the page, signed in through /login)
    … and both again with a city filter (&city=640100)

    .venv/bin/python benchmarks/dashboard.py                                  # SQLite in a temp folder
    .venv/bin/python benchmarks/dashboard.py --tenants 30,3000 \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/jixiao_bench   # created if missing

`--tenants` lists sizes in ascending order: the database is topped up to each in turn (generated
counties, on top of the demo's 27 participants), so one run measures 30 and 3,000. Each request is
warmed up, then run `--runs` times: median, p95 and the SQL statements a request issues (counted
with `before_cursor_execute`; the same at every size, or the dashboard is not aggregating in the
database). Goal: < 500 ms (issue 15), < 300 ms (issue 17). Not a test and not run by `make test`.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import event, select

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import ensure_database, generate, prepare  # noqa: E402

from jixiao.platform.web.app import create_app  # noqa: E402
from jixiao.services.programs.models import Program  # noqa: E402
from jixiao.services.programs.service import DEMO_PROGRAM  # noqa: E402

USER = "nx.admin"
CITY = "640100"  # 银川市: a fifth of the generated counties
GOAL_MS = 500
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


class Counter:
    """SQL statements sent to the database while `on`."""

    def __init__(self, engine: Any) -> None:
        self.count, self.on = 0, False
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, *_args: Any) -> None:
        if self.on:
            self.count += 1


def signed_in(app: Any, password: str) -> tuple[Any, dict[str, str]]:
    """A page client signed in through the login form, and the API's bearer header."""
    page = app.test_client()
    form = page.get("/login")
    found = CSRF.search(form.get_data(as_text=True))
    assert found, "the login form carries a csrf_token"
    login = page.post("/login", data={"csrf_token": found.group(1), "username": USER, "password": password})
    assert login.status_code == 302, login.status_code
    token = app.test_client().post(
        "/oauth/token",
        data={"grant_type": "password", "client_id": "jixiao-cli", "username": USER, "password": password},
    )
    assert token.status_code == 200, token.get_json()
    return page, {"Authorization": f"Bearer {token.get_json()['access_token']}"}


@dataclass
class Figures:
    median: float  # ms, wall clock
    p95: float
    cpu: float  # ms of this process's CPU (the app's share; the database's is not in it), median
    statements: int
    size: int  # bytes of the answer


def measure(call: Callable[[], Any], counter: Counter, runs: int, warmup: int) -> Figures:
    for _ in range(warmup):
        assert call().status_code == 200
    times, cpu, counts = [], [], set()
    size = 0
    for _ in range(runs):
        counter.count, counter.on = 0, True
        start, used = time.perf_counter(), time.process_time()
        resp = call()
        times.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - used) * 1000)
        counter.on = False
        assert resp.status_code == 200, resp.status_code
        counts.add(counter.count)
        size = len(resp.data)
    assert len(counts) == 1, f"statements differ between identical requests: {counts}"
    return Figures(
        statistics.median(times), percentile(times, 0.95), statistics.median(cpu), counts.pop(), size
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--tenants", default="30,3000", help="generated counties, ascending sizes (2 projects each)"
    )
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""))
    parser.add_argument(
        "--instance", type=Path, default=Path(tempfile.gettempdir()) / "jixiao-bench-dashboard"
    )
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--fresh", action="store_true", help="start from an empty database")
    args = parser.parse_args()
    sizes = [int(n) for n in args.tenants.split(",")]
    url = args.database_url or f"sqlite:///{args.instance / 'bench.db'}"
    ensure_database(url, fresh=args.fresh)
    rt = prepare(url, args.instance)
    app = create_app(runtime=rt)
    app.config.update(TESTING=True)
    with rt.db.transaction(system="benchmark: the demo program") as s:
        program_id = s.execute(select(Program.id).where(Program.name == DEMO_PROGRAM)).scalar_one()
    page, bearer = signed_in(app, rt.settings.demo_password)
    api = app.test_client()
    counter = Counter(rt.db.engine)
    cases: list[tuple[str, Callable[[], Any]]] = [
        ("API  /api/v1/province/dashboard", lambda: api.get(f"/api/v1/province/dashboard?program_id={program_id}", headers=bearer)),
        ("API  … &city=640100", lambda: api.get(f"/api/v1/province/dashboard?program_id={program_id}&city={CITY}", headers=bearer)),
        ("page /province/dashboard", lambda: page.get(f"/province/dashboard?program_id={program_id}")),
        ("page … &city=640100", lambda: page.get(f"/province/dashboard?program_id={program_id}&city={CITY}")),
    ]  # fmt: skip
    backend = url.split("://")[0]
    results: list[tuple[int, str, Figures]] = []
    for size in sizes:
        done = generate(rt.db, size, seed=args.seed, password=rt.settings.demo_password)
        if done.after != size:
            print(f"the database already holds {done.after} generated counties (> {size}): use --fresh")
            raise SystemExit(2)
        for label, call in cases:
            found = measure(call, counter, args.runs, args.warmup)
            results.append((size, label, found))
            print(
                f"  {size:5} counties  {label:34} median {found.median:7.1f} ms  p95 {found.p95:7.1f} ms  "
                f"CPU {found.cpu:7.1f} ms  {found.statements:3} SQL  {found.size / 1024:7.0f} KiB",
                flush=True,
            )
    load = os.getloadavg()[0]
    print(
        f"\nprovince dashboard, {backend}, {args.runs} requests after {args.warmup} warm-up, in-process "
        f"(Flask test client), {os.cpu_count()} CPUs, load average {load:.1f}"
    )
    print(
        "| generated counties × 2 projects | request | median ms | p95 ms | app CPU ms | SQL statements | KiB | < 500 ms |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for size, label, f in results:
        met = "yes" if f.p95 < GOAL_MS else "**no**"
        print(
            f"| {size:,} | `{label}` | {f.median:.0f} | {f.p95:.0f} | {f.cpu:.0f} | {f.statements} | "
            f"{f.size / 1024:.0f} | {met} |"
        )
    by_label: dict[str, set[int]] = {}
    for _size, label, f in results:
        by_label.setdefault(label, set()).add(f.statements)
    same = all(len(found) == 1 for found in by_label.values())
    print(f"statements independent of the number of tenants: {'yes' if same else 'NO'}")


if __name__ == "__main__":
    main()
