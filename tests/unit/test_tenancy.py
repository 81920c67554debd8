"""The tenant walls themselves (DESIGN.md §4), at the ORM level: no HTTP, no hand-written filters.

Uses the walled models that exist (`User` with its own rules, `AuditEvent`) on the migrated demo
database; no tables are defined here. Probe users are created once per module (unique names) in
640104, 640105, 640106 and 640200 so that every branch of the hierarchy has someone to hide.
Everything a test writes on purpose is committed only where the test says so; attempts that must
fail are rolled back.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, aliased, selectinload

from jixiao.platform.core.actor import Actor
from jixiao.platform.core.audit import AuditEvent, AuditHead, event_hash, record
from jixiao.platform.core.errors import WallViolation
from jixiao.tenants.models import Tenant, User, UserRole
from jixiao.tenants.service import build_actor

PROBE_TENANTS = ("640104", "640105", "640106", "640200")
XQ_DEMO = {"xq.admin", "xq.dept", "xq.editor"}
XX_DEMO = {"xx.admin", "xx.dept", "xx.editor"}


class _Abort(Exception):
    """Raised inside a unit of work to make it roll back."""


# --- fixtures ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tenant_ids(runtime: Any) -> dict[str, int]:
    with runtime.db.system_session("test: tenant ids") as s:
        return {code: tid for code, tid in s.execute(select(Tenant.code, Tenant.id))}


@pytest.fixture(scope="module")
def probes(runtime: Any, tenant_ids: dict[str, int]) -> dict[str, dict[str, Any]]:
    """One committed probe user per tenant of PROBE_TENANTS: {code: {"id", "username"}}."""
    prefix = f"tw{secrets.token_hex(3)}"
    made: dict[str, dict[str, Any]] = {}
    with runtime.db.transaction(system="test: tenancy probe users") as s:
        for code in PROBE_TENANTS:
            user = User(
                username=f"{prefix}.c{code}",
                display_name=f"探针 {code}",
                password_hash="!",  # cannot log in
                tenant_id=tenant_ids[code],
                role_rows=[UserRole(role="project_editor")],
            )
            s.add(user)
            s.flush()
            made[code] = {"id": user.id, "username": user.username}
    made["prefix"] = {"username": prefix}
    return made


@pytest.fixture(scope="module")
def actor_for(runtime: Any) -> Callable[[str], Actor]:
    cache: dict[str, Actor] = {}

    def build(username: str) -> Actor:
        if username not in cache:
            with runtime.db.system_session("test: build actor") as s:
                user = s.execute(select(User).where(User.username == username)).scalar_one()
                cache[username] = build_actor(s, user)
        return cache[username]

    return build


@pytest.fixture()
def bare_session(runtime: Any) -> Iterator[Session]:
    """A session created the wrong way: neither an actor nor a system reason."""
    session = Session(runtime.db.engine)
    try:
        yield session
    finally:
        session.rollback()
        session.close()


def _all_users(runtime: Any) -> list[tuple[int, str, int | None]]:
    with runtime.db.system_session("test: every user") as s:
        return [
            (r.id, r.username, r.tenant_id) for r in s.execute(select(User.id, User.username, User.tenant_id))
        ]


def _usernames(session: Session) -> set[str]:
    return {u.username for u in session.execute(select(User)).scalars().unique()}


def _user_exists(runtime: Any, username: str) -> bool:
    with runtime.db.system_session("test: does the user exist") as s:
        return s.execute(select(User.id).where(User.username == username)).first() is not None


def _display_name(runtime: Any, user_id: int) -> str:
    with runtime.db.system_session("test: read display name") as s:
        return s.execute(select(User.display_name).where(User.id == user_id)).scalar_one()


def _subtree(runtime: Any, code: str) -> set[int]:
    with runtime.db.system_session("test: subtree") as s:
        root = s.execute(select(Tenant).where(Tenant.code == code)).scalar_one()
        return set(
            s.execute(
                select(Tenant.id).where((Tenant.id == root.id) | Tenant.path.startswith(root.path + "/"))
            ).scalars()
        )


# --- reading: one county ----------------------------------------------------------------------


def test_county_admin_selects_only_its_own_tenants_users(runtime, actor_for, tenant_ids, probes):
    xq = tenant_ids["640104"]
    with runtime.db.session(actor_for("xq.admin")) as s:
        users = s.execute(select(User)).scalars().unique().all()
    assert users, "xq.admin sees nobody at all"
    assert {u.tenant_id for u in users} == {xq}
    names = {u.username for u in users}
    assert names >= XQ_DEMO
    assert probes["640104"]["username"] in names
    expected = {name for _id, name, tid in _all_users(runtime) if tid == xq}
    assert names == expected
    assert not names & (XX_DEMO | {"yc.admin", "nx.admin", "nx.reviewer", "eval.ningping"})


def test_session_get_of_another_tenants_user_is_none(runtime, actor_for, probes):
    with runtime.db.system_session("test: ids") as s:
        xx_admin = s.execute(select(User.id).where(User.username == "xx.admin")).scalar_one()
        nx_admin = s.execute(select(User.id).where(User.username == "nx.admin")).scalar_one()
        evaluator = s.execute(select(User.id).where(User.username == "eval.ningping")).scalar_one()
    with runtime.db.session(actor_for("xq.admin")) as s:
        assert s.get(User, xx_admin) is None
        assert s.get(User, nx_admin) is None  # the province above is not readable either
        assert s.get(User, evaluator) is None
        assert s.get(User, probes["640105"]["id"]) is None
        own = s.get(User, probes["640104"]["id"])
        assert own is not None and own.username == probes["640104"]["username"]


def test_walls_apply_inside_subqueries_joins_and_aliases(runtime, actor_for, tenant_ids):
    xq = tenant_ids["640104"]
    expected = {name for _id, name, tid in _all_users(runtime) if tid == xq}
    with runtime.db.session(actor_for("xq.admin")) as s:
        counted = s.execute(select(func.count()).select_from(select(User).subquery())).scalar_one()
        assert counted == len(expected)

        by_role = s.execute(select(UserRole.role, User.username).join(UserRole.user)).all()
        assert {name for _role, name in by_role} == expected

        by_tenant = s.execute(
            select(Tenant.code, User.username).join(User, User.tenant_id == Tenant.id)
        ).all()
        assert {code for code, _name in by_tenant} == {"640104"}
        assert {name for _code, name in by_tenant} == expected

        in_subquery = s.execute(select(UserRole).where(UserRole.user_id.in_(select(User.id)))).scalars().all()
        assert {r.user_id for r in in_subquery} == set(
            s.execute(select(User.id)).scalars()  # same walls, so the same ids
        )
        assert len({r.user_id for r in in_subquery}) == len(expected)

        alias = aliased(User)
        assert set(s.execute(select(alias.username)).scalars()) == expected

        columns_only = set(s.execute(select(User.username, User.tenant_id)).all())
        assert {tid for _n, tid in columns_only} == {xq}


def test_walls_apply_to_role_rows_and_relationship_loads(runtime, actor_for, tenant_ids):
    """Role rows stand behind the same walls as their users, and so do the users loaded from them."""
    xq = tenant_ids["640104"]
    with runtime.db.system_session("test: count every role row of 640104") as s:
        xq_roles = s.execute(
            select(func.count()).select_from(UserRole).join(UserRole.user).where(User.tenant_id == xq)
        ).scalar_one()
        all_roles = s.execute(select(func.count()).select_from(UserRole)).scalar_one()
    assert all_roles > xq_roles
    with runtime.db.session(actor_for("xq.admin")) as s:
        rows = s.execute(select(UserRole).options(selectinload(UserRole.user))).scalars().all()
        assert len(rows) == xq_roles
        assert {r.user.tenant_id for r in rows} == {xq}
    with runtime.db.session(actor_for("xq.admin")) as s:  # lazy loads, fresh identity map
        rows = s.execute(select(UserRole)).scalars().all()
        assert {r.user.tenant_id for r in rows} == {xq}
        user = s.execute(select(User).where(User.tenant_id == xq)).scalars().first()
        assert user is not None and user.role_rows, "the own users' roles load through the relationship"


def test_evaluator_sees_only_itself(runtime, actor_for):
    with runtime.db.session(actor_for("eval.ningping")) as s:
        assert _usernames(s) == {"eval.ningping"}


# --- reading: a city and the province ---------------------------------------------------------


def test_city_admin_reads_down_its_branch_but_not_another_city(runtime, actor_for, tenant_ids, probes):
    branch = _subtree(runtime, "640100")
    assert len(branch) >= 7
    with runtime.db.session(actor_for("yc.admin")) as s:
        users = s.execute(select(User)).scalars().unique().all()
        names = {u.username for u in users}
        assert {u.tenant_id for u in users} <= branch
        assert {"yc.admin"} | XQ_DEMO | XX_DEMO <= names
        for code in ("640104", "640105", "640106"):
            assert probes[code]["username"] in names
        assert probes["640200"]["username"] not in names
        assert s.get(User, probes["640200"]["id"]) is None
        assert not names & {"nx.admin", "nx.reviewer", "eval.ningping"}
    expected = {name for _id, name, tid in _all_users(runtime) if tid in branch}
    assert names == expected


def test_province_admin_sees_every_user_including_evaluators(runtime, actor_for, probes):
    everyone = {name for _id, name, _tid in _all_users(runtime)}
    with runtime.db.session(actor_for("nx.admin")) as s:
        names = _usernames(s)
        evaluator = s.execute(select(User).where(User.username == "eval.ningping")).scalar_one()
        assert evaluator.tenant_id is None
    assert names == everyone
    assert probes["640200"]["username"] in names


# --- no actor, and the explicit escapes -------------------------------------------------------


def _stmt_select_user() -> Any:
    return select(User)


def _stmt_select_column() -> Any:
    return select(User.username)


def _stmt_count_subquery() -> Any:
    return select(func.count()).select_from(select(User).subquery())


def _stmt_join() -> Any:
    return select(UserRole).join(UserRole.user)


def _stmt_audit() -> Any:
    return select(AuditEvent)


def _stmt_bulk_update() -> Any:
    return update(User).where(User.id == -1).values(display_name="x")


@pytest.mark.parametrize(
    "make_stmt",
    [
        _stmt_select_user,
        _stmt_select_column,
        _stmt_count_subquery,
        _stmt_join,
        _stmt_audit,
        _stmt_bulk_update,
    ],
    ids=["select-User", "select-column", "count-over-subquery", "join-to-User", "AuditEvent", "bulk-update"],
)
def test_session_without_actor_refuses_walled_queries(bare_session, make_stmt):
    with pytest.raises(WallViolation):
        bare_session.execute(make_stmt())


def test_session_without_actor_refuses_get_and_relationship_loads(bare_session, probes):
    with pytest.raises(WallViolation):
        bare_session.get(User, probes["640104"]["id"])
    bare_session.rollback()
    with pytest.raises(WallViolation):
        bare_session.execute(select(UserRole).where(UserRole.user_id == probes["640104"]["id"]))


def test_session_without_actor_refuses_writes(bare_session, unique):
    bare_session.add(User(username=f"tw{unique}.noactor", display_name="无主", password_hash="!"))
    with pytest.raises(WallViolation):
        bare_session.flush()


def test_system_session_and_all_tenants_option_see_everything(runtime, actor_for):
    everyone = {name for _id, name, _tid in _all_users(runtime)}
    with runtime.db.system_session("test: the explicit escape") as s:
        assert _usernames(s) == everyone
    with runtime.db.session(actor_for("xq.admin")) as s:
        escaped = set(s.execute(select(User.username).execution_options(all_tenants=True)).scalars())
        assert escaped == everyone
        assert {"xx.admin", "nx.admin", "eval.ningping"} <= escaped
        # the escape is per statement: the next one is walled again
        assert "xx.admin" not in _usernames(s)


# --- writing ----------------------------------------------------------------------------------


def test_flushing_a_user_into_another_tenant_raises_and_writes_nothing(
    runtime, actor_for, tenant_ids, unique
):
    username = f"tw{unique}.intruder"
    with pytest.raises(WallViolation), runtime.db.transaction(actor_for("xq.admin")) as s:
        s.add(
            User(
                username=username,
                display_name="越墙",
                password_hash="!",
                tenant_id=tenant_ids["640105"],
                role_rows=[UserRole(role="project_editor")],
            )
        )
    assert not _user_exists(runtime, username)

    with runtime.db.session(actor_for("xq.admin")) as s:  # no tenant at all is not "own" either
        s.add(User(username=f"{username}2", display_name="无租户", password_hash="!"))
        with pytest.raises(WallViolation):
            s.flush()
        s.rollback()
    assert not _user_exists(runtime, f"{username}2")


def test_modifying_another_tenants_user_raises_even_after_an_escaped_read(runtime, actor_for, probes):
    target = probes["640105"]
    before = _display_name(runtime, target["id"])
    with runtime.db.session(actor_for("xq.admin")) as s:
        user = s.execute(
            select(User).where(User.id == target["id"]).execution_options(all_tenants=True)
        ).scalar_one()
        user.display_name = "被越墙修改"
        with pytest.raises(WallViolation):
            s.flush()
        s.rollback()
    assert _display_name(runtime, target["id"]) == before


def test_upper_level_reads_but_may_not_write_a_county_user(runtime, actor_for, probes):
    target = probes["640104"]
    before = _display_name(runtime, target["id"])
    with runtime.db.session(actor_for("yc.admin")) as s:
        user = s.get(User, target["id"])
        assert user is not None  # reads down
        user.display_name = "上级修改"
        with pytest.raises(WallViolation):
            s.flush()
        s.rollback()
    assert _display_name(runtime, target["id"]) == before


def test_own_user_row_cannot_be_moved_into_another_tenant(runtime, probes, tenant_ids):
    """The own-row exemption (password, last login) must not let a user move itself across the walls."""
    me = probes["640104"]
    with runtime.db.system_session("test: probe actor") as s:
        actor = build_actor(s, s.get(User, me["id"]))
    with runtime.db.session(actor) as s:
        user = s.get(User, me["id"])
        user.tenant_id = tenant_ids["640105"]
        with pytest.raises(WallViolation):
            s.flush()
        s.rollback()
    with runtime.db.system_session("test: where is the probe") as s:
        assert s.get(User, me["id"]).tenant_id == tenant_ids["640104"]


def test_county_admin_may_write_its_own_tenant(runtime, actor_for, tenant_ids, unique):
    username = f"tw{unique}.own"
    with runtime.db.session(actor_for("xq.admin")) as s:
        s.add(
            User(
                username=username,
                display_name="本区用户",
                password_hash="!",
                tenant_id=tenant_ids["640104"],
                role_rows=[UserRole(role="project_editor")],
            )
        )
        s.flush()  # no WallViolation
        s.rollback()
    assert not _user_exists(runtime, username)


def test_province_admin_may_write_into_any_tenant(runtime, actor_for, tenant_ids, unique):
    username = f"tw{unique}.byprov"
    with runtime.db.transaction(actor_for("nx.admin")) as s:
        s.add(
            User(
                username=username,
                display_name="省厅代建",
                password_hash="!",
                tenant_id=tenant_ids["640105"],
                role_rows=[UserRole(role="project_editor")],
            )
        )
    with runtime.db.system_session("test: check") as s:
        row = s.execute(select(User).where(User.username == username)).scalar_one()
        assert row.tenant_id == tenant_ids["640105"]


def test_bulk_update_and_delete_touch_only_the_owners_rows(runtime, actor_for, probes):
    prefix = probes["prefix"]["username"] + "."
    mine = User.username.startswith(prefix)  # the four probe users: 640104, 640105, 640106, 640200
    before = {code: _display_name(runtime, probes[code]["id"]) for code in PROBE_TENANTS}
    with runtime.db.session(actor_for("xq.admin")) as s:
        other = s.execute(
            update(User)
            .where(User.id == probes["640105"]["id"])
            .values(display_name="批量越墙")
            .execution_options(synchronize_session=False)
        )
        assert other.rowcount == 0
        others = s.execute(
            update(User)
            .where(mine, User.tenant_id != actor_for("xq.admin").tenant_id)
            .values(display_name="批量越墙")
            .execution_options(synchronize_session=False)
        )
        assert others.rowcount == 0
        all_four = s.execute(
            update(User).where(mine).values(display_name="批量").execution_options(synchronize_session=False)
        )
        assert all_four.rowcount == 1  # only the own tenant's probe
        gone = s.execute(delete(User).where(mine).execution_options(synchronize_session=False))
        assert gone.rowcount == 1
        s.rollback()
    with runtime.db.session(actor_for("yc.admin")) as s:  # upper levels are read-only below
        touched = s.execute(
            update(User)
            .where(mine)
            .values(display_name="上级批量")
            .execution_options(synchronize_session=False)
        )
        assert touched.rowcount == 0
        s.rollback()
    assert {code: _display_name(runtime, probes[code]["id"]) for code in PROBE_TENANTS} == before


# --- the audit trail ----------------------------------------------------------------------------


def _latest_event_id(runtime: Any) -> int:
    with runtime.db.system_session("test: latest event") as s:
        return s.execute(select(func.max(AuditEvent.id))).scalar_one()


def test_audit_events_are_append_only_in_the_orm(runtime, actor_for):
    event_id = _latest_event_id(runtime)
    assert event_id
    with runtime.db.system_session("test: try to edit the trail") as s:
        ev = s.get(AuditEvent, event_id)
        ev.action = "tampered"
        with pytest.raises(RuntimeError, match="append-only"):
            s.flush()
        s.rollback()
    with runtime.db.system_session("test: try to delete from the trail") as s:
        s.delete(s.get(AuditEvent, event_id))
        with pytest.raises(RuntimeError, match="append-only"):
            s.flush()
        s.rollback()
    with runtime.db.session(actor_for("nx.admin")) as s:
        ev = s.get(AuditEvent, event_id)
        assert ev is not None
        ev.after = {"tampered": True}
        with pytest.raises(RuntimeError, match="append-only"):
            s.flush()
        s.rollback()
        # a bulk UPDATE in an actor's session matches nothing (write criteria: false); on PostgreSQL
        # the app's role may not even try (platform/core/rls.py: the trail is append-only for it)
        tampering = (
            update(AuditEvent)
            .where(AuditEvent.id == event_id)
            .values(action="tampered")
            .execution_options(synchronize_session=False)
        )
        if s.get_bind().dialect.name == "postgresql":
            with pytest.raises(DBAPIError, match="permission denied"):
                s.execute(tampering)
        else:
            assert s.execute(tampering).rowcount == 0
        s.rollback()
    # and below the ORM the database itself refuses (triggers)
    with runtime.db.system_session("test: the triggers") as s:
        with pytest.raises(DBAPIError):
            s.execute(
                update(AuditEvent)
                .where(AuditEvent.id == event_id)
                .values(action="tampered")
                .execution_options(synchronize_session=False)
            )
        s.rollback()
        with pytest.raises(DBAPIError):
            s.execute(
                delete(AuditEvent)
                .where(AuditEvent.id == event_id)
                .execution_options(synchronize_session=False)
            )
        s.rollback()
    with runtime.db.system_session("test: unchanged") as s:
        assert s.get(AuditEvent, event_id).action != "tampered"


def test_audit_events_are_walled_like_the_tenant_that_owns_them(runtime, actor_for, tenant_ids, unique):
    marker = f"walls-{unique}"
    with runtime.db.transaction(actor_for("xq.admin")) as s:
        record(s, "test.walls", object_type="test", object_id=marker)

    def seen(username: str) -> int:
        with runtime.db.session(actor_for(username)) as s:
            return len(s.execute(select(AuditEvent).where(AuditEvent.object_id == marker)).scalars().all())

    assert {
        name: seen(name) for name in ("xq.admin", "yc.admin", "nx.admin", "xx.admin", "eval.ningping")
    } == {
        "xq.admin": 1,
        "yc.admin": 1,
        "nx.admin": 1,
        "xx.admin": 0,
        "eval.ningping": 0,
    }


def _events(runtime: Any, object_id: str) -> list[AuditEvent]:
    with runtime.db.system_session("test: read events") as s:
        return list(
            s.execute(
                select(AuditEvent).where(AuditEvent.object_id == object_id).order_by(AuditEvent.id)
            ).scalars()
        )


def test_record_in_a_rolled_back_transaction_leaves_no_event(runtime, actor_for, probes, unique):
    marker = f"rollback-{unique}"
    target = probes["640104"]
    before = _display_name(runtime, target["id"])
    with pytest.raises(_Abort), runtime.db.transaction(actor_for("xq.admin")) as s:
        user = s.get(User, target["id"])
        user.display_name = "将被回滚"
        s.flush()
        record(s, "test.rollback", object_type="user", object_id=marker, before={"n": before})
        raise _Abort
    assert _events(runtime, marker) == []
    assert _display_name(runtime, target["id"]) == before


def test_record_then_rollback_then_commit_leaves_no_event(runtime, actor_for, unique):
    """`record()` before any SQL, then `rollback()`: the queued event belongs to the rolled-back
    work and must not be written by a later commit of the same session."""
    marker = f"rollback2-{unique}"
    with runtime.db.session(actor_for("xq.admin")) as s:
        record(s, "test.rollback", object_type="test", object_id=marker)
        s.rollback()
        s.commit()
    assert _events(runtime, marker) == []


def test_a_rolled_back_savepoint_drops_only_its_own_events(runtime, actor_for, unique):
    """Events belong to the unit of work that recorded them: rolling back a SAVEPOINT drops what was
    recorded inside it, and keeps what the enclosing (committed) transaction recorded."""
    outer, inner = f"sp-{unique}-outer", f"sp-{unique}-inner"
    with runtime.db.transaction(actor_for("xq.admin")) as s:
        s.execute(select(User.id)).all()
        record(s, "test.savepoint", object_type="test", object_id=outer)
        savepoint = s.begin_nested()
        record(s, "test.savepoint", object_type="test", object_id=inner)
        savepoint.rollback()
    assert [e.object_id for e in _events(runtime, outer)] == [outer]
    assert _events(runtime, inner) == []


def test_two_events_in_one_transaction_are_consecutive_and_chained(runtime, actor_for, tenant_ids, unique):
    first_id, second_id = f"chain-{unique}-1", f"chain-{unique}-2"
    with runtime.db.transaction(actor_for("xq.admin")) as s:
        record(s, "test.chain", object_type="test", object_id=first_id, after={"n": 1})
        record(s, "test.chain", object_type="test", object_id=second_id, after={"n": 2})
    [first] = _events(runtime, first_id)
    [second] = _events(runtime, second_id)
    assert second.id == first.id + 1
    assert second.prev_hash == first.hash
    assert first.hash == event_hash(first.prev_hash, first)
    assert second.hash == event_hash(second.prev_hash, second)
    assert first.tenant_id == tenant_ids["640104"] and first.username == "xq.admin"
    with runtime.db.system_session("test: the link before") as s:
        previous = s.get(AuditEvent, first.id - 1)
        assert previous is not None and first.prev_hash == previous.hash
        head = s.get(AuditHead, 1)
        assert head is not None and head.last_id >= second.id


def test_core_statements_on_walled_tables_are_refused_in_actor_sessions(runtime, actor_for):
    """with_loader_criteria only reaches ORM entities, so a Core statement on a walled table is
    refused instead of silently reading across the walls; the explicit escape still works."""
    with runtime.db.session(actor_for("xq.admin")) as s:
        with pytest.raises(WallViolation):
            s.execute(User.__table__.select())
        s.rollback()
        with pytest.raises(WallViolation):
            s.execute(select(func.count()).select_from(User.__table__))
        s.rollback()
        everyone = s.execute(
            select(func.count()).select_from(User.__table__).execution_options(all_tenants=True)
        ).scalar_one()
        walled = s.execute(select(func.count()).select_from(User)).scalar_one()
        assert everyone > walled > 0
