"""Excel export of performance targets (绩效目标申报表, DESIGN.md §6 stage 2, §8 Jobs): which version,
the job, the file's name and key, the download, and the housekeeping of old exports. No Flask: the
job builds it in `jixiao worker` too. The workbook itself is `excel_sheet.py`.

The flow: the API validates (`start_export`: walls, version) and enqueues `jobs.export_targets`;
the job writes the workbook to a temporary file and streams it to the object store under
`exports/{project tenant code}/{job id}.xlsx`; the download (`download`) checks that the finished
job is this project's export before the API streams the object back."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import IO

from marshmallow import fields
from sqlalchemy import select
from sqlalchemy.orm import Session

from jixiao.platform.core import messages  # noqa: F401 - Chinese defaults before any field is built
from jixiao.platform.core.actor import Actor
from jixiao.platform.core.authz import authorize
from jixiao.platform.core.errors import Conflict, NotFound
from jixiao.platform.core.jobs import JobInfo
from jixiao.platform.core.runtime import current_runtime
from jixiao.platform.core.schema import InputSchema
from jixiao.platform.core.storage import ObjectStore
from jixiao.services.projects.models import Project
from jixiao.services.projects.service import get_project
from jixiao.tenants.models import User

from .excel_sheet import SHEET_TITLE, build_workbook, person
from .models import TargetSet
from .service import current, require_found

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EXPORT_JOB = "jixiao.services.targets.jobs.export_targets"
_UNSAFE_NAME = re.compile(r'[\\/:*?"<>|\x00-\x1f]+')
ProgressFn = Callable[[int, str], None]


class TargetsExportSchema(InputSchema):
    """Body of `POST /projects/{id}/targets/export` (optional)."""

    version = fields.Int(
        load_default=None,
        allow_none=True,
        metadata={"description": "导出的目标版本号；不填为当前版本", "example": 1},
    )


# --- choosing what to export ------------------------------------------------------------------


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
    return current_runtime().jobs.enqueue(
        EXPORT_JOB,
        actor,
        project.id,
        target_set.number,
        description=f"导出绩效目标申报表：{project.name} 第 {target_set.number} 版",
        timeout=600,
    )


def export_filename(project_name: str, number: int) -> str:
    """`绩效目标申报表_<项目名>_v<n>.xlsx` (characters a file system refuses become _)."""
    name = _UNSAFE_NAME.sub("_", project_name).strip(" .") or "项目"
    return f"{SHEET_TITLE}_{name}_v{number}.xlsx"


def export_key(tenant_code: str, name: str) -> str:
    return f"exports/{tenant_code}/{name}.xlsx"


def export_prefix(project: Project) -> str:
    return f"exports/{project.owner.code}/"


EXPORTS_KEPT = timedelta(days=7)  # as long as the export job's result (its download link) lives


def cleanup_exports(store: ObjectStore, now: datetime, kept: timedelta = EXPORTS_KEPT) -> list[str]:
    """Delete exported workbooks older than `kept` (their job, and so their download, has expired);
    answers the keys deleted. Run daily by `jixiao exports cleanup`."""
    deleted = []
    for key in list(store.list_keys("exports/")):
        info = store.stat(key)
        if info is not None and info.modified is not None and now - info.modified > kept:
            store.delete(key)
            deleted.append(key)
    return deleted


# --- writing ----------------------------------------------------------------------------------


def write_export(
    session: Session,
    actor: Actor,
    project_id: int,
    number: int,
    target: IO[bytes],
    *,
    progress: ProgressFn | None = None,
) -> tuple[Project, TargetSet]:
    """Build the 申报表 of version `number` and save it to `target`."""
    report = progress or (lambda percent, message: None)
    project, target_set = target_set_for(session, actor, project_id, number)
    report(20, "读取项目与绩效目标")
    names = _display_names(session, _people(target_set))
    report(40, "生成申报表")
    wb = build_workbook(project, target_set, names=names, exported_by=person(actor.username, names))
    report(70, "保存文件")
    wb.save(target)
    return project, target_set


def _people(target_set: TargetSet) -> set[str]:
    people = {review.reviewer for review in target_set.reviews}
    if target_set.submitted_by:
        people.add(target_set.submitted_by)
    return people


def _display_names(session: Session, usernames: Iterable[str]) -> dict[str, str]:
    """username → display name, for the users the caller may see (the walls: own tenant and
    below); anyone else stays a username."""
    wanted = sorted(set(usernames))
    if not wanted:
        return {}
    rows = session.execute(select(User.username, User.display_name).where(User.username.in_(wanted)))
    return {username: display for username, display in rows}


# --- downloading ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Download:
    key: str
    filename: str
    size: int | None


def download(session: Session, actor: Actor, project_id: int, info: JobInfo) -> Download:
    """The stored file of a finished export job of this project (`info` is already the caller's
    own job — `Jobs.info` answers 404 for anyone else's). 409 while it runs or when it failed;
    404 when the job is not an export of this project."""
    project = get_project(session, actor, project_id)
    authorize(actor, "projects.read")
    if info.status in ("queued", "started"):
        raise Conflict(
            f"导出任务尚未完成（{'排队中' if info.status == 'queued' else '进行中'}），请稍后再下载"
        )
    if info.status == "failed":
        raise Conflict(f"导出任务失败：{info.error or '未知原因'}，请重新导出")
    result = info.result if isinstance(info.result, dict) else {}
    key = str(result.get("file_key") or "")
    if result.get("project_id") != project.id or not key.startswith(export_prefix(project)):
        raise NotFound(f"任务 {info.id} 不是本项目的导出")
    size = result.get("size")
    return Download(
        key=key,
        filename=str(
            result.get("filename") or export_filename(project.name, int(result.get("version") or 0))
        ),
        size=int(size) if isinstance(size, int) else None,
    )
