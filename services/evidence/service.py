"""Evidence uploads and downloads (no Flask): type by extension AND content, size limits from the
program's settings, streaming to the object store with SHA-256, row and object written together
(a failure of either leaves neither), deletion only while the stage is a draft, supersede after."""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from jixiao.platform.core.actor import Actor
from jixiao.platform.core.audit import record
from jixiao.platform.core.authz import authorize, policy, require_role
from jixiao.platform.core.db import utcnow
from jixiao.platform.core.errors import Conflict, DomainError, Forbidden, NotFound, ValidationFailed
from jixiao.platform.core.runtime import current_runtime
from jixiao.platform.core.storage import ObjectStore, Readable
from jixiao.services.programs.models import STAGE_NAMES, STAGES
from jixiao.services.projects.models import Project
from jixiao.services.projects.service import get_project

from .models import Evidence

# extension → (content type, magic-byte check)
TYPES: dict[str, tuple[str, tuple[bytes, ...]]] = {
    "pdf": ("application/pdf", (b"%PDF-",)),
    "doc": ("application/msword", (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",)),
    "xls": ("application/vnd.ms-excel", (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",)),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", (b"PK\x03\x04",)),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", (b"PK\x03\x04",)),
    "zip": ("application/zip", (b"PK\x03\x04",)),
    "jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
}
SNIFF_BYTES = 8
MULTIPART_SLACK = 1024 * 1024


class PayloadTooLarge(DomainError):
    status = 413
    status_name = "Payload Too Large"


class UnsupportedType(DomainError):
    status = 415
    status_name = "Unsupported Media Type"


@policy("evidence.read", scope="evidence:read")
def _may_read(actor: Actor, *, project_id: int | None = None) -> None:
    """Anyone with the scope who can see the project (walls); an evaluator with `evidence_read`
    granted on it."""
    if actor.is_evaluator and (project_id is None or not actor.granted(project_id, "evidence_read")):
        raise Forbidden("授权事项不含「查看佐证材料」(evidence_read)，不能查看该项目的佐证材料")


@policy("evidence.write", scope="evidence:write")
def _may_write(actor: Actor, *, project: Project) -> None:
    """Project units and the bureau admin of the project's own tenant upload and delete; an
    evaluator with `evidence_write` granted on the project uploads (its report, working papers)."""
    if actor.is_evaluator:
        if not actor.granted(project.id, "evidence_write"):
            raise Forbidden("授权事项不含「上传佐证材料」(evidence_write)，不能上传该项目的佐证材料")
        return
    require_role(
        actor, "project_editor", "bureau_admin", message="只有项目单位填报人或财政局管理员可以上传佐证材料"
    )
    if project.tenant_id != actor.tenant_id:
        raise Forbidden("上级单位对下级项目的佐证材料只读")


# --- names and types --------------------------------------------------------------------------


def clean_filename(raw: str) -> str:
    """The original name, as metadata: control characters and path parts are refused, not guessed."""
    name = (raw or "").strip()
    if not name:
        raise ValidationFailed("文件名不能为空", errors={"file": ["文件名不能为空"]})
    if any(unicodedata.category(ch) in ("Cc", "Cf") for ch in name):
        raise ValidationFailed("文件名含控制字符", errors={"file": ["文件名含控制字符，请重命名后上传"]})
    if "/" in name or "\\" in name or name in (".", "..") or name.startswith(".."):
        raise ValidationFailed(
            "文件名含路径", errors={"file": ["文件名不能包含路径（/ \\ ..），请重命名后上传"]}
        )
    if len(name) > 200:
        raise ValidationFailed("文件名过长", errors={"file": ["文件名不能超过 200 个字"]})
    return name


def field_problems(stage: str, purpose: str, filename: str | None) -> dict[str, list[str]]:
    """Every problem of an upload's fields at once: the stage, the purpose, the file (None: no
    file was sent at all)."""
    errors: dict[str, list[str]] = {}
    if stage not in STAGES:
        errors["stage"] = [f"阶段须为：{'、'.join(STAGE_NAMES[s] for s in STAGES)}"]
    if not (purpose or "").strip():
        errors["purpose"] = ["请选择材料用途，如 立项依据、实施方案"]
    elif len(purpose.strip()) > 40:
        errors["purpose"] = ["材料用途不能超过 40 个字"]
    if filename is None:
        errors["file"] = ["请选择要上传的文件"]
    else:
        try:
            clean_filename(filename)
        except ValidationFailed as exc:
            errors.update(exc.errors)
    return errors


def extension(name: str) -> str:
    match = re.search(r"\.([A-Za-z0-9]{1,5})$", name)
    return match.group(1).lower() if match else ""


@dataclass
class _Guard:
    """Reads the upload for the store: checks the magic bytes first, counts, stops past the limit
    (while streaming: the store aborts what it received). Passes the source's chunks on as they
    come (bytes or a memoryview), without copying them."""

    source: Readable
    magic: tuple[bytes, ...]
    limit: int
    size: int = 0
    head: bytes = b""
    sniffed: bool = False

    def read(self, size: int = -1) -> bytes | bytearray | memoryview:
        chunk: bytes | bytearray | memoryview
        if not self.sniffed:
            head = b""
            while len(head) < SNIFF_BYTES and (more := self.source.read(SNIFF_BYTES - len(head))):
                head += more  # a stream may answer a short read before its end
            self.head = head
            self.sniffed = True
            if not head:
                raise ValidationFailed("文件为空", errors={"file": ["文件为空"]})
            if not any(head.startswith(m[: len(head)]) and len(head) >= len(m) for m in self.magic):
                raise UnsupportedType("文件内容与扩展名不符（可能是改了扩展名的其他文件）")
            chunk = head
        else:
            chunk = self.source.read(size)
        self.size += len(chunk)
        if self.size > self.limit:
            raise PayloadTooLarge(f"文件超过上限 {self.limit // (1024 * 1024)} MiB")
        return chunk


# --- reading ----------------------------------------------------------------------------------


def list_evidence(
    session: Session,
    actor: Actor,
    project_id: int,
    *,
    stage: str | None = None,
    include_history: bool = False,
) -> list[Evidence]:
    project = get_project(session, actor, project_id)
    authorize(actor, "evidence.read", project_id=project.id)
    stmt = select(Evidence).where(Evidence.project_id == project.id).order_by(Evidence.stage, Evidence.id)
    if stage:
        stmt = stmt.where(Evidence.stage == stage)
    stmt = stmt.where(Evidence.status.in_(("current", "superseded") if include_history else ("current",)))
    return list(session.execute(stmt).scalars())


def get_evidence(session: Session, actor: Actor, evidence_id: int) -> Evidence:
    item = session.get(Evidence, evidence_id)
    if item is None or item.status not in ("current", "superseded"):
        raise NotFound(f"佐证材料 {evidence_id} 不存在")
    authorize(actor, "evidence.read", project_id=item.project_id)
    if actor.is_evaluator:
        get_project(session, actor, item.project_id)  # the grant's use, audited
    return item


def history(session: Session, actor: Actor, evidence_id: int) -> list[Evidence]:
    """Every version in the chain of this item, newest first."""
    item = get_evidence(session, actor, evidence_id)
    chain = [item]
    while chain[-1].supersedes_id is not None:
        older = session.get(Evidence, chain[-1].supersedes_id)
        if older is None:
            break
        chain.append(older)
    newer = item
    while True:
        follower = session.execute(
            select(Evidence).where(
                Evidence.supersedes_id == newer.id, Evidence.status.in_(("current", "superseded"))
            )
        ).scalar_one_or_none()  # one at most: uq_evidence_superseded_once
        if follower is None:
            break
        chain.insert(0, follower)
        newer = follower
    return chain


# --- writing ----------------------------------------------------------------------------------


@dataclass
class LateFields:
    """The fields of a form that sent them after the file (`upload(later=…)`)."""

    stage: str
    purpose: str
    supersedes: int | None = None


def _checked_fields(
    session: Session, actor: Actor, project: Project, stage: str, supersedes: int | None
) -> Evidence | None:
    """The stage must be open; the item replaced (if any) is the stage's current one."""
    if project.stage_row(stage).status == "locked":
        raise Conflict(f"项目尚未进入{STAGE_NAMES[stage]}阶段，不能上传该阶段的材料")
    if supersedes is None:
        return None
    previous = get_evidence(session, actor, supersedes)
    if previous.project_id != project.id or previous.stage != stage or previous.status != "current":
        raise Conflict("只能替换本项目同一阶段的现行材料")
    return previous


def upload(
    session: Session,
    actor: Actor,
    project_id: int,
    *,
    stage: str | None,
    purpose: str | None,
    filename: str,
    stream: Readable,
    declared_size: int | None = None,
    supersedes: int | None = None,
    store: ObjectStore | None = None,
    later: Callable[[], LateFields] | None = None,
) -> Evidence:
    """Store the file and record it. Every field given is checked before a byte is stored. A form
    may send fields after the file: `later()` gives them all once the stream is read (`stage` and
    `purpose` may then be None here: the object's key has no stage), and a problem with them
    removes the object again."""
    project = get_project(session, actor, project_id)
    authorize(actor, "evidence.write", project=project)
    deferred = stage is None or purpose is None
    if deferred and later is None:
        raise ValueError("stage and purpose, or later")
    unknown = {field for field, value in (("stage", stage), ("purpose", purpose)) if value is None}
    errors = field_problems(stage or "", purpose or "", filename)
    errors = {field: problems for field, problems in errors.items() if field not in unknown}
    if errors:
        raise ValidationFailed(next(iter(errors.values()))[0], errors=errors)
    if project.status != "active":
        raise Conflict("项目已终止，不能再上传佐证材料")
    if stage is not None and project.stage_row(stage).status == "locked":  # before the type, as ever
        raise Conflict(f"项目尚未进入{STAGE_NAMES[stage]}阶段，不能上传该阶段的材料")
    name = clean_filename(filename)
    settings = project.program.effective_settings["evidence"]
    ext = extension(name)
    if ext not in TYPES or (
        ext not in settings["allowed_types"] and not (ext == "jpeg" and "jpg" in settings["allowed_types"])
    ):
        raise UnsupportedType(
            f"不支持的文件类型「.{ext or '无扩展名'}」，允许：{'、'.join(settings['allowed_types'])}"
        )
    limit = int(settings["max_size_mib"]) * 1024 * 1024
    # `declared_size` is the request body's length: multipart boundaries and fields come on top of the
    # file, so refuse early only when it is clearly over; the guard enforces the exact limit.
    if declared_size is not None and declared_size > limit + MULTIPART_SLACK:
        raise PayloadTooLarge(f"文件超过上限 {settings['max_size_mib']} MiB")
    previous = None if stage is None else _checked_fields(session, actor, project, stage, supersedes)
    content_type, magic = TYPES[ext]
    store = store or current_runtime().store
    folder = f"tenants/{project.owner.code}/projects/{project.id}"
    key = f"{folder}/{stage}/{uuid.uuid4().hex}" if stage else f"{folder}/{uuid.uuid4().hex}"
    guard = _Guard(stream, magic, limit)
    stored = store.put_stream(key, guard, content_type=content_type)  # nothing recorded if this fails
    if later is not None:
        try:
            fields = later()
            if deferred or fields.supersedes != supersedes:
                errors = field_problems(fields.stage, fields.purpose, name)
                if errors:
                    raise ValidationFailed(next(iter(errors.values()))[0], errors=errors)
                stage, purpose = fields.stage, fields.purpose
                previous = _checked_fields(session, actor, project, stage, fields.supersedes)
        except BaseException:
            store.delete(key)  # no object without its row
            raise
    assert stage is not None and purpose is not None
    try:
        item = Evidence(
            tenant_id=project.tenant_id,
            project_id=project.id,
            stage=stage,
            purpose=purpose.strip(),
            object_key=key,
            filename=name,
            content_type=content_type,
            size=stored.size,
            sha256=stored.sha256 or "",
            uploaded_by=actor.username,
            supersedes_id=previous.id if previous else None,
            version_no=(previous.version_no + 1) if previous else 1,
        )
        session.add(item)
        if previous is not None:
            previous.status = "superseded"
        session.flush()
        record(
            session,
            "evidence.upload",
            object_type="evidence",
            object_id=item.id,
            after={
                "project_id": project.id,
                "stage": stage,
                "purpose": item.purpose,
                "filename": name,
                "size": item.size,
                "sha256": item.sha256,
                "supersedes": item.supersedes_id,
            },
        )
        session.commit()
    except IntegrityError:  # a parallel supersede of the same item won: one version only
        session.rollback()
        store.delete(key)
        raise Conflict("该材料已被另一次上传替换，本次上传未保存；请在最新版本上重新替换") from None
    except BaseException:
        session.rollback()
        store.delete(key)  # no object without its row
        raise
    return item


def delete(session: Session, actor: Actor, evidence_id: int) -> None:
    """Only while its stage is still a draft; afterwards the item can only be superseded."""
    item = get_evidence(session, actor, evidence_id)
    project = get_project(session, actor, item.project_id)
    authorize(actor, "evidence.write", project=project)
    status = project.stage_row(item.stage).status
    if status not in ("draft", "returned"):
        raise Conflict(f"{STAGE_NAMES[item.stage]}阶段已提交，佐证材料不能删除，只能上传新版本替换")
    item.status = "deleted"
    item.deleted_by = actor.username
    item.deleted_at = utcnow()
    session.flush()
    record(
        session,
        "evidence.delete",
        object_type="evidence",
        object_id=item.id,
        before={"filename": item.filename, "sha256": item.sha256},
    )


def download(
    session: Session, actor: Actor, evidence_id: int, *, store: ObjectStore | None = None
) -> dict[str, Any]:
    """After the authorization check: a short-lived presigned URL (S3) or the stream (local)."""
    item = get_evidence(session, actor, evidence_id)
    store = store or current_runtime().store
    record(
        session,
        "evidence.download",
        object_type="evidence",
        object_id=item.id,
        after={"filename": item.filename},
        tenant_id=item.tenant_id,
    )
    url = store.presigned_get_url(item.object_key, timedelta(minutes=5), download_name=item.filename)
    return {"item": item, "url": url, "store": store}


def missing_purposes(session: Session, project: Project, stage: str) -> list[str]:
    """The purposes the program requires for `stage` that have no current evidence yet."""
    required = project.program.effective_settings["evidence"].get("required_purposes", {}).get(stage, [])
    if not required:
        return []
    present = set(
        session.execute(
            select(Evidence.purpose).where(
                Evidence.project_id == project.id, Evidence.stage == stage, Evidence.status == "current"
            )
        ).scalars()
    )
    return [purpose for purpose in required if purpose not in present]
