"""Excel import of the indicator library at scale: N rows (default 12,000) as one xlsx.

    .venv/bin/python benchmarks/indicator_import.py               # 12,000 rows, SQLite in a temp folder
    .venv/bin/python benchmarks/indicator_import.py --rows 50000  # the largest file one import accepts

Against a fresh SQLite database (migrated, demo province loaded), as xq.admin (兴庆区):

1. generate the xlsx (openpyxl write-only),
2. parse + validate every row (`excel_parse.parse_workbook` + `excel_plan.plan_import`, nothing written),
3. the whole import job in embedded mode: `excel.start_import` (object store + in-process RQ queue)
   until the job's status says finished — N creates,
4. export `owner=own` and import that file again (N unchanged: nothing written),
5. the same export with every 标准值 changed (N updates).

Prints wall and CPU time of each step. Not a test and not run by `make test`.
"""

from __future__ import annotations

import argparse
import io
import logging
import random
import resource
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

import jixiao.platform.models  # noqa: F401
from jixiao.platform.core import migrate
from jixiao.platform.core.actor import Actor
from jixiao.platform.core.config import Settings
from jixiao.platform.core.runtime import Runtime, install
from jixiao.platform.demo import load_all
from jixiao.services.indicators import excel, excel_export, excel_layout, excel_parse, excel_plan
from jixiao.services.indicators.models import LEVEL1_OF, Indicator
from jixiao.tenants import service as tenants

WORDS = ["培训", "会议", "设备", "信息化", "工程", "道路", "学校", "医疗", "农田", "污水", "绿化", "补助"]
MEASURES = ["人次", "完成率", "合格率", "覆盖率", "及时率", "满意度", "数量", "成本"]


def generate(path: Path, rows: int) -> None:
    rng = random.Random(7)
    level2 = list(LEVEL1_OF)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(excel_layout.SHEET_TITLE)
    years = ["2022", "2023", "2024"]
    ws.append(
        [c.header for c in excel_layout.COLUMNS] + [excel_layout.year_header(y) for y in years] + ["状态"]
    )
    for n in range(rows):
        quantitative = n % 5 != 0
        name = f"{rng.choice(WORDS)}{rng.choice(WORDS)}{rng.choice(MEASURES)}{n:05d}"
        ws.append(
            [
                "",
                name,
                "",
                level2[n % len(level2)],
                rng.choice(["教育", "卫生健康", "农业农村", ""]),
                rng.choice(["培训", "会议", "设备购置", ""]),
                "共性" if n % 2 else "个性",
                "项目",
                f"按台账统计的{name}，年度累计。",
                "项目单位年度台账及财务报表",
                "定量" if quantitative else "定性",
                "≥" if quantitative else "=",
                "%" if quantitative else "",
                str(rng.randint(60, 100)) if quantitative else "达成",
                "计划标准",
                *([str(rng.randint(50, 100)) for _ in years] if quantitative else ["达成"] * 3),
                "在用",
            ]
        )
    wb.save(path)


def timed(label: str, fn: Callable[[], Any]) -> Any:
    """Wall time, and the CPU time of this process (the embedded job runs in one of its threads):
    on a shared machine the CPU figure is the steadier one."""
    start, cpu = time.perf_counter(), time.process_time()
    result = fn()
    wall, used = time.perf_counter() - start, time.process_time() - cpu
    print(f"  {label:<48} {wall:7.2f} s wall {used:7.2f} s CPU", flush=True)
    return result


def run_job(rt: Runtime, actor: Actor, path: Path, name: str) -> dict[str, Any]:
    with path.open("rb") as stream:
        job_id = excel.start_import(actor, name, stream, content_type=excel_layout.XLSX_MIME)
    seen = []
    while True:
        info = rt.jobs.info(job_id, actor)
        seen.append(info.progress)
        if info.status in ("finished", "failed"):
            break
        time.sleep(0.2)
    if info.status != "finished":
        sys.exit(f"job failed: {info.error}")
    result: dict[str, Any] = info.result
    steps = sorted(set(seen))
    print(f"    progress seen: {len(steps)} distinct values, {steps[:3]} … {steps[-3:]}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=12_000)
    parser.add_argument("--keep", action="store_true", help="keep the temp folder (database, files)")
    args = parser.parse_args()
    logging.getLogger("rq.worker").addHandler(logging.NullHandler())  # RQ's per-job chatter
    folder = Path(tempfile.mkdtemp(prefix="jixiao-bench-import-"))
    settings = Settings.from_env(
        instance_dir=folder,
        database_url=f"sqlite:///{folder / 'jixiao.db'}",
        redis_url="",
        s3_endpoint="",
        secret_key="benchmark",
        queue_name="benchmark",
    )
    print(f"indicator import benchmark: {args.rows} rows, SQLite in {folder}")
    migrate.upgrade(settings.database_url)
    rt = install(Runtime.build(settings))
    with rt.db.transaction(system="benchmark demo load") as s:
        load_all(s, "Demo@2026")
    with rt.db.transaction(system="benchmark actor") as s:
        user = tenants.find_login_user(s, "xq.admin")
        assert user is not None
        actor = tenants.build_actor(s, user)

    source = folder / "import.xlsx"
    timed(f"generate {args.rows} rows (write-only)", lambda: generate(source, args.rows))
    print(f"    file size: {source.stat().st_size / 1024 / 1024:.1f} MiB")

    parsed = timed("parse (read-only)", lambda: excel_parse.parse_workbook(source))
    session = rt.db.session(actor)
    try:
        plan = timed("validate against the library", lambda: excel_plan.plan_import(session, actor, parsed))
    finally:
        session.rollback()
        session.close()
    print(f"    {len(plan.creates)} to create, {len(plan.errors)} errors")

    result = timed("whole import job, creates (embedded)", lambda: run_job(rt, actor, source, "import.xlsx"))
    print(f"    result: {result}")

    exported = folder / "export.xlsx"

    def export() -> None:
        session = rt.db.session(actor)
        try:
            with exported.open("wb") as out:
                excel_export.write_export(session, actor, {"owner": "own", "status": "all"}, out)
        finally:
            session.close()

    timed("export owner=own", export)
    again = timed(
        "whole import job, same rows again (unchanged)", lambda: run_job(rt, actor, exported, "e.xlsx")
    )
    print(f"    result: {again}")

    changed = folder / "changed.xlsx"

    def change_every_standard_value() -> None:
        wb = load_workbook(exported)
        ws = wb.worksheets[0]
        column = [c.value for c in ws[1]].index("标准值") + 1
        kinds = [c.value for c in ws[1]].index("值类型") + 1
        for row in range(2, ws.max_row + 1):
            if ws.cell(row, kinds).value == "定量":
                ws.cell(row, column).value = str(int(ws.cell(row, column).value) + 1)
            else:
                ws.cell(row, column).value = "基本达成"
        buffer = io.BytesIO()
        wb.save(buffer)
        changed.write_bytes(buffer.getvalue())

    timed("edit every 标准值 (openpyxl, not timed below)", change_every_standard_value)
    updated = timed(
        "whole import job, every row changed (updates)", lambda: run_job(rt, actor, changed, "c.xlsx")
    )
    print(f"    result: {updated}")

    with rt.db.transaction(actor) as s:
        count = s.execute(
            select(func.count()).select_from(Indicator).where(Indicator.tenant_id == actor.tenant_id)
        ).scalar_one()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"  own indicators now: {count}; peak RSS of this process: {peak:.0f} MiB")
    rt.db.dispose()
    if not args.keep:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
