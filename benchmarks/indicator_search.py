"""Indicator search at library scale: N indicators (default 100,000), then timed searches.

    .venv/bin/python benchmarks/indicator_search.py                       # SQLite in a temp folder
    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench \\
        .venv/bin/python benchmarks/indicator_search.py --rows 100000     # PostgreSQL (pg_trgm indexes)

Prints the median and worst time of each search (as the API runs it: walls, filters, count, page).
Not a test and not run by `make test`. The PostgreSQL database must exist and be empty.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import insert, select, text

import jixiao.platform.models  # noqa: F401
from jixiao.platform.core import migrate
from jixiao.platform.core.db import Database, utcnow
from jixiao.platform.demo import load_all
from jixiao.services.indicators.models import FrameworkNode, Indicator
from jixiao.services.indicators.service import pinyin_keys, search
from jixiao.tenants import service as tenants
from jixiao.tenants.models import Tenant, User

WORDS = [
    "培训",
    "会议",
    "设备",
    "信息化",
    "工程",
    "道路",
    "学校",
    "医疗",
    "农田",
    "污水",
    "绿化",
    "补助",
    "人次",
    "完成率",
    "合格率",
    "满意度",
    "覆盖率",
    "成本",
    "时效",
    "维护",
    "采购",
    "服务",
    "监测",
    "建设",
]


def populate(db: Database, rows: int) -> None:
    with db.transaction(system="benchmark populate") as s:
        counties = s.execute(select(Tenant).where(Tenant.level == "county")).scalars().all()
        level2 = s.execute(select(FrameworkNode).where(FrameworkNode.level == 2)).scalars().all()
        rng = random.Random(7)
        batch = []
        for n in range(rows):
            owner = rng.choice(counties)
            name = "".join(rng.sample(WORDS, 3)) + f"{n}"
            full, initials = pinyin_keys(name)
            batch.append(
                {
                    "tenant_id": owner.id,
                    "code": f"{owner.code}-IN-{n:06d}",
                    "name": name,
                    "name_pinyin": full,
                    "name_initials": initials,
                    "shared": False,
                    "level2_id": rng.choice(level2).id,
                    "kind": "individual",
                    "scope": "project",
                    "explanation": f"{name}的统计口径说明",
                    "source": "基准数据",
                    "value_type": "quantitative",
                    "direction": ">=",
                    "unit": "个",
                    "standard_value": "10",
                    "value_basis": "计划标准",
                    "historical_values": {},
                    "status": "active",
                    "version": 1,
                    "created_at": utcnow(),
                    "updated_at": utcnow(),
                }
            )
            if len(batch) == 5000:
                s.execute(insert(Indicator), batch)
                batch.clear()
        if batch:
            s.execute(insert(Indicator), batch)


def timed(fn, repeat: int = 7) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), max(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}"
    migrate.upgrade(url)
    db = Database(url)
    with db.transaction(system="benchmark demo") as s:
        load_all(s, "Bench@2026x")
    start = time.perf_counter()
    populate(db, args.rows)
    print(f"{db.engine.dialect.name}: inserted {args.rows} indicators in {time.perf_counter() - start:.1f} s")
    with db.engine.connect() as conn:  # fresh statistics, as autovacuum would have by now
        conn.execute(text("ANALYZE"))
        conn.commit()
    with db.system_session("benchmark actor") as s:
        user = s.execute(select(User).where(User.username == "nx.admin")).scalar_one()
        province = tenants.build_actor(s, user)
        user = s.execute(select(User).where(User.username == "xq.editor")).scalar_one()
        county = tenants.build_actor(s, user)
    cases = {
        "province, no filter, page 1": (province, {}),
        "province, q=培训": (province, {"q": "培训"}),
        "province, q=peixun (pinyin)": (province, {"q": "peixun"}),
        "province, q=pxwcl (initials)": (province, {"q": "pxwcl"}),
        "province, q=合格率 + level2=质量": (province, {"q": "合格率", "level2": "质量"}),
        "county, q=培训": (county, {"q": "培训"}),
        "province, page 200": (province, {"page": 200}),
    }
    for label, (actor, filters) in cases.items():

        def run(actor=actor, filters=filters):  # type: ignore[no-untyped-def]
            with db.session(actor) as s:
                return search(s, actor, page_size=50, **filters)

        total = run().total
        median, worst = timed(run)
        print(f"{label:36s} total={total:7d}  median {median:7.1f} ms  worst {worst:7.1f} ms")


if __name__ == "__main__":
    main()
