"""HTTP for evidence files: multipart upload streamed to the store as it arrives (no temporary file),
metadata, download, delete."""

from __future__ import annotations

from typing import Any

from flask import redirect, request, url_for
from flask.views import MethodView
from flask_smorest import Blueprint, abort
from marshmallow import ValidationError

from jixiao.platform.core.errors import ValidationFailed
from jixiao.platform.web.context import actor, db, runtime
from jixiao.platform.web.formdata import FormData, Part
from jixiao.platform.web.pages import stream_object

from . import direct, service
from .schemas import (
    EvidenceQuerySchema,
    EvidenceSchema,
    UploadFormSchema,
    UploadRequestSchema,
    UploadSlotSchema,
)

blp = Blueprint("evidence", __name__, url_prefix="/api/v1", description="佐证材料")

HELD_FILE_BYTES = 4 * 1024 * 1024
"""A file that comes before `stage` or `purpose` (as evidence.js and `curl -F file=@… -F stage=…`
send it) is held in memory up to this size until they have come, so that it is checked before it
is stored, as usual; a larger one streams to the store first and the fields are checked after it."""
FIELD_BYTES = 64 * 1024
MAX_PARTS = 32


def _form(fields: dict[str, str]) -> dict[str, Any]:
    """The fields through `UploadFormSchema`, with the answer a `@blp.arguments(…, location="form")`
    gives (422 naming the field: a bad `supersedes`, an unknown field)."""
    try:
        loaded: dict[str, Any] = UploadFormSchema().load(fields)
    except ValidationError as exc:
        abort(422, exc=exc, messages={"form": exc.messages})
    return loaded


class _Form:
    """The upload's form, read from the request body as it arrives (werkzeug's `request.files`
    would spool the file to a temporary file first): the fields before the file, read whole; the
    file as a stream the store reads the body from; then (`later`) the fields after it."""

    def __init__(self) -> None:
        self.body = FormData.of_request()
        self.fields: dict[str, str] = {}
        self.file: Part | None = None
        self._parts = 0

    def _next(self) -> Part | None:
        part = self.body.next_part()
        if part is not None:
            self._parts += 1
            if self._parts > MAX_PARTS:
                raise ValidationFailed(
                    f"表单最多 {MAX_PARTS} 项", errors={"form": [f"表单最多 {MAX_PARTS} 项"]}
                )
        return part

    def _read_fields(self) -> None:
        """Fields up to the file (the first `file` part with a file name), or to the end."""
        while (part := self._next()) is not None:
            if part.filename is None:
                self.fields.setdefault(part.name, part.text(FIELD_BYTES))  # the first one counts
            elif part.name == "file" and self.file is None:
                self.file = part
                return

    def read(self) -> bool:
        """Read up to the file; True when the fields after it are still to come."""
        self._read_fields()
        if self.file is None:
            return False
        if "stage" in self.fields and "purpose" in self.fields:
            return True
        if self.file.hold(HELD_FILE_BYTES):
            self._read_fields()  # the file is held whole: the rest of the form now
            return False
        return True

    def later(self) -> service.LateFields:
        """The fields after the file (its stream has been read to its end), merged with the earlier."""
        self._read_fields()
        form = _form(self.fields)
        return service.LateFields(form["stage"], form["purpose"], form["supersedes"])


@blp.route("/projects/<int:project_id>/evidence")
class ProjectEvidence(MethodView):
    @blp.arguments(EvidenceQuerySchema, location="query")
    @blp.response(200, EvidenceSchema(many=True))
    def get(self, args: dict[str, Any], project_id: int) -> Any:
        """The project's current evidence (with `history=true` also the superseded versions)."""
        return service.list_evidence(
            db(), actor(), project_id, stage=args.get("stage"), include_history=args["history"]
        )

    @blp.doc(
        requestBody={
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["file", "stage", "purpose"],
                        "properties": {
                            "file": {"type": "string", "format": "binary"},
                            "stage": {"type": "string"},
                            "purpose": {"type": "string"},
                            "supersedes": {"type": "integer"},
                        },
                    },
                }
            },
        }
    )
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    @blp.response(201, EvidenceSchema)
    def post(self, project_id: int) -> Any:
        """Upload one file (pdf, doc(x), xls(x), jpg, png, zip; ≤ 200 MiB by default), streamed to the
        object store with its SHA-256; 413 too large, 415 wrong or spoofed type.

        The body streams to the store as it arrives (no temporary file). Fields sent before `file`
        are checked before a byte is stored; a file over 4 MiB sent before `stage` or `purpose` is
        stored first and removed again if a field it comes with is wrong."""
        upload = _Form()
        more = upload.read()
        form = _form(upload.fields)
        if upload.file is None:  # every other problem of the form is named with the missing file
            problems = service.field_problems(form.get("stage", ""), form.get("purpose", ""), None)
            raise ValidationFailed("请选择要上传的文件", errors=problems)
        return service.upload(
            db(),
            actor(),
            project_id,
            # None: still to come after the file (`later`)
            stage=form["stage"] if "stage" in upload.fields or not more else None,
            purpose=form["purpose"] if "purpose" in upload.fields or not more else None,
            filename=upload.file.filename or "",
            stream=upload.file,
            declared_size=request.content_length,
            supersedes=form.get("supersedes"),
            later=upload.later if more else None,
        )


@blp.route("/projects/<int:project_id>/evidence/uploads")
class DirectUploads(MethodView):
    @blp.arguments(UploadRequestSchema)
    @blp.response(201, UploadSlotSchema)
    def post(self, data: dict[str, Any], project_id: int) -> Any:
        """Direct-to-store upload for large files: a presigned PUT (S3) or a signed URL of the app
        (embedded), valid 15 minutes; then POST /evidence/{id}/complete."""
        slot = direct.request_upload(db(), actor(), project_id, data)
        db().commit()
        url = slot["upload_url"] or url_for(
            "evidence.SignedUpload", token=slot["signed_token"], _external=True
        )
        return {"id": slot["item"].id, "upload_url": url, "method": "PUT", "expires_at": slot["expires_at"]}


@blp.route("/public/evidence-uploads/<string:token>")
class SignedUpload(MethodView):
    @blp.response(204)
    @blp.doc(security=[])
    def put(self, token: str) -> None:
        """Embedded mode's presigned PUT: the signed token is the credential (15 minutes)."""
        session = runtime().db.system_session("signed evidence upload")
        try:
            direct.receive_signed_upload(session, token, request.stream)
        finally:
            session.close()


@blp.route("/evidence/<int:evidence_id>/complete")
class Complete(MethodView):
    @blp.response(200, EvidenceSchema)
    def post(self, evidence_id: int) -> Any:
        """Verify the uploaded object's size and SHA-256 by reading it back; a mismatch deletes it (422)."""
        item = direct.complete(db(), actor(), evidence_id)
        db().commit()
        return item


@blp.route("/evidence/<int:evidence_id>")
class EvidenceById(MethodView):
    @blp.response(200, EvidenceSchema)
    def get(self, evidence_id: int) -> Any:
        """Metadata of one evidence item."""
        return service.get_evidence(db(), actor(), evidence_id)

    @blp.response(204)
    def delete(self, evidence_id: int) -> None:
        """Delete while the stage is a draft; afterwards 409 (supersede instead)."""
        service.delete(db(), actor(), evidence_id)
        db().commit()


@blp.route("/evidence/<int:evidence_id>/history")
class EvidenceHistory(MethodView):
    @blp.response(200, EvidenceSchema(many=True))
    def get(self, evidence_id: int) -> Any:
        """Every version of the item, newest first, with who, when and the hash."""
        return service.history(db(), actor(), evidence_id)


@blp.route("/evidence/<int:evidence_id>/download")
class EvidenceDownload(MethodView):
    @blp.response(200, description="the bytes (local folder)")
    @blp.alt_response(
        302,
        description="to a 5-minute presigned URL of the object (S3)",
        headers={"Location": {"description": "the presigned URL", "schema": {"type": "string"}}},
        success=True,
    )
    def get(self, evidence_id: int) -> Any:
        """Authorization first, then a 5-minute presigned URL (S3) or the stream (local folder)."""
        found = service.download(db(), actor(), evidence_id)
        db().commit()
        item = found["item"]
        if found["url"]:
            return redirect(found["url"], code=302)
        return stream_object(
            found["store"],
            item.object_key,
            filename=item.filename,
            content_type=item.content_type,
            size=item.size,
            headers={"X-Content-SHA256": item.sha256},
        )
