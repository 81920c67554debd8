"""Pages of the pilot projects (试点项目, DESIGN.md §5, §6): the list of a tenant (and, read-only, of
its subtree), the create form, and a project's overview page with its stage stepper.

Also what every tab of a project shares: `render_project_page` (the header with the stepper,
the countdown and the tabs), the `money` filter and the `project_labels` template global. The
stages themselves come from the stage registry (`projects.stages`): each stage capability says in
its own `stage.py` what its stepper link, tabs, print links and overview card are; this module
imports none of them. The tabs live beside their capability and import from here, never the other
way round.

Thin like every handler: parse the form, call the services, re-render with the services' own
Chinese messages — by field on 422, as an alert on 403/409.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import login_required
from sqlalchemy import select
from werkzeug.routing import BuildError

from jixiao.platform.core.authz import authorize
from jixiao.platform.core.errors import Conflict, ValidationFailed
from jixiao.platform.web.context import actor, db
from jixiao.platform.web.pages import is_htmx as _htmx
from jixiao.platform.web.pages import may as _may
from jixiao.services.programs.models import STAGE_NAMES, STAGES, Program, ProgramTenant
from jixiao.services.programs.views import province_today

from . import service, stages
from .models import FUND_SOURCES, PROJECT_CLASSES, STAGE_STATUS_NAMES, Project

bp = Blueprint("projects_pages", __name__, url_prefix="/projects", template_folder="templates")

PAGE_SIZE = 50


@bp.app_template_filter("money")
def money(value: Any) -> str:
    """Yuan with thousands separators and two decimals: 1,250,000.00."""
    if value is None or value == "":
        return "—"
    return f"{Decimal(str(value)):,.2f}"


@bp.app_template_global("project_labels")
def _labels() -> dict[str, Any]:
    return {"stage": STAGE_NAMES, "stage_status": STAGE_STATUS_NAMES, **stages.labels()}


# --- stages, deadlines ---------------------------------------------------------------------------


def _stage_link(project: Project, stage: str, state: str) -> str | None:
    plugin = stages.plugin(stage)
    if plugin is None or state == "locked":
        return None
    endpoint = plugin.page
    try:
        return url_for(endpoint, project_id=project.id)
    except BuildError:
        return None


def _stages(project: Project, today: date) -> list[dict[str, Any]]:
    """Each stage as the stepper shows it: done / current / locked / closed, its deadline (overdue
    only for the current one), a link to its page, and for a locked one what opens it."""
    rows = []
    for index, row in enumerate(project.stages):
        deadline = service.stage_deadline(project, row.stage)
        if row.status == "closed":
            state = "closed"
        elif row.status == "approved":
            state = "done"
        elif row.stage == project.stage and project.status == "active":
            state = "current"
        else:
            state = "locked"
        rows.append(
            {
                "stage": row.stage,
                "name": STAGE_NAMES[row.stage],
                "status": row.status,
                "status_name": STAGE_STATUS_NAMES[row.status],
                "state": state,
                "deadline": deadline,
                "overdue": service.is_overdue(project, row, today),
                "approved_at": row.approved_at,
                "link": _stage_link(project, row.stage, state),
                "opens_when": (
                    f"{STAGE_NAMES[STAGES[index - 1]]}通过后开启" if state == "locked" and index else None
                ),
            }
        )
    return rows


def _countdown(project: Project, today: date) -> dict[str, Any] | None:
    """剩余 N 天 / 已逾期 N 天 for the current stage (None when closed or without a deadline)."""
    if project.status != "active":
        return None
    row = project.stage_row(project.stage)
    deadline = service.stage_deadline(project, project.stage)
    if deadline is None or row.status in ("approved", "closed"):
        return None
    days = (deadline - today).days
    if days < 0:
        return {"overdue": True, "days": -days, "deadline": deadline, "text": f"已逾期 {-days} 天"}
    return {
        "overdue": False,
        "days": days,
        "deadline": deadline,
        "text": "今天截止" if days == 0 else f"剩余 {days} 天",
    }


def _tabs(project: Project, kind: str) -> list[dict[str, Any]]:
    """The tabs (or print links) of the registered stages, each open once its stage is."""
    found = []
    for plugin in stages.plugins():
        for t in plugin.tabs if kind == "tabs" else plugin.prints:
            found.append(
                {
                    "key": t.key,
                    "label": t.label,
                    "endpoint": t.endpoint,
                    "icon": t.icon,
                    "open": project.stage_row(t.stage).status != "locked",
                    "opens_when": f"{STAGE_NAMES[t.stage]}阶段开启后可用",
                }
            )
    return found


def render_project_page(template: str, project: Project, tab: str, status: int = 200, **context: Any) -> Any:
    """A project's page: the header with the stepper and tabs, then `template`'s own content."""
    who = actor()
    today = province_today()
    return render_template(
        template,
        project=project,
        tab=tab,
        stage_tabs=_tabs(project, "tabs"),
        print_links=_tabs(project, "prints"),
        stages=_stages(project, today),
        countdown=_countdown(project, today),
        read_only=project.tenant_id != who.tenant_id,
        can_write=_may("projects.write", project=project),
        **context,
    ), status


# --- the list ----------------------------------------------------------------------------------


def _visible_programs() -> list[Program]:
    return list(db().execute(select(Program).order_by(Program.start.desc(), Program.id.desc())).scalars())


def _own_programs() -> list[Program]:
    """Programs the caller's own tenant takes part in and that have not ended (the only ones it
    may file projects under)."""
    who = actor()
    if who.tenant_id is None:
        return []
    taking_part = select(ProgramTenant.program_id).where(ProgramTenant.tenant_id == who.tenant_id)
    running = select(Program).where(Program.id.in_(taking_part), Program.end >= province_today())
    return list(db().execute(running.order_by(Program.start.desc())).scalars())


@bp.get("/")
@login_required
def index() -> Any:
    who = actor()
    program_id = request.args.get("program", type=int)
    stage = request.args.get("stage", "")
    if stage not in STAGES:
        stage = ""
    page_no = max(request.args.get("page", 1, type=int) or 1, 1)
    results = service.list_projects(
        db(), who, program_id=program_id, stage=stage or None, page=page_no, page_size=PAGE_SIZE
    )
    today = province_today()
    query: dict[str, Any] = {k: v for k, v in {"program": program_id, "stage": stage}.items() if v}
    context = {
        "results": results,
        "rows": [
            {"p": p, "stages": _stages(p, today), "countdown": _countdown(p, today)} for p in results.items
        ],
        "pages": max((results.total + PAGE_SIZE - 1) // PAGE_SIZE, 1),
        "query": query,
        "show_tenant": len(who.readable_tenant_ids) > 1,
        "own_tenant_id": who.tenant_id,
    }
    if _htmx("jx-projects"):
        response = render_template("projects/_list.html", **context)
        pushed: dict[str, Any] = {**query, **({"page": page_no} if page_no > 1 else {})}
        return response, 200, {"HX-Push-Url": url_for(".index", **pushed)}
    return render_template(
        "projects/index.html",
        programs=_visible_programs(),
        program_id=program_id,
        stage=stage,
        can_create=bool(who.tenant_id) and _may("projects.write") and bool(_own_programs()),
        **context,
    )


# --- create ------------------------------------------------------------------------------------

PROJECT_FIELDS = ("name", "department", "implementing_unit", "budget_amount", "fund_source", "project_class")


def _years(programs: list[Program]) -> list[int]:
    if not programs:
        return [province_today().year]
    return list(range(min(p.start.year for p in programs), max(p.end.year for p in programs) + 1))


def _new_form(form: dict[str, Any], errors: dict[str, Any], conflict: str | None, status: int) -> Any:
    programs = _own_programs()
    return render_template(
        "projects/new.html",
        form=form,
        errors=errors,
        conflict=conflict,
        programs=programs,
        years=_years(programs),
        fund_sources=FUND_SOURCES,
        project_classes=PROJECT_CLASSES,
    ), status


@bp.route("/new", methods=["GET", "POST"])
@login_required
def create() -> Any:
    who = actor()
    authorize(who, "projects.write")
    if request.method == "GET":
        programs = _own_programs()
        this_year = province_today().year
        form: dict[str, Any] = dict.fromkeys(PROJECT_FIELDS, "") | {
            "program_id": request.args.get("program", type=int) or (programs[0].id if programs else None),
            "start_year": this_year,
            "end_year": this_year,
            "serves_public": True,
        }
        return _new_form(form, {}, None, 200)
    f = request.form
    form = {key: f.get(key, "").strip() for key in PROJECT_FIELDS}
    form["program_id"] = f.get("program_id", type=int)
    form["start_year"] = f.get("start_year", type=int)
    form["end_year"] = f.get("end_year", type=int)
    form["serves_public"] = f.get("serves_public") == "1"
    errors: dict[str, list[str]] = {}
    start, end = form["start_year"], form["end_year"]
    years: list[Any] = []
    if start and end:
        if not (2000 <= start <= 2100 and 2000 <= end <= 2100):
            errors["years"] = ["实施年度须在 2000–2100 年之间"]
        elif end < start:
            errors["years"] = ["结束年度不能早于开始年度"]
        else:
            years = list(range(start, end + 1))
    own = {p.id: p for p in _own_programs()}
    if form["program_id"] not in own:
        errors["program_id"] = ["请选择本地区参与、尚未结束的试点"]
    data = {
        **{k: form[k] for k in PROJECT_FIELDS},
        "program_id": form["program_id"],
        "years": years,
        "serves_public": form["serves_public"],
    }
    s = db()
    if errors:  # the page's own problems, together with every problem of the fields
        problems = service.project_problems(s, who, data, own.get(form["program_id"]))
        if "years" in errors:
            problems.pop("years", None)
        return _new_form(form, {**problems, **errors}, None, 422)
    try:
        project = service.create_project(s, who, data, province_today())
        s.commit()
    except ValidationFailed as exc:
        s.rollback()
        return _new_form(form, exc.errors, None, 422)
    except Conflict as exc:  # the per-tenant limit, or a program the tenant does not take part in
        s.rollback()
        return _new_form(form, {}, exc.message, 409)
    flash(f"已新建项目「{project.name}」，请先填写事前绩效评估", "success")
    return redirect(url_for(".detail", project_id=project.id))


# --- a project ---------------------------------------------------------------------------------


@bp.get("/<int:project_id>")
@login_required
def detail(project_id: int) -> Any:
    project = service.get_project(db(), actor(), project_id)
    # the card of the stage the project is at (of the last stage reached, once it has ended)
    plugin = stages.plugin(project.stage)
    context: dict[str, Any] = {}
    if plugin is not None and plugin.panel:
        context = stages.resolve(plugin.panel_context)(project) if plugin.panel_context else {}
        context["panel_template"] = plugin.panel
    asides = []
    for other in stages.plugins():
        if other.aside and other.aside_context:
            found = stages.resolve(other.aside_context)(project)
            if found is not None:
                asides.append((other.aside, found))
    return render_project_page("projects/detail.html", project, "overview", asides=asides, **context)
