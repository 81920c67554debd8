"""RQ jobs of the self-evaluation (DESIGN.md §8). No Flask: they run in `jixiao worker` too."""

from __future__ import annotations

from typing import Any

from jixiao.platform.core import exports
from jixiao.platform.core.actor import Actor

from . import excel


def export_self_evaluation(actor: Actor, project_id: int) -> dict[str, Any]:
    """Excel export (项目支出绩效自评表) of a project's self-evaluation, for `actor`, through the shared
    export flow (`platform/core/exports.py`): answers `{kind: "self_evaluation", file_key,
    filename, size, project_id, score, grade}`. Progress: reading 5→40 %, building 40→70 %,
    storing 70→100 %."""
    return exports.run(
        actor,
        excel.KIND,
        lambda session, handle, progress: excel.write_export(session, actor, project_id, handle, progress),
        first="读取自评",
    )
