"""Pages of the pilot projects (试点项目): the list of a tenant (and, read-only, of its subtree),
the create form, a project's page with its stage stepper, the ex-ante assessment (事前评估), the
performance-targets editor (绩效目标) with the library picker, 一键勾选 templates and inline
quality checks, the review page (初审 / 复核), the version history with its diff, and the
printable 绩效目标申报表 (DESIGN.md §5, §6 stages 1–2, §9).

Thin like every handler: parse the form, call the services, re-render with the services' own
Chinese messages — by field on 422, as an alert on 403/409. The quality rules are the targets
service's own (`service.check` / `dry_run`), so the page says exactly what the API says.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import login_required
from sqlalchemy import select

from jixiao.platform.core.authz import authorize
from jixiao.platform.core.errors import Conflict, DomainError, Forbidden, ValidationFailed
from jixiao.platform.web.context import actor, db
from jixiao.platform.web.pages import is_htmx as _htmx
from jixiao.platform.web.pages import may as _may
from jixiao.services.assessment import service as assessment_service
from jixiao.services.assessment.models import CONCLUSIONS, CRITERIA
from jixiao.services.indicators import library
from jixiao.services.indicators import service as indicator_service
from jixiao.services.indicators.models import FRAMEWORK, LEVEL1_OF, VALUE_BASES
from jixiao.services.indicators.rules import DIRECTION_LABELS, VALUE_TYPE_LABELS
from jixiao.services.programs.models import STAGE_NAMES, STAGES, Program, ProgramTenant
from jixiao.services.programs.views import province_today
from jixiao.services.targets import rules as target_rules
from jixiao.services.targets import service as targets_service
from jixiao.services.targets.models import ADJUSTMENT_REASONS, COMMENT_KEYS, REVIEW_LEVELS, TargetSet

from . import service
from .models import FUND_SOURCES, PROJECT_CLASSES, STAGE_STATUS_NAMES, Project

bp = Blueprint("projects_pages", __name__, url_prefix="/projects", template_folder="templates")

PAGE_SIZE = 50
SET_STATUS_NAMES = {
    "draft": "填报中",
    "submitted": "审核中",
    "returned": "已退回",
    "approved": "已审核通过",
    "superseded": "已被调整替代",
}
DECISION_NAMES = {"approve": "通过", "return": "退回"}
LINE_FIELDS = (
    "indicator_id",
    "level2",
    "name",
    "value_type",
    "direction",
    "target_value",
    "unit",
    "weight",
    "value_basis",
    "note",
)
GOAL_LABELS = {"overall_goal": "年度总体目标", "midterm_goal": "中长期目标"}
FIELD_LABELS = {
    "name": "指标名称",
    "level2": "二级指标",
    "value_type": "指标类型",
    "direction": "方向",
    "target_value": "指标值",
    "unit": "单位",
    "weight": "权重",
    "value_basis": "标准值依据",
    "note": "指标值说明",
}


@bp.app_template_filter("money")
def money(value: Any) -> str:
    """Yuan with thousands separators and two decimals: 1,250,000.00."""
    if value is None or value == "":
        return "—"
    return f"{Decimal(str(value)):,.2f}"


@bp.app_template_global("project_labels")
def _labels() -> dict[str, Any]:
    return {
        "stage": STAGE_NAMES,
        "stage_status": STAGE_STATUS_NAMES,
        "set_status": SET_STATUS_NAMES,
        "review_level": REVIEW_LEVELS,
        "decision": DECISION_NAMES,
        "comment": COMMENT_KEYS,
        "criteria": CRITERIA,
        "conclusion": CONCLUSIONS,
        "direction": DIRECTION_LABELS,
        "value_type": VALUE_TYPE_LABELS,
        "field": FIELD_LABELS,
        "goal": GOAL_LABELS,
    }


# --- stages, deadlines ---------------------------------------------------------------------------


def _stages(project: Project, today: date) -> list[dict[str, Any]]:
    """Each stage as the stepper shows it: done / current / locked / closed, deadline, overdue."""
    rows = []
    for row in project.stages:
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


def render_project_page(template: str, project: Project, tab: str, status: int = 200, **context: Any) -> Any:
    """A project's page: the header with the stepper and tabs, then `template`'s own content."""
    who = actor()
    today = province_today()
    return render_template(
        template,
        project=project,
        tab=tab,
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
    """Programs the caller's own tenant takes part in (the only ones it may file projects under)."""
    who = actor()
    if who.tenant_id is None:
        return []
    taking_part = select(ProgramTenant.program_id).where(ProgramTenant.tenant_id == who.tenant_id)
    return list(
        db()
        .execute(select(Program).where(Program.id.in_(taking_part)).order_by(Program.start.desc()))
        .scalars()
    )


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
        if end < start:
            errors["years"] = ["结束年度不能早于开始年度"]
        else:
            years = list(range(start, end + 1))
    if form["program_id"] not in {p.id for p in _own_programs()}:
        errors["program_id"] = ["请选择本地区参与的试点"]
    s = db()
    try:
        if errors:
            raise ValidationFailed(next(iter(errors.values()))[0], errors=errors)
        project = service.create_project(
            s,
            who,
            {
                **{k: form[k] for k in PROJECT_FIELDS},
                "program_id": form["program_id"],
                "years": years,
                "serves_public": form["serves_public"],
            },
        )
        s.commit()
    except ValidationFailed as exc:
        s.rollback()
        return _new_form(form, {**exc.errors, **errors}, None, 422)
    except Conflict as exc:  # the per-tenant limit, or a program the tenant does not take part in
        s.rollback()
        return _new_form(form, {}, exc.message, 409)
    flash(f"已新建项目「{project.name}」，请先填写事前绩效评估", "success")
    return redirect(url_for(".detail", project_id=project.id))


# --- a project ---------------------------------------------------------------------------------


def _target_set(project: Project) -> TargetSet | None:
    if project.stage_row("targets").status == "locked":
        return None
    target_set = targets_service.current(db(), actor(), project.id)
    return target_set if target_set.id is not None else None


def _may_review(project: Project, target_set: TargetSet | None) -> bool:
    if target_set is None or target_set.status != "submitted" or not target_set.review_level:
        return False
    who = actor()
    return (
        target_set.submitted_by != who.username
        and project.tenant_id == who.tenant_id
        and who.has_role(targets_service.ROLE_OF_LEVEL[target_set.review_level])
        and _may("targets.review", project=project, level=target_set.review_level)
    )


@bp.get("/<int:project_id>")
@login_required
def detail(project_id: int) -> Any:
    s = db()
    project = service.get_project(s, actor(), project_id)
    assessment = assessment_service.get_assessment(s, actor(), project.id)
    target_set = _target_set(project)
    return render_project_page(
        "projects/detail.html",
        project,
        "overview",
        assessment=assessment,
        target_set=target_set,
        may_decide=assessment.status == "submitted" and _may("projects.finance", project=project),
        may_review=_may_review(project, target_set),
    )


# --- ex-ante assessment ------------------------------------------------------------------------


def _assessment_form(assessment: Any) -> dict[str, Any]:
    criteria = assessment.criteria or {}
    return {
        "criteria": {
            key: {
                "score": (criteria.get(key) or {}).get("score", ""),
                "opinion": (criteria.get(key) or {}).get("opinion", ""),
            }
            for key in CRITERIA
        },
        "summary": assessment.summary or "",
        "version": assessment.version or 0,
    }


def _assessment_page(
    project: Project,
    assessment: Any,
    form: dict[str, Any] | None = None,
    errors: dict[str, Any] | None = None,
    decision_form: dict[str, str] | None = None,
    decision_errors: dict[str, Any] | None = None,
    problem: str | None = None,
    status: int = 200,
) -> Any:
    row = project.stage_row("assessment")
    editable = (
        project.status == "active"
        and row.status in ("draft", "returned")
        and _may("projects.write", project=project)
    )
    return render_project_page(
        "projects/assessment.html",
        project,
        "assessment",
        status=status,
        assessment=assessment,
        form=form or _assessment_form(assessment),
        errors=errors or {},
        editable=editable,
        may_decide=(
            project.status == "active"
            and assessment.status == "submitted"
            and _may("projects.finance", project=project)
        ),
        decision_form=decision_form or {"conclusion": "", "opinion": ""},
        decision_errors=decision_errors or {},
        problem=problem,
    )


def _posted_assessment() -> dict[str, Any]:
    f = request.form
    return {
        "criteria": {
            key: {
                "score": f.get(f"{key}_score", "").strip(),
                "opinion": f.get(f"{key}_opinion", "").strip(),
            }
            for key in CRITERIA
        },
        "summary": f.get("summary", "").strip(),
        "version": f.get("version", type=int) or 0,
    }


@bp.get("/<int:project_id>/assessment")
@login_required
def assessment(project_id: int) -> Any:
    s = db()
    project = service.get_project(s, actor(), project_id)
    return _assessment_page(project, assessment_service.get_assessment(s, actor(), project.id))


@bp.post("/<int:project_id>/assessment")
@login_required
def assessment_save(project_id: int) -> Any:
    who = actor()
    s = db()
    project = service.get_project(s, who, project_id)
    form = _posted_assessment()
    data = {"criteria": form["criteria"], "summary": form["summary"]}
    if form["version"]:
        data["version"] = form["version"]
    try:
        saved = assessment_service.save_draft(s, who, project_id, data)
        s.commit()
        form["version"] = saved.version
    except ValidationFailed as exc:
        s.rollback()
        return _assessment_page(
            project, assessment_service.get_assessment(s, who, project_id), form, exc.errors, status=422
        )
    except Conflict as exc:
        s.rollback()
        return _assessment_page(
            project,
            assessment_service.get_assessment(s, who, project_id),
            form,
            problem=exc.message,
            status=409,
        )
    if request.form.get("action") != "submit":
        flash("事前评估草稿已保存", "success")
        return redirect(url_for(".assessment", project_id=project_id))
    try:
        assessment_service.submit(s, who, project_id)
        s.commit()
    except ValidationFailed as exc:
        s.rollback()
        project = service.get_project(s, who, project_id)
        return _assessment_page(
            project, assessment_service.get_assessment(s, who, project_id), form, exc.errors, status=422
        )
    flash("事前评估已提交，等待财政局作出评估结论", "success")
    return redirect(url_for(".assessment", project_id=project_id))


@bp.post("/<int:project_id>/assessment/decision")
@login_required
def assessment_decide(project_id: int) -> Any:
    who = actor()
    s = db()
    project = service.get_project(s, who, project_id)
    decision = {
        "conclusion": request.form.get("conclusion", ""),
        "opinion": request.form.get("opinion", "").strip(),
    }
    try:
        decided = assessment_service.decide(s, who, project_id, decision["conclusion"], decision["opinion"])
        s.commit()
    except ValidationFailed as exc:
        s.rollback()
        return _assessment_page(
            project,
            assessment_service.get_assessment(s, who, project_id),
            decision_form=decision,
            decision_errors=exc.errors,
            status=422,
        )
    except (Forbidden, Conflict) as exc:  # e.g. the submitter deciding on their own assessment
        s.rollback()
        return _assessment_page(
            project,
            assessment_service.get_assessment(s, who, project_id),
            decision_form=decision,
            problem=exc.message,
            status=exc.status,
        )
    if decided.conclusion == "reject":
        flash("事前评估结论：不予支持，项目已终止", "warning")
    else:
        flash(f"事前评估结论：{CONCLUSIONS[decided.conclusion or '']}，已进入绩效目标阶段", "success")
    return redirect(url_for(".detail", project_id=project_id))


# --- performance targets -----------------------------------------------------------------------


def _weight_text(weight: Any) -> str:
    if weight is None or weight == "":
        return ""
    value = Decimal(str(weight))
    return f"{value.quantize(Decimal(1)) if value == value.to_integral() else value.normalize():f}"


def _line_dicts(target_set: TargetSet | None) -> list[dict[str, str]]:
    if target_set is None:
        return []
    return [
        {
            "indicator_id": str(line.indicator_id or ""),
            "level2": line.level2,
            "name": line.name,
            "value_type": line.value_type,
            "direction": line.direction,
            "target_value": line.target_value or "",
            "unit": line.unit or "",
            "weight": _weight_text(line.weight),
            "value_basis": line.value_basis or "",
            "note": line.note or "",
        }
        for line in target_set.lines
    ]


def _posted_targets() -> tuple[dict[str, str], list[dict[str, str]]]:
    """Goals and the lines as typed (rows left entirely empty are dropped)."""
    f = request.form
    columns = {field: f.getlist(f"line_{field}") for field in LINE_FIELDS}
    count = max((len(v) for v in columns.values()), default=0)
    lines = []
    for n in range(count):
        line = {
            field: (columns[field][n].strip() if n < len(columns[field]) else "") for field in LINE_FIELDS
        }
        if any(line[k] for k in ("indicator_id", "name", "target_value", "weight", "unit", "note")):
            lines.append(line)
    goals = {
        "overall_goal": f.get("overall_goal", "").strip(),
        "midterm_goal": f.get("midterm_goal", "").strip(),
    }
    return goals, lines


def _service_lines(lines: list[dict[str, str]]) -> list[dict[str, Any]]:
    result = []
    for line in lines:
        item: dict[str, Any] = {k: v for k, v in line.items() if k != "indicator_id"}
        item["indicator_id"] = int(line["indicator_id"]) if line["indicator_id"].isdigit() else None
        item["weight"] = line["weight"] or None
        result.append(item)
    return result


def _messages(
    violations: list[target_rules.Violation], errors: dict[str, Any] | None = None
) -> tuple[list[str], dict[int, list[str]], list[dict[str, Any]]]:
    """Top messages, messages by 1-based line, and the violations as shown at the top."""
    top: list[str] = []
    by_line: dict[int, list[str]] = {}
    for key, problems in (errors or {}).items():
        texts = [problems] if isinstance(problems, str) else [str(p) for p in problems]
        parts = key.split(".")
        if len(parts) >= 2 and parts[0] == "indicators" and parts[1].isdigit():
            by_line.setdefault(int(parts[1]), []).extend(texts)
        top.extend(texts)
    for v in violations:
        if v.line is not None:
            by_line.setdefault(v.line, []).append(f"{v.message}（{v.rule}）")
    shown = [v.as_dict() for v in violations]
    return top, by_line, shown


def _library_rows(ids: list[int]) -> dict[int, Any]:
    """The library indicators behind the lines (code, status), as far as the caller sees them."""
    found: dict[int, Any] = {}
    for indicator_id in dict.fromkeys(ids):
        try:
            found[indicator_id] = indicator_service.get_indicator(db(), actor(), indicator_id)
        except DomainError:
            continue
    return found


def _targets_context(
    project: Project,
    target_set: TargetSet,
    *,
    goals: dict[str, str] | None = None,
    lines: list[dict[str, str]] | None = None,
    violations: list[target_rules.Violation] | None = None,
    errors: dict[str, Any] | None = None,
    checked: bool = False,
    problem: str | None = None,
) -> dict[str, Any]:
    who = actor()
    lines = lines if lines is not None else _line_dicts(target_set)
    top, by_line, shown = _messages(violations or [], errors)
    editable = (
        project.status == "active"
        and project.stage_row("targets").status != "locked"
        and target_set.status in ("draft", "returned")
        and _may("projects.write", project=project)
    )
    returned = [r for r in target_set.reviews if r.decision == "return"]
    ids = [int(line["indicator_id"]) for line in lines if line["indicator_id"].isdigit()]
    templates = library.list_templates(db(), who, page_size=200).items if editable else []
    return {
        "target_set": target_set,
        "goals": goals
        or {"overall_goal": target_set.overall_goal or "", "midterm_goal": target_set.midterm_goal or ""},
        "lines": lines,
        "library": _library_rows(ids),
        "top_errors": top,
        "line_messages": by_line,
        "violations": shown,
        "checked": checked,
        "editable": editable,
        "multi_year": project.end_year > project.start_year,
        "framework": FRAMEWORK,
        "level1_of": LEVEL1_OF,
        "value_bases": VALUE_BASES,
        "directions": list(DIRECTION_LABELS.items()),
        "value_types": list(VALUE_TYPE_LABELS.items()),
        "templates": templates,
        "suggested_template": next(
            (t.id for t in templates if t.project_class == project.project_class), None
        ),
        "last_return": returned[-1] if returned and target_set.status in ("returned", "draft") else None,
        "may_review": _may_review(project, target_set),
        "may_adjust": (
            target_set.status == "approved"
            and project.status == "active"
            and _may("projects.write", project=project)
        ),
        "adjustment_reasons": ADJUSTMENT_REASONS,
        "problem": problem,
        "weights_total": sum(
            (Decimal(line["weight"]) for line in lines if _is_number(line["weight"])), Decimal(0)
        ),
        "weights_expected": Decimal(str(project.program.effective_settings.get("target_weights_total", 100))),
    }


def _is_number(text: str) -> bool:
    try:
        Decimal(text)
        return bool(text)
    except ArithmeticError:
        return False


def _targets_page(project: Project, target_set: TargetSet, status: int = 200, **kw: Any) -> Any:
    return render_project_page(
        "projects/targets.html",
        project,
        "targets",
        status=status,
        **_targets_context(project, target_set, **kw),
    )


def _require_targets_open(project: Project) -> None:
    if project.stage_row("targets").status == "locked":
        service.require_stage(project, "targets")  # raises the 409 that says why


@bp.get("/<int:project_id>/targets")
@login_required
def targets(project_id: int) -> Any:
    s = db()
    project = service.get_project(s, actor(), project_id)
    _require_targets_open(project)
    target_set = targets_service.current(s, actor(), project.id)
    violations = None
    if target_set.status == "returned" or (target_set.id and request.args.get("check")):
        violations = targets_service.dry_run(s, actor(), project.id)
    return _targets_page(project, target_set, violations=violations, checked=violations is not None)


def _save(project_id: int, goals: dict[str, str], lines: list[dict[str, str]]) -> TargetSet:
    data = {**goals, "indicators": _service_lines(lines)}
    return targets_service.save_draft(db(), actor(), project_id, data)


@bp.post("/<int:project_id>/targets/check")
@login_required
def targets_check(project_id: int) -> Any:
    """检查 (htmx): the quality rules on the lines as typed, without saving them."""
    who = actor()
    s = db()
    project = service.get_project(s, who, project_id)
    goals, lines = _posted_targets()
    errors: dict[str, Any] | None = None
    problem: str | None = None
    violations: list[target_rules.Violation] = []
    try:
        _save(project_id, goals, lines)
        violations = targets_service.dry_run(s, who, project_id)
    except ValidationFailed as exc:
        errors = exc.errors
    except Conflict as exc:  # no longer editable (submitted meanwhile, frozen …)
        problem = exc.message
    finally:
        s.rollback()  # a check never saves
    project = service.get_project(s, who, project_id)
    target_set = targets_service.current(s, who, project_id)
    context = _targets_context(
        project,
        target_set,
        goals=goals,
        lines=lines,
        violations=violations,
        errors=errors,
        checked=problem is None,
        problem=problem,
    )
    return render_template("projects/_targets_editor.html", project=project, **context)


@bp.get("/<int:project_id>/targets/picker")
@login_required
def targets_picker(project_id: int) -> Any:
    """Visible, active library indicators matching a search (htmx partial); 选用 fills a line."""
    service.get_project(db(), actor(), project_id)
    q = (request.args.get("q") or "").strip()[:100]
    results = indicator_service.search(db(), actor(), q=q or None, status="active", page_size=20)
    return render_template("projects/_picker.html", results=results, q=q)


@bp.post("/<int:project_id>/targets")
@login_required
def targets_save(project_id: int) -> Any:
    who = actor()
    s = db()
    project = service.get_project(s, who, project_id)
    action = request.form.get("action", "save")
    goals, lines = _posted_targets()
    try:
        _save(project_id, goals, lines)
        s.commit()
    except ValidationFailed as exc:
        s.rollback()
        project = service.get_project(s, who, project_id)
        target_set = targets_service.current(s, who, project_id)
        return _targets_page(project, target_set, status=422, goals=goals, lines=lines, errors=exc.errors)
    except Conflict as exc:
        s.rollback()
        target_set = targets_service.current(s, who, project_id)
        return _targets_page(project, target_set, status=409, problem=exc.message)
    if action == "apply":
        template_id = request.form.get("template_id", type=int)
        if not template_id:
            flash("请选择要套用的指标模板", "warning")
            return redirect(url_for(".targets", project_id=project_id))
        before = len(targets_service.current(s, who, project_id).lines)
        try:
            applied = targets_service.apply_template(s, who, project_id, template_id)
            s.commit()
        except (ValidationFailed, Conflict) as exc:
            s.rollback()
            target_set = targets_service.current(s, who, project_id)
            return _targets_page(project, target_set, status=exc.status, problem=exc.message)
        added = len(applied.lines) - before
        flash(f"已一键勾选模板中的 {added} 个指标（已有的不重复加入），请逐项核对指标值并填写权重", "success")
        return redirect(url_for(".targets", project_id=project_id, check=1))
    if action != "submit":
        flash("绩效目标草稿已保存", "success")
        return redirect(url_for(".targets", project_id=project_id))
    try:
        targets_service.submit(s, who, project_id)
        s.commit()
    except ValidationFailed as exc:
        s.rollback()
        project = service.get_project(s, who, project_id)
        target_set = targets_service.current(s, who, project_id)
        violations = [
            target_rules.Violation(v["rule"], v["message"], v.get("line"), v.get("indicator"))
            for v in exc.errors.get("violations", [])
        ]
        return _targets_page(
            project,
            target_set,
            status=422,
            violations=violations,
            checked=True,
            problem=exc.message,
        )
    flash("绩效目标已提交，等待主管部门初审", "success")
    return redirect(url_for(".targets", project_id=project_id))


@bp.post("/<int:project_id>/targets/adjustments")
@login_required
def targets_adjust(project_id: int) -> Any:
    who = actor()
    s = db()
    project = service.get_project(s, who, project_id)
    reason = request.form.get("reason", "")
    explanation = request.form.get("explanation", "").strip()
    try:
        new = targets_service.adjust(s, who, project_id, reason, explanation)
        s.commit()
    except (ValidationFailed, Conflict, Forbidden) as exc:
        s.rollback()
        target_set = targets_service.current(s, who, project_id)
        return _targets_page(project, target_set, status=exc.status, problem=exc.message)
    flash(
        f"已发起目标调整（{reason}），生成第 {new.number} 版草稿；修改后提交，经初审、复核通过后生效",
        "success",
    )
    return redirect(url_for(".targets", project_id=project_id))


# --- review (初审 / 复核) -------------------------------------------------------------------------


def _previous_reviews(project: Project) -> list[dict[str, Any]]:
    """Every review of every version, oldest first (the comments side by side)."""
    rows = []
    for entry in reversed(targets_service.versions(db(), actor(), project.id)):
        for r in entry["set"].reviews:
            rows.append({"version": entry["set"].number, "review": r})
    return rows


def _review_page(
    project: Project,
    target_set: TargetSet,
    form: dict[str, str] | None = None,
    errors: dict[str, Any] | None = None,
    problem: str | None = None,
    status: int = 200,
) -> Any:
    return render_project_page(
        "projects/review.html",
        project,
        "review",
        status=status,
        target_set=target_set,
        lines=_line_dicts(target_set),
        library=_library_rows([line.indicator_id for line in target_set.lines if line.indicator_id]),
        reviews=_previous_reviews(project),
        may_review=_may_review(project, target_set),
        form=form or dict.fromkeys(COMMENT_KEYS, ""),
        errors=errors or {},
        problem=problem,
        multi_year=project.end_year > project.start_year,
        level1_of=LEVEL1_OF,
    )


@bp.get("/<int:project_id>/targets/review")
@login_required
def review(project_id: int) -> Any:
    s = db()
    project = service.get_project(s, actor(), project_id)
    _require_targets_open(project)
    return _review_page(project, targets_service.current(s, actor(), project_id))


@bp.post("/<int:project_id>/targets/review")
@login_required
def review_post(project_id: int) -> Any:
    who = actor()
    s = db()
    project = service.get_project(s, who, project_id)
    decision = request.form.get("decision", "")
    form = {key: request.form.get(key, "").strip() for key in COMMENT_KEYS}
    comments = {k: v for k, v in form.items() if v}
    try:
        reviewed = targets_service.review(s, who, project_id, decision, comments)
        level = reviewed.reviews[-1].level
        s.commit()
    except ValidationFailed as exc:
        s.rollback()
        return _review_page(
            project, targets_service.current(s, who, project_id), form, exc.errors, status=422
        )
    except (Forbidden, Conflict) as exc:
        s.rollback()
        return _review_page(
            project, targets_service.current(s, who, project_id), form, problem=exc.message, status=exc.status
        )
    if decision == "return":
        flash(f"已退回绩效目标（{REVIEW_LEVELS[level]}），意见已告知项目单位", "warning")
    elif reviewed.status == "approved":
        flash("复核通过：绩效目标已冻结，项目进入跟踪监控阶段", "success")
    else:
        flash(f"{REVIEW_LEVELS[level]}通过，已转财政复核", "success")
    return redirect(url_for(".detail", project_id=project_id))


# --- versions and the printable form -----------------------------------------------------------


def _diff_view(diff: dict[str, Any] | None) -> dict[str, Any] | None:
    if diff is None:
        return None

    def shown(field: str, value: str) -> str:
        if field == "direction":
            return DIRECTION_LABELS.get(value, value)
        if field == "value_type":
            return VALUE_TYPE_LABELS.get(value, value)
        if field == "weight" and value:
            return _weight_text(value)
        return value

    return {
        "goals": [
            {"label": GOAL_LABELS[k], "old": old, "new": new}
            for k, (old, new) in diff.get("goals", {}).items()
        ],
        "added": diff.get("added", []),
        "removed": diff.get("removed", []),
        "changed": [
            {
                "name": c["name"],
                "fields": [
                    {"label": FIELD_LABELS.get(f, f), "old": shown(f, old), "new": shown(f, new)}
                    for f, (old, new) in c["fields"].items()
                ],
            }
            for c in diff.get("changed", [])
        ],
    }


@bp.get("/<int:project_id>/targets/versions")
@login_required
def versions(project_id: int) -> Any:
    s = db()
    project = service.get_project(s, actor(), project_id)
    _require_targets_open(project)
    entries = [
        {"set": e["set"], "diff": _diff_view(e["diff"])}
        for e in targets_service.versions(s, actor(), project_id)
    ]
    return render_project_page("projects/versions.html", project, "versions", entries=entries)


def _grouped(target_set: TargetSet) -> list[dict[str, Any]]:
    """The lines grouped by 一级 then 二级, in the framework's order, with the rowspans."""
    groups = []
    for level1, children in FRAMEWORK.items():
        subgroups = []
        for level2 in children:
            lines = [line for line in target_set.lines if line.level2 == level2]
            if lines:
                subgroups.append({"name": level2, "lines": lines})
        if subgroups:
            groups.append(
                {"name": level1, "subgroups": subgroups, "rows": sum(len(g["lines"]) for g in subgroups)}
            )
    others = [line for line in target_set.lines if line.level2 not in LEVEL1_OF]
    if others:
        groups.append({"name": "其他", "subgroups": [{"name": "—", "lines": others}], "rows": len(others)})
    return groups


@bp.get("/<int:project_id>/targets/print")
@login_required
def targets_print(project_id: int) -> Any:
    s = db()
    project = service.get_project(s, actor(), project_id)
    _require_targets_open(project)
    target_set = targets_service.current(s, actor(), project_id)
    return render_template(
        "projects/print.html",
        project=project,
        target_set=target_set,
        groups=_grouped(target_set),
        multi_year=project.end_year > project.start_year,
        weight_text=_weight_text,
        printed_on=province_today(),
    )
