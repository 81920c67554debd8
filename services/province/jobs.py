"""RQ jobs of the province's views (DESIGN.md §8). No Flask: they run in `jixiao worker` too."""

from __future__ import annotations

from typing import Any

from jixiao.platform.core import exports
from jixiao.platform.core.actor import Actor
from jixiao.platform.core.clock import today_in
from jixiao.platform.core.runtime import current_runtime

from . import excel


def export_dashboard(actor: Actor, program_id: int, filters: dict[str, Any]) -> dict[str, Any]:
    """Excel export (试点汇总表) of the province dashboard as `actor` sees it, with `filters` (the
    page's), through the shared export flow (`platform/core/exports.py`): answers `{kind:
    "province_dashboard", file_key, filename, size, program_id, filters}`. Progress: reading 5→40 %,
    building 40→70 %, storing 70→100 %."""
    today = today_in(current_runtime().settings.timezone)
    return exports.run(
        actor,
        excel.KIND,
        lambda session, handle, progress: excel.write_export(
            session, actor, program_id, filters, today, handle, progress
        ),
        first="读取看板数据",
    )
