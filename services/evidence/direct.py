"""Direct-to-store uploads for large files (API.md: …/evidence/uploads, …/complete).

The client asks for an upload slot with the file's name, size and SHA-256; it gets a short-lived
URL to PUT the bytes to — a presigned S3 URL, or in embedded mode a signed URL of the app itself —
and then asks to complete: the object is read back streaming and must match the declared size and
hash, else it is deleted and the slot refused. Slots never completed are cleaned after a day."""

from __future__ import annotations

import hashlib
import uuid
from datetime import timedelta
from typing import IO, Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from jixiao.platform.core.actor import Actor
from jixiao.platform.core.audit import record
from jixiao.platform.core.authz import authorize
from jixiao.platform.core.db import utcnow
from jixiao.platform.core.errors import Conflict, NotFound, ValidationFailed
from jixiao.platform.core.runtime import current_runtime
from jixiao.services.projects.service import get_project

from .models import Evidence
from .service import TYPES, PayloadTooLarge, UnsupportedType, _Guard, clean_filename, extension, get_evidence

UPLOAD_EXPIRY = timedelta(minutes=15)
STALE_AFTER = timedelta(days=1)
_SALT = "jixiao-evidence-upload"


def _signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_runtime().settings.secret_key, salt=_SALT)


def request_upload(session: Session, actor: Actor, project_id: int, data: dict[str, Any]) -> dict[str, Any]:
    project = get_project(session, actor, project_id)
    authorize(actor, "evidence.write", project=project)
    name = clean_filename(str(data.get("filename") or ""))
    ext = extension(name)
    settings = project.program.effective_settings["evidence"]
    if ext not in TYPES or ext not in settings["allowed_types"]:
        raise UnsupportedType(
            f"不支持的文件类型「.{ext or '无扩展名'}」，允许：{'、'.join(settings['allowed_types'])}"
        )
    size, digest = data.get("size"), str(data.get("sha256") or "").lower()
    errors: dict[str, list[str]] = {}
    if not isinstance(size, int) or size <= 0:
        errors["size"] = ["请给出文件大小（字节，正整数）"]
    elif size > int(settings["max_size_mib"]) * 1024 * 1024:
        raise PayloadTooLarge(f"文件超过上限 {settings['max_size_mib']} MiB")
    if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        errors["sha256"] = ["请给出文件的 SHA-256（64 位十六进制）"]
    stage, purpose = data.get("stage"), str(data.get("purpose") or "").strip()
    if not purpose:
        errors["purpose"] = ["请选择材料用途"]
    if errors:
        raise ValidationFailed(next(iter(errors.values()))[0], errors=errors)
    if stage not in [row.stage for row in project.stages]:
        raise ValidationFailed("阶段无效", errors={"stage": ["阶段无效"]})
    if project.stage_row(str(stage)).status == "locked":
        raise Conflict("项目尚未进入该阶段，不能上传该阶段的材料")
    supersedes = data.get("supersedes")
    if supersedes is not None:
        previous = get_evidence(session, actor, int(supersedes))
        if previous.project_id != project.id or previous.stage != stage or previous.status != "current":
            raise Conflict("只能替换本项目同一阶段的现行材料")
    key = f"tenants/{project.owner.code}/projects/{project.id}/{stage}/{uuid.uuid4().hex}"
    item = Evidence(
        tenant_id=project.tenant_id,
        project_id=project.id,
        stage=str(stage),
        purpose=purpose,
        object_key=key,
        filename=name,
        content_type=TYPES[ext][0],
        size=size,
        sha256=digest,
        status="pending",
        supersedes_id=int(supersedes) if supersedes is not None else None,
        uploaded_by=actor.username,
    )
    session.add(item)
    session.flush()
    store = current_runtime().store
    url = store.presigned_put_url(key, UPLOAD_EXPIRY)
    signed = None if url else _signer().dumps({"id": item.id, "key": key})
    record(
        session,
        "evidence.upload_requested",
        object_type="evidence",
        object_id=item.id,
        after={"project_id": project.id, "stage": stage, "filename": name, "size": size, "sha256": digest},
    )
    return {"item": item, "upload_url": url, "signed_token": signed, "expires_at": utcnow() + UPLOAD_EXPIRY}


def receive_signed_upload(session: Session, token: str, stream: IO[bytes]) -> None:
    """Embedded mode's stand-in for a presigned PUT: the signature is the credential."""
    try:
        claims = _signer().loads(token, max_age=int(UPLOAD_EXPIRY.total_seconds()))
    except SignatureExpired:
        raise Conflict("上传地址已过期，请重新申请") from None
    except BadSignature:
        raise NotFound("上传地址无效") from None
    item = session.get(Evidence, claims["id"])
    if item is None or item.status != "pending" or item.object_key != claims["key"]:
        raise NotFound("上传地址无效")
    magic = TYPES[extension(item.filename)][1]
    current_runtime().store.put_stream(
        item.object_key, _Guard(stream, magic, item.size), content_type=item.content_type
    )


def complete(session: Session, actor: Actor, evidence_id: int) -> Evidence:
    """Read the object back (streaming) and check it against what was declared; a mismatch deletes it."""
    authorize(actor, "evidence.read")
    item = session.get(Evidence, evidence_id)
    if item is None or item.status != "pending":
        raise NotFound(f"待完成的上传 {evidence_id} 不存在")
    project = get_project(session, actor, item.project_id)
    authorize(actor, "evidence.write", project=project)
    store = current_runtime().store
    if store.stat(item.object_key) is None:
        raise Conflict("尚未收到文件，请先上传到 upload_url")
    digest, size, head = hashlib.sha256(), 0, b""
    with store.open_stream(item.object_key) as chunks:
        for chunk in chunks:
            if len(head) < 8:
                head += chunk[: 8 - len(head)]
            digest.update(chunk)
            size += len(chunk)
    problems = []
    if size != item.size:
        problems.append(f"大小不符：声明 {item.size} 字节，收到 {size} 字节")
    if digest.hexdigest() != item.sha256:
        problems.append("SHA-256 不符：文件在传输中损坏或不是声明的文件")
    if not any(head.startswith(m) for m in TYPES[extension(item.filename)][1]):
        problems.append("文件内容与扩展名不符")
    if problems:
        _discard(session, store, item, problems)
        raise ValidationFailed(
            "上传的文件未通过校验，已删除：" + "；".join(problems), errors={"file": problems}
        )
    if item.supersedes_id is not None:
        previous = session.get(Evidence, item.supersedes_id)
        if previous is None or previous.status != "current":
            _discard(session, store, item, [SUPERSEDED])
            raise Conflict("要替换的材料已被另一次上传替换，本次上传已作废；请在最新版本上重新替换")
        previous.status = "superseded"
        item.version_no = previous.version_no + 1
    item.status = "current"
    item.uploaded_at = utcnow()
    try:
        session.flush()
    except IntegrityError:  # a parallel completion superseded the same item first
        session.rollback()
        _discard(session, store, session.get(Evidence, evidence_id), [SUPERSEDED])
        raise Conflict("要替换的材料已被另一次上传替换，本次上传已作废；请在最新版本上重新替换") from None
    record(
        session,
        "evidence.upload",
        object_type="evidence",
        object_id=item.id,
        after={
            "project_id": item.project_id,
            "stage": item.stage,
            "filename": item.filename,
            "size": item.size,
            "sha256": item.sha256,
            "supersedes": item.supersedes_id,
            "direct": True,
        },
    )
    return item


SUPERSEDED = "要替换的材料已被另一次上传替换"


def _discard(session: Session, store: Any, item: Evidence | None, problems: list[str]) -> None:
    """A slot refused (its bytes wrong, or it lost a race): its object and its row go, at once
    (committed), and the refusal is audited."""
    if item is None:
        return
    store.delete(item.object_key)
    record(
        session,
        "evidence.upload_rejected",
        object_type="evidence",
        object_id=item.id,
        after={"problems": problems},
    )
    session.delete(item)
    session.commit()


def cleanup_stale(session: Session) -> int:
    """Slots never completed within a day: their objects and rows go (a system task)."""
    cutoff = utcnow() - STALE_AFTER
    stale = (
        session.execute(
            select(Evidence)
            .where(Evidence.status == "pending", Evidence.uploaded_at < cutoff)
            .execution_options(all_tenants=True)
        )
        .scalars()
        .all()
    )
    store = current_runtime().store
    for item in stale:
        store.delete(item.object_key)
        record(
            session,
            "evidence.upload_expired",
            object_type="evidence",
            object_id=item.id,
            after={"filename": item.filename},
            tenant_id=item.tenant_id,
        )
        session.delete(item)
    return len(stale)


def reconcile(session: Session, *, fix: bool = False) -> dict[str, list[str]]:
    """Drift between rows and objects: objects without a row (orphans) and rows without an object."""
    store = current_runtime().store
    rows = {
        item.object_key: item
        for item in session.execute(select(Evidence).execution_options(all_tenants=True)).scalars()
    }
    orphans = [key for key in store.list_keys("tenants/") if key not in rows]
    missing = [
        key
        for key, item in rows.items()
        if item.status in ("current", "superseded") and not store.exists(key)
    ]
    if fix:
        for key in orphans:
            store.delete(key)
        for key in missing:
            rows[key].status = "lost"
            record(
                session,
                "evidence.lost",
                object_type="evidence",
                object_id=rows[key].id,
                after={"object_key": key},
                tenant_id=rows[key].tenant_id,
            )
    return {"orphan_objects": orphans, "rows_without_object": missing}
