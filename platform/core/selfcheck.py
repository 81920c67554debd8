"""System self-check (系统自检): a real long job — walk the audit chain, probe the database and the
object store — run by the province admin from the page or the API, with progress."""

from __future__ import annotations

import io
import time
import uuid
from typing import Any

from sqlalchemy import text

from .actor import Actor
from .audit import record, verify
from .authz import authorize, policy, require_role
from .jobs import set_progress
from .runtime import current_runtime


@policy("system.selfcheck", scope="admin")
def _may_selfcheck(actor: Actor) -> None:
    """The audit chain spans every tenant: only the province admin verifies it."""
    require_role(actor, "province_admin", message="只有省财政厅管理员可以运行系统自检")


def start(actor: Actor) -> str:
    authorize(actor, "system.selfcheck")
    return current_runtime().jobs.enqueue(
        run, actor, description="系统自检（审计链校验、数据库与对象存储探测）"
    )


def run(actor: Actor) -> dict[str, Any]:
    """The job: each step reports progress; the result names every check."""
    rt = current_runtime()
    result: dict[str, Any] = {"started_at": time.time()}
    set_progress(5, "检查数据库")
    with rt.db.transaction(actor) as s:
        result["tenants"] = s.execute(text("SELECT count(*) FROM tenants")).scalar_one()
    set_progress(10, "校验审计链")
    audit_session = rt.db.system_session("selfcheck: audit verify")
    try:
        outcome = verify(
            audit_session,
            on_progress=lambda checked, total: set_progress(
                10 + int(70 * checked / max(total, 1)), f"校验审计链 {checked}/{total}"
            ),
        )
    finally:
        audit_session.close()
    result["audit"] = {
        "ok": outcome.ok,
        "checked": outcome.checked,
        "broken_id": outcome.broken_id,
        "reason": outcome.reason,
    }
    set_progress(85, "探测对象存储")
    key = f"system/selfcheck/{uuid.uuid4().hex}"
    payload = b"jixiao selfcheck " + key.encode()
    stored = rt.store.put_stream(key, io.BytesIO(payload), content_type="text/plain", length=len(payload))
    with rt.store.open_stream(key) as chunks:
        roundtrip = b"".join(chunks)
    rt.store.delete(key)
    result["object_store"] = {
        "ok": roundtrip == payload and stored.size == len(payload),
        "backend": rt.store.name,
    }
    result["ok"] = bool(result["audit"]["ok"] and result["object_store"]["ok"])
    with rt.db.transaction(actor) as s:
        record(
            s, "system.selfcheck", object_type="system", after={"ok": result["ok"], "audit": result["audit"]}
        )
    set_progress(100, "完成")
    return result
