"""Pages of the pilot programs (试点): the list, the create form of the province, and a program's
detail with its participants and effective settings (DESIGN.md §5, §9).

Thin like every handler: parse the form, call the service, re-render with the service's own
Chinese messages by field on 422.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import login_required
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from jixiao.platform.core.authz import authorize
from jixiao.platform.core.errors import ValidationFailed
from jixiao.platform.web.context import actor, db, runtime
from jixiao.platform.web.pages import may as _may
from jixiao.services.projects.models import Project
from jixiao.tenants.models import Tenant

from . import service
from .models import DEFAULT_SETTINGS, STAGE_NAMES, STAGES, Program

bp = Blueprint("programs_pages", __name__, url_prefix="/programs", template_folder="templates")


def province_today() -> date:
    """Today in the province's time zone (deadlines are calendar dates there)."""
    return datetime.now(ZoneInfo(runtime().settings.timezone)).date()


@bp.app_template_global("stage_names")
def _stage_names() -> dict[str, str]:
    return STAGE_NAMES


def _province_tree() -> list[dict[str, Any]]:
    """The cities of the caller's province with their counties, for the participants' checkboxes."""
    who = actor()
    s = db()
    province = s.get(Tenant, who.tenant_id) if who.tenant_id else None
    if province is None:
        return []
    below = list(
        s.execute(
            select(Tenant)
            .where(Tenant.path.startswith(province.path + "/"), Tenant.is_active.is_(True))
            .order_by(Tenant.code)
        ).scalars()
    )
    cities = [t for t in below if t.level == "city"]
    return [{"city": c, "counties": [t for t in below if t.parent_id == c.id]} for c in cities]


def _parse_date(raw: str, field: str, label: str, errors: dict[str, list[str]]) -> date | None:
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        errors.setdefault(field, []).append(f"{label}「{raw}」不是有效日期")
        return None


def _form_page(form: dict[str, Any], errors: dict[str, Any], status: int = 200) -> Any:
    return render_template(
        "programs/form.html", form=form, errors=errors, tree=_province_tree(), stages=STAGES
    ), status


@bp.get("/")
@login_required
def index() -> Any:
    s = db()
    page = service.list_programs(s, actor(), page_size=200)
    ids = [p.id for p in page.items]
    counts: dict[int, int] = {}
    if ids:
        counts = dict(
            s.execute(
                select(Project.program_id, func.count())
                .where(Project.program_id.in_(ids))
                .group_by(Project.program_id)
            ).all()
        )
    return render_template(
        "programs/index.html",
        programs=page.items,
        counts=counts,
        can_write=_may("programs.write"),
        today=province_today(),
    )


@bp.route("/new", methods=["GET", "POST"])
@login_required
def create() -> Any:
    who = actor()
    authorize(who, "programs.write")
    if request.method == "GET":
        form: dict[str, Any] = {
            "name": "",
            "start": "",
            "end": "",
            "tenant_codes": [],
            "max_projects_per_tenant": str(DEFAULT_SETTINGS["max_projects_per_tenant"]),
            "deadlines": {},
        }
        return _form_page(form, {})
    f = request.form
    form = {
        "name": f.get("name", ""),
        "start": f.get("start", ""),
        "end": f.get("end", ""),
        "tenant_codes": f.getlist("tenant_codes"),
        "max_projects_per_tenant": f.get("max_projects_per_tenant", ""),
        "deadlines": {stage: f.get(f"deadline_{stage}", "") for stage in STAGES},
    }
    errors: dict[str, list[str]] = {}
    start = _parse_date(form["start"], "start", "开始日期", errors)
    end = _parse_date(form["end"], "end", "结束日期", errors)
    if start is None and "start" not in errors:
        errors["start"] = ["请填写试点开始日期"]
    if end is None and "end" not in errors:
        errors["end"] = ["请填写试点结束日期"]
    deadlines: dict[str, date] = {}
    for stage in STAGES:
        value = _parse_date(form["deadlines"][stage], f"deadline_{stage}", "截止日期", errors)
        if value is not None:
            deadlines[stage] = value
    raw_limit = str(form["max_projects_per_tenant"]).strip()
    limit: Any = int(raw_limit) if raw_limit.isdigit() else raw_limit or None
    data = {
        "name": form["name"],
        "start": start,
        "end": end,
        "tenant_codes": form["tenant_codes"],
        "max_projects_per_tenant": limit if limit is not None else 2,
        "deadlines": deadlines,
    }
    s = db()
    if errors:  # the page's own date problems, together with every problem the service finds
        nested = s.begin_nested()
        try:
            service.create_program(s, who, data)
        except ValidationFailed as exc:
            errors = {**exc.errors, **errors}
        except IntegrityError:  # the missing dates themselves: their messages are already there
            pass
        finally:
            nested.rollback()
        s.rollback()
        return _form_page(form, errors, 422)
    try:
        program = service.create_program(s, who, data)
        s.commit()
    except ValidationFailed as exc:
        s.rollback()
        return _form_page(form, exc.errors, 422)
    flash(f"已设立试点「{program.name}」，{len(program.participants)} 个地区参与", "success")
    return redirect(url_for(".detail", program_id=program.id))


def _settings_view(settings: dict[str, Any]) -> list[tuple[str, list[tuple[str, str]]]]:
    """The effective settings as an official reads them: groups of (label, value)."""
    m = settings.get("monitoring", {})
    se = settings.get("self_evaluation", {})
    ev = settings.get("evidence", {})
    points = se.get("indicator_points", {})
    required = ev.get("required_purposes", {}) or {}
    midpoints = se.get("qualitative_midpoints", {})
    return [
        (
            "绩效目标",
            [
                ("指标权重合计", f"{settings.get('target_weights_total')}"),
            ],
        ),
        (
            "跟踪监控预警阈值",
            [
                ("目标完成率 · 绿色", f"≥ {m.get('completion_green')}%"),
                ("目标完成率 · 黄色", f"{m.get('completion_yellow')}%–{m.get('completion_green')}%"),
                ("目标完成率 · 红色", f"< {m.get('completion_yellow')}%"),
                ("预算执行率落后序时进度 · 黄色", f"超过 {m.get('budget_lag_yellow')} 个百分点"),
                ("预算执行率落后序时进度 · 红色", f"超过 {m.get('budget_lag_red')} 个百分点"),
            ],
        ),
        (
            "自评计分权重",
            [
                ("预算执行", f"{se.get('budget_points')} 分"),
                *[(f"{k}指标", f"{v} 分") for k, v in points.items()],
                ("成本指标计入", f"{se.get('cost_counts_in')}指标分值"),
                (
                    "定性指标默认得分率",
                    "，".join(
                        f"{label} {midpoints.get(key)}%"
                        for key, label in (
                            ("achieved", "达成"),
                            ("partly", "部分达成"),
                            ("not_achieved", "未达成"),
                        )
                        if key in midpoints
                    ),
                ),
            ],
        ),
        (
            "佐证材料要求",
            [
                ("单个文件大小上限", f"{ev.get('max_size_mib')} MiB"),
                ("允许的文件类型", "、".join(ev.get("allowed_types", []))),
                *[
                    (f"{STAGE_NAMES.get(stage, stage)}阶段必备材料", "、".join(purposes))
                    for stage, purposes in required.items()
                ],
                *([] if required else [("各阶段必备材料", "未作要求")]),
            ],
        ),
    ]


@bp.get("/<int:program_id>")
@login_required
def detail(program_id: int) -> Any:
    who = actor()
    s = db()
    program: Program = service.get_program(s, who, program_id)
    participants = sorted((p.tenant for p in program.participants), key=lambda t: t.code)
    by_city: dict[int, list[Tenant]] = {}
    cities: dict[int, Tenant] = {}
    for tenant in participants:
        if tenant.level == "city":
            cities[tenant.id] = tenant
            by_city.setdefault(tenant.id, [])
    for tenant in participants:
        if tenant.level == "county" and tenant.parent_id is not None:
            by_city.setdefault(tenant.parent_id, []).append(tenant)
            if tenant.parent_id not in cities and tenant.parent is not None:
                cities[tenant.parent_id] = tenant.parent
    groups = [
        {"city": cities[cid], "taking_part": any(p.id == cid for p in participants), "counties": by_city[cid]}
        for cid in sorted(by_city, key=lambda i: cities[i].code)
    ]
    counts = dict(
        s.execute(
            select(Project.tenant_id, func.count())
            .where(Project.program_id == program.id)
            .group_by(Project.tenant_id)
        ).all()
    )
    deadlines = [
        (stage, date.fromisoformat(program.deadlines[stage]) if program.deadlines.get(stage) else None)
        for stage in STAGES
    ]
    return render_template(
        "programs/detail.html",
        p=program,
        groups=groups,
        participant_count=len(participants),
        counts=counts,
        deadlines=deadlines,
        settings=_settings_view(program.effective_settings),
        today=province_today(),
        takes_part=who.tenant_id in {t.id for t in participants},
    )
