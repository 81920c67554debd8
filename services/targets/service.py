"""Performance targets: reading, versions and their diffs, the draft, template (一键勾选), submit with
the quality rules, and what changed since a return (no Flask). The review chain and adjustments are
in `chain.py`."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from jixiao.platform.core.actor import Actor
from jixiao.platform.core.audit import record
from jixiao.platform.core.authz import authorize
from jixiao.platform.core.db import utcnow
from jixiao.platform.core.errors import Conflict, NotFound, StaleVersion, ValidationFailed
from jixiao.services.evidence.service import missing_purposes
from jixiao.services.indicators.library import get_case, get_template, pickable_indicators
from jixiao.services.indicators.models import DIRECTIONS, VALUE_TYPES, Indicator
from jixiao.services.indicators.rules import DIRECTION_LABELS, VALUE_TYPE_LABELS
from jixiao.services.notifications.events import announce
from jixiao.services.projects.models import Project
from jixiao.services.projects.service import get_project, require_stage, set_stage_status

from . import rules
from .diffs import diff_snapshots
from .models import CHAIN, LINE_FIELDS, TargetLine, TargetSet

LINE_LIMITS = {"name": 100, "target_value": 100, "unit": 20, "level2": 20, "value_basis": 20}
LIMIT_LABELS = {
    "name": "指标名称",
    "target_value": "指标值",
    "unit": "计量单位",
    "level2": "二级指标",
    "value_basis": "标准值依据",
}
MAX_WEIGHT = Decimal("100000")


# --- reading ----------------------------------------------------------------------------------


def sets_of(session: Session, project: Project) -> list[TargetSet]:
    return list(
        session.execute(
            select(TargetSet).where(TargetSet.project_id == project.id).order_by(TargetSet.number.desc())
        ).scalars()
    )


def current(session: Session, actor: Actor, project_id: int) -> TargetSet:
    """The newest version (an empty unsaved draft before anything was written)."""
    project = get_project(session, actor, project_id)
    sets = sets_of(session, project)
    if sets:
        return sets[0]
    return TargetSet(
        project_id=project.id,
        tenant_id=project.tenant_id,
        number=1,
        status="draft",
        overall_goal="",
        midterm_goal="",
        lines=[],
        reviews=[],
    )


def for_print(session: Session, actor: Actor, project_id: int, number: int | None) -> TargetSet:
    """The version the 申报表 shows: `number` when given (404 when there is none), else the approved
    version in force when there is one, else the current version."""
    project = get_project(session, actor, project_id)
    sets = sets_of(session, project)
    if number is not None:
        found = next((s for s in sets if s.number == number), None)
        if found is None:
            raise NotFound(f"没有第 {number} 版绩效目标")
        return found
    return next((s for s in sets if s.status == "approved"), None) or current(session, actor, project_id)


def versions(session: Session, actor: Actor, project_id: int) -> list[dict[str, Any]]:
    """Every version, newest first, each with its diff against the version before it."""
    project = get_project(session, actor, project_id)
    sets = sets_of(session, project)
    result = []
    for n, target_set in enumerate(sets):
        previous = sets[n + 1] if n + 1 < len(sets) else None
        result.append({"set": target_set, "diff": diff(previous, target_set) if previous else None})
    return result


def _line_values(line: TargetLine) -> dict[str, str]:
    return {f: ("" if getattr(line, f) is None else f"{getattr(line, f)}") for f in LINE_FIELDS}


def diff(old: TargetSet | None, new: TargetSet) -> dict[str, Any]:
    """What changed from `old` to `new`: goals, and lines added, removed or changed (field: old → new)."""
    return diff_snapshots(
        snapshot_of(old, with_indicators=True) if old else None, snapshot_of(new, with_indicators=True)
    )


# --- the draft --------------------------------------------------------------------------------


def _editable(session: Session, actor: Actor, project_id: int) -> tuple[Project, TargetSet]:
    project = get_project(session, actor, project_id)
    authorize(actor, "projects.write", project=project)
    row = require_stage(project, "targets")
    target_set = current(session, actor, project_id)
    if target_set.id is None:
        _first_draft(session, project)
    if target_set.status not in ("draft", "returned"):
        names = {
            "submitted": "已提交、审核中",
            "approved": "已审核通过并冻结（如需变更请发起调整）",
            "superseded": "已被调整替代",
        }
        raise Conflict(f"绩效目标{names.get(target_set.status, target_set.status)}，不能修改")
    if target_set not in session:
        session.add(target_set)
    if target_set.status == "returned":
        target_set.status = "draft"
        if target_set.number == 1 and row.status == "returned":
            set_stage_status(session, project, "targets", "draft")
    return project, target_set


def _first_draft(session: Session, project: Project) -> None:
    """A project's first draft is made once: concurrent first saves take turns on the project's row
    (a no-key row lock, held to the end of the transaction), and those after the first find its
    draft — 409, as for a stale lock_version, never a second version 1 (a unique violation, 500)."""
    session.execute(select(Project.id).where(Project.id == project.id).with_for_update(key_share=True))
    if sets_of(session, project):
        raise StaleVersion("绩效目标刚由他人填报保存，请刷新后在最新内容上修改")


def _parse_lines(session: Session, raw_lines: list[dict[str, Any]]) -> list[TargetLine]:
    errors: dict[str, list[str]] = {}
    ids = [int(item["indicator_id"]) for item in raw_lines if item.get("indicator_id") is not None]
    library: dict[int, Indicator] = {}
    if ids:
        try:
            library = {
                i.id: i for i in pickable_indicators(session, list(dict.fromkeys(ids)), field="indicators")
            }
        except ValidationFailed as exc:
            errors.update(exc.errors)
    lines = []
    for n, item in enumerate(raw_lines, start=1):
        base = library.get(int(item["indicator_id"])) if item.get("indicator_id") is not None else None
        values = {
            "name": item.get("name") or (base.name if base else ""),
            "level2": item.get("level2") or (base.level2.name if base else ""),
            "value_type": item.get("value_type") or (base.value_type if base else "quantitative"),
            "direction": item.get("direction") or (base.direction if base else ">="),
            "target_value": str(
                item.get("target_value")
                if item.get("target_value") is not None
                else (base.standard_value if base else "")
            ).strip(),
            "unit": item.get("unit") if item.get("unit") is not None else (base.unit if base else ""),
            "value_basis": item.get("value_basis") or (base.value_basis if base else ""),
            "note": item.get("note") or "",
        }
        if not str(values["name"]).strip():
            errors.setdefault(f"indicators.{n}.name", []).append(f"第 {n} 行：请填写指标名称或选择库指标")
        for field, limit in LINE_LIMITS.items():
            if len(str(values[field] or "")) > limit:
                errors.setdefault(f"indicators.{n}.{field}", []).append(
                    f"第 {n} 行：{LIMIT_LABELS[field]}不能超过 {limit} 个字"
                )
        if values["value_type"] not in VALUE_TYPES:
            errors.setdefault(f"indicators.{n}.value_type", []).append(
                f"第 {n} 行：指标类型须为{'或'.join(VALUE_TYPE_LABELS[v] for v in VALUE_TYPES)}"
            )
        if values["direction"] not in DIRECTIONS:
            errors.setdefault(f"indicators.{n}.direction", []).append(
                f"第 {n} 行：指标方向须为{'、'.join(DIRECTION_LABELS[d] for d in DIRECTIONS)}之一"
            )
        weight: Decimal | None = None
        if item.get("weight") not in (None, ""):
            raw_weight = repr(item["weight"]) if isinstance(item["weight"], float) else str(item["weight"])
            try:
                weight = Decimal(raw_weight)
            except InvalidOperation:
                weight = None
            if weight is None or not weight.is_finite() or not (0 <= weight <= MAX_WEIGHT):
                errors.setdefault(f"indicators.{n}.weight", []).append(
                    f"第 {n} 行：权重须为 0–{MAX_WEIGHT} 之间的数"
                )
                weight = None
            else:
                weight = weight.quantize(Decimal("0.01"))
        lines.append(TargetLine(position=n, indicator_id=base.id if base else None, weight=weight, **values))
    if errors:
        raise ValidationFailed(next(iter(errors.values()))[0], errors=errors)
    return lines


def save_draft(session: Session, actor: Actor, project_id: int, data: dict[str, Any]) -> TargetSet:
    project, target_set = _editable(session, actor, project_id)
    if (
        data.get("lock_version") is not None
        and target_set.id is not None
        and data["lock_version"] != target_set.lock_version
    ):
        raise StaleVersion(f"绩效目标已被修改（当前 lock_version {target_set.lock_version}），请刷新后重试")
    raw_lines = list(data.get("indicators") or [])
    check_line_count(project, len(raw_lines))
    lines = _parse_lines(session, raw_lines)
    before = snapshot_of(target_set) if target_set.id else {}
    target_set.overall_goal = str(data.get("overall_goal") or "")
    target_set.midterm_goal = str(data.get("midterm_goal") or "")
    _replace_lines(session, target_set, lines)
    flag_modified(target_set, "overall_goal")  # new lines alone are a new lock_version too
    session.flush()
    after = snapshot_of(target_set)
    # audited once: what the draft is now, and which parts changed (the previous state is the
    # previous event's `after`), not the whole set twice
    record(
        session,
        "targets.save",
        object_type="project",
        object_id=project.id,
        after={**after, "changed": sorted(k for k in after if before.get(k) != after[k])},
    )
    return target_set


def check_line_count(project: Project, count: int) -> None:
    """At most the program's `max_target_lines` (*default* 100) lines in one target set."""
    limit = int(project.program.effective_settings.get("max_target_lines", 100))
    if count > limit:
        raise ValidationFailed(
            f"一个项目的绩效指标至多 {limit} 个，本次有 {count} 个",
            errors={"indicators": [f"一个项目的绩效指标至多 {limit} 个，本次有 {count} 个"]},
        )


def _replace_lines(session: Session, target_set: TargetSet, lines: list[TargetLine]) -> None:
    target_set.lines.clear()
    session.flush()
    for line in lines:
        line.tenant_id = target_set.tenant_id
    target_set.lines.extend(lines)


def weights_total(project: Project) -> Decimal:
    """What the weights of a set must add up to (the program's `target_weights_total`, default 100)."""
    return Decimal(str(project.program.effective_settings.get("target_weights_total", 100)))


def apply_template(session: Session, actor: Actor, project_id: int, template_id: int) -> TargetSet:
    """一键勾选: the template's indicators join the draft (those already there are kept); a template
    holding a retired indicator is refused, naming it, rather than applied in part. On an empty set
    the weights are distributed evenly over the lines (平均分配权重), summing to the program's total."""
    project, target_set = _editable(session, actor, project_id)
    template = get_template(session, actor, template_id)
    indicators = pickable_indicators(
        session, [item.indicator_id for item in template.items], field="template_id"
    )
    present = {line.indicator_id for line in target_set.lines}
    check_line_count(project, len(target_set.lines) + len({i.id for i in indicators} - present))
    was_empty = not target_set.lines
    position = len(target_set.lines)
    added = []
    for indicator in indicators:
        if indicator.id in present:
            continue
        position += 1
        target_set.lines.append(
            TargetLine(
                tenant_id=target_set.tenant_id,
                position=position,
                indicator_id=indicator.id,
                name=indicator.name,
                level2=indicator.level2.name,
                value_type=indicator.value_type,
                direction=indicator.direction,
                target_value=indicator.standard_value,
                unit=indicator.unit,
                weight=None,
                value_basis=indicator.value_basis,
                note="",
            )
        )
        added.append(indicator.code)
    if added:
        flag_modified(target_set, "overall_goal")
    if was_empty and added:  # a template on an empty set is a submittable draft as to the weights
        weights = rules.even_weights(len(target_set.lines), weights_total(project))
        for line, weight in zip(target_set.lines, weights, strict=True):
            line.weight = weight
    session.flush()
    record(
        session,
        "targets.apply_template",
        object_type="project",
        object_id=project.id,
        after={"template": template.name, "added": added, "weights_distributed": was_empty and bool(added)},
    )
    return target_set


def apply_from(
    session: Session, actor: Actor, project_id: int, template_id: int | None, case_id: int | None
) -> TargetSet:
    """A template (模板库) or a case (规范管理蓝本) — exactly one of the two."""
    if (template_id is None) == (case_id is None):
        message = "请给出 template_id（模板）或 case_id（规范管理蓝本）其中之一"
        raise ValidationFailed(message, errors={"template_id": [message]})
    if case_id is not None:
        return apply_case(session, actor, project_id, case_id)
    assert template_id is not None
    return apply_template(session, actor, project_id, template_id)


def apply_case(session: Session, actor: Actor, project_id: int, case_id: int) -> TargetSet:
    """A 规范管理蓝本's targets join the draft as the accepted project set them (values, units,
    directions); lines already there (the same library indicator, or the same name) are kept. On an
    empty set the case's weights come along when they sum to the program's total, else they are
    distributed evenly. A case without targets (not published from a project) adds its indicators."""
    project, target_set = _editable(session, actor, project_id)
    case = get_case(session, actor, case_id)
    targets = list(case.targets or [])
    if not targets:
        indicators = pickable_indicators(session, list(case.indicator_ids or []), field="case_id")
        targets = [
            {
                "indicator_id": i.id,
                "name": i.name,
                "level2": i.level2.name,
                "value_type": i.value_type,
                "direction": i.direction,
                "target_value": i.standard_value,
                "unit": i.unit,
                "value_basis": i.value_basis,
            }
            for i in indicators
        ]
    else:  # the library indicators must still be in use (a retired one refuses the case, named)
        pickable_indicators(
            session, [t["indicator_id"] for t in targets if t.get("indicator_id")], field="case_id"
        )
    present_ids = {line.indicator_id for line in target_set.lines if line.indicator_id}
    present_names = {line.name for line in target_set.lines}
    new = [
        t
        for t in targets
        if not (t.get("indicator_id") in present_ids and t.get("indicator_id"))
        and t["name"] not in present_names
    ]
    check_line_count(project, len(target_set.lines) + len(new))
    was_empty = not target_set.lines
    position = len(target_set.lines)
    for t in new:
        position += 1
        target_set.lines.append(
            TargetLine(
                tenant_id=target_set.tenant_id,
                position=position,
                indicator_id=t.get("indicator_id"),
                name=t["name"],
                level2=t["level2"],
                value_type=t["value_type"],
                direction=t["direction"],
                target_value=t.get("target_value") or "",
                unit=t.get("unit") or "",
                weight=None,
                value_basis=t.get("value_basis") or "",
                note=t.get("note") or "",
            )
        )
    if new:
        flag_modified(target_set, "overall_goal")
    if was_empty and new:
        given = [Decimal(str(t["weight"])) for t in new if t.get("weight") not in (None, "")]
        if len(given) == len(new) and sum(given, Decimal(0)) == weights_total(project):
            weights = given
        else:
            weights = rules.even_weights(len(target_set.lines), weights_total(project))
        for line, weight in zip(target_set.lines, weights, strict=True):
            line.weight = weight
    session.flush()
    record(
        session,
        "targets.apply_case",
        object_type="project",
        object_id=project.id,
        after={"case": case.title, "case_id": case.id, "added": [t["name"] for t in new]},
    )
    return target_set


def snapshot_of(target_set: TargetSet, *, with_indicators: bool = False) -> dict[str, Any]:
    return {
        "number": target_set.number,
        "status": target_set.status,
        "overall_goal": target_set.overall_goal,
        "midterm_goal": target_set.midterm_goal,
        "lines": [
            {**_line_values(line), **({"indicator_id": line.indicator_id} if with_indicators else {})}
            for line in target_set.lines
        ],
    }


# --- submit and review ------------------------------------------------------------------------


def check(session: Session, project: Project, target_set: TargetSet) -> list[rules.Violation]:
    ids = [line.indicator_id for line in target_set.lines if line.indicator_id is not None]
    retired = (
        frozenset(
            session.execute(
                select(Indicator.id)
                .where(Indicator.id.in_(ids), Indicator.status != "active")
                .execution_options(all_tenants=True)  # a line may cite an indicator the reader can't see now
            ).scalars()
        )
        if ids
        else frozenset()
    )
    missing = missing_purposes(session, project, "targets")
    evidence = [rules.Violation("E01", f"缺少必备的佐证材料：{'、'.join(missing)}")] if missing else []
    return evidence + rules.run(
        rules.Context(
            lines=list(target_set.lines),
            overall_goal=target_set.overall_goal or "",
            midterm_goal=target_set.midterm_goal or "",
            project_class=project.project_class,
            serves_public=project.serves_public,
            multi_year=project.end_year > project.start_year,
            weights_total=weights_total(project),
            retired_indicator_ids=retired,
        )
    )


def dry_run(session: Session, actor: Actor, project_id: int) -> list[rules.Violation]:
    """The quality rules on the current draft without submitting (inline validation on the page)."""
    project = get_project(session, actor, project_id)
    authorize(actor, "projects.read")
    return check(session, project, current(session, actor, project_id))


def check_lines(
    session: Session, actor: Actor, project_id: int, raw_lines: list[dict[str, Any]]
) -> list[rules.Violation]:
    """The line rules on lines as typed, saving nothing (the editor checks a line when the user
    leaves it): ValidationFailed names each value the columns cannot hold, else the violations that
    name a line (the set's own rules wait for 检查 and 提交)."""
    project = get_project(session, actor, project_id)
    authorize(actor, "projects.read")
    unsaved = TargetSet(
        project_id=project.id,
        tenant_id=project.tenant_id,
        number=0,
        status="draft",
        overall_goal="",
        midterm_goal="",
        lines=_parse_lines(session, raw_lines),
        reviews=[],
    )
    return [v for v in check(session, project, unsaved) if v.line is not None]


def submit(session: Session, actor: Actor, project_id: int) -> TargetSet:
    project, target_set = _editable(session, actor, project_id)
    violations = check(session, project, target_set)
    if violations:
        raise ValidationFailed(
            f"绩效目标未通过质量检查：共 {len(violations)} 处问题",
            errors={"violations": [v.as_dict() for v in violations]},
        )
    target_set.status = "submitted"
    target_set.review_level = CHAIN[0]
    target_set.submitted_by = actor.username
    target_set.submitted_at = utcnow()
    if target_set.number == 1:
        set_stage_status(session, project, "targets", "submitted")
    session.flush()
    record(
        session, "targets.submit", object_type="project", object_id=project.id, after=snapshot_of(target_set)
    )
    announce(session, actor, "targets.submitted", project=project, target_set=target_set)
    return target_set


def require_found(target_set: TargetSet) -> TargetSet:
    if target_set.id is None:
        raise NotFound("尚未填报绩效目标")
    return target_set
