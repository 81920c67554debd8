"""Pages of the third-party grants (第三方授权, issue 13 item 7): the 第三方授权 tab of a project — its
grants with their state, for the bureau admin of the project's tenant the 「授权第三方机构」 dialog and
a 「撤销」 per live grant — and the evaluator's portal (its grants, live first, with the projects behind
them: on its home page and on 「我的授权」).

Thin like every handler: the form is read through the API's own schemas, then `service.grant` /
`service.revoke` decide; a refused form comes back as typed, each problem beside its field (422).
An evaluator never sees a project's grants page (its own grants are on its portal)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import login_required
from marshmallow import ValidationError
from sqlalchemy import select

from jixiao.platform.core.authz import authorize
from jixiao.platform.core.db import utcnow
from jixiao.platform.core.errors import Conflict, NotFound, ValidationFailed
from jixiao.platform.web.context import actor, db, runtime
from jixiao.platform.web.pages import may
from jixiao.services.programs.views import province_today
from jixiao.services.projects import service as project_service
from jixiao.services.projects.models import Project
from jixiao.services.projects.views import render_project_page
from jixiao.tenants import evaluators
from jixiao.tenants.models import User

from . import service
from .models import ACTIONS, Grant
from .schemas import GrantCreateSchema, GrantRevokeSchema

bp = Blueprint("grants_pages", __name__, template_folder="templates")

STATUS_NAMES = {"active": "有效", "expired": "已到期", "revoked": "已撤销"}
DEFAULT_DAYS = 30  # the default expiry when the program sets no evaluation deadline ahead
USERS_TARGET = "grant-users"


# --- what a grant looks like on a page -----------------------------------------------------------


def _zone() -> ZoneInfo:
    return ZoneInfo(runtime().settings.timezone)


def _user_names(grants: list[Grant]) -> dict[int, str]:
    """The display names of the users named on these grants — one explicit crossing of the walls
    (an evaluator's users belong to no tenant), limited to grants the caller already reads."""
    ids = {uid for g in grants for uid in (g.user_ids or [])}
    if not ids:
        return {}
    rows = db().execute(
        select(User.id, User.display_name, User.username)
        .where(User.id.in_(ids))
        .execution_options(all_tenants=True)
    )
    return {uid: f"{name}（{username}）" for uid, name, username in rows}


def row(grant: Grant, names: dict[int, str], now: datetime, today: date) -> dict[str, Any]:
    """A grant as the pages show it: its state (有效 / 已到期 / 已撤销), the local expiry, the
    countdown (剩余 N 天), who it names (全机构 or users), the granted actions in Chinese."""
    status = "revoked" if grant.revoked_at is not None else "active" if grant.live(now) else "expired"
    expiry = grant.expires_at.astimezone(_zone())
    days = (expiry.date() - today).days
    if status == "active":
        countdown = "今天到期" if days <= 0 else f"剩余 {days} 天"
    else:
        countdown = STATUS_NAMES[status]
    return {
        "grant": grant,
        "status": status,
        "status_name": STATUS_NAMES[status],
        "countdown": countdown,
        "days": days,
        "soon": status == "active" and days <= 7,
        "users": [names.get(uid, f"用户 {uid}") for uid in grant.user_ids or []],
        "actions": [ACTIONS[a] for a in ACTIONS if a == "read" or a in (grant.actions or [])],
    }


def rows_of(grants: list[Grant]) -> list[dict[str, Any]]:
    """Live grants first (the soonest to expire first), then the others, newest first."""
    now, today, names = utcnow(), province_today(), _user_names(grants)
    found = [row(g, names, now, today) for g in grants]
    live = sorted((r for r in found if r["status"] == "active"), key=lambda r: r["grant"].expires_at)
    return live + [r for r in found if r["status"] != "active"]


def portal() -> list[dict[str, Any]]:
    """The evaluator's grants for its home page and 「我的授权」."""
    return rows_of(service.listing(db(), actor()))


# --- the project's tab ---------------------------------------------------------------------------


def _latest(project: Project) -> date:
    """The latest expiry the service accepts: a year past the program's end (local date)."""
    end = project.program.end
    return end + timedelta(days=365) if (end.month, end.day) == (2, 29) else end.replace(year=end.year + 1)


def _default_expiry(project: Project, today: date) -> date:
    """The program's evaluation deadline when it is ahead, else 30 days from today (never past the
    latest allowed)."""
    raw = (project.program.deadlines or {}).get("evaluation")
    deadline = date.fromisoformat(raw) if raw else None
    chosen = deadline if deadline and deadline >= today else today + timedelta(days=DEFAULT_DAYS)
    return min(chosen, _latest(project))


def members(org_id: int | None) -> list[tuple[int, str]]:
    """The active users of an evaluator organisation (to name some of them on a grant) — across
    the walls on purpose, like the service's own check of `user_ids`; only ever after
    `grants.write` was authorized on a project."""
    if not org_id:
        return []
    rows = db().execute(
        select(User.id, User.display_name, User.username)
        .where(User.evaluator_org_id == org_id, User.is_active.is_(True))
        .order_by(User.username)
        .execution_options(all_tenants=True)
    )
    return [(uid, f"{name}（{username}）") for uid, name, username in rows]


def _load_project(project_id: int) -> Project:
    """The project behind the walls (404 sibling, 403 with the reason for a lapsed grant); an
    evaluator has no grants page (its grants are on its portal)."""
    who = actor()
    project = project_service.get_project(db(), who, project_id)
    if who.is_evaluator:
        raise NotFound(f"项目 {project_id} 的第三方授权页面不存在；本机构的授权见「我的授权」")
    return project


def _page(
    project: Project,
    *,
    form: dict[str, Any] | None = None,
    errors: dict[str, list[str]] | None = None,
    alert: str | None = None,
    status: int = 200,
) -> Any:
    s, who = db(), actor()
    grants = service.of_project(s, who, project.id)
    can_grant = may("grants.write", project=project)
    today = province_today()
    context: dict[str, Any] = {"rows": rows_of(grants), "can_grant": can_grant, "alert": alert}
    if can_grant:
        form = form or {
            "evaluator_org_id": None,
            "user_ids": [],
            "actions": ["read"],
            "expires_at": _default_expiry(project, today).isoformat(),
        }
        context.update(
            orgs=evaluators.list_evaluator_orgs(s, who, page_size=200).items,
            members=members(form["evaluator_org_id"]),
            form=form,
            errors=errors or {},
            actions=ACTIONS,
            min_date=(today + timedelta(days=1)).isoformat(),
            max_date=_latest(project).isoformat(),
            open_dialog=bool(errors),
        )
    return render_project_page("grants/project.html", project, "grants", status=status, **context)


@bp.get("/projects/<int:project_id>/grants")
@login_required
def project(project_id: int) -> Any:
    return _page(_load_project(project_id))


@bp.get("/projects/<int:project_id>/grants/users")
@login_required
def users(project_id: int) -> Any:
    """The users of the chosen organisation as optional checkboxes (htmx, when the org changes)."""
    proj = _load_project(project_id)
    authorize(actor(), "grants.write", project=proj)
    org_id = request.args.get("evaluator_org_id", type=int)
    return render_template("grants/_users.html", members=members(org_id), chosen=[], org_id=org_id)


def _form() -> dict[str, Any]:
    f = request.form
    return {
        "evaluator_org_id": f.get("evaluator_org_id", type=int),
        "user_ids": [int(v) for v in f.getlist("user_ids") if v.isdigit()],
        "actions": list(dict.fromkeys(["read", *f.getlist("actions")])),  # read is always implied
        "expires_at": (f.get("expires_at") or "").strip(),
    }


@bp.post("/projects/<int:project_id>/grants")
@login_required
def create(project_id: int) -> Any:
    s, who = db(), actor()
    proj = _load_project(project_id)
    authorize(who, "grants.write", project=proj)  # 403 before any word about the fields
    form = _form()
    raw = {k: v for k, v in form.items() if v not in (None, "")}
    errors: dict[str, list[str]] = {}
    try:
        data = GrantCreateSchema().load(raw)
    except ValidationError as exc:
        errors = {str(k): list(v) for k, v in exc.messages.items()}  # type: ignore[union-attr]
        data = dict(exc.valid_data or {})
    if form["evaluator_org_id"] is None:
        errors["evaluator_org_id"] = ["请选择第三方机构"]
    if not form["expires_at"]:
        errors["expires_at"] = ["请填写授权截止日期"]
    zone = runtime().settings.timezone
    if errors:  # together with every problem the service finds in what could be read
        expiry = data.get("expires_at")
        found, _org = service.problems(
            s, proj, data, service.expiry_of(expiry, zone) if expiry else None, utcnow(), zone
        )
        return _page(proj, form=form, errors={**found, **errors}, status=422)
    try:
        made = service.grant(s, who, proj.id, data, zone)
        s.commit()
    except ValidationFailed as exc:
        s.rollback()
        return _page(proj, form=form, errors=exc.errors, status=422)
    local = made.expires_at.astimezone(_zone()).strftime("%Y-%m-%d %H:%M")
    flash(f"已授权「{made.org.name}」，有效期至 {local}", "success")
    return redirect(url_for(".project", project_id=proj.id), code=303)


@bp.post("/projects/<int:project_id>/grants/<int:grant_id>/revoke")
@login_required
def revoke(project_id: int, grant_id: int) -> Any:
    s, who = db(), actor()
    proj = _load_project(project_id)
    try:
        data = GrantRevokeSchema().load({"reason": request.form.get("reason", "")})
    except ValidationError as exc:
        problems = "；".join(str(m) for ms in exc.messages.values() for m in ms)  # type: ignore[union-attr]
        authorize(who, "grants.write", project=proj)
        return _page(proj, alert=f"撤销原因：{problems}", status=422)
    try:
        done = service.revoke(s, who, proj.id, grant_id, data.get("reason"))
        s.commit()
    except Conflict as exc:
        s.rollback()
        return _page(proj, alert=exc.message, status=409)
    flash(f"已撤销「{done.org.name}」的授权，该机构即时失去对本项目的访问", "success")
    return redirect(url_for(".project", project_id=proj.id), code=303)


# --- the evaluator's portal -------------------------------------------------------------------


@bp.get("/grants/")
@login_required
def mine() -> Any:
    """「我的授权」: an evaluator's grants (every one it ever held); a tenant's user the grants of
    its subtree (the province: all)."""
    return render_template("grants/mine.html", rows=portal())
