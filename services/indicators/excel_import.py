"""Step 3 of an Excel import, and the whole import: `apply_plan` and `run_import`.

`apply_plan` writes a `Plan` without errors inside the caller's single transaction: updates, then
creates (codes numbered on from the highest per kind), flushed in batches, each indicator with its
version snapshot and audit event. `run_import` is the job's body (`jobs.import_indicators`):
parse (`excel_parse`), judge (`excel_plan`) and — only when every row is fine — write, all or
nothing, plus the summary audit event; `failure` is its result when there are errors. No Flask.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from jixiao.platform.core.actor import Actor
from jixiao.platform.core.audit import AuditEvent, record
from jixiao.platform.core.authz import authorize
from jixiao.platform.core.db import Database
from jixiao.tenants.models import Tenant

from .excel_parse import BATCH, Progress, parse_workbook
from .excel_plan import Plan, batched, plan_import
from .models import Indicator
from .service import EDITABLE, KIND_CODES, apply_fields, level2_nodes, lock_owner, pinyin_keys, version_row

MAX_ERRORS = 1000
IMPORT_EVENT = "indicator.import"


def _next_sequences(session: Session, owner: Tenant) -> dict[str, int]:
    """The next free sequence number per kind, computed once (numerically: `-10000` > `-9999`)."""
    out = {}
    for kind, short in KIND_CODES.items():
        prefix = f"{owner.code}-{short}-"
        codes = session.execute(
            select(Indicator.code)
            .where(Indicator.code.startswith(prefix))
            .execution_options(all_tenants=True)
        ).scalars()
        numbers = [int(tail) for c in codes if (tail := c[len(prefix) :]).isdigit()]
        out[kind] = max(numbers, default=0) + 1
    return out


def apply_plan(
    session: Session, actor: Actor, plan: Plan, *, progress: Progress | None = None
) -> dict[str, int]:
    """Write a plan without errors inside the caller's transaction: updates, then creates, flushed
    in batches, each with its version snapshot and audit event."""
    if plan.errors:
        raise ValueError("a plan with errors is never applied")
    nodes = level2_nodes(session)
    owner = plan.owner
    total = max(len(plan.updates) + len(plan.creates), 1)
    done = 0

    def report() -> None:
        if progress is not None:
            progress(60 + int(39 * done / total), f"写入 {done}/{total}")

    for chunk in batched(plan.updates, BATCH):
        befores = []
        for _row, indicator, merged in chunk:
            befores.append(indicator.to_audit())
            apply_fields(indicator, merged, nodes)
        session.flush()  # bumps each version (optimistic lock: a concurrent edit fails the job)
        for (_row, indicator, _merged_data), before in zip(chunk, befores, strict=True):
            session.add(version_row(indicator, "update", actor))
            record(
                session,
                "indicator.update",
                object_type="indicator",
                object_id=indicator.id,
                before=before,
                after=indicator.to_audit(),
            )
        done += len(chunk)
        report()

    sequences = _next_sequences(session, owner) if plan.creates else {}
    shared = owner.level == "province"
    for chunk in batched(plan.creates, BATCH):
        created = []
        for row in chunk:
            data = row.data
            kind = data["kind"]
            code = f"{owner.code}-{KIND_CODES[kind]}-{sequences[kind]:04d}"
            sequences[kind] += 1
            full, initials = pinyin_keys(data["name"])
            indicator = Indicator(
                tenant_id=owner.id,
                code=code,
                name_pinyin=full,
                name_initials=initials,
                shared=shared,
                level2_id=nodes[data["level2"]].id,
                **{k: data.get(k) for k in EDITABLE if k != "level2"},
            )
            indicator.level2 = nodes[data["level2"]]
            created.append(indicator)
        session.add_all(created)
        session.flush()
        session.add_all([version_row(i, "create", actor) for i in created])
        for indicator in created:
            record(
                session,
                "indicator.create",
                object_type="indicator",
                object_id=indicator.id,
                after={**indicator.to_audit(), "derived_from": None, "origin": None, "via": "excel"},
                tenant_id=owner.id,
                actor=actor,
            )
        done += len(chunk)
        report()
    session.flush()
    return {"created": len(plan.creates), "updated": len(plan.updates), "unchanged": plan.unchanged}


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
    """Parse, judge and — only when every row is fine — write, in one transaction.

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
    parsed = parse_workbook(path, progress=progress)
    if parsed.errors:
        return failure(parsed.errors, parsed.data_rows)
    with db.transaction(actor) as session:
        # imports into one library take turns from here on (so do single creates: `next_code`):
        # a concurrent import's rows are judged only once it committed — matched by name instead
        # of created twice, numbered after its codes instead of colliding with them
        owner = session.get(Tenant, actor.tenant_id) if actor.tenant_id is not None else None
        if owner is not None:
            lock_owner(session, owner)
        earlier = committed(session, reference)
        if earlier is not None:
            return earlier
        plan = plan_import(session, actor, parsed, progress=progress)
        if not plan.ok:
            session.rollback()
            return failure(plan.errors, parsed.data_rows)
        counts = apply_plan(session, actor, plan, progress=progress)
        record(
            session,
            IMPORT_EVENT,
            object_type="indicator_import",
            object_id=reference,
            after={"file": filename, "rows": parsed.data_rows, **counts},
        )
        if progress is not None:
            progress(99, "提交")
    return {"ok": True, **counts, "rows": parsed.data_rows}
