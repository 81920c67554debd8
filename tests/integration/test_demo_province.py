"""`jixiao demo load` loads DEMO.md exactly, and loading it again changes nothing."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date, timedelta

from sqlalchemy import func, select

from jixiao.platform.core.audit import AuditEvent
from jixiao.platform.demo import load_all
from jixiao.services.indicators.demo import STARTER_LIBRARY
from jixiao.services.indicators.models import FRAMEWORK, FrameworkNode, Indicator, IndicatorTemplate
from jixiao.services.programs.models import Program
from jixiao.services.programs.service import demo_dates
from jixiao.tenants.divisions import DEMO_USERS, NINGXIA
from jixiao.tenants.models import EvaluatorOrg, Tenant, User


def test_tenants_are_ningxia_with_real_codes(runtime):
    with runtime.db.transaction(system="test") as s:
        rows = {t.code: t for t in s.execute(select(Tenant)).scalars()}
        for code, name, level, parent in NINGXIA:
            assert rows[code].name == name
            assert rows[code].level == level
            assert (rows[code].parent.code if rows[code].parent else None) == parent
        assert rows["640104"].path == "640000/640100/640104"
        assert Counter(t.level for t in rows.values() if t.code in dict((c, 1) for c, *_ in NINGXIA)) == {
            "province": 1,
            "city": 5,
            "county": 22,
        }


def test_users_roles_and_evaluator_org(runtime):
    with runtime.db.transaction(system="test") as s:
        for username, code, _name, roles in DEMO_USERS:
            user = s.execute(select(User).where(User.username == username)).scalar_one()
            assert user.tenant.code == code and user.roles == sorted(roles)
        evaluator = s.execute(select(User).where(User.username == "eval.ningping")).scalar_one()
        assert evaluator.tenant_id is None and evaluator.roles == ["evaluator"]
        assert evaluator.evaluator_org.name == "宁夏绩评咨询有限公司"
        assert s.execute(select(EvaluatorOrg).where(EvaluatorOrg.name == "宁夏绩评咨询有限公司")).scalar_one()


def test_framework_library_and_templates(runtime):
    with runtime.db.transaction(system="test") as s:
        nodes = s.execute(select(FrameworkNode)).scalars().all()
        assert {n.name for n in nodes if n.level == 1} == set(FRAMEWORK)
        assert {n.name: n.parent.name for n in nodes if n.level == 2} == {
            l2: l1 for l1, children in FRAMEWORK.items() for l2 in children
        }
        # only the demo's own rows: other tests add shared indicators and templates of their own
        starter = json.loads(STARTER_LIBRARY.read_text(encoding="utf-8"))
        starter_names = {row["name"] for row in starter["indicators"]}
        shared = [
            i
            for i in s.execute(select(Indicator).where(Indicator.shared.is_(True))).scalars()
            if i.name in starter_names
        ]
        assert len(shared) == len(starter_names) >= 60
        assert {i.level2.name for i in shared} == {l2 for children in FRAMEWORK.values() for l2 in children}
        province_id = s.execute(select(Tenant.id).where(Tenant.code == "640000")).scalar_one()
        assert {i.tenant_id for i in shared} == {province_id}
        assert {"教育", "卫生健康", "农业农村", "交通运输", "生态环境"} <= {i.category for i in shared}
        assert {"会议", "培训", "设备购置", "信息化建设", "工程基建"} <= {i.common_class for i in shared}
        for i in shared:
            assert i.explanation and i.source and i.direction and i.value_basis
            assert set(i.historical_values) == {"2022", "2023", "2024"}
            assert i.code.startswith("640000-")
        peixun = [i for i in shared if "培训" in i.name]
        assert peixun and all("peixun" in i.name_pinyin and "px" in i.name_initials for i in peixun)
        template_names = {t["name"] for t in starter["templates"]}
        templates = [
            t
            for t in s.execute(select(IndicatorTemplate).where(IndicatorTemplate.shared.is_(True))).scalars()
            if t.name in template_names
        ]
        names = {t.name for t in templates}
        assert names == template_names
        assert {"工程基建类", "培训类", "信息化建设类"} <= names
        assert all(len(t.items) >= 6 for t in templates)


def test_the_pilot_program(runtime):
    with runtime.db.transaction(system="test") as s:
        program = s.execute(select(Program).where(Program.name == "市县预算绩效一体化管理试点")).scalar_one()
        # live: relative to the day of the first load (the test session's), every deadline ahead
        assert abs((program.start - date.today()).days) <= 1
        assert (program.start, program.end, program.deadlines) == demo_dates(program.start)
        assert all(date.fromisoformat(d) > date.today() for d in program.deadlines.values())
        assert program.max_projects_per_tenant == 2
        codes = {s.get(Tenant, p.tenant_id).code for p in program.participants}
        assert codes == {c for c, _n, level, _p in NINGXIA if level != "province"}
        assert program.effective_settings["evidence"]["required_purposes"]["targets"] == [
            "立项依据",
            "实施方案",
        ]
        assert program.effective_settings["monitoring"]["completion_green"] == 90


def test_loading_again_changes_nothing(runtime, settings):
    def counts(s):
        return {
            model.__name__: s.execute(select(func.count()).select_from(model)).scalar_one()
            for model in (Tenant, User, EvaluatorOrg, Indicator, IndicatorTemplate, Program, AuditEvent)
        }

    def dates(s):
        program = s.execute(select(Program).where(Program.name == "市县预算绩效一体化管理试点")).scalar_one()
        return program.start, program.end, dict(program.deadlines)

    with runtime.db.transaction(system="test") as s:
        before = counts(s)
        first_dates = dates(s)
    with runtime.db.transaction(system="test demo reload") as s:
        created = load_all(s, settings.demo_password, date.today() + timedelta(days=400))
    assert set(created.values()) == {0}
    with runtime.db.transaction(system="test") as s:
        assert counts(s) == before
        assert dates(s) == first_dates  # a later load keeps the first load's dates


def test_the_demo_program_dates_follow_the_first_load():
    start, end, deadlines = demo_dates(date(2026, 12, 6))
    assert (start, end) == (date(2026, 12, 6), date(2028, 12, 6))
    assert deadlines == {
        "assessment": "2027-01-05",
        "targets": "2027-02-04",
        "monitoring": "2027-09-30",
        "self_evaluation": "2028-02-29",
        "evaluation": "2028-04-30",
        "result_application": "2028-06-30",
    }
    spring = demo_dates(date(2027, 3, 1))  # a spring load: the end never precedes a deadline
    assert spring[2]["self_evaluation"] == "2029-02-28" and spring[1] == date(2029, 6, 30)
    assert all(date.fromisoformat(d) <= spring[1] for d in spring[2].values())
