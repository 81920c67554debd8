"""Step 3 of an Excel import, and the whole import: `Writer`, `apply_plan` and `run_import`.

`Writer` writes a `Plan` inside the caller's single transaction as it grows, a batch of rows a
statement (`bulk`): updates — each only if still at the version the plan read (the ORM's optimistic
lock, kept: a concurrent edit fails the job, and RQ's retry judges the file again) — and creates
(codes numbered on from the highest per kind), each indicator with its version snapshot (历史版本)
exactly as a single create or edit writes it (`service.version_row`), and one audit event per
indicator (`indicator.create` / `indicator.update`, the same `before`/`after` as a single write's),
which `run_import` chains right before the commit (`audit.record_many`) with the summary event
`indicator.import`. `apply_plan` writes a whole plan.

`run_import` is the job's body (`jobs.import_indicators`): it reads the file (`parse.Reader`,
in a thread of its own), judges each batch read (`plan.Judge`) and writes it while no error
has been seen — the database works while the next rows are read — and commits only when every row
of the file is fine: all or nothing (with any error, everything is rolled back and `failure` is
its result). At 12,121 rows on PostgreSQL the import takes less than twice a bare read of the file
(issue 17; `benchmarks/indicator_import.py`). No Flask.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from jixiao.platform.core import audit
from jixiao.platform.core.actor import Actor
from jixiao.platform.core.audit import AuditEvent, record
from jixiao.platform.core.authz import authorize
from jixiao.platform.core.db import Database, utcnow
from jixiao.platform.core.errors import Forbidden, StaleVersion
from jixiao.tenants.models import Tenant

from .. import bulk
from ..models import Indicator, IndicatorVersion
from ..pinyin import name_pinyin_keys
from ..service import EDITABLE, KIND_CODES, last_sequence, level2_nodes, lock_owner
from . import parse
from .layout import MAX_ROWS
from .parse import Progress, Row
from .plan import Judge, Plan, Stored

MAX_ERRORS = 1000
IMPORT_EVENT = "indicator.import"
AUDITED = (
    "code", "name", "level2", "category", "common_class", "kind", "scope", "value_type", "direction",
    "unit", "standard_value", "value_basis", "status", "version",
)  # fmt: skip  # Indicator.to_audit(), in its order
# what an update writes of an indicator (level2 as its id, the pinyin keys with the name)
UPDATED = [*(k for k in EDITABLE if k != "level2"), "level2_id", "name_pinyin", "name_initials", "updated_at"]


def _next_sequences(session: Session, owner: Tenant) -> dict[str, int]:
    """The next free sequence number per kind, read once (the owner is locked: `lock_owner`)."""
    return {kind: last_sequence(session, f"{owner.code}-{short}-") + 1 for kind, short in KIND_CODES.items()}


def _fields(data: dict[str, Any]) -> dict[str, Any]:
    """`service.fields_of` of the indicator these checked fields make (level2 by name)."""
    out = {k: data.get(k) for k in EDITABLE}
    out["historical_values"] = dict(data.get("historical_values") or {})
    return out


def _audited(fields: dict[str, Any], code: str, status: str, version: int) -> dict[str, Any]:
    """`Indicator.to_audit()` of the indicator with these fields."""
    values = {**fields, "code": code, "status": status, "version": version}
    return {k: values[k] for k in AUDITED}


@dataclass
class Applied:
    created: int
    updated: int
    unchanged: int
    events: list[audit.Entry] = field(default_factory=list)  # one per indicator written

    def counts(self) -> dict[str, int]:
        return {"created": self.created, "updated": self.updated, "unchanged": self.unchanged}


class Writer:
    """Writes a plan's updates and creates as the plan grows, a batch (`bulk.BATCH`) a statement,
    as long as the plan has no error (an import with errors is rolled back whole anyway)."""

    def __init__(self, session: Session, actor: Actor, plan: Plan) -> None:
        if plan.owner.id != actor.tenant_id:
            raise Forbidden("只能导入本单位的指标库")
        self.session, self.actor, self.plan = session, actor, plan
        self.nodes: dict[str, Any] = {}
        self.sequences: dict[str, int] | None = None  # numbered on from the highest, once
        self.updated = self.created = 0  # how far into plan.updates / plan.creates
        self.events: list[audit.Entry] = []

    @property
    def written(self) -> int:
        return self.updated + self.created

    def write(self, *, final: bool, progress: Callable[[], None] | None = None) -> None:
        """Write every full batch of what the plan holds beyond what was written (`final`: all of
        it); nothing once the plan has an error."""
        plan, least = self.plan, 1 if final else bulk.BATCH
        if plan.errors:
            return
        if not self.nodes and (plan.updates or plan.creates):
            self.nodes = level2_nodes(self.session)
        while len(plan.updates) - self.updated >= least:
            changes = plan.updates[self.updated : self.updated + bulk.BATCH]
            _update(self.session, self.actor, plan.owner, changes, self.nodes, self.events)
            self.updated += len(changes)
            if progress is not None:
                progress()
        while len(plan.creates) - self.created >= least:
            if self.sequences is None:
                self.sequences = _next_sequences(self.session, plan.owner)
            rows = plan.creates[self.created : self.created + bulk.BATCH]
            _create(self.session, self.actor, plan.owner, rows, self.nodes, self.sequences, self.events)
            self.created += len(rows)
            if progress is not None:
                progress()

    def applied(self) -> Applied:
        return Applied(self.created, self.updated, self.plan.unchanged, self.events)


def apply_plan(session: Session, actor: Actor, plan: Plan, *, progress: Progress | None = None) -> Applied:
    """Write a whole plan without errors inside the caller's transaction: updates, then creates, a
    batch a statement, each indicator with its version snapshot; the audit events to record."""
    if plan.errors:
        raise ValueError("a plan with errors is never applied")
    writer = Writer(session, actor, plan)
    total = max(len(plan.updates) + len(plan.creates), 1)

    def report() -> None:
        if progress is not None:
            progress(60 + int(39 * writer.written / total), f"写入 {writer.written}/{total}")

    report()
    writer.write(final=True, progress=report)
    return writer.applied()


def _update(
    session: Session,
    actor: Actor,
    owner: Tenant,
    chunk: Sequence[tuple[Row, Stored, dict[str, Any]]],
    nodes: dict[str, Any],
    events: list[audit.Entry],
) -> None:
    now = utcnow()
    rows, versions = [], []
    for _row, indicator, merged in chunk:
        fields = _fields(merged)
        name = fields["name"]
        if name != indicator.name or not indicator.name_pinyin:
            full, initials = name_pinyin_keys(name)
        else:
            full, initials = indicator.name_pinyin, indicator.name_initials
        values = {k: fields[k] for k in EDITABLE if k != "level2"}
        rows.append(
            {
                "id": indicator.id,
                "version": indicator.version,
                **values,
                "level2_id": nodes[fields["level2"]].id,
                "name_pinyin": full,
                "name_initials": initials,
                "updated_at": now,
            }
        )
        version = indicator.version + 1
        versions.append(
            {
                "tenant_id": indicator.tenant_id,
                "indicator_id": indicator.id,
                "version": version,
                "shared": indicator.shared,
                "action": "update",
                "data": {
                    **fields,
                    "code": indicator.code,
                    "status": indicator.status,
                    "retired_reason": indicator.retired_reason,
                },
                "changed_by": actor.username,
                "changed_at": now,
            }
        )
        events.append(
            audit.Entry(
                "indicator.update",
                "indicator",
                indicator.id,
                before=indicator.to_audit(),
                after=_audited(fields, indicator.code, indicator.status, version),
            )
        )
    changed = bulk.update_versioned(session, Indicator, rows, UPDATED, owner.id)
    if changed != len(rows):
        # someone edited one of these indicators since the plan read it: the job fails, RQ retries
        raise StaleVersion("导入期间有指标被他人修改，请重新导入")
    bulk.insert_rows(session, IndicatorVersion, versions)


def _create(
    session: Session,
    actor: Actor,
    owner: Tenant,
    chunk: Sequence[Row],
    nodes: dict[str, Any],
    sequences: dict[str, int],
    events: list[audit.Entry],
) -> None:
    shared = owner.level == "province"
    now = utcnow()
    rows, made = [], []
    for row in chunk:
        data = row.data
        kind = data["kind"]
        code = f"{owner.code}-{KIND_CODES[kind]}-{sequences[kind]:04d}"
        sequences[kind] += 1
        fields = _fields(data)
        full, initials = name_pinyin_keys(fields["name"])
        rows.append(
            {
                "tenant_id": owner.id,
                "code": code,
                "name_pinyin": full,
                "name_initials": initials,
                "shared": shared,
                "level2_id": nodes[fields["level2"]].id,
                "derived_from_id": None,
                "origin_id": None,
                **{k: fields[k] for k in EDITABLE if k != "level2"},
                "status": "active",
                "version": 1,
                "created_at": now,
                "updated_at": now,
            }
        )
        made.append((code, fields))
    ids = dict(
        (code, id_)
        for id_, code in bulk.insert_rows(
            session, Indicator, bulk.with_defaults(Indicator, rows), returning=("id", "code")
        )
    )
    versions = []
    for code, fields in made:
        versions.append(
            {
                "tenant_id": owner.id,
                "indicator_id": ids[code],
                "version": 1,
                "shared": shared,
                "action": "create",
                "data": {**fields, "code": code, "status": "active", "retired_reason": None},
                "changed_by": actor.username,
                "changed_at": now,
            }
        )
        events.append(
            audit.Entry(
                "indicator.create",
                "indicator",
                ids[code],
                after={
                    **_audited(fields, code, "active", 1),
                    "derived_from": None,
                    "origin": None,
                    "via": "excel",
                },
                tenant_id=owner.id,
            )
        )
    bulk.insert_rows(session, IndicatorVersion, versions)


def failure(errors: list[dict[str, Any]], rows: int) -> dict[str, Any]:
    return {"ok": False, "errors": errors[:MAX_ERRORS], "error_count": len(errors), "rows": rows}


def committed(session: Session, reference: str | None) -> dict[str, Any] | None:
    """The result an earlier attempt of the import `reference` (its RQ job id) committed, or None.

    An import commits its rows and its `indicator.import` event (object id = the reference) in one
    transaction, so the event is the record that the job already took effect: RQ may run a job
    again after it committed (the worker was killed, or lost Redis, before it could mark the job
    finished; `StartedJobRegistry.cleanup` then retries it), and that attempt must answer the first
    one's result instead of importing twice."""
    if not reference:
        return None
    after = session.execute(
        select(AuditEvent.after)
        .where(
            AuditEvent.action == IMPORT_EVENT,
            AuditEvent.object_type == "indicator_import",
            AuditEvent.object_id == str(reference),
        )
        .order_by(AuditEvent.id)
        .limit(1)
    ).scalar_one_or_none()
    if not isinstance(after, dict):
        return None
    counts = {name: int(after.get(name) or 0) for name in ("created", "updated", "unchanged")}
    return {"ok": True, **counts, "rows": int(after.get("rows") or 0)}


def run_import(
    db: Database,
    actor: Actor,
    path: Path | str,
    *,
    filename: str = "",
    reference: str | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Read, judge and write, in one transaction committed only when every row is fine.

    The result: `{"ok": false, "errors": [...first 1000...], "error_count": N, "rows": M}` or
    `{"ok": true, "created": a, "updated": b, "unchanged": c, "rows": M}`.

    Idempotent per `reference` (the RQ job id): an attempt of an import that already committed
    writes nothing and answers the committed result (`committed`), checked before the parse and
    again under the library's lock, where a concurrent attempt's commit is visible."""
    authorize(actor, "indicators.write")
    if reference:
        with db.transaction(actor) as session:
            earlier = committed(session, reference)
        if earlier is not None:
            return earlier
    # the file is read in a thread of its own while this one judges and writes what was read
    with parse.Reader(path) as reader, db.transaction(actor) as session:
        # imports into one library take turns from here on (so do single creates: `next_code`):
        # a concurrent import's rows are judged only once it committed — matched by name instead
        # of created twice, numbered after its codes instead of colliding with them
        owner = session.get(Tenant, actor.tenant_id) if actor.tenant_id is not None else None
        if owner is not None:
            lock_owner(session, owner)
        earlier = committed(session, reference)
        if earlier is not None:
            return earlier
        judge = Judge(session, actor)
        writer = Writer(session, actor, judge.plan)
        for batch in reader:
            judge.judge(batch.rows, batch.years)
            if not batch.estimate or batch.estimate <= MAX_ROWS + 1:  # else it may be refused whole
                writer.write(final=False)
            if progress is not None:
                share = batch.read / batch.estimate if batch.estimate > batch.read else 0.99
                errors = len(judge.plan.errors)
                progress(
                    2 + int(93 * share),
                    f"已读取 {batch.read} 行"
                    + (f"，发现 {errors} 个错误" if errors else f"，写入 {writer.written} 行"),
                )
        parsed = reader.result
        assert parsed is not None
        if parsed.errors:
            session.rollback()
            return failure(parsed.errors, parsed.data_rows)
        plan = judge.finish()
        if not plan.ok:
            session.rollback()
            return failure(plan.errors, parsed.data_rows)
        writer.write(final=True)
        applied = writer.applied()
        counts = applied.counts()
        if progress is not None:
            progress(99, "提交")
        # the indicators' events, then the summary (chained at the commit, after them)
        audit.record_many(session, actor, applied.events, write=bulk.audit_writer(session))
        record(
            session,
            IMPORT_EVENT,
            object_type="indicator_import",
            object_id=reference,
            after={"file": filename, "rows": parsed.data_rows, **counts},
        )
    return {"ok": True, **counts, "rows": parsed.data_rows}
