"""Pages of the evidence files (佐证材料, DESIGN.md §7): the 佐证材料 tab of a project with one panel
per stage — the current items, their version history, the program's required purposes with ✓/✗,
drag-and-drop upload with a progress bar — and a preview page for images and PDFs.

Reads call the service directly; the upload itself goes from evidence.js to the JSON API
(`POST /api/v1/projects/{id}/evidence`, XMLHttpRequest for the progress events), deletion to
`DELETE /api/v1/evidence/{id}`; the panel is then re-fetched from `stage_list` here.

Preview bytes come from `inline` below, a same-origin stream in both modes: the API's download
answers with a 302 to the S3 host in real mode, which the page's CSP (`img-src 'self'`) would block
in an <img>, and the app's `frame-ancestors 'none'` would block the API's bytes in an <iframe>.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, render_template, url_for
from flask_login import login_required

from jixiao.platform.web.context import actor, db
from jixiao.platform.web.extensions import talisman
from jixiao.platform.web.pages import INLINE_CSP, stream_object
from jixiao.platform.web.pages import may as _may
from jixiao.services.programs.models import STAGE_NAMES, STAGES
from jixiao.services.projects import service as project_service
from jixiao.services.projects.models import Project
from jixiao.services.projects.views import render_project_page

from . import service
from .models import PURPOSES, Evidence

bp = Blueprint("evidence_pages", __name__, url_prefix="/evidence", template_folder="templates")

PREVIEWABLE = {"application/pdf": "pdf", "image/png": "image", "image/jpeg": "image"}
DELETABLE = ("draft", "returned")


@bp.app_template_filter("filesize")
def filesize(value: int | None) -> str:
    """1536 → 1.5 KB; 2 MiB → 2.0 MB (binary units, as the limits are in MiB)."""
    if value is None:
        return "—"
    if value < 1024:
        return f"{value} B"
    if value < 1024 * 1024:
        return f"{value / 1024:.1f} KB"
    return f"{value / (1024 * 1024):.1f} MB"


def _may_write(project: Project) -> bool:
    return _may("evidence.write", project=project)  # none while viewing another tenant


def _panel(project: Project, stage: str, may_write: bool) -> dict[str, Any]:
    """Everything one stage's panel shows."""
    s = db()
    row = project.stage_row(stage)
    settings = project.program.effective_settings["evidence"]
    required = list((settings.get("required_purposes") or {}).get(stage, []))
    missing = service.missing_purposes(s, project, stage)
    items = service.list_evidence(s, actor(), project.id, stage=stage)
    open_for_upload = project.status == "active" and row.status != "locked"
    return {
        "stage": stage,
        "name": STAGE_NAMES[stage],
        "status": row.status,
        "evidence": items,
        "histories": {item.id: service.history(s, actor(), item.id) for item in items if item.version_no > 1},
        "required": [{"purpose": p, "present": p not in missing} for p in required],
        "purposes": required + [p for p in PURPOSES if p not in required],
        "default_purpose": missing[0] if missing else "",
        "may_upload": may_write and open_for_upload,
        "may_delete": may_write and row.status in DELETABLE,
        "may_replace": may_write and open_for_upload and row.status not in DELETABLE,
        "locked": row.status == "locked",
        "max_mib": int(settings["max_size_mib"]),
        "allowed_types": settings["allowed_types"],
        "previewable": PREVIEWABLE,
    }


def required_evidence(project: Project, stage: str) -> dict[str, Any]:
    """The evidence purposes the program requires for `stage` before it is submitted, each 已上传
    or not, and where to upload them (the project's 佐证材料 tab) — the submit pages show it
    (`targets/_required_evidence.html`)."""
    settings = project.program.effective_settings.get("evidence", {})
    required = list((settings.get("required_purposes") or {}).get(stage, []))
    missing = service.missing_purposes(db(), project, stage) if required else []
    return {
        "purposes": [{"purpose": p, "present": p not in missing} for p in required],
        "missing": missing,
        "url": url_for("evidence_pages.project", project_id=project.id) + f"#ev-h-{stage}",
        "may_upload": project.status == "active" and _may("evidence.write", project=project),
    }


@bp.app_template_global("evidence_beside")
def evidence_beside(project: Project, stage: str) -> dict[str, Any]:
    """One stage's evidence, read-only, for the page where that stage is reviewed or decided
    (the reviewer sees the files beside the item: DESIGN.md §7). The read policy applies."""
    return _panel(project, stage, may_write=False)


@bp.get("/projects/<int:project_id>")
@login_required
def project(project_id: int) -> Any:
    """The 佐证材料 tab: one panel per stage the project has reached (later stages listed as 未开始)."""
    proj = project_service.get_project(db(), actor(), project_id)
    service.list_evidence(db(), actor(), proj.id)  # the read policy, before anything is shown
    may_write = _may_write(proj)
    panels = [_panel(proj, stage, may_write) for stage in STAGES]
    return render_project_page("evidence/project.html", proj, "evidence", panels=panels)


@bp.get("/projects/<int:project_id>/stages/<stage>")
@login_required
def stage_list(project_id: int, stage: str) -> Any:
    """One stage's list (required purposes, items, history): evidence.js swaps it in after a change."""
    if stage not in STAGES:
        abort(404)
    proj = project_service.get_project(db(), actor(), project_id)
    return render_template("evidence/_list.html", project=proj, panel=_panel(proj, stage, _may_write(proj)))


def _item(evidence_id: int) -> tuple[Evidence, Project]:
    item = service.get_evidence(db(), actor(), evidence_id)
    proj = project_service.get_project(db(), actor(), item.project_id)  # the walls: 404 for a sibling
    return item, proj


@bp.get("/<int:evidence_id>/preview")
@login_required
def preview(evidence_id: int) -> Any:
    item, proj = _item(evidence_id)
    return render_project_page(
        "evidence/preview.html",
        proj,
        "evidence",
        item=item,
        kind=PREVIEWABLE.get(item.content_type),
        stage_name=STAGE_NAMES[item.stage],
        chain=service.history(db(), actor(), item.id),
    )


@bp.get("/<int:evidence_id>/inline")
@login_required
@talisman(content_security_policy=INLINE_CSP, frame_options="SAMEORIGIN")
def inline(evidence_id: int) -> Any:
    """The bytes of an image or PDF, streamed through the app (both modes), shown inline."""
    item, _proj = _item(evidence_id)
    if item.content_type not in PREVIEWABLE:
        abort(404)
    found = service.download(db(), actor(), evidence_id)  # audited like a download
    db().commit()
    return stream_object(
        found["store"],
        item.object_key,
        filename=item.filename,
        content_type=item.content_type,
        size=item.size,
        inline=True,
        headers={"Cache-Control": "private, no-store", "X-Content-SHA256": item.sha256},
    )
