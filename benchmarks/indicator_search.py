"""Indicator search at province scale (issue 17 target 2): 100,000 indicators over the demo
province's 28 tenants (`benchmarks/generate/indicators.py`), then `q` — a two-character Chinese
term, longer ones, full pinyin, initials, a code fragment, and one with a level-2 filter — searched
by a county (`xq.editor`, 兴庆区) and by the province (`nx.admin`):

* jixiao: the service as the API runs it — `search()` in a session of the actor (both walls: the
  ORM's criteria and PostgreSQL's row-level security as `jixiao_app`), filters, count and page 1
  of 20, the rows loaded as the API serialises them;
* baseline: the same statements by hand — psycopg, no ORM, one connection with the app's settings
  (`SET ROLE jixiao_app`, the same per-transaction values, no prepared statements): the id lookup
  through the search index (migration 0018), the count and the page with the same filter (walls
  written out), for pinyin first the names and 共性类别 values where its words are read.

Runs alternate between the two (noise falls on both); the answers are checked to agree. Goal: p95 ≤
1.5 × the baseline's p95, and < 20 ms for a county, < 40 ms province-wide. `EXPLAIN (ANALYZE,
BUFFERS)` of the lookups behind the gates shows which index served them (printed, and in the notes).

    .venv/bin/python benchmarks/indicator_search.py                       # PostgreSQL, 100k (default)
    .venv/bin/python benchmarks/indicator_search.py --rows 20000 --database-url sqlite:////tmp/s.db

The database is created if missing (`--fresh` drops it first) and topped up to `--rows`
indicators, reused by the next run. Not a test and not run by `make test`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import ensure_database, prepare  # noqa: E402
from generate.indicators import generate_indicators  # noqa: E402
from results import Result, emit, percentile  # noqa: E402

from jixiao.platform.core import rls  # noqa: E402
from jixiao.platform.core.actor import Actor  # noqa: E402
from jixiao.services.indicators import search as searching  # noqa: E402
from jixiao.tenants.models import User  # noqa: E402
from jixiao.tenants.service import build_actor  # noqa: E402

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/jixiao_bench_search"
PAGE_SIZE = 20
ACTORS = {"county": ("xq.editor", 20.0), "province": ("nx.admin", 40.0)}
CASES: tuple[tuple[str, dict[str, str]], ...] = (
    ("培训", {}),
    ("满意度", {}),
    ("信息化建设", {}),
    ("peixun", {}),
    ("pxhg", {}),
    ("IN-0123", {}),
    ("培训", {"level2": "质量"}),
)


@dataclass
class Timing:
    median: float
    p95: float


def timing(values: list[float]) -> Timing:
    return Timing(statistics.median(values), percentile(values, 0.95))


# --- the baseline: the same statements by hand ------------------------------------------------------

COLUMNS = (
    "i.id, i.code, i.name, i.name_pinyin, i.name_initials, i.shared, i.level2_id, i.category, "
    "i.common_class, i.kind, i.scope, i.explanation, i.source, i.value_type, i.direction, i.unit, "
    "i.standard_value, i.value_basis, i.historical_values, i.status, i.retired_reason, i.retired_at, "
    "i.derived_from_id, i.origin_id, i.version, i.created_at, i.updated_at, i.tenant_id"
)
PAGE = f"""SELECT {COLUMNS}, l2.id, l2.level, l2.name, l2.parent_id, l2.position,
                  t.id, t.code, t.name, t.level, t.parent_id, t.path, t.is_active, t.created_at
           FROM indicators i JOIN indicator_framework l2 ON l2.id = i.level2_id
           LEFT JOIN tenants t ON t.id = i.tenant_id
           WHERE {{where}} ORDER BY i.shared DESC, i.code LIMIT %(limit)s OFFSET 0"""
COUNT = """SELECT count(*) FROM indicators i JOIN indicator_framework l2 ON l2.id = i.level2_id
           WHERE {where}"""
IDS = "SELECT string_agg(id::text, ',') FROM ({gates}) AS found(id)"


class Baseline:
    """One psycopg connection set up as the app's (`SET ROLE`, no prepared statements)."""

    def __init__(self, url: str, role: str) -> None:
        import psycopg

        self.conn = psycopg.connect(make_url(url).set(drivername="postgresql").render_as_string(False),
                                    prepare_threshold=None)  # fmt: skip
        if role:
            self.conn.execute(f'SET ROLE "{role}"')
            self.conn.commit()

    def search(
        self, actor: Actor, settings: tuple[str, ...], q: str, level2: str | None
    ) -> tuple[int, list[int]]:
        """(total, ids of page 1) — what `search()` answers, by hand."""
        params: dict[str, Any] = {"tid": actor.tenant_id, "path": f"{actor.tenant_path}/", "limit": PAGE_SIZE}
        lineage = ",".join(str(t) for t in sorted(actor.lineage_tenant_ids)) or "NULL"
        walls = f"(i.tenant_id IN ({lineage}) OR i.tenant_id IN (SELECT id FROM tenants WHERE id = %(tid)s OR path LIKE %(path)s || '%%'))"
        with self.conn.transaction():
            self.conn.execute(
                "SELECT " + ", ".join(f"set_config('{n}', %s, true)" for n in rls.NAMES), settings
            )
            params["ids"] = "{" + self._ids(q) + "}"
            where = f"i.id = ANY(%(ids)s::integer[]) AND i.status = 'active' AND {walls}"
            if level2:
                where += " AND l2.name = %(level2)s"
                params["level2"] = level2
            total = self.conn.execute(COUNT.format(where=where), params).fetchone()[0]  # type: ignore[index]
            rows = self.conn.execute(PAGE.format(where=where), params).fetchall()
        return total, [row[0] for row in rows]

    def _ids(self, q: str) -> str:
        typed = q.lower().replace(" ", "")
        gates: list[tuple[str, str]] = [("jixiao_indicators_containing", q)]
        spelled: str | None = None
        if searching.HAN.search(q):
            pass
        elif searching.PINYIN_QUERY.match(typed):
            found = self.conn.execute(
                "SELECT ids, texts FROM jixiao_indicators_spelled_words(%s, %s)", (typed, searching.MAX_NAMES)
            ).fetchone()
            spelled, texts = found if found else (None, None)
            gates += [("jixiao_indicators_containing", w) for w in searching.pinyin_words(typed, texts or [])]
        else:
            gates += [("jixiao_indicators_spelled", typed), ("jixiao_indicators_coded", q)]
        union = " UNION ".join(f"SELECT {gate}(%s)" for gate, _ in gates)
        found = self.conn.execute(IDS.format(gates=union), [value for _, value in gates]).fetchone()
        return ",".join(ids for ids in (spelled, found[0] if found else None) if ids)

    def explain(self, sql: str, args: tuple[Any, ...] = ()) -> list[str]:
        """The plan of `sql` with the settings the gates' lookups run with (migration 0018)."""
        with self.conn.transaction():
            for setting in ("max_parallel_workers_per_gather = 0", "enable_seqscan = off", "jit = off"):
                self.conn.execute(f"SET LOCAL {setting}")
            return [r[0] for r in self.conn.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, args)]


def gin_check(owner: Baseline) -> dict[str, str]:
    """Which index served the lookups behind the gates (as their owner sees them, province-wide)."""
    lookups = {
        "培训": ("SELECT id FROM jixiao_search.indicator_text WHERE "
                 "jixiao_search.bigrams(name, explanation, common_class, category) @> %s", (["培训"],)),
        "peixun": ("SELECT id FROM jixiao_search.indicator_text WHERE name_pinyin LIKE %s OR name_initials LIKE %s",
                   ("%peixun%", "%peixun%")),
    }  # fmt: skip
    found = {}
    for term, (sql, args) in lookups.items():
        plan = owner.explain(sql, args)
        used = sorted({line.split(" on ")[1].split()[0] for line in plan if "Index Scan on" in line})
        print(f"EXPLAIN (ANALYZE, BUFFERS) of the lookup for {term}:\n  " + "\n  ".join(plan), flush=True)
        found[term] = " + ".join(used) or "NO INDEX"
    return found


# --- the measure ----------------------------------------------------------------------------------


def measure(calls: dict[str, Callable[[], Any]], runs: int, warmup: int) -> dict[str, Timing]:
    """Alternate the calls `runs` times (after `warmup`), so that the machine's noise falls on each."""
    for _ in range(warmup):
        for call in calls.values():
            call()
    times: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(runs):
        for name, call in calls.items():
            start = time.perf_counter()
            call()
            times[name].append((time.perf_counter() - start) * 1000)
    return {name: timing(values) for name, values in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL") or DEFAULT_URL)
    parser.add_argument("--rows", type=int, default=100_000, help="indicators in the library")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--instance", type=Path, default=Path(tempfile.gettempdir()) / "jixiao-bench-search")
    parser.add_argument("--fresh", action="store_true", help="drop the database first")
    args = parser.parse_args()
    url = args.database_url
    ensure_database(url, fresh=args.fresh)
    rt = prepare(url, args.instance)
    done = generate_indicators(rt.db, args.rows, seed=args.seed)
    if done.after > done.before:
        print(f"generated {done.after - done.before} indicators in {done.seconds:.1f} s")
    postgres = rt.db.engine.dialect.name == "postgresql"
    actors: dict[str, tuple[Actor, tuple[str, ...]]] = {}
    for scope, (username, _) in ACTORS.items():
        with rt.db.transaction(system="benchmark: the searcher") as s:
            actor = build_actor(s, s.execute(select(User).where(User.username == username)).scalar_one())
        with rt.db.transaction(actor) as s:
            actors[scope] = (actor, rls.settings_for(s))
    baseline = Baseline(url, rt.settings.db_role) if postgres else None
    indexes = gin_check(Baseline(url, "")) if postgres else {}
    rows: list[Result] = []
    for scope, (_username, bound) in ACTORS.items():
        actor, settings = actors[scope]
        for q, filters in CASES:

            def jixiao(
                actor: Actor = actor, q: str = q, filters: dict[str, str] = filters
            ) -> tuple[int, list[int]]:
                with rt.db.transaction(actor) as s:
                    page = searching.search(s, actor, q=q, page=1, page_size=PAGE_SIZE, **filters)
                    return page.total, [i.id for i in page.items]

            calls: dict[str, Callable[[], Any]] = {"jixiao": jixiao}
            if baseline is not None:
                calls["raw"] = lambda a=actor, st=settings, q=q, f=filters: baseline.search(
                    a, st, q, f.get("level2")
                )
                assert calls["raw"]() == jixiao(), f"{scope} {q} {filters}: the baseline answers differently"
            total = jixiao()[0]
            found = measure(calls, args.runs, args.warmup)
            label = f"{scope} search q={q}" + "".join(f" + {k}={v}" for k, v in filters.items())
            ours, raw = found["jixiao"], found.get("raw")
            met = None if raw is None else ours.p95 <= 1.5 * raw.p95 and ours.p95 < bound
            note = f"{total:,} found"
            if raw:
                note += f"; raw p95 {raw.p95:.1f} ms, p95 ratio {ours.p95 / raw.p95:.2f}"
            if q in indexes and not filters:
                note += f"; index: {indexes[q]}"
            rows.append(
                Result(
                    work=label,
                    unit="ms",
                    median=ours.median,
                    p95=ours.p95,
                    baseline="raw SQL of the same filter (median)" if raw else "",
                    baseline_value=raw.median if raw else None,
                    goal=f"p95 ≤ 1.5× raw p95, < {bound:.0f} ms",
                    met=met,
                    note=note,
                )
            )
            print(f"  {label:44} {total:6} found  jixiao {ours.median:6.1f}/{ours.p95:6.1f} ms"
                  + (f"  raw {raw.median:6.1f}/{raw.p95:6.1f} ms" if raw else ""), flush=True)  # fmt: skip
    load = os.getloadavg()[0]
    print(f"\n{done.after:,} indicators, {url.split('://')[0]}, {args.runs} runs each, alternating, "
          f"{os.cpu_count()} CPUs, load average {load:.1f}")  # fmt: skip
    emit(rows, "indicator_search")


if __name__ == "__main__":
    main()
