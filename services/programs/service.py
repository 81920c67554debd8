"""Pilot program rules and transactions (no Flask). The HTTP side arrives with its issue;
the demo program is loaded from here."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.attributes import flag_modified

from jixiao.platform.core.actor import Actor
from jixiao.platform.core.audit import record
from jixiao.platform.core.authz import authorize, policy, require_role
from jixiao.platform.core.errors import NotFound, StaleVersion, ValidationFailed
from jixiao.platform.core.pagination import Page, paginate
from jixiao.services.evaluation.key.framework import settings_problems as key_evaluation_problems
from jixiao.tenants.models import Tenant

from .models import (
    DEADLINE_NAMES,
    DEFAULT_SETTINGS,
    STAGES,
    Program,
    ProgramTenant,
    merged_settings,
)


@policy("programs.read", scope="projects:read")
def _may_read_programs(actor: Actor) -> None:
    """Anyone with the scope: the province's own programs and those the caller's branch takes part in."""


@policy("programs.write", scope="admin")
def _may_write_programs(actor: Actor) -> None:
    """The province runs pilot programs."""
    require_role(actor, "province_admin", message="试点由省财政厅管理员设立")


def list_programs(session: Session, actor: Actor, *, page: int = 1, page_size: int = 50) -> Page[Program]:
    authorize(actor, "programs.read")
    return paginate(
        session,
        select(Program)
        .options(selectinload(Program.participants))
        .order_by(Program.start.desc(), Program.id.desc()),
        page,
        page_size,
    )


def get_program(session: Session, actor: Actor, program_id: int) -> Program:
    authorize(actor, "programs.read")
    program = session.get(Program, program_id)
    if program is None:
        raise NotFound(f"试点 {program_id} 不存在")
    return program


def _check(
    session: Session, actor: Actor, data: dict[str, Any], program: Program | None = None
) -> tuple[dict[str, Any], dict[str, Tenant]]:
    """Every problem of a program's fields at once (ValidationFailed naming each field); the
    checked values otherwise. `program` is the one being edited: absent fields keep its values."""
    errors: dict[str, list[str]] = {}

    def current(field: str, default: Any = None) -> Any:
        if field in data:
            return data[field]
        return getattr(program, field, default) if program is not None else default

    name = (current("name") or "").strip()
    if not name:
        errors["name"] = ["试点名称不能为空"]
    elif len(name) > 200:
        errors["name"] = ["试点名称不能超过 200 个字"]
    else:
        same = select(Program.id).where(Program.tenant_id == actor.tenant_id, Program.name == name)
        if program is not None:
            same = same.where(Program.id != program.id)
        if session.execute(same).first():
            errors["name"] = [f"已有名为「{name}」的试点"]
    start, end = current("start"), current("end")
    if not start:
        errors["start"] = ["请填写试点开始日期"]
    if not end:
        errors["end"] = ["请填写试点结束日期"]
    if start and end and start > end:
        errors["end"] = ["结束日期不能早于开始日期"]
    limit = current("max_projects_per_tenant", 2)
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
        errors["max_projects_per_tenant"] = ["每地区项目数上限须为正整数"]
    if "tenant_codes" in data or program is None:
        codes = list(dict.fromkeys(data.get("tenant_codes") or []))
    else:
        codes = [p.tenant.code for p in program.participants]
    tenants = {t.code: t for t in session.execute(select(Tenant).where(Tenant.code.in_(codes))).scalars()}
    province_path = session.get(Tenant, actor.tenant_id).path  # type: ignore[union-attr]
    for code in codes:
        tenant = tenants.get(code)
        if tenant is None:
            errors.setdefault("tenant_codes", []).append(f"行政区划 {code} 不存在")
        elif tenant.level == "province" or not tenant.path.startswith(province_path + "/"):
            errors.setdefault("tenant_codes", []).append(f"{code} 不是本省的市、县")
    if not codes:
        errors.setdefault("tenant_codes", []).append("至少选择一个参与地区")
    if program is not None:
        kept = set(codes)
        with_projects = _tenants_with_projects(session, program.id)
        for tenant in sorted(with_projects, key=lambda t: t.code):
            if tenant.code not in kept:
                errors.setdefault("tenant_codes", []).append(
                    f"{tenant.name}（{tenant.code}）已在本试点申报项目，不能移出参与地区"
                )
    deadlines: dict[str, str] = {}
    raw_deadlines = data.get("deadlines")
    if "deadlines" not in data and program is not None:
        raw_deadlines = {k: date.fromisoformat(v) for k, v in (program.deadlines or {}).items()}
    for stage, value in (raw_deadlines or {}).items():
        if stage not in DEADLINE_NAMES:
            errors.setdefault("deadlines", []).append(f"未知阶段「{stage}」")
            continue
        if not isinstance(value, date):
            errors.setdefault("deadlines", []).append(f"{DEADLINE_NAMES[stage]}的截止日期无效")
            continue
        if start and end and not (start <= value <= end):
            errors.setdefault("deadlines", []).append(
                f"{DEADLINE_NAMES[stage]}的截止日期 {value.isoformat()} 须在试点期间内"
            )
        deadlines[stage] = value.isoformat()
    settings = current("settings") or {}
    if not isinstance(settings, dict):
        errors["settings"] = ["试点设置须为对象"]
    else:
        errors.update(settings_problems(settings))
    if errors:
        raise ValidationFailed(next(iter(errors.values()))[0], errors=errors)
    checked = {
        "name": name,
        "start": start,
        "end": end,
        "max_projects_per_tenant": limit,
        "tenant_codes": codes,
        "deadlines": deadlines,
        "settings": settings,
    }
    return checked, tenants


# The program settings a form or client may set, and their rule: a positive integer unless said.
_POSITIVE_INTS = (
    ("max_projects_per_tenant",),
    ("target_weights_total",),
    ("max_target_lines",),
    ("monitoring", "completion_green"),
    ("monitoring", "completion_yellow"),
    ("monitoring", "budget_lag_yellow"),
    ("monitoring", "budget_lag_red"),
    ("self_evaluation", "budget_points"),
    ("evidence", "max_size_mib"),
)


def settings_problems(settings: dict[str, Any]) -> dict[str, list[str]]:
    """A program's settings overrides: only known keys, numbers where numbers go (a bad one would
    break every save that reads it)."""
    problems: list[str] = []
    unknown = sorted(set(settings) - set(DEFAULT_SETTINGS))
    if unknown:
        problems.append(f"未知的设置项：{'、'.join(unknown)}")
    for path in _POSITIVE_INTS:
        value: Any = settings
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
            problems.append(f"设置项 {'.'.join(path)} 须为正整数")
    days = (
        (settings.get("reminders") or {}).get("days_before")
        if isinstance(settings.get("reminders"), dict)
        else None
    )
    if days is not None and not (isinstance(days, list) and all(isinstance(d, int) and d >= 0 for d in days)):
        problems.append("设置项 reminders.days_before 须为非负整数的列表")
    monitoring = settings.get("monitoring")
    periods = monitoring.get("periods") if isinstance(monitoring, dict) else None
    if periods is not None and not (
        isinstance(periods, list)
        and periods
        and all(isinstance(m, int) and not isinstance(m, bool) and 1 <= m <= 12 for m in periods)
        and sorted(set(periods)) == periods
    ):
        problems.append("设置项 monitoring.periods 须为 1–12 的月份列表，按先后排列且不重复（如 [3, 9]）")
    joint = settings.get("joint_review")
    joint_stages = joint.get("stages") if isinstance(joint, dict) else None
    if joint_stages is not None and not (
        isinstance(joint_stages, list) and all(st in ("targets", "self_evaluation") for st in joint_stages)
    ):
        problems.append("设置项 joint_review.stages 只能包含 targets（绩效目标）、self_evaluation（自评）")
    evidence = settings.get("evidence")
    required = evidence.get("required_purposes") if isinstance(evidence, dict) else None
    if required is not None and not (
        isinstance(required, dict)
        and all(
            k in STAGES and isinstance(v, list) and all(isinstance(p, str) and 0 < len(p) <= 40 for p in v)
            for k, v in required.items()
        )
    ):
        problems.append("设置项 evidence.required_purposes 须为 {阶段: [材料用途…]}，用途不超过 40 个字")
    problems += key_evaluation_problems(settings.get("key_evaluation"))
    problems += _acceptance_problems(settings.get("acceptance"))
    results = settings.get("result_application")
    recommendations = results.get("recommendations") if isinstance(results, dict) else None
    if recommendations is not None and not (
        isinstance(recommendations, dict)
        and set(recommendations) <= {"优", "良", "中", "差"}
        and all(v in ("prioritise", "improve", "reduce", "cancel") for v in recommendations.values())
    ):
        problems.append(
            "设置项 result_application.recommendations 须为 {等级（优/良/中/差）: 建议}，"
            "建议为 prioritise（优先保障）、improve（督促改进）、reduce（削减）、cancel（取消）之一"
        )
    if "result_application" in settings and not isinstance(results, dict):
        problems.append("设置项 result_application 须为对象")
    suggestions = settings.get("suggestions")
    k = suggestions.get("min_tenants") if isinstance(suggestions, dict) else None
    # never below DESIGN.md's 5: fewer tenants' quartiles and median can give their values away
    if k is not None and (not isinstance(k, int) or isinstance(k, bool) or k < 5):
        problems.append("设置项 suggestions.min_tenants 须为不小于 5 的整数（参考值至少来自几个地区）")
    if isinstance(suggestions, dict) and set(suggestions) - {"min_tenants"}:
        unknown_keys = sorted(set(suggestions) - {"min_tenants"})
        problems.append(f"未知的设置项：{'、'.join('suggestions.' + str(key) for key in unknown_keys)}")
    for key in (
        "monitoring",
        "self_evaluation",
        "evidence",
        "reminders",
        "joint_review",
        "acceptance",
        "suggestions",
    ):
        if key in settings and not isinstance(settings[key], dict):
            problems.append(f"设置项 {key} 须为对象")
    return {"settings": problems} if problems else {}


def _acceptance_problems(found: Any) -> list[str]:
    """`acceptance`: a checklist of distinct items each with a positive maximum, and a pass mark
    between 0 and the checklist's total."""
    if not isinstance(found, dict):
        return []
    problems = []
    checklist = found.get("checklist")
    total = 0.0
    if checklist is not None:
        names = (
            [i.get("item") for i in checklist]
            if isinstance(checklist, list) and all(isinstance(i, dict) for i in checklist)
            else None
        )
        good = (
            names is not None
            and checklist
            and all(isinstance(n, str) and n.strip() for n in names)
            and len(set(names)) == len(names)
            and all(
                isinstance(i.get("max"), int | float) and not isinstance(i.get("max"), bool) and i["max"] > 0
                for i in checklist
            )
        )
        if not good:
            problems.append(
                "设置项 acceptance.checklist 须为 [{item: 验收项名称（不重复）, max: 满分（正数）}]，至少一项"
            )
        else:
            total = sum(float(i["max"]) for i in checklist)
    mark = found.get("pass_mark")
    if mark is not None and (
        isinstance(mark, bool) or not isinstance(mark, int | float) or mark < 0 or (total and mark > total)
    ):
        problems.append("设置项 acceptance.pass_mark 须为 0 到验收清单总分之间的数")
    return problems


def _tenants_with_projects(session: Session, program_id: int) -> list[Tenant]:
    from jixiao.services.projects.models import Project  # the projects depend on programs, not back

    ids = select(Project.tenant_id).where(Project.program_id == program_id).distinct()
    return list(session.execute(select(Tenant).where(Tenant.id.in_(ids))).scalars().all())


def _audit_view(checked: dict[str, Any]) -> dict[str, Any]:
    return {**checked, "settings": merged_settings(checked["settings"])}


def create_program(session: Session, actor: Actor, data: dict[str, Any]) -> Program:
    """A pilot program owned by the province: period, participants, project limit, deadlines, settings."""
    authorize(actor, "programs.write")
    checked, tenants = _check(session, actor, data)
    program = Program(
        tenant_id=actor.tenant_id,
        name=checked["name"],
        start=checked["start"],
        end=checked["end"],
        max_projects_per_tenant=checked["max_projects_per_tenant"],
        deadlines=checked["deadlines"],
        settings=checked["settings"],
        participants=[ProgramTenant(tenant_id=tenants[c].id) for c in checked["tenant_codes"]],
    )
    session.add(program)
    session.flush()
    record(session, "program.create", object_type="program", object_id=program.id, after=_audit_view(checked))
    return program


def _snapshot(program: Program) -> dict[str, Any]:
    return {
        "name": program.name,
        "start": program.start,
        "end": program.end,
        "max_projects_per_tenant": program.max_projects_per_tenant,
        "tenant_codes": sorted(p.tenant.code for p in program.participants),
        "deadlines": dict(program.deadlines or {}),
        "settings": program.settings or {},
    }


def update_program(
    session: Session, actor: Actor, program_id: int, version: int, data: dict[str, Any]
) -> Program:
    """The province edits a program: name, dates, deadlines, participants, settings (optimistic
    lock on `version`; a participant that already has projects cannot be removed)."""
    authorize(actor, "programs.write")
    program = get_program(session, actor, program_id)
    if program.tenant_id != actor.tenant_id:
        raise NotFound(f"试点 {program_id} 不存在")
    if version != program.version:
        raise StaleVersion(
            f"试点已被他人修改（当前版本 {program.version}，您提交的是版本 {version}），请刷新后重试"
        )
    before = _snapshot(program)
    checked, tenants = _check(session, actor, data, program)
    program.name = checked["name"]
    program.start = checked["start"]
    program.end = checked["end"]
    program.max_projects_per_tenant = checked["max_projects_per_tenant"]
    program.deadlines = checked["deadlines"]
    program.settings = checked["settings"]
    wanted = {tenants[c].id for c in checked["tenant_codes"]}
    for row in list(program.participants):
        if row.tenant_id not in wanted:
            program.participants.remove(row)
    have = {row.tenant_id for row in program.participants}
    for tenant_id in sorted(wanted - have):
        program.participants.append(ProgramTenant(tenant_id=tenant_id))
    if wanted != have:  # a change of participants alone is a new version of the program too
        flag_modified(program, "settings")
    session.flush()
    after = _snapshot(program)
    changed = {k for k in after if after[k] != before[k]}
    if changed:
        record(
            session,
            "program.update",
            object_type="program",
            object_id=program.id,
            before={k: before[k] for k in sorted(changed)},
            after={k: after[k] for k in sorted(changed)},
        )
    return program


def has_ended(program: Program, today: date) -> bool:
    """A program past its end date (已结束) accepts no new project."""
    return today > program.end


DEMO_PROGRAM = "市县预算绩效一体化管理试点"


def demo_dates(first_load: date) -> tuple[date, date, dict[str, str]]:
    """DEMO.md's running program, relative to the day of the first load: start that day; 事前评估
    in 30 days, 绩效目标 in 60; the September monitoring round of the next budget year; 自评 by the
    following February, 重点评价 by April, 结果应用 by June; end two years on."""
    budget_year = first_load.year + 1
    after = budget_year + 1
    two_years_on = (
        date(first_load.year + 2, 2, 28)
        if (first_load.month, first_load.day) == (2, 29)
        else first_load.replace(year=first_load.year + 2)
    )
    end = max(two_years_on, date(after, 6, 30))  # never before the 结果应用 deadline
    deadlines = {
        "assessment": first_load + timedelta(days=30),
        "targets": first_load + timedelta(days=60),
        "monitoring": date(budget_year, 9, 30),
        "self_evaluation": date(after, 3, 1) - timedelta(days=1),
        "evaluation": date(after, 4, 30),
        "result_application": date(after, 6, 30),
    }
    return first_load, end, {stage: value.isoformat() for stage, value in deadlines.items()}


def load_demo(session: Session, today: date | None = None) -> dict[str, int]:
    """DEMO.md's running program (dates from `demo_dates`, kept on later loads), every city and
    county, ≤ 2 projects each; targets require the evidence purposes 立项依据 and 实施方案."""
    province = (
        session.execute(select(Tenant).where(Tenant.level == "province").order_by(Tenant.id))
        .scalars()
        .first()
    )
    if province is None:
        return {"programs": 0}
    exists = session.execute(
        select(Program.id)
        .where(Program.tenant_id == province.id, Program.name == DEMO_PROGRAM)
        .execution_options(all_tenants=True)
    ).scalar_one_or_none()
    if exists is not None:
        return {"programs": 0}
    participants = (
        session.execute(
            select(Tenant).where(Tenant.path.startswith(province.path + "/")).order_by(Tenant.code)
        )
        .scalars()
        .all()
    )
    start, end, deadlines = demo_dates(today or date.today())
    program = Program(
        tenant_id=province.id,
        name=DEMO_PROGRAM,
        start=start,
        end=end,
        max_projects_per_tenant=2,
        deadlines=deadlines,
        settings={"evidence": {"required_purposes": {"targets": ["立项依据", "实施方案"]}}},
        participants=[ProgramTenant(tenant_id=t.id) for t in participants],
    )
    session.add(program)
    session.flush()
    record(
        session,
        "program.create",
        object_type="program",
        object_id=program.id,
        tenant_id=province.id,
        after={
            "name": program.name,
            "start": program.start,
            "end": program.end,
            "tenant_codes": [t.code for t in participants],
            "max_projects_per_tenant": 2,
        },
    )
    return {"programs": 1}
