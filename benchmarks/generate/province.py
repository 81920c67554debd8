"""A province at scale in any database `DATABASE_URL` names: the app's migrations, the demo province
(`jixiao demo load`'s `load_all`), then N generated counties under the five demo cities, each with
two projects of the running demo program (`lifecycle.County`). Bulk Core inserts, a batch of
counties per transaction, in the explicit system session of a benchmark; topping up is
incremental (3,000 after 30 generates the 2,970 others, the same as 3,000 at once)."""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, func, insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

import jixiao.platform.models  # noqa: F401 - complete the mappers
from jixiao.platform.core import migrate
from jixiao.platform.core.clock import today_in
from jixiao.platform.core.config import Settings
from jixiao.platform.core.db import Base, Database, utcnow
from jixiao.platform.core.runtime import Runtime, install
from jixiao.platform.demo import load_all
from jixiao.services.indicators.models import FrameworkNode
from jixiao.services.indicators.models import Indicator as LibraryIndicator
from jixiao.services.programs.models import Program
from jixiao.services.programs.service import DEMO_PROGRAM
from jixiao.services.projects.models import Project
from jixiao.services.spotchecks.models import SpotCheck
from jixiao.services.targets.models import TargetSet
from jixiao.tenants.divisions import DEMO_EVALUATOR_ORG, NINGXIA
from jixiao.tenants.models import EvaluatorOrg, Tenant
from jixiao.tenants.passwords import hash_password

from .lifecycle import SPOT_CHECK_SHARE, Context, County, Ids, Indicator
from .names import county_names

# parents before children (the foreign keys)
TABLES = (
    "tenants", "program_tenants", "users", "user_roles", "projects", "project_stages", "assessments",
    "target_sets", "target_lines", "target_reviews", "spot_check_items", "monitoring_rounds", "monitoring_lines",
    "corrections", "correction_entries", "self_evaluations", "self_evaluation_lines", "key_evaluations",
    "key_evaluation_items", "key_evaluation_decisions", "result_applications", "rectification_notices",
    "rectification_items", "rectification_entries", "pilot_reports", "pilot_report_versions",
    "pilot_report_reviews",
)  # fmt: skip
FIRST_CODE = 1000  # generated county codes: 64{city 1–5}{000–999}, clear of the real 6401xx–6405xx
PER_CITY = 1000
MAX_COUNTIES = 5 * PER_CITY
SYSTEM = "benchmark: province-scale generator"
SEED_OF_CHECK = 20260501  # recorded on the generated spot check (its items are the generator's draw)


def county_code(index: int) -> str:
    """Round-robin over the five cities: 641000, 642000 … 645000, 641001 …"""
    city, n = index % 5, index // 5
    return f"64{FIRST_CODE * (city + 1) + n:04d}"


def ensure_database(url: str, fresh: bool = False) -> None:
    """PostgreSQL: create the database if it is missing (dropped first with `fresh`). SQLite: the
    folder exists; `fresh` deletes the file."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = Path(parsed.database or "")
        path.parent.mkdir(parents=True, exist_ok=True)
        if fresh:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    name = parsed.database
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            if fresh:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first()
            if exists is None:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()


def settings_for(url: str, instance: Path) -> Settings:
    """As the tests build them (tests/conftest.py): no Redis, no S3 — jobs in-process, files local."""
    instance.mkdir(parents=True, exist_ok=True)
    return Settings.from_env(
        instance_dir=instance, database_url=url, redis_url="", s3_endpoint="", secret_key="benchmark"
    )


def prepare(url: str, instance: Path) -> Runtime:
    """Migrate to head, install the runtime and load the demo as `jixiao demo load` does (idempotent:
    a second run loads nothing; the running program's dates follow the day of the first load)."""
    settings = settings_for(url, instance)
    started = time.perf_counter()
    migrate.upgrade(url)
    rt = install(Runtime.build(settings))
    with rt.db.transaction(system="benchmark demo load") as s:
        created = load_all(s, settings.demo_password, today_in(settings.timezone))
    if created.get("tenants"):
        print(f"migrated and loaded the demo province in {time.perf_counter() - started:.1f} s")
    return rt


@dataclass
class Generated:
    before: int
    after: int
    rows: int
    seconds: float


def generated_count(session: Session) -> int:
    return session.execute(
        select(func.count()).select_from(Tenant).where(Tenant.level == "county", Tenant.code >= "641000")
    ).scalar_one()


def _context(session: Session, password: str) -> Context:
    province = session.execute(select(Tenant).where(Tenant.code == "640000")).scalar_one()
    program = session.execute(
        select(Program).where(Program.tenant_id == province.id, Program.name == DEMO_PROGRAM)
    ).scalar_one()
    cities = session.execute(
        select(Tenant.id, Tenant.path).where(Tenant.level == "city").order_by(Tenant.code)
    ).all()
    library: dict[str, list[Indicator]] = defaultdict(list)
    satisfaction = []
    for row, level2 in session.execute(
        select(LibraryIndicator, FrameworkNode.name)
        .join(FrameworkNode, FrameworkNode.id == LibraryIndicator.level2_id)
        .where(LibraryIndicator.tenant_id == province.id, LibraryIndicator.shared.is_(True))
        .order_by(LibraryIndicator.id)
    ).all():
        found = Indicator(row.id, row.name, level2, row.value_type, row.direction, row.unit,
                          row.standard_value, row.value_basis)  # fmt: skip
        library[row.common_class or row.category or "其他"].append(found)
        if level2 == "服务对象满意度":
            satisfaction.append(found)
    org = session.execute(select(EvaluatorOrg.id).where(EvaluatorOrg.name == DEMO_EVALUATOR_ORG)).scalar()
    return Context(
        spot_check_id=_spot_check(session, program.id, province.id),
        program_id=program.id,
        start=program.start,
        budget_year=program.start.year + 1,
        cities=[(ident, path) for ident, path in cities],
        library=dict(library),
        satisfaction=satisfaction,
        evaluator_org_id=org,
        password_hash=hash_password(password),
        province_id=province.id,
    )


def _spot_check(session: Session, program_id: int, province_id: int) -> int:
    """The province's spot check of the program (round 1), which generated items join: made once,
    its population brought up to date after each run (`_count_spot_check`)."""
    found = session.execute(
        select(SpotCheck.id).where(
            SpotCheck.program_id == program_id, SpotCheck.tenant_id == province_id, SpotCheck.round == 1
        )
    ).scalar()
    if found is not None:
        return found
    check = SpotCheck(
        tenant_id=province_id, program_id=program_id, round=1, share=Decimal(str(SPOT_CHECK_SHARE)),
        count=None, seed=SEED_OF_CHECK, population=0, drawn_by="nx.admin", drawn_at=utcnow(),
    )  # fmt: skip
    session.add(check)
    session.flush()
    return check.id


def _count_spot_check(session: Session, check_id: int) -> None:
    """The check's population (approved target sets of the program) after the generated counties."""
    check = session.get(SpotCheck, check_id)
    assert check is not None
    check.population = session.execute(
        select(func.count())
        .select_from(TargetSet)
        .join(Project, Project.id == TargetSet.project_id)
        .where(Project.program_id == check.program_id, TargetSet.status == "approved")
    ).scalar_one()


def _next_ids(session: Session) -> Ids:
    found = {}
    for name in TABLES:
        table = Base.metadata.tables[name]
        found[name] = (session.execute(select(func.max(table.c.id))).scalar() or 0) + 1
    return Ids(found)


def _insert(session: Session, rows: dict[str, list[dict[str, Any]]]) -> int:
    count = 0
    for name in TABLES:
        batch = rows.get(name)
        if batch:
            session.execute(insert(Base.metadata.tables[name]), batch)
            count += len(batch)
    return count


def _advance_sequences(session: Session) -> None:
    """Explicit ids bypass PostgreSQL's sequences: move them past the rows written."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for name in TABLES:
        session.execute(
            text(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), (SELECT max(id) FROM {name}))")
        )


def generate(db: Database, counties: int, *, seed: int = 2026, batch: int = 100, password: str) -> Generated:
    """Top the generated counties up to `counties` (each with 2 projects); prints progress."""
    if counties > MAX_COUNTIES:
        raise ValueError(f"at most {MAX_COUNTIES} generated counties")
    with db.transaction(system=SYSTEM) as s:
        before = generated_count(s)
        ctx = _context(s, password)
    if counties <= before:
        analyze(db)  # (cheap; a database generated before may lack them)
        return Generated(before, before, 0, 0.0)
    demo_names = {name for _, name, _, _ in NINGXIA}
    names = [n for n in county_names(counties + len(demo_names), seed) if n not in demo_names][:counties]
    started = time.perf_counter()
    total = 0
    for first in range(before, counties, batch):
        with db.transaction(system=SYSTEM) as s:
            ids = _next_ids(s)
            ctx.rows.clear()
            for index in range(first, min(first + batch, counties)):
                County(ctx, ids, seed, index, county_code(index), names[index]).build()
            total += _insert(s, ctx.rows)
            _advance_sequences(s)
        done = min(first + batch, counties)
        print(
            f"  generated {done:5}/{counties} counties ({2 * (done - before):5} projects, {total:7} rows) "
            f"in {time.perf_counter() - started:6.1f} s",
            flush=True,
        )
    with db.transaction(system=SYSTEM) as s:
        _count_spot_check(s, ctx.spot_check_id)
    analyze(db)
    return Generated(before, counties, total, time.perf_counter() - started)


def analyze(db: Database) -> None:
    """PostgreSQL: fresh statistics after a bulk load (as the tables' owner — the app's role owns no
    table, and ANALYZE as it skips them with a warning; autovacuum may be off, as on CI's server).
    Without them the planner takes each table for a few rows and picks nested loops: the dashboard
    took seconds."""
    url = db.engine.url
    if url.get_backend_name() != "postgresql":
        return
    owner = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with owner.connect() as conn:
            conn.execute(text("ANALYZE"))
    finally:
        owner.dispose()
