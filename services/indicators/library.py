"""Templates (模板库, 一键勾选) and cases (案例库) of the indicator library (no Flask)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from jixiao.platform.core.actor import Actor
from jixiao.platform.core.audit import record
from jixiao.platform.core.authz import authorize, policy, require_role
from jixiao.platform.core.errors import Forbidden, NotFound, StaleVersion, ValidationFailed
from jixiao.platform.core.pagination import Page, paginate
from jixiao.tenants.models import Tenant

from .models import Case, Indicator, IndicatorTemplate, TemplateItem


@policy("cases.write", scope="indicators:write")
def _may_write_cases(actor: Actor, *, case: Case | None = None) -> None:
    """The province publishes the case library (规范管理蓝本); everyone reads it."""
    require_role(actor, "province_admin", message="案例库由省财政厅发布")
    if case is not None and case.tenant_id != actor.tenant_id:
        raise Forbidden("只能修改本单位发布的案例")


def _owned_template_check(actor: Actor, template: IndicatorTemplate) -> None:
    authorize(actor, "indicators.write")
    if template.tenant_id != actor.tenant_id:
        raise Forbidden(f"模板「{template.name}」不属于本单位，只能查看和使用")


def pickable_indicators(session: Session, ids: list[int], field: str = "indicator_ids") -> list[Indicator]:
    """The visible, active indicators behind `ids`, in order; every other id is named."""
    errors: list[str] = []
    found = {i.id: i for i in session.execute(select(Indicator).where(Indicator.id.in_(ids))).scalars()}
    result = []
    for indicator_id in ids:
        indicator = found.get(indicator_id)
        if indicator is None:
            errors.append(f"指标 {indicator_id} 不存在")
        elif indicator.status != "active":
            errors.append(
                f"指标 {indicator.code}「{indicator.name}」已退出，不能选用（{indicator.retired_reason or ''}）"
            )
        else:
            result.append(indicator)
    if len(set(ids)) != len(ids):
        errors.append("指标不能重复")
    if errors:
        raise ValidationFailed(errors[0], errors={field: errors})
    return result


# --- templates --------------------------------------------------------------------------------


def list_templates(
    session: Session, actor: Actor, *, project_class: str | None = None, page: int = 1, page_size: int = 50
) -> Page[IndicatorTemplate]:
    authorize(actor, "indicators.read")
    stmt = select(IndicatorTemplate).order_by(IndicatorTemplate.shared.desc(), IndicatorTemplate.name)
    if project_class:
        stmt = stmt.where(IndicatorTemplate.project_class == project_class)
    return paginate(session, stmt, page, page_size)


def get_template(session: Session, actor: Actor, template_id: int) -> IndicatorTemplate:
    authorize(actor, "indicators.read")
    template = session.get(IndicatorTemplate, template_id)
    if template is None:
        raise NotFound(f"模板 {template_id} 不存在")
    return template


def _template_fields(
    session: Session, owner_id: int, data: dict[str, Any], exclude_id: int | None = None
) -> list[Indicator]:
    errors: dict[str, list[str]] = {}
    name = (data.get("name") or "").strip()
    if not name:
        errors["name"] = ["模板名称不能为空"]
    else:
        clash = select(IndicatorTemplate.id).where(
            IndicatorTemplate.tenant_id == owner_id, IndicatorTemplate.name == name
        )
        if exclude_id is not None:
            clash = clash.where(IndicatorTemplate.id != exclude_id)
        if session.execute(clash.execution_options(all_tenants=True)).first():
            errors["name"] = [f"本单位已有名为「{name}」的模板"]
    if not (data.get("project_class") or "").strip():
        errors["project_class"] = ["请填写适用的项目类别"]
    ids = list(data.get("indicator_ids") or [])
    if not ids:
        errors["indicator_ids"] = ["模板至少包含一个指标"]
    indicators: list[Indicator] = []
    if ids:
        try:
            indicators = pickable_indicators(session, ids)
        except ValidationFailed as exc:
            errors.update(exc.errors)
    if errors:
        first = next(iter(errors.values()))[0]
        raise ValidationFailed(first, errors=errors)
    return indicators


def create_template(session: Session, actor: Actor, data: dict[str, Any]) -> IndicatorTemplate:
    authorize(actor, "indicators.write")
    owner = session.get(Tenant, actor.tenant_id)
    if owner is None:
        raise Forbidden("只有地区用户可以维护模板")
    indicators = _template_fields(session, owner.id, data)
    template = IndicatorTemplate(
        tenant_id=owner.id,
        name=data["name"].strip(),
        project_class=data["project_class"].strip(),
        shared=owner.level == "province",
        items=[TemplateItem(indicator_id=i.id, position=n) for n, i in enumerate(indicators)],
    )
    session.add(template)
    session.flush()
    record(
        session,
        "indicator_template.create",
        object_type="indicator_template",
        object_id=template.id,
        after={
            "name": template.name,
            "project_class": template.project_class,
            "indicators": [i.code for i in indicators],
        },
    )
    return template


def update_template(
    session: Session, actor: Actor, template_id: int, data: dict[str, Any]
) -> IndicatorTemplate:
    template = get_template(session, actor, template_id)
    _owned_template_check(actor, template)
    if data.get("version") != template.version:
        raise StaleVersion(f"模板已被修改（当前版本 {template.version}），请刷新后重试")
    merged = {
        "name": data.get("name", template.name),
        "project_class": data.get("project_class", template.project_class),
        "indicator_ids": data.get("indicator_ids", [item.indicator_id for item in template.items]),
    }
    indicators = _template_fields(session, template.tenant_id, merged, exclude_id=template.id)
    before = {
        "name": template.name,
        "project_class": template.project_class,
        "indicators": [item.indicator.code for item in template.items],
    }
    template.name = merged["name"].strip()
    template.project_class = merged["project_class"].strip()
    new_ids = [i.id for i in indicators]
    if new_ids != [item.indicator_id for item in template.items]:
        template.items.clear()
        session.flush()  # the old rows go before the new ones arrive (unique template × indicator)
        template.items = [TemplateItem(indicator_id=i.id, position=n) for n, i in enumerate(indicators)]
        flag_modified(template, "name")  # a change of items alone is a new version of the template
    session.flush()
    record(
        session,
        "indicator_template.update",
        object_type="indicator_template",
        object_id=template.id,
        before=before,
        after={
            "name": template.name,
            "project_class": template.project_class,
            "indicators": [i.code for i in indicators],
        },
    )
    return template


def delete_template(session: Session, actor: Actor, template_id: int) -> None:
    template = get_template(session, actor, template_id)
    _owned_template_check(actor, template)
    record(
        session,
        "indicator_template.delete",
        object_type="indicator_template",
        object_id=template.id,
        before={"name": template.name, "indicators": [item.indicator.code for item in template.items]},
    )
    session.delete(template)
    session.flush()


# --- cases ------------------------------------------------------------------------------------


def list_cases(
    session: Session,
    actor: Actor,
    *,
    project_class: str | None = None,
    category: str | None = None,
    page: int = 1,
    page_size: int = 50,
) -> Page[Case]:
    authorize(actor, "indicators.read")
    stmt = select(Case).order_by(Case.id.desc())
    if project_class:
        stmt = stmt.where(Case.project_class == project_class)
    if category:
        stmt = stmt.where(Case.category == category)
    return paginate(session, stmt, page, page_size)


def get_case(session: Session, actor: Actor, case_id: int) -> Case:
    authorize(actor, "indicators.read")
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound(f"案例 {case_id} 不存在")
    return case


def _case_fields(session: Session, data: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    if not (data.get("title") or "").strip():
        errors["title"] = ["案例标题不能为空"]
    ids = list(data.get("indicator_ids") or [])
    if ids:
        try:
            pickable_indicators(session, ids)
        except ValidationFailed as exc:
            errors.update(exc.errors)
    if errors:
        raise ValidationFailed(next(iter(errors.values()))[0], errors=errors)
    return {
        "title": data["title"].strip(),
        "project_class": (data.get("project_class") or "").strip(),
        "category": (data.get("category") or "").strip(),
        "text": data.get("text") or "",
        "indicator_ids": ids,
    }


def create_case(session: Session, actor: Actor, data: dict[str, Any]) -> Case:
    """A case; with `project_id`, the 规范管理蓝本 of a project whose pilot report was accepted (its
    approved targets, scores and findings; 409 before the acceptance)."""
    authorize(actor, "cases.write")
    published: dict[str, Any] = {}
    if data.get("project_id") is not None:
        # the reports capability knows when a project's report was accepted (imported here only:
        # the library does not depend on the lifecycle otherwise)
        from jixiao.services.reports.cases import from_project

        published = from_project(session, actor, data["project_id"])
        data = {
            **data,
            **{k: published[k] for k in ("project_class", "category", "text", "indicator_ids")},
            **{k: v for k, v in data.items() if k in ("project_class", "text") and v},
        }
    fields = _case_fields(session, data)
    extra = {k: published[k] for k in ("source_report_id", "targets", "scores", "findings") if k in published}
    case = Case(
        tenant_id=actor.tenant_id, shared=True, source_project_id=data.get("project_id"), **fields, **extra
    )
    session.add(case)
    session.flush()
    record(
        session,
        "case.publish" if published else "case.create",
        object_type="case",
        object_id=case.id,
        after={**fields, **({"project_id": data["project_id"]} if published else {})},
    )
    return case


def update_case(session: Session, actor: Actor, case_id: int, data: dict[str, Any]) -> Case:
    case = get_case(session, actor, case_id)
    authorize(actor, "cases.write", case=case)
    if data.get("version") != case.version:
        raise StaleVersion(f"案例已被修改（当前版本 {case.version}），请刷新后重试")
    current = {
        "title": case.title,
        "project_class": case.project_class,
        "category": case.category,
        "text": case.text,
        "indicator_ids": list(case.indicator_ids),
    }
    fields = _case_fields(session, {**current, **{k: v for k, v in data.items() if k in current}})
    for key, value in fields.items():
        setattr(case, key, value)
    session.flush()
    record(session, "case.update", object_type="case", object_id=case.id, before=current, after=fields)
    return case


def delete_case(session: Session, actor: Actor, case_id: int) -> None:
    case = get_case(session, actor, case_id)
    authorize(actor, "cases.write", case=case)
    record(session, "case.delete", object_type="case", object_id=case.id, before={"title": case.title})
    session.delete(case)
    session.flush()
