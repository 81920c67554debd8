"""The second wall (issue 16 item 1): PostgreSQL's row-level security holds with the ORM's wall off.

Every test here turns the ORM's wall off — the `do_orm_execute` hook that adds the criteria and the
flush guard (`platform/core/tenancy.py`) — and queries as the app does, through a session of
`Database.session(actor)`: what the database alone lets through. SQLite has no such wall (the ORM's
is the only one there), so this runs in the real pass only.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import Table, event, func, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from jixiao.platform.core import tenancy
from jixiao.platform.core.actor import Actor
from jixiao.platform.core.runtime import Runtime
from jixiao.platform.models import metadata
from jixiao.services.projects.models import Project
from jixiao.services.targets.models import TargetSet
from jixiao.tenants.models import Tenant, User
from jixiao.tenants.service import build_actor
from tests.support.services import MODE

pytestmark = [
    pytest.mark.real,
    pytest.mark.skipif(
        MODE != "real", reason="PostgreSQL's row-level security: SQLite keeps the ORM's wall alone"
    ),
]

# the participants of a program are the program's, read by whoever reads the program
NOT_A_TENANTS_OWN = {"program_tenants"}


def tenant_tables() -> list[Table]:
    return sorted((t for t in metadata.tables.values() if "tenant_id" in t.c), key=lambda t: t.name)


@contextmanager
def orm_wall_off() -> Iterator[None]:
    hooks = [("do_orm_execute", tenancy._apply_walls), ("before_flush", tenancy._guard_writes)]
    for name, fn in hooks:
        event.remove(Session, name, fn)
    try:
        yield
    finally:
        for name, fn in hooks:
            event.listen(Session, name, fn)


@pytest.fixture(scope="module")
def ids(runtime: Runtime) -> dict[str, int]:
    with runtime.db.transaction(system="test: the demo's tenants") as s:
        found = {
            code: s.execute(select(Tenant.id).where(Tenant.code == code)).scalar_one()
            for code in ("640000", "640100", "640104", "640105", "640200")
        }
    return found


def actor_of(runtime: Runtime, username: str) -> Actor:
    with runtime.db.transaction(system="test: build an actor") as s:
        user = s.execute(select(User).where(User.username == username)).scalar_one()
        return build_actor(s, user)


def count(session: Session, table: Table, tenant_id: int) -> int:
    return session.execute(
        select(func.count()).select_from(table).where(table.c.tenant_id == tenant_id)
    ).scalar_one()


def test_the_app_acts_as_a_role_that_owns_nothing_and_every_tenant_table_is_forced(runtime: Runtime) -> None:
    with runtime.db.transaction(system="test: the catalogue") as s:
        me = s.execute(
            text("SELECT current_user, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
        ).one()
        assert me == ("jixiao_app", False, False)
        owned = s.execute(text("SELECT count(*) FROM pg_tables WHERE tableowner = current_user")).scalar_one()
        assert owned == 0
        rows = s.execute(
            text(
                "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity, "
                "(SELECT count(*) FROM pg_policies p WHERE p.tablename = c.relname) "
                "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = 'public' AND c.relkind = 'r'"
            )
        ).all()
    state = {name: (enabled, forced, policies) for name, enabled, forced, policies in rows}
    missing = [t.name for t in tenant_tables() if state[t.name][:2] != (True, True) or state[t.name][2] < 2]
    assert missing == [], f"tables with a tenant_id but no row-level security: {missing}"


def test_a_county_reads_nothing_of_its_sibling_with_the_orm_wall_off(
    runtime: Runtime, ids: dict[str, int]
) -> None:
    xq = actor_of(runtime, "xq.editor")  # 兴庆区; its sibling 西夏区 has projects of its own
    with runtime.db.transaction(system="test: what there is") as s:
        there = {t.name: count(s, t, ids["640105"]) for t in tenant_tables()}
    assert there["projects"] > 0 and there["users"] > 0 and there["audit_events"] > 0
    with orm_wall_off(), runtime.db.transaction(xq) as s:
        seen = {
            t.name: count(s, t, ids["640105"]) for t in tenant_tables() if t.name not in NOT_A_TENANTS_OWN
        }
        own = s.execute(select(func.count()).select_from(Project)).scalar_one()
        all_tenants = set(s.execute(select(Project.tenant_id)).scalars())
    assert {name: n for name, n in seen.items() if n} == {}
    assert own > 0 and all_tenants == {ids["640104"]}


def test_a_county_writes_nothing_of_another_tenant_with_the_orm_wall_off(
    runtime: Runtime, ids: dict[str, int]
) -> None:
    xq = actor_of(runtime, "xq.editor")
    with orm_wall_off(), runtime.db.transaction(xq) as s:
        changed = s.execute(update(Project).where(Project.tenant_id == ids["640105"]).values(name="篡改"))
        assert changed.rowcount == 0
    with runtime.db.transaction(system="test: a project of the sibling") as s:
        sibling = s.execute(select(Project).where(Project.tenant_id == ids["640105"]).limit(1)).scalar_one()
        program_id = sibling.program_id
        assert sibling.name != "篡改"
    with (
        pytest.raises(DBAPIError, match="row-level security"),
        orm_wall_off(),
        runtime.db.transaction(xq) as s,
    ):
        s.add(
            Project(tenant_id=ids["640105"], program_id=program_id, name="冒名项目", created_by="xq.editor")
        )
        s.flush()
    with (
        pytest.raises(DBAPIError, match="row-level security"),
        orm_wall_off(),
        runtime.db.transaction(xq) as s,
    ):
        s.execute(update(Project).where(Project.tenant_id == ids["640104"]).values(tenant_id=ids["640105"]))


def test_the_city_above_reads_but_never_writes_with_the_orm_wall_off(
    runtime: Runtime, ids: dict[str, int]
) -> None:
    yc = actor_of(runtime, "yc.admin")  # 银川市, above 兴庆区
    with orm_wall_off(), runtime.db.transaction(yc) as s:
        below = s.execute(
            select(func.count()).select_from(Project).where(Project.tenant_id == ids["640104"])
        ).scalar_one()
        other_city = s.execute(
            select(func.count()).select_from(User).where(User.tenant_id == ids["640200"])
        ).scalar_one()
        changed = s.execute(update(Project).where(Project.tenant_id == ids["640104"]).values(name="改写"))
    assert below > 0 and other_city == 0 and changed.rowcount == 0


def test_an_evaluator_reads_only_the_project_of_its_live_grant(runtime: Runtime, ids: dict[str, int]) -> None:
    with runtime.db.transaction(system="test: two projects of 兴庆区") as s:
        projects = list(
            s.execute(
                select(Project).where(Project.tenant_id == ids["640104"]).order_by(Project.id)
            ).scalars()
        )
        with_targets = {
            p.id
            for p in projects
            if s.execute(select(TargetSet.id).where(TargetSet.project_id == p.id)).first()
        }
    granted = projects[0].id
    evaluator = actor_of(runtime, "eval.ningping")
    holder = dataclasses.replace(
        evaluator, grants=frozenset({(granted, "read")}), granted_tenant_ids=frozenset({ids["640104"]})
    )
    with orm_wall_off(), runtime.db.transaction(holder) as s:
        seen_projects = set(s.execute(select(Project.id)).scalars())
        seen_sets = set(s.execute(select(TargetSet.project_id)).scalars())
        users = s.execute(
            select(func.count()).select_from(User).where(User.tenant_id.is_not(None))
        ).scalar_one()
    assert seen_projects == {granted}
    assert seen_sets == ({granted} & with_targets)
    assert users == 0
    none = dataclasses.replace(evaluator, grants=frozenset(), granted_tenant_ids=frozenset())
    with orm_wall_off(), runtime.db.transaction(none) as s:  # no live grant: nothing of any project
        assert s.execute(select(func.count()).select_from(Project)).scalar_one() == 0


def test_a_session_of_nobody_sees_no_tenants_rows_and_the_trail_is_append_only(runtime: Runtime) -> None:
    with orm_wall_off():
        session = runtime.db.sessions()  # neither an actor nor a system reason
        try:
            assert session.execute(select(func.count()).select_from(Project)).scalar_one() == 0
            assert session.execute(select(func.count()).select_from(User)).scalar_one() == 0
        finally:
            session.close()
    with (
        pytest.raises(DBAPIError, match="permission denied"),
        runtime.db.transaction(system="test: rewrite") as s,
    ):
        s.execute(text("UPDATE audit_events SET username = 'x' WHERE id = 1"))
