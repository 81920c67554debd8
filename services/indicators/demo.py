"""The starter shared library and templates of DEMO.md, owned by the province (idempotent)."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from jixiao.platform.core.audit import record
from jixiao.tenants.models import Tenant

from .models import Indicator, IndicatorTemplate, TemplateItem
from .service import insert_indicator, level2_nodes

STARTER_LIBRARY = Path(__file__).resolve().parent / "data" / "starter_library.json"


def load_demo(session: Session) -> dict[str, int]:
    province = (
        session.execute(select(Tenant).where(Tenant.level == "province").order_by(Tenant.id))
        .scalars()
        .first()
    )
    if province is None:
        return {"indicators": 0, "templates": 0}
    data = json.loads(STARTER_LIBRARY.read_text(encoding="utf-8"))
    nodes = level2_nodes(session)
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
            fields = {k: v for k, v in row.items() if k not in ("key", "level1")}
            indicator = insert_indicator(session, province, fields, actor=None, level2=nodes)
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
