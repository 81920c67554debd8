"""Documents at the demo's scale (issue 17 target 6): the pilot report (试点报告) of a county with 2
projects through the whole lifecycle, Word + PDF, as the report job makes it; and the province's
专报 over the 27 participants of the running demo program, as its job makes it.

    .venv/bin/python benchmarks/documents.py                    # PostgreSQL jixiao_bench_docs (created)
    .venv/bin/python benchmarks/documents.py --fresh --runs 5
    .venv/bin/python benchmarks/documents.py --database-url sqlite:////tmp/docs.db

The data: the app's migrations and the demo province (`jixiao demo load`), then every participant
of the running demo program (5 cities, 22 counties) gets 2 projects carried through every stage
with the rows the services would have written (`benchmarks/generate/lifecycle.py`, reused as is)
and a few evidence rows per stage (metadata only: the report lists them, it never reads the
bytes). Done once: a later run finds the projects and reuses them.

Timed, in this process, on the runtime the tests build (jobs in-process, files in a local folder):

* pilot report — `reports.service.start_generation` as 兴庆区's bureau admin (xq.admin), then the
  job itself (`reports.jobs.generate`): read the stage data, write the DOCX and the PDF, store
  both, record the version. Its phases are timed through the job's progress calls.
* 专报 — `reports.briefing.generate` as the province admin (nx.admin) over every participant.

One warm-up run of each first (a worker pays its imports and font loading once: reported in the
note, not in the figures). Goals (no natural baseline): < 10 s and < 30 s. Not a test and not run
by `make test`.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select, text

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import ensure_database, prepare  # noqa: E402
from generate.lifecycle import Context, County, Ids, Project  # noqa: E402
from generate.names import KINDS  # noqa: E402
from generate.province import _advance_sequences, _context, _insert, _next_ids  # noqa: E402
from results import Result, emit, summary  # noqa: E402

from jixiao.platform.core.actor import Actor  # noqa: E402
from jixiao.platform.core.db import Base  # noqa: E402
from jixiao.platform.core.runtime import Runtime  # noqa: E402
from jixiao.services.programs.models import STAGES, Program, ProgramTenant  # noqa: E402
from jixiao.services.programs.service import DEMO_PROGRAM  # noqa: E402
from jixiao.services.projects.models import Project as ProjectRow  # noqa: E402
from jixiao.services.reports import briefing, jobs, service  # noqa: E402
from jixiao.tenants.models import Tenant, User  # noqa: E402
from jixiao.tenants.service import build_actor  # noqa: E402

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/jixiao_bench_docs"
COUNTY = "640104"  # 兴庆区: the demo county whose bureau admin generates its pilot report
COUNTY_ADMIN = "xq.admin"
PROVINCE_ADMIN = "nx.admin"
PILOT_GOAL_S = 10.0
BRIEFING_GOAL_S = 30.0
SYSTEM = "benchmark: documents"
# the demo users of a participant, when it has them (DEMO.md); the others act as generated names
DEMO_STAFF = {
    "640104": ("xq.editor", "xq.dept", "xq.admin"),
    "640105": ("xx.editor", "xx.dept", "xx.admin"),
}
# the evidence of a project at each stage (purpose, file name, size in KiB)
EVIDENCE = {
    "assessment": (("立项依据", "立项批复文件.pdf", 820), ("实施方案", "项目实施方案.docx", 146)),
    "targets": (("立项依据", "绩效目标测算依据.xlsx", 38), ("市场参考价格", "市场询价记录.pdf", 412)),
    "monitoring": (("监控佐证", "一季度监控佐证材料.pdf", 1630), ("预算执行佐证", "资金支付凭证.pdf", 2410)),
    "self_evaluation": (("自评报告", "绩效自评报告.docx", 212),),
    "evaluation": (("评价报告", "重点评价报告.pdf", 3120),),
    "result_application": (("整改材料", "整改情况报告.docx", 96),),
}


class Participant(County):
    """A participant of the demo program that already exists (a demo tenant with its own users),
    given projects by the generator's own rules instead of a generated county's."""

    def __init__(self, ctx: Context, ids: Ids, seed: int, index: int, tenant: Tenant) -> None:
        self.ctx, self.ids, self.code, self.name = ctx, ids, tenant.code, tenant.name
        self.rng = random.Random(seed * 1_000_003 + index)
        self.tenant_id = tenant.id
        self.editor, self.dept, self.admin = DEMO_STAFF.get(
            tenant.code, (f"d{tenant.code}.editor", f"d{tenant.code}.dept", f"d{tenant.code}.admin")
        )


def evidence_rows(participant: Participant, project_id: int, first_id: int) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    at = datetime(participant.ctx.budget_year, 3, 1, 10, tzinfo=UTC)
    for n, (stage, items) in enumerate(EVIDENCE.items()):
        for purpose, filename, kib in items:
            ident = first_id + len(rows)
            key = f"tenants/{participant.code}/projects/{project_id}/{stage}/bench-{ident}"
            rows.append(
                {"id": ident, "tenant_id": participant.tenant_id, "project_id": project_id, "stage": stage,
                 "purpose": purpose, "object_key": key, "filename": filename,
                 "content_type": "application/octet-stream", "size": kib * 1024 + ident % 997,
                 "sha256": hashlib.sha256(key.encode()).hexdigest(), "status": "current",
                 "supersedes_id": None, "version_no": 1, "uploaded_by": participant.editor,
                 "uploaded_at": at + timedelta(days=40 * n)}
            )  # fmt: skip
    return rows


def fill(rt: Runtime, seed: int) -> int:
    """Two projects through every stage for each participant of the running program that has
    none yet; returns how many participants were filled now (0: the data was there)."""
    with rt.db.transaction(system=SYSTEM) as s:
        program = s.execute(select(Program).where(Program.name == DEMO_PROGRAM)).scalar_one()
        tenants = list(
            s.execute(
                select(Tenant)
                .join(ProgramTenant, ProgramTenant.tenant_id == Tenant.id)
                .where(ProgramTenant.program_id == program.id)
                .order_by(Tenant.code)
            ).scalars()
        )
        busy = set(
            s.execute(select(ProjectRow.tenant_id).where(ProjectRow.program_id == program.id)).scalars()
        )
        todo = [t for t in tenants if t.id not in busy]
        if not todo:
            return 0
        ctx = _context(s, rt.settings.demo_password)
        ids = _next_ids(s)
        evidence_table = Base.metadata.tables["evidence"]
        next_evidence = (s.execute(select(func.max(evidence_table.c.id))).scalar() or 0) + 1
        evidence: list[dict[str, Any]] = []
        for index, tenant in enumerate(todo):
            participant = Participant(ctx, ids, seed, index, tenant)
            for kind in participant.rng.sample(KINDS, 2):
                project = Project(participant, kind, 6)
                project.build()
                evidence.extend(evidence_rows(participant, project.id, next_evidence + len(evidence)))
        rows = _insert(s, ctx.rows)
        s.execute(insert(evidence_table), evidence)
        _advance_sequences(s)
        if s.get_bind().dialect.name == "postgresql":
            s.execute(
                text(
                    "SELECT setval(pg_get_serial_sequence('evidence', 'id'), (SELECT max(id) FROM evidence))"
                )
            )
    print(f"gave {len(todo)} participants 2 projects each through every stage ({rows + len(evidence)} rows)")
    with rt.db.transaction(system=SYSTEM) as s:
        if s.get_bind().dialect.name == "postgresql":
            s.execute(text("ANALYZE"))
    return len(todo)


def actor_of(rt: Runtime, username: str) -> Actor:
    with rt.db.transaction(system=SYSTEM) as s:
        user = s.execute(select(User).where(User.username == username)).scalar_one()
        return build_actor(s, user)


@dataclass
class Phases:
    """Seconds between a job's progress calls, by the message that opened the phase."""

    marks: list[tuple[float, str]] = field(default_factory=list)

    def __call__(self, _percent: int, message: str = "") -> None:
        self.marks.append((time.perf_counter(), message))

    def spans(self, end: float) -> dict[str, float]:
        found: dict[str, float] = {}
        for (at, message), (after, _) in zip(self.marks, [*self.marks[1:], (end, "")], strict=True):
            label = message.split("（")[0].split("「")[0]
            found[label] = found.get(label, 0.0) + after - at
        return found


@dataclass
class Timed:
    seconds: list[float]  # wall clock of each run
    cpu: float  # CPU seconds of this process, median run (the job runs here: on a loaded machine
    # it says more than the wall clock)
    first: float  # the first warm-up's seconds (imports, fonts)
    phases: dict[str, float]  # the median run's phases


def timed(call: Callable[[Phases], Any], runs: int, warmup: int) -> Timed:
    first = 0.0
    for n in range(warmup):
        started = time.perf_counter()
        call(Phases())
        if n == 0:
            first = time.perf_counter() - started
    found: list[tuple[float, float, dict[str, float]]] = []
    for _ in range(runs):
        phases = Phases()
        started, used = time.perf_counter(), time.process_time()
        call(phases)
        end, cpu = time.perf_counter(), time.process_time() - used
        found.append((end - started, cpu, phases.spans(end)))
        print(
            f"    {end - started:6.2f} s (CPU {cpu:.2f} s)  "
            + "  ".join(f"{k} {v:.2f}" for k, v in phases.spans(end).items()),
            flush=True,
        )
    middle = sorted(found, key=lambda t: t[0])[len(found) // 2]
    return Timed([t for t, _, _ in found], middle[1], first, middle[2])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--instance", type=Path, default=Path(tempfile.gettempdir()) / "jixiao-bench-docs")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--fresh", action="store_true", help="drop the database (or file) first")
    args = parser.parse_args()
    url = args.database_url
    ensure_database(url, fresh=args.fresh)
    rt = prepare(url, args.instance)
    fill(rt, args.seed)
    county, province = actor_of(rt, COUNTY_ADMIN), actor_of(rt, PROVINCE_ADMIN)
    with rt.db.transaction(system=SYSTEM) as s:
        program_id = s.execute(select(Program.id).where(Program.name == DEMO_PROGRAM)).scalar_one()
        participants = s.execute(
            select(func.count()).select_from(ProgramTenant).where(ProgramTenant.program_id == program_id)
        ).scalar_one()
        projects = s.execute(
            select(func.count())
            .select_from(ProjectRow)
            .join(Tenant, Tenant.id == ProjectRow.tenant_id)
            .where(ProjectRow.program_id == program_id, Tenant.code == COUNTY)
        ).scalar_one()
    assert len(STAGES) == 6

    def pilot(progress: Phases) -> None:
        with rt.db.transaction(county) as s:  # what the API does before it enqueues the job
            report, _job = service.start_generation(s, county, program_id)
            report_id = report.id
        jobs.generate(county, report_id, progress=progress)

    def brief(progress: Phases) -> None:
        briefing.set_progress = progress  # the job's progress calls, timed
        with rt.db.transaction(province) as s:
            briefing.check(s, province, program_id)
        briefing.generate(province, program_id)

    backend = url.split("://")[0].split("+")[0]
    print(f"pilot report of {COUNTY} ({projects} projects), {backend}:")
    pilot_run = timed(pilot, args.runs, args.warmup)
    print(f"专报 over {participants} participants, {backend}:")
    brief_run = timed(brief, args.runs, args.warmup)
    pilot_median, pilot_p95 = summary(pilot_run.seconds)
    brief_median, brief_p95 = summary(brief_run.seconds)

    load = f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"

    def said(run: Timed) -> str:
        phases = ", ".join(f"{k} {v:.1f} s" for k, v in run.phases.items() if v >= 0.05)
        return (
            f"{len(run.seconds)} runs, {load}; CPU {run.cpu:.1f} s; first in the process "
            f"{run.first:.1f} s; {phases}"
        )

    rows = [
        Result(
            work=f"pilot report DOCX + PDF, a county with {projects} full projects (job, {backend})",
            unit="s",
            median=pilot_median,
            p95=pilot_p95,
            goal=f"< {PILOT_GOAL_S:.0f} s",
            met=pilot_median < PILOT_GOAL_S,
            note=said(pilot_run),
        ),
        Result(
            work=f"专报 DOCX + PDF over {participants} participants × 2 projects (job, {backend})",
            unit="s",
            median=brief_median,
            p95=brief_p95,
            goal=f"< {BRIEFING_GOAL_S:.0f} s",
            met=brief_median < BRIEFING_GOAL_S,
            note=said(brief_run),
        ),
    ]
    emit(rows, "documents")


if __name__ == "__main__":
    main()
