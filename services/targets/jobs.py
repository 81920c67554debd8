"""RQ jobs of performance targets (DESIGN.md §8). No Flask: they run in `jixiao worker` too."""

from __future__ import annotations

from typing import Any

from jixiao.platform.core import exports
from jixiao.platform.core.actor import Actor

from . import excel


def export_targets(actor: Actor, project_id: int, number: int) -> dict[str, Any]:
    """Excel export (绩效目标申报表) of version `number` of a project's targets, for `actor`, through
    the shared export flow (`platform/core/exports.py`): answers `{kind: "targets", file_key,
    filename, size, project_id, version}`. Progress: reading 5→40 %, building 40→70 %, storing
    70→100 %."""
    return exports.run(
        actor,
        excel.KIND,
        lambda session, handle, progress: excel.write_export(
            session, actor, project_id, number, handle, progress
        ),
        first="读取项目与绩效目标",
    )
