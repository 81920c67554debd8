"""DEMO.md's finished program of last year (试点示范): 兴庆区 and 西夏区 each with one project taken
through every stage by the demo users, through the services — so that every audit event and
notification is real and a newcomer finds real content on the first visit (the dashboard, the
comparison, the public page, a pilot report, a case).

Idempotent like the rest of the demo: a program of the province whose name ends in
`预算绩效一体化管理试点示范` means it was loaded (whatever year the first load named it after).
Everything runs inside the loader's transaction (`joined.py`): it commits with the rest of
`jixiao demo load`, or not at all."""

from __future__ import annotations

import logging
import time
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from jixiao.services.programs import service as programs
from jixiao.services.programs.models import Program
from jixiao.services.programs.schemas import ProgramCreateSchema
from jixiao.tenants.divisions import DEMO_USERS
from jixiao.tenants.models import Tenant

from . import closing, lifecycle
from .actors import Cast, loaded
from .data import SHOWCASES, XINGQING, program_name
from .joined import joined_runtime, runtime_for

log = logging.getLogger(__name__)

SUFFIX = "预算绩效一体化管理试点示范"


def _exists(session: Session, province_id: int) -> bool:
    found = session.execute(
        select(Program.id)
        .where(Program.tenant_id == province_id, Program.name.endswith(SUFFIX))
        .execution_options(all_tenants=True)
    ).first()
    return found is not None


def _create_program(cast: Cast, year: int) -> int:
    """The program of last year: all of it in that year, the stage deadlines in order within it."""
    deadlines = {
        "assessment": date(year, 1, 31),
        "targets": date(year, 2, 28),
        "monitoring": date(year, 9, 30),
        "self_evaluation": date(year, 11, 15),
        "evaluation": date(year, 11, 30),
        "result_application": date(year, 12, 31),
        "pilot_report": date(year, 12, 31),
    }
    data = {
        "name": program_name(year),
        "start": date(year, 1, 1).isoformat(),
        "end": date(year, 12, 31).isoformat(),
        "tenant_codes": [show.tenant for show in SHOWCASES],
        "max_projects_per_tenant": 2,
        "deadlines": {stage: day.isoformat() for stage, day in deadlines.items()},
    }
    with cast.acting("nx.admin") as (s, actor):
        return programs.create_program(s, actor, loaded(ProgramCreateSchema, data)).id


def load(session: Session, today: date | None = None) -> dict[str, int]:
    """Load the finished program once; `today` is the day of the first load (the program is of the
    year before). Returns {"showcase_programs": 1} when it was loaded now, else 0."""
    province = session.execute(
        select(Tenant.id).where(Tenant.level == "province").order_by(Tenant.id)
    ).scalar()
    if province is None or _exists(session, province):
        return {"showcase_programs": 0}
    if runtime_for(session.connection().engine.url.render_as_string(hide_password=False)) is None:
        log.warning("demo showcase skipped: no runtime (object store) installed for this database")
        return {"showcase_programs": 0}
    first_load = today or date.today()
    year = first_load.year - 1
    # the evaluator's grant: 90 days from the first load, at most a year past the program's end
    grant_until = min(first_load + timedelta(days=90), date(year + 1, 12, 31))
    started = time.monotonic()
    session.flush()
    with joined_runtime(session) as db:
        cast = Cast(db)
        program_id = _create_program(cast, year)
        project_ids = {}
        for show in SHOWCASES:
            pid = lifecycle.create_project(cast, show, program_id, year)
            lifecycle.assess(cast, show, pid)
            lines = lifecycle.set_targets(cast, show, pid)
            lifecycle.monitor(cast, show, pid, lines, year)
            lifecycle.self_evaluate(cast, show, pid, lines)
            closing.key_evaluate(cast, show, pid, grant_until)
            closing.apply_results(cast, show, pid, year)
            project_ids[show.tenant] = pid
        reports = {show.tenant: closing.pilot_report(cast, show, program_id) for show in SHOWCASES}
        closing.accept_report(cast, reports[XINGQING.tenant], Decimal("0.9"))
        closing.publish_case(cast, XINGQING, project_ids[XINGQING.tenant])
        closing.read_last_years_messages(cast, [name for name, *_ in DEMO_USERS] + [closing.EVALUATOR])
    log.info("demo showcase loaded in %.1f s", time.monotonic() - started)
    return {"showcase_programs": 1}
