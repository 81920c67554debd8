"""The work queue and the reminders at province scale: every county with P projects (default 10)
taken through the lifecycle by the services, then timed reads.

    .venv/bin/python benchmarks/work_queue.py                           # SQLite in a temp folder
    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench_queue \\
        .venv/bin/python benchmarks/work_queue.py --projects 20         # an empty PostgreSQL database

Set-up (the demo province, a program with every county, in each county an editor, a department
reviewer and a bureau admin): per project the assessment is submitted and decided, the targets
saved and submitted; every other one passes 初审, so both 初审 and 复核 items exist; every fifth is
returned. Then: a reviewer's and an admin's 待办 (`tasks_for`, as GET /me/tasks runs it), an editor's
已办, the unread count of the header, and `remind` over every tenant (first run writes, second run
writes nothing). Prints medians. Not a test and not run by `make test`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select

import jixiao.platform.models  # noqa: F401
from jixiao.platform.core import migrate
from jixiao.platform.core.actor import Actor
from jixiao.platform.core.config import Settings
from jixiao.platform.core.runtime import Runtime, install
from jixiao.platform.demo import load_all
from jixiao.services.assessment import service as assessment
from jixiao.services.notifications import reminders
from jixiao.services.notifications import service as notifications
from jixiao.services.programs import service as programs
from jixiao.services.projects import service as projects
from jixiao.services.targets import chain
from jixiao.services.targets import service as targets
from jixiao.services.tasks import service as tasks
from jixiao.tenants import service as tenants
from jixiao.tenants import users
from jixiao.tenants.models import Tenant

PASSWORD = "Bench@2026ok"
CRITERIA = {
    key: {"score": "85", "opinion": "符合要求"}
    for key in (
        "necessity",
        "economy",
        "target_reasonableness",
        "plan_effectiveness",
        "funding_compliance",
        "fiscal_affordability",
    )
}
LINES = [
    {"name": "改造小区数量", "level2": "数量", "value_type": "quantitative", "direction": ">=",
     "target_value": "12", "unit": "个", "weight": "30", "value_basis": "计划标准"},
    {"name": "项目总成本", "level2": "经济成本", "value_type": "quantitative", "direction": "<=",
     "target_value": "1250000", "unit": "元", "weight": "20", "value_basis": "预算支出标准"},
    {"name": "受益居民户数", "level2": "社会效益", "value_type": "quantitative", "direction": ">=",
     "target_value": "3000", "unit": "户", "weight": "30", "value_basis": "计划标准"},
    {"name": "居民满意度", "level2": "服务对象满意度", "value_type": "quantitative", "direction": ">=",
     "target_value": "90", "unit": "%", "weight": "20", "value_basis": "历史标准"},
]  # fmt: skip


def median_ms(fn: Callable[[], Any], runs: int = 15) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--projects", type=int, default=10, help="projects per county")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="jixiao-bench-queue-"))
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{folder / 'bench.db'}"
    settings = Settings.from_env(
        instance_dir=folder, database_url=url, redis_url="", s3_endpoint="", secret_key="benchmark"
    )
    migrate.upgrade(url)
    rt = install(Runtime.build(settings))
    with rt.db.transaction(system="benchmark demo load") as s:
        load_all(s, "Demo@2026")

    def actor(username: str) -> Actor:
        with rt.db.transaction(system="benchmark actor") as s:
            user = tenants.find_login_user(s, username)
            assert user is not None, username
            return tenants.build_actor(s, user)

    province = actor("nx.admin")
    with rt.db.transaction(system="benchmark counties") as s:
        counties = [t.code for t in s.execute(select(Tenant).where(Tenant.level == "county")).scalars()]
    started = time.perf_counter()
    with rt.db.transaction(province) as s:
        program = programs.create_program(
            s,
            province,
            {
                "name": "工作队列基准试点",
                "start": date(2026, 1, 1),
                "end": date(2027, 12, 31),
                "tenant_codes": counties,
                "max_projects_per_tenant": args.projects,
                "deadlines": {"assessment": date(2026, 12, 20), "targets": date(2026, 12, 31)},
            },
        )
        program_id = program.id
    people: dict[str, dict[str, Actor]] = {}
    for code in counties:
        with rt.db.transaction(province) as s:
            for role, suffix in (
                ("project_editor", "editor"),
                ("dept_reviewer", "dept"),
                ("bureau_admin", "admin"),
            ):
                users.create_user(
                    s,
                    province,
                    code,
                    username=f"b{code}.{suffix}",
                    display_name=suffix,
                    password=PASSWORD,
                    roles=[role],
                )
        people[code] = {suffix: actor(f"b{code}.{suffix}") for suffix in ("editor", "dept", "admin")}

    total = 0
    for code in counties:
        who = people[code]
        for n in range(args.projects):
            with rt.db.transaction(who["editor"]) as s:
                project = projects.create_project(
                    s,
                    who["editor"],
                    {
                        "program_id": program_id,
                        "name": f"基准项目{code}-{n}",
                        "department": "住房和城乡建设局",
                        "implementing_unit": "城市建设服务中心",
                        "budget_amount": "1250000.00",
                        "fund_source": "一般公共预算",
                        "project_class": "工程基建",
                        "years": [2026],
                        "serves_public": True,
                    },
                )
                pid = project.id
                assessment.save_draft(s, who["editor"], pid, {"criteria": CRITERIA, "summary": "建议支持"})
                assessment.submit(s, who["editor"], pid)
            with rt.db.transaction(who["admin"]) as s:
                assessment.decide(s, who["admin"], pid, "support", "同意")
            with rt.db.transaction(who["editor"]) as s:
                targets.save_draft(s, who["editor"], pid, {"overall_goal": "完成改造", "indicators": LINES})
                targets.submit(s, who["editor"], pid)
            if n % 2:
                with rt.db.transaction(who["dept"]) as s:
                    chain.review(s, who["dept"], pid, "approve", {})
            if n % 5 == 4:
                with rt.db.transaction(who["admin" if n % 2 else "dept"]) as s:
                    chain.review(
                        s, who["admin" if n % 2 else "dept"], pid, "return", {"feasibility": "请补充依据"}
                    )
            total += 1
    print(
        f"work queue benchmark: {len(counties)} counties × {args.projects} projects = {total}, "
        f"set up in {time.perf_counter() - started:.0f} s ({url.split(':')[0]})"
    )

    xq = people["640104"]
    for label, who in (
        ("初审 reviewer", xq["dept"]),
        ("bureau admin (复核, 待决策)", xq["admin"]),
        ("editor", xq["editor"]),
    ):
        session = rt.db.session(who)
        try:
            ms, found = median_ms(lambda: tasks.tasks_for(session, who, today=date(2026, 12, 1)))  # noqa: B023
            print(f"  待办 of the {label:28} {len(found):4} items  median {ms:6.1f} ms")
        finally:
            session.close()
    session = rt.db.session(xq["editor"])
    try:
        ms, page = median_ms(lambda: tasks.done_for(session, xq["editor"], page=1, page_size=50))
        print(f"  已办 of the editor, page 1          {page.total:4} events median {ms:6.1f} ms")
        ms, count = median_ms(lambda: notifications.unread_count(session, xq["editor"]))
        print(f"  unread count (every page's header)  {count:4}       median {ms:6.1f} ms")
    finally:
        session.close()
    for run in ("first", "second"):
        start = time.perf_counter()
        with rt.db.transaction(system="benchmark remind") as s:
            counts = reminders.remind(s, date(2026, 12, 29))
        print(
            f"  jixiao remind, {run} run: {counts['reminders']:5} reminders written in "
            f"{time.perf_counter() - start:6.2f} s"
        )


if __name__ == "__main__":
    main()
