"""The home page of every role and the tenant switcher.

The home page is the user's work queue (待办 / 已办, `jixiao.services.tasks.views`) first, with the
overview of the viewed tenant (programs, library, users, the divisions below) beside it. An
evaluator has no tenant: beside its queue is its portal — the grants it holds, live first, each
with its countdown, its actions and (while live) a link to the project behind it
(`jixiao.services.grants.views`); an empty state until a bureau grants one.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, redirect, render_template, request, session, url_for
from flask_login import login_required
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from jixiao.platform.core.errors import NotFound
from jixiao.platform.web.pages import own_path
from jixiao.services.grants import views as grant_pages
from jixiao.services.indicators.models import Indicator
from jixiao.services.programs.models import Program
from jixiao.services.tasks import views as work_queue
from jixiao.tenants import service as tenants
from jixiao.tenants.models import LEVEL_NAMES, ROLE_NAMES, EvaluatorOrg, Tenant, User

from ..context import actor, db
from ..pages import is_htmx

bp = Blueprint("home", __name__)


def viewing_tenant() -> Tenant | None:
    """The tenant the user is looking at: their own, or one below it picked in the switcher."""
    who = actor()
    s = db()
    code = session.get("view_tenant")
    if code:
        try:
            tenant = tenants.get_tenant(s, who, code)
            if tenant.id in who.readable_tenant_ids:
                return tenant
        except NotFound:
            pass
        session.pop("view_tenant", None)
    return s.get(Tenant, who.tenant_id) if who.tenant_id else None


@bp.app_context_processor
def _shell() -> dict[str, Any]:
    from flask import g

    who = g.get("actor")
    if who is None:
        return {"who": None, "role_names": ROLE_NAMES, "level_names": LEVEL_NAMES}
    viewing = viewing_tenant()
    return {
        "who": who,
        "role_names": ROLE_NAMES,
        "level_names": LEVEL_NAMES,
        "switchable_tenants": _switchable(who, viewing),
        "viewing": viewing,
    }


# Up to this many tenants in reach, the switcher lists them all; above it (a big province's
# thousands of counties) it lists the way down: the own tenant, the viewed one and those above it,
# and those right below it — pick a city, then one of its counties.
SWITCHER_LISTS_ALL = 200


def _switchable(who: Any, viewing: Tenant | None) -> list[Any]:
    if len(who.readable_tenant_ids) <= 1:
        return []
    # the three columns the switcher shows, not whole tenants: it is on every page
    stmt = tenants.visible_tenants_stmt(who).with_only_columns(Tenant.id, Tenant.code, Tenant.name)
    if len(who.readable_tenant_ids) > SWITCHER_LISTS_ALL and viewing is not None:
        stmt = stmt.where(
            or_(
                Tenant.id == who.tenant_id,
                Tenant.code.in_(viewing.path.split("/")),
                Tenant.parent_id == viewing.id,
            )
        )
    return list(db().execute(stmt).all())


@bp.get("/")
@login_required
def index() -> Any:
    who = actor()
    queue = work_queue.queue_context()
    if is_htmx(work_queue.QUEUE_TARGET):
        return work_queue.queue_fragment(queue)
    viewing = viewing_tenant()
    if viewing is None:
        # an evaluator has no tenant: its home is what its grants give it, not a tenant's counters
        org = db().get(EvaluatorOrg, who.evaluator_org_id) if who.evaluator_org_id else None
        return render_template(
            "home.html", viewing=None, org=org, grants=grant_pages.portal(), read_only=False, **queue
        )
    children = list(
        db().execute(select(Tenant).where(Tenant.parent_id == viewing.id).order_by(Tenant.code)).scalars()
    )
    return render_template(
        "home.html",
        viewing=viewing,
        children=children,
        read_only=viewing.id != who.tenant_id,
        overview=_overview(viewing),
        **queue,
    )


def _overview(viewing: Tenant) -> dict[str, Any]:
    """What the viewed tenant takes part in, seen through the walls of the current user."""
    s = db()
    programs = list(
        s.execute(
            select(Program).options(selectinload(Program.participants)).order_by(Program.start.desc())
        ).scalars()
    )
    if viewing.level != "province":
        programs = [p for p in programs if any(t.tenant_id == viewing.id for t in p.participants)]
    active = (
        select(Indicator.shared, func.count()).where(Indicator.status == "active").group_by(Indicator.shared)
    )
    indicators = {bool(shared): count for shared, count in s.execute(active).all()}
    users = s.execute(select(func.count()).select_from(User).where(User.tenant_id == viewing.id)).scalar_one()
    return {
        "programs": programs,
        "shared_indicators": indicators.get(True, 0),
        "own_indicators": indicators.get(False, 0),
        "users": users,
    }


@bp.post("/switch-tenant")
@login_required
def switch_tenant() -> Any:
    who = actor()
    code = (request.form.get("code") or "").strip()
    if not code or code == who.tenant_code:
        session.pop("view_tenant", None)
    else:
        tenant = tenants.get_tenant(db(), who, code)
        if tenant.id not in who.readable_tenant_ids:
            abort(404)
        session["view_tenant"] = code
    return redirect(own_path(request.form.get("next")) or url_for("home.index"))
