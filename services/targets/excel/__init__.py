"""Excel export of performance targets (绩效目标申报表, DESIGN.md §6 stage 2, §8 Jobs): which version,
the job's writer, the file's name and the download check. No Flask: the job builds it in
`jixiao worker` too. The workbook itself is `sheet.py`; the flow (job, temporary file, object
store under `exports/{project tenant code}/{job id}.xlsx`, download check, housekeeping) is the
shared one of `platform/core/exports.py`."""

from __future__ import annotations

from typing import IO

from marshmallow import fields
from sqlalchemy import select
from sqlalchemy.orm import Session

from jixiao.platform.core import (
    exports,
    messages,  # noqa: F401 - Chinese defaults before any field is built
)
from jixiao.platform.core.actor import Actor
from jixiao.platform.core.authz import authorize
from jixiao.platform.core.errors import NotFound
from jixiao.platform.core.jobs import JobInfo
from jixiao.platform.core.schema import InputSchema
from jixiao.services.notifications.service import display_names
from jixiao.services.projects.models import Project
from jixiao.services.projects.service import get_project

from ..models import TargetSet
from ..service import current, require_found
from .sheet import SHEET_TITLE, build_workbook, person

KIND = "targets"
EXPORT_JOB = "jixiao.services.targets.jobs.export_targets"
# the shared flow under the names this module has always had (`jixiao exports cleanup` uses them)
XLSX_MIME = exports.XLSX_MIME
EXPORTS_KEPT = exports.KEPT
Download = exports.Download
cleanup_exports = exports.cleanup
export_key = exports.key


class TargetsExportSchema(InputSchema):
    """Body of `POST /projects/{id}/targets/export` (optional)."""

    version = fields.Int(
        load_default=None,
        allow_none=True,
        metadata={"description": "导出的目标版本号；不填为当前版本", "example": 1},
    )


def target_set_for(
    session: Session, actor: Actor, project_id: int, number: int | None
) -> tuple[Project, TargetSet]:
    """The project (walls: another tenant's is 404) and its version `number` (None: the current
    one). Anyone who may read the project may export it — the tenants above read upward."""
    project = get_project(session, actor, project_id)
    authorize(actor, "projects.read")
    if number is None:
        return project, require_found(current(session, actor, project_id))
    target_set = session.execute(
        select(TargetSet).where(TargetSet.project_id == project.id, TargetSet.number == number)
    ).scalar_one_or_none()
    if target_set is None:
        raise NotFound(f"绩效目标版本 {number} 不存在")
    return project, target_set


def start_export(session: Session, actor: Actor, project_id: int, number: int | None) -> str:
    """Check what the caller asks for now (404 before any job exists), then enqueue the job."""
    project, target_set = target_set_for(session, actor, project_id, number)
    return exports.start(
        actor,
        EXPORT_JOB,
        project.id,
        target_set.number,
        description=f"导出绩效目标申报表：{project.name} 第 {target_set.number} 版",
    )


def export_filename(project_name: str, number: int) -> str:
    """`绩效目标申报表_<项目名>_v<n>.xlsx` (characters a file system refuses become _)."""
    return exports.filename(SHEET_TITLE, project_name, f"v{number}")


def export_prefix(project: Project) -> str:
    return exports.prefix(project.owner.code)


def write_export(
    session: Session,
    actor: Actor,
    project_id: int,
    number: int,
    target: IO[bytes],
    progress: exports.ProgressFn = exports.no_progress,
) -> exports.Written:
    """Build the 申报表 of version `number` and save it to `target` (the job's writer)."""
    project, target_set = target_set_for(session, actor, project_id, number)
    progress(20, "读取项目与绩效目标")
    people = {review.reviewer for review in target_set.reviews} | {target_set.submitted_by, actor.username}
    names = display_names(session, people)
    progress(40, "生成申报表")
    wb = build_workbook(project, target_set, names=names, exported_by=person(actor.username, names))
    progress(70, "保存文件")
    wb.save(target)
    return exports.Written(
        tenant_code=project.owner.code,
        filename=export_filename(project.name, target_set.number),
        result={"project_id": project.id, "version": target_set.number},
    )


def download(session: Session, actor: Actor, project_id: int, info: JobInfo) -> exports.Download:
    """The stored file of the caller's finished export job of this project's targets (409 while it
    runs or when it failed; 404 when the job is not one)."""
    project = get_project(session, actor, project_id)
    authorize(actor, "projects.read")
    result = info.result if isinstance(info.result, dict) else {}
    return exports.finished(
        info,
        kind=KIND,
        match={"project_id": project.id},
        tenant_code=project.owner.code,
        fallback_name=export_filename(project.name, int(result.get("version") or 0)),
    )
