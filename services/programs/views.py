"""Pages of the pilot programs (试点): the list, the create form of the province, and a program's
detail with its participants and effective settings (DESIGN.md §5, §9).

Thin like every handler: parse the form, call the service, re-render with the service's own
Chinese messages by field on 422.
"""

from __future__ import annotations

import copy
import re
from datetime import date
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import login_required
from sqlalchemy import func, select

from jixiao.platform.core.authz import authorize
from jixiao.platform.core.clock import today_in
from jixiao.platform.core.errors import StaleVersion, ValidationFailed
from jixiao.platform.web.context import actor, db, runtime
from jixiao.platform.web.pages import may as _may
from jixiao.services.projects.models import Project
from jixiao.tenants.models import Tenant

from . import service
from .models import DEADLINE_NAMES, DEFAULT_SETTINGS, STAGE_NAMES, Program

bp = Blueprint("programs_pages", __name__, url_prefix="/programs", template_folder="templates")


def province_today() -> date:
    """Today in the province's time zone (deadlines are calendar dates there)."""
    return today_in(runtime().settings.timezone)


@bp.app_template_global("stage_names")
def _stage_names() -> dict[str, str]:
    """The stages' names, and the pilot report's (a program's deadlines take both)."""
    return DEADLINE_NAMES


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


def _form_page(
    form: dict[str, Any],
    errors: dict[str, Any],
    status: int = 200,
    *,
    program: Program | None = None,
    locked: set[str] | None = None,
) -> Any:
    """The program form: new, or editing `program` (`locked`: participants that have projects)."""
    return render_template(
        "programs/form.html",
        form=form,
        errors=errors,
        tree=_province_tree(),
        stages=list(DEADLINE_NAMES),
        setting_fields=SETTING_FIELDS,
        program=program,
        locked=locked or set(),
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


# The settings the form edits: (field, path in the settings, label, unit). Others stay as they are.
SETTING_FIELDS: tuple[tuple[str, tuple[str, ...], str, str], ...] = (
    ("s_weights_total", ("target_weights_total",), "指标权重合计", ""),
    ("s_max_lines", ("max_target_lines",), "绩效指标个数上限", "个"),
    ("s_completion_green", ("monitoring", "completion_green"), "完成率绿色下限", "%"),
    ("s_completion_yellow", ("monitoring", "completion_yellow"), "完成率黄色下限", "%"),
    ("s_budget_lag_yellow", ("monitoring", "budget_lag_yellow"), "执行率落后序时进度 · 黄色", "个百分点"),
    ("s_budget_lag_red", ("monitoring", "budget_lag_red"), "执行率落后序时进度 · 红色", "个百分点"),
    ("s_evidence_max", ("evidence", "max_size_mib"), "佐证材料单个文件上限", "MiB"),
    ("s_min_tenants", ("suggestions", "min_tenants"), "目标值参考最少地区数", "个"),
)


def _setting(settings: dict[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = settings
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    return value


def _settings_form(settings: dict[str, Any]) -> dict[str, str]:
    """The editable settings as the form shows them (the effective values)."""
    form = {field: str(_setting(settings, path) or "") for field, path, _label, _unit in SETTING_FIELDS}
    form["s_reminder_days"] = "、".join(str(d) for d in settings.get("reminders", {}).get("days_before", []))
    required = settings.get("evidence", {}).get("required_purposes", {}) or {}
    form["s_required_targets"] = "、".join(required.get("targets", []))
    form["s_required_assessment"] = "、".join(required.get("assessment", []))
    return form


def _split(text: str) -> list[str]:
    return [part.strip() for part in re.split(r"[、,，;；\s]+", text or "") if part.strip()]


def _posted_settings(base: dict[str, Any], errors: dict[str, list[str]]) -> dict[str, Any]:
    """The program's settings overrides with the form's values laid over them."""
    settings = copy.deepcopy(base)
    f = request.form
    for field, path, label, _unit in SETTING_FIELDS:
        raw = (f.get(field) or "").strip()
        if not raw.isdigit() or int(raw) <= 0:
            errors.setdefault(field, []).append(f"{label}须为正整数")
            continue
        node = settings
        for key in path[:-1]:
            node = node.setdefault(key, {})
        node[path[-1]] = int(raw)
    days = _split(f.get("s_reminder_days", ""))
    if not all(d.isdigit() for d in days):
        errors.setdefault("s_reminder_days", []).append("提醒天数须为非负整数，多个用顿号分隔，如 7、3、1")
    else:
        settings.setdefault("reminders", {})["days_before"] = sorted({int(d) for d in days}, reverse=True)
    required = settings.setdefault("evidence", {}).setdefault("required_purposes", {})
    for stage in ("assessment", "targets"):
        purposes = _split(f.get(f"s_required_{stage}", ""))
        if any(len(p) > 40 for p in purposes):
            errors.setdefault(f"s_required_{stage}", []).append("每项材料用途不能超过 40 个字")
        if purposes:
            required[stage] = purposes
        else:
            required.pop(stage, None)
    return settings


def _blank_form() -> dict[str, Any]:
    return {
        "name": "",
        "start": "",
        "end": "",
        "tenant_codes": [],
        "max_projects_per_tenant": str(DEFAULT_SETTINGS["max_projects_per_tenant"]),
        "deadlines": {},
        **_settings_form(DEFAULT_SETTINGS),
    }


def _program_form(program: Program) -> dict[str, Any]:
    return {
        "name": program.name,
        "start": program.start.isoformat(),
        "end": program.end.isoformat(),
        "tenant_codes": [p.tenant.code for p in program.participants],
        "max_projects_per_tenant": str(program.max_projects_per_tenant),
        "deadlines": dict(program.deadlines or {}),
        "version": program.version,
        **_settings_form(program.effective_settings),
    }


def _posted(base_settings: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any], dict[str, list[str]]]:
    """The posted form as typed (to show again) and as the service's data, with the page's own
    problems (dates that are not dates, missing dates)."""
    f = request.form
    form: dict[str, Any] = {
        "name": f.get("name", ""),
        "start": f.get("start", ""),
        "end": f.get("end", ""),
        "tenant_codes": f.getlist("tenant_codes"),
        "max_projects_per_tenant": f.get("max_projects_per_tenant", ""),
        "deadlines": {stage: f.get(f"deadline_{stage}", "") for stage in DEADLINE_NAMES},
        "version": f.get("version", type=int),
        **{key: f.get(key, "") for key in _settings_form({})},
    }
    errors: dict[str, list[str]] = {}
    start = _parse_date(form["start"], "start", "开始日期", errors)
    end = _parse_date(form["end"], "end", "结束日期", errors)
    deadlines: dict[str, date] = {}
    for stage in DEADLINE_NAMES:
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
        "settings": _posted_settings(base_settings, errors),
    }
    return form, data, errors


@bp.route("/new", methods=["GET", "POST"])
@login_required
def create() -> Any:
    who = actor()
    authorize(who, "programs.write")
    if request.method == "GET":
        return _form_page(_blank_form(), {})
    form, data, errors = _posted({})
    s = db()
    try:
        program = service.create_program(s, who, data)
        if errors:
            raise ValidationFailed("", errors={})
        s.commit()
    except ValidationFailed as exc:  # the service's problems and the page's own, in one answer
        s.rollback()
        return _form_page(form, {**exc.errors, **errors}, 422)
    flash(f"已设立试点「{program.name}」，{len(program.participants)} 个地区参与", "success")
    return redirect(url_for(".detail", program_id=program.id))


@bp.route("/<int:program_id>/edit", methods=["GET", "POST"])
@login_required
def edit(program_id: int) -> Any:
    who = actor()
    s = db()
    program = service.get_program(s, who, program_id)
    authorize(who, "programs.write")
    with_projects = {t.code for t in service._tenants_with_projects(s, program.id)}
    if request.method == "GET":
        return _form_page(_program_form(program), {}, program=program, locked=with_projects)
    form, data, errors = _posted(program.settings or {})
    try:
        service.update_program(s, who, program.id, form["version"] or 0, data)
        if errors:
            raise ValidationFailed("", errors={})
        s.commit()
    except ValidationFailed as exc:
        s.rollback()
        return _form_page(form, {**exc.errors, **errors}, 422, program=program, locked=with_projects)
    except StaleVersion as exc:
        s.rollback()
        flash(exc.message, "danger")
        return redirect(url_for(".edit", program_id=program_id))
    flash(f"已保存试点「{program.name}」的修改", "success")
    return redirect(url_for(".detail", program_id=program.id))


def _settings_view(settings: dict[str, Any]) -> list[tuple[str, list[tuple[str, str]]]]:
    """The effective settings as an official reads them: groups of (label, value)."""
    m = settings.get("monitoring", {})
    se = settings.get("self_evaluation", {})
    ev = settings.get("evidence", {})
    points = se.get("indicator_points", {})
    required = ev.get("required_purposes", {}) or {}
    midpoints = se.get("qualitative_midpoints", {})
    acceptance = settings.get("acceptance", {})
    return [
        (
            "绩效目标",
            [
                ("指标权重合计", f"{settings.get('target_weights_total')}"),
                ("目标值参考至少来自", f"{settings.get('suggestions', {}).get('min_tenants')} 个地区"),
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
        (
            "试点报告验收清单",
            [
                *[(str(i.get("item")), f"{i.get('max')} 分") for i in acceptance.get("checklist", [])],
                ("及格线", f"{acceptance.get('pass_mark')} 分"),
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
        for stage in DEADLINE_NAMES
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
        may_edit=_may("programs.write") and program.tenant_id == who.tenant_id,
    )
