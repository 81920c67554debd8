"""Indicator library rules and transactions (no Flask). The HTTP side arrives with its issue;
the demo loader and the code/pinyin rules live here already."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pypinyin import Style, lazy_pinyin
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from jixiao.platform.core.audit import record
from jixiao.tenants.models import Tenant

from .models import FrameworkNode, Indicator, IndicatorTemplate, TemplateItem

STARTER_LIBRARY = Path(__file__).resolve().parent / "data" / "starter_library.json"
KIND_CODES = {"common": "CC", "individual": "IN"}


def pinyin_keys(name: str) -> tuple[str, str]:
    """Full pinyin and initials of a name, so `peixun` and `px` find 培训 (DESIGN.md §9)."""
    full = "".join(lazy_pinyin(name)).lower()
    initials = "".join(lazy_pinyin(name, style=Style.FIRST_LETTER)).lower()
    return full, initials


def next_code(session: Session, owner: Tenant, kind: str) -> str:
    """`{owner code}-{CC|IN}-{seq}`: stable once given, numbered per owner and kind."""
    prefix = f"{owner.code}-{KIND_CODES[kind]}-"
    last = session.execute(
        select(func.max(Indicator.code))
        .where(Indicator.code.startswith(prefix))
        .execution_options(all_tenants=True)
    ).scalar_one_or_none()
    seq = int(last.rsplit("-", 1)[1]) + 1 if last else 1
    return f"{prefix}{seq:04d}"


def level2_by_name(session: Session) -> dict[str, FrameworkNode]:
    return {
        n.name: n for n in session.execute(select(FrameworkNode).where(FrameworkNode.level == 2)).scalars()
    }


def load_demo(session: Session) -> dict[str, int]:
    """The starter shared library and templates owned by the province (idempotent by name)."""
    province = (
        session.execute(select(Tenant).where(Tenant.level == "province").order_by(Tenant.id))
        .scalars()
        .first()
    )
    if province is None:
        return {"indicators": 0, "templates": 0}
    data = json.loads(STARTER_LIBRARY.read_text(encoding="utf-8"))
    level2 = level2_by_name(session)
    existing = {
        i.name: i
        for i in session.execute(
            select(Indicator).where(Indicator.tenant_id == province.id).execution_options(all_tenants=True)
        ).scalars()
    }
    created = {"indicators": 0, "templates": 0}
    by_key: dict[str, Indicator] = {}
    for row in data["indicators"]:
        indicator = existing.get(row["name"])
        if indicator is None:
            indicator = _new_indicator(session, province, level2[row["level2"]], row)
            created["indicators"] += 1
        by_key[row["key"]] = indicator
    templates = set(
        session.execute(
            select(IndicatorTemplate.name)
            .where(IndicatorTemplate.tenant_id == province.id)
            .execution_options(all_tenants=True)
        ).scalars()
    )
    for tpl in data["templates"]:
        if tpl["name"] in templates:
            continue
        template = IndicatorTemplate(
            tenant_id=province.id,
            name=tpl["name"],
            project_class=tpl["project_class"],
            shared=True,
            items=[
                TemplateItem(indicator_id=by_key[k].id, position=n)
                for n, k in enumerate(tpl["indicator_keys"])
            ],
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
                "indicators": [by_key[k].code for k in tpl["indicator_keys"]],
            },
            tenant_id=province.id,
        )
        created["templates"] += 1
    return created


def _new_indicator(session: Session, owner: Tenant, level2: FrameworkNode, row: dict[str, Any]) -> Indicator:
    full, initials = pinyin_keys(row["name"])
    indicator = Indicator(
        tenant_id=owner.id,
        code=next_code(session, owner, row["kind"]),
        name=row["name"],
        name_pinyin=full,
        name_initials=initials,
        shared=owner.level == "province",
        level2_id=level2.id,
        category=row.get("category"),
        common_class=row.get("common_class"),
        kind=row["kind"],
        scope=row.get("scope", "project"),
        explanation=row.get("explanation", ""),
        source=row.get("source", ""),
        value_type=row["value_type"],
        direction=row["direction"],
        unit=row.get("unit", ""),
        standard_value=row.get("standard_value", ""),
        value_basis=row.get("value_basis", "计划标准"),
        historical_values=row.get("historical_values", {}),
    )
    session.add(indicator)
    session.flush()
    record(
        session,
        "indicator.create",
        object_type="indicator",
        object_id=indicator.id,
        after=indicator.to_audit(),
        tenant_id=owner.id,
    )
    return indicator
