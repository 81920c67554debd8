"""The work queue and the reminders at province scale (issue 17 target 5), on the data of
dashboard.py: the demo province plus 3,000 generated counties × 2 projects carried through the
lifecycle, with the province's spot check of a twentieth of them (benchmarks/generate).

    .venv/bin/python benchmarks/work_queue.py                 # PostgreSQL, 3,000 counties
    .venv/bin/python benchmarks/work_queue.py --tenants 300 \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/jixiao_bench   # created if missing

Timed, each warmed up then run `--runs` times (median, p95, SQL statements):
- the province reviewer's 待办 (`nx.reviewer`: the spot check's projects to review, the answered
  findings to follow up) as `GET /api/v1/me/tasks` runs it (`tasks_for`, a new session each time),
  and the request itself (bearer token, Flask test client; with Redis, `--redis-url`, as production
  has it — database 5 of 127.0.0.1:6379 by default, "" for none — the token's actor is cached
  between requests, platform/core/actor_cache.py);
- a county bureau admin's 待办 and a city bureau admin's, for comparison;
- `jixiao remind` over every tenant (`reminders.remind` in a system session, as the CLI runs it)
  as of the program's end — every deadline passed, so every open item with one is due — its first
  run (writing) and a second one (writing nothing), then rolled back (the data stays as generated).
Goals: the reviewer's queue < 50 ms, remind < 30 s. Rows through results.py. Not a test and not
run by `make test`.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import ensure_database, generate, prepare  # noqa: E402
from generate.client import Statements, bearer, measure  # noqa: E402
from results import Result, emit  # noqa: E402

from jixiao.platform.core.actor import Actor  # noqa: E402
from jixiao.platform.core.runtime import Runtime, install  # noqa: E402
from jixiao.platform.web.app import create_app  # noqa: E402
from jixiao.services.notifications import reminders  # noqa: E402
from jixiao.services.programs.models import Program  # noqa: E402
from jixiao.services.programs.service import DEMO_PROGRAM  # noqa: E402
from jixiao.services.tasks import service as tasks  # noqa: E402
from jixiao.tenants import service as tenants  # noqa: E402

REVIEWER = "nx.reviewer"
OTHERS = (("county bureau admin", "g641000.admin"), ("city bureau admin", "yc.admin"))
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/jixiao_bench"
QUEUE_GOAL_MS = 50
REMIND_GOAL_S = 30


def actor_of(rt: Any, username: str) -> Actor:
    with rt.db.transaction(system="benchmark: the actor") as s:
        user = tenants.find_login_user(s, username)
        assert user is not None, username
        return tenants.build_actor(s, user)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tenants", type=int, default=3000, help="generated counties (2 projects each)")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL") or DEFAULT_URL)
    parser.add_argument(
        "--instance", type=Path, default=Path(tempfile.gettempdir()) / "jixiao-bench-dashboard"
    )
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--fresh", action="store_true", help="start from an empty database")
    parser.add_argument(
        "--redis-url", default="redis://127.0.0.1:6379/5", help="as production has it ('' for none)"
    )
    args = parser.parse_args()
    ensure_database(args.database_url, fresh=args.fresh)
    rt = prepare(args.database_url, args.instance / str(args.tenants))
    if args.redis_url:  # as production: the actors of bearer tokens cached between requests
        rt = install(Runtime.build(dataclasses.replace(rt.settings, redis_url=args.redis_url)))
    done = generate(rt.db, args.tenants, seed=args.seed, password=rt.settings.demo_password)
    if done.after != args.tenants:
        raise SystemExit(
            f"the database holds {done.after} generated counties (> {args.tenants}): use --fresh"
        )
    with rt.db.transaction(system="benchmark: the demo program") as s:
        program = s.execute(select(Program).where(Program.name == DEMO_PROGRAM)).scalar_one()
        end = program.end
    # the app first, as a server has it: built, and what it made frozen out of the collector's sight
    app = create_app(runtime=rt)
    app.config.update(TESTING=True)
    counter = Statements(rt.db.engine)
    scale = f"{args.tenants:,} counties × 2 projects"
    rows = []

    def queue_of(who: Actor) -> Any:
        session = rt.db.session(who)  # a request's session
        try:
            return tasks.tasks_for(session, who)
        finally:
            session.close()

    reviewer = actor_of(rt, REVIEWER)
    found = measure(lambda: queue_of(reviewer), counter, args.runs, args.warmup)
    print(f"  待办 of the province reviewer: {found.size} items, median {found.median:.1f} ms", flush=True)
    rows.append(
        Result(
            work=f"province reviewer's 待办 (tasks_for, as GET /api/v1/me/tasks runs it), {scale}",
            unit="ms",
            median=found.median,
            p95=found.p95,
            goal=f"< {QUEUE_GOAL_MS} ms",
            met=found.median < QUEUE_GOAL_MS,
            note=f"{found.size} items; {found.statements} SQL statements; CPU {found.cpu:.0f} ms",
        )
    )
    token, client = bearer(app, REVIEWER, rt.settings.demo_password), app.test_client()
    found = measure(lambda: client.get("/api/v1/me/tasks", headers=token), counter, args.runs, args.warmup)
    print(f"  GET /api/v1/me/tasks of the province reviewer: median {found.median:.1f} ms", flush=True)
    rows.append(
        Result(
            work=f"GET /api/v1/me/tasks (province reviewer, first page of 50), {scale}",
            unit="ms",
            median=found.median,
            p95=found.p95,
            goal=f"< {QUEUE_GOAL_MS} ms",
            met=found.median < QUEUE_GOAL_MS,
            note=f"{found.statements} SQL statements; CPU {found.cpu:.0f} ms; {found.size / 1024:.0f} KiB",
        )
    )
    for label, username in OTHERS:
        who = actor_of(rt, username)
        found = measure(lambda: queue_of(who), counter, args.runs, args.warmup)  # noqa: B023
        print(f"  待办 of a {label}: {found.size} items, median {found.median:.1f} ms", flush=True)
        rows.append(
            Result(
                work=f"{label}'s 待办 ({username}, tasks_for), {scale}",
                unit="ms",
                median=found.median,
                p95=found.p95,
                note=f"{found.size} items; {found.statements} SQL statements; CPU {found.cpu:.0f} ms",
            )
        )
    session = rt.db.system_session("benchmark: deadline reminders")
    try:
        for run in ("first", "second"):
            counter.count, counter.on = 0, True
            start, used = time.perf_counter(), time.process_time()
            counts = reminders.remind(session, end)
            session.flush()
            took, cpu = time.perf_counter() - start, time.process_time() - used
            counter.on = False
            print(f"  jixiao remind, {run} run: {counts['reminders']} reminders in {took:.1f} s", flush=True)
            rows.append(
                Result(
                    work=(
                        f"jixiao remind over {scale}, as of the program's end ({end}: every deadline "
                        f"passed), {run} run" + (" (writes nothing: idempotent)" if run == "second" else "")
                    ),
                    unit="s",
                    median=took,
                    goal=f"< {REMIND_GOAL_S} s",
                    met=took < REMIND_GOAL_S,
                    note=f"{counts['reminders']:,} reminders written; {counter.count:,} SQL statements; CPU {cpu:.1f} s",
                )
            )
    finally:
        session.rollback()  # the generated data stays as it was
        session.close()
    print(f"\nwork queue, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    emit(rows, "work_queue")


if __name__ == "__main__":
    main()
