"""The province dashboard at province scale (issue 15 item 1, issue 17 target 5): the demo province
plus N generated counties, each with 2 projects of the running program carried through the
lifecycle (benchmarks/generate), then timed requests of the province admin (`nx.admin`) through
the app (Flask test client, the app built as the tests build it):

    GET /api/v1/province/dashboard?program_id=…          (bearer token, JSON)
    GET /province/dashboard?program_id=…                 (the page, signed in through /login)
    … and both again with a city filter (&city=640100)

    .venv/bin/python benchmarks/dashboard.py                  # PostgreSQL, 30 and 3,000 counties
    .venv/bin/python benchmarks/dashboard.py --tenants 30,3000 \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/jixiao_bench   # created if missing

`--tenants` lists sizes: the largest is generated in the database named (where work_queue.py
finds it too), each smaller one in its own (`<name>_30`); a database already holding its size is
reused as it is (`--fresh` drops them first). Each request is warmed up, then run `--runs` times:
median, p95, the app process's CPU and the SQL statements a request issues (counted with
`before_cursor_execute`; the same at every size, or the dashboard is not aggregating in the
database). Baseline (PostgreSQL): the same aggregates written by hand — one SQL statement through
psycopg as the app's role, the rows fetched, no JSON. Goal (issue 17): < 300 ms at 3,000, and the
same statements at 30 and 3,000. Rows through results.py. Not a test and not run by `make test`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import ensure_database, generate, prepare  # noqa: E402
from generate.client import Figures, Statements, bearer, measure, percentile, signed_in, sized_url  # noqa: E402
from results import Result, emit  # noqa: E402

from jixiao.platform.web.app import create_app  # noqa: E402
from jixiao.services.programs.models import Program  # noqa: E402
from jixiao.services.programs.service import DEMO_PROGRAM  # noqa: E402
from jixiao.tenants.models import Tenant  # noqa: E402

USER = "nx.admin"
CITY = "640100"  # 银川市: a fifth of the generated counties
GOAL_MS = 300
LABELS = ("API", "API city", "page", "page city")
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/jixiao_bench"

# The dashboard's facts by hand (PostgreSQL: DISTINCT ON, FILTER): what the app's one statement
# answers (services/province/dashboard/build.py), one row per project (or tenant without one).
BY_HAND = """
WITH scope AS (
    SELECT t.id, t.code, t.name, t.level, up.code AS parent_code
    FROM tenants t
    JOIN program_tenants pt ON pt.tenant_id = t.id AND pt.program_id = %(program)s
    LEFT JOIN tenants up ON up.id = t.parent_id
    WHERE (t.id = %(root)s OR t.path LIKE %(root_below)s) {city}
), scoped AS (
    SELECT id, tenant_id, name, stage, status, budget_amount FROM projects
    WHERE program_id = %(program)s AND tenant_id IN (SELECT id FROM scope)
), latest AS (
    SELECT DISTINCT ON (project_id) id, project_id, period, budget_executed, execution_rate, time_progress
    FROM monitoring_rounds WHERE project_id IN (SELECT id FROM scoped)
    ORDER BY project_id, period DESC
), colours AS (
    SELECT round_id,
           count(*) FILTER (WHERE warning = 'green') AS w_green,
           count(*) FILTER (WHERE warning = 'yellow') AS w_yellow,
           count(*) FILTER (WHERE warning = 'red') AS w_red,
           count(*) FILTER (WHERE forecast_warning = 'green') AS f_green,
           count(*) FILTER (WHERE forecast_warning = 'yellow') AS f_yellow,
           count(*) FILTER (WHERE forecast_warning = 'red') AS f_red
    FROM monitoring_lines WHERE round_id IN (SELECT id FROM latest) GROUP BY round_id
), open_corrections AS (
    SELECT project_id, count(*) AS n FROM corrections
    WHERE status <> 'closed' AND project_id IN (SELECT id FROM scoped) GROUP BY project_id
), open_rectifications AS (
    SELECT project_id, count(*) AS n FROM rectification_items
    WHERE status <> 'closed' AND project_id IN (SELECT id FROM scoped) GROUP BY project_id
), last_check AS (
    SELECT DISTINCT ON (project_id) id, project_id, status FROM spot_check_items
    WHERE project_id IN (SELECT id FROM scoped) ORDER BY project_id, id DESC
), finding AS (
    SELECT DISTINCT ON (spot_check_item_id) spot_check_item_id, status FROM corrections
    WHERE spot_check_item_id IN (SELECT id FROM last_check) ORDER BY spot_check_item_id, id DESC
)
SELECT s.id, s.code, s.name, s.level, s.parent_code, r.id, r.status, r.submitted_version,
       p.id, p.name, p.stage, p.status, p.budget_amount, cur.status, done.id,
       l.period, l.budget_executed, l.execution_rate, l.time_progress,
       c.w_green, c.w_yellow, c.w_red, c.f_green, c.f_yellow, c.f_red,
       se.id, se.score, se.grade, se.budget_executed, ke.score, ke.grade,
       oc.n, orc.n, lc.status, f.status
FROM scope s
LEFT JOIN pilot_reports r ON r.program_id = %(program)s AND r.tenant_id = s.id
LEFT JOIN scoped p ON p.tenant_id = s.id
LEFT JOIN project_stages cur ON cur.project_id = p.id AND cur.stage = p.stage
LEFT JOIN project_stages done
       ON done.project_id = p.id AND done.stage = 'result_application' AND done.status = 'approved'
LEFT JOIN latest l ON l.project_id = p.id
LEFT JOIN colours c ON c.round_id = l.id
LEFT JOIN self_evaluations se ON se.project_id = p.id AND se.status = 'approved'
LEFT JOIN key_evaluations ke ON ke.project_id = p.id AND ke.status = 'accepted'
LEFT JOIN open_corrections oc ON oc.project_id = p.id
LEFT JOIN open_rectifications orc ON orc.project_id = p.id
LEFT JOIN last_check lc ON lc.project_id = p.id
LEFT JOIN finding f ON f.spot_check_item_id = lc.id
ORDER BY s.code, p.id
"""


def by_hand(url: str, role: str, program_id: int, city: str | None, runs: int, warmup: int) -> Figures | None:
    """The baseline: `BY_HAND` through psycopg as the app's role, past row-level security as the
    app's statement is (`jixiao.bypass`), no prepared statements (as the app), no JIT (the app's
    statement stays far below its threshold); None on SQLite."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        return None
    import psycopg

    conninfo = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo, prepare_threshold=None) as conn:
        conn.execute(f'SET ROLE "{role}"')
        # its estimates (DISTINCT ON, FILTER) run to millions of rows: JIT would compile for seconds
        conn.execute("SET jit = off")
        conn.commit()
        root = conn.execute("SELECT id, path FROM tenants WHERE code = '640000'").fetchone()
        assert root is not None
        params: dict[str, Any] = {"program": program_id, "root": root[0], "root_below": f"{root[1]}/%"}
        sql = BY_HAND.format(city="")
        if city is not None:
            found = conn.execute("SELECT id, path FROM tenants WHERE code = %s", (city,)).fetchone()
            assert found is not None
            params |= {"city": found[0], "city_below": f"{found[1]}/%"}
            sql = BY_HAND.format(city="AND (t.id = %(city)s OR t.path LIKE %(city_below)s)")
        times, rows = [], 0
        for n in range(warmup + runs):
            conn.execute("SELECT set_config('jixiao.bypass', 'on', true)")
            start = time.perf_counter()
            rows = len(conn.execute(sql, params).fetchall())
            if n >= warmup:
                times.append((time.perf_counter() - start) * 1000)
            conn.rollback()
    return Figures(statistics.median(times), percentile(times, 0.95), 0.0, 1, rows)


def requests(rt: Any, program_id: int, runs: int, warmup: int) -> dict[str, Figures]:
    """The four requests, timed (LABELS)."""
    app = create_app(runtime=rt)
    app.config.update(TESTING=True)
    password = rt.settings.demo_password
    page, token, api = signed_in(app, USER, password), bearer(app, USER, password), app.test_client()
    counter = Statements(rt.db.engine)
    dashboard = f"/api/v1/province/dashboard?program_id={program_id}"
    calls: dict[str, Callable[[], Any]] = {
        "API": lambda: api.get(dashboard, headers=token),
        "API city": lambda: api.get(f"{dashboard}&city={CITY}", headers=token),
        "page": lambda: page.get(f"/province/dashboard?program_id={program_id}"),
        "page city": lambda: page.get(f"/province/dashboard?program_id={program_id}&city={CITY}"),
    }
    return {label: measure(calls[label], counter, runs, warmup) for label in LABELS}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--tenants", default="30,3000", help="generated counties, one size or several (2 projects each)"
    )
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL") or DEFAULT_URL)
    parser.add_argument(
        "--instance", type=Path, default=Path(tempfile.gettempdir()) / "jixiao-bench-dashboard"
    )
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--fresh", action="store_true", help="start from empty databases")
    args = parser.parse_args()
    sizes = sorted(int(n) for n in args.tenants.split(","))
    largest = sizes[-1]
    results: dict[tuple[int, str], Figures] = {}
    baselines: dict[str, Figures | None] = {}
    backend = make_url(args.database_url).get_backend_name()
    for size in sizes:
        url = sized_url(args.database_url, size, largest)
        ensure_database(url, fresh=args.fresh)
        rt = prepare(url, args.instance / str(size))
        done = generate(rt.db, size, seed=args.seed, password=rt.settings.demo_password)
        if done.after != size:
            raise SystemExit(f"{url} holds {done.after} generated counties (> {size}): use --fresh")
        with rt.db.transaction(system="benchmark: the demo program") as s:
            program_id = s.execute(select(Program.id).where(Program.name == DEMO_PROGRAM)).scalar_one()
            assert s.execute(select(Tenant.id).where(Tenant.code == CITY)).scalar() is not None
        for label, found in requests(rt, program_id, args.runs, args.warmup).items():
            results[(size, label)] = found
            print(
                f"  {size:5} counties  {label:10} median {found.median:7.1f} ms  p95 {found.p95:7.1f} ms  "
                f"CPU {found.cpu:6.1f} ms  {found.statements:3} SQL  {found.size / 1024:6.0f} KiB",
                flush=True,
            )
        if size == largest:
            for city in (None, CITY):
                baselines[city or ""] = hand = by_hand(
                    url, rt.settings.db_role, program_id, city, args.runs, args.warmup
                )
                if hand is not None:
                    print(
                        f"  {size:5} counties  by hand{' city' if city else '     '}  median {hand.median:7.1f} ms  "
                        f"p95 {hand.p95:7.1f} ms  ({hand.size} rows)",
                        flush=True,
                    )
        rt.db.engine.dispose()
    print(
        f"\nprovince dashboard, {backend}, {args.runs} requests after {args.warmup} warm-up, in-process "
        f"(Flask test client), {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}"
    )
    rows = []
    work = {
        "API": "GET /api/v1/province/dashboard",
        "API city": f"GET /api/v1/province/dashboard?city={CITY}",
        "page": "GET /province/dashboard (page)",
        "page city": f"GET /province/dashboard?city={CITY} (page)",
    }
    for label in LABELS:
        found = results[(largest, label)]
        counts = {size: results[(size, label)].statements for size in sizes}
        same = len(set(counts.values())) == 1
        hand = baselines.get(CITY if label.endswith("city") else "")
        sizes_said = ", ".join(f"{counts[s]} at {s:,}" for s in sizes)
        smaller = ", ".join(f"{results[(s, label)].median:.0f} ms at {s:,}" for s in sizes[:-1])
        rows.append(
            Result(
                work=f"{work[label]}, {largest:,} counties × 2 projects",
                unit="ms",
                median=found.median,
                p95=found.p95,
                baseline="the same aggregates by hand (one SQL statement, psycopg, rows fetched)"
                if hand
                else "",
                baseline_value=hand.median if hand else None,
                goal=f"< {GOAL_MS} ms, statements equal at " + " and ".join(f"{s:,}" for s in sizes),
                met=found.median < GOAL_MS and same,
                note=(
                    f"SQL statements {sizes_said}; app CPU {found.cpu:.0f} ms; {found.size / 1024:,.0f} KiB"
                    + (f"; {smaller}" if smaller else "")
                ),
            )
        )
    emit(rows, "dashboard")


if __name__ == "__main__":
    main()
