"""The tenant walls (DESIGN.md §4): one mechanism on every tenant-owned query.

A model declares itself walled by inheriting `TenantOwned` (the common case: a non-null
`tenant_id`, readable by the owner and every tenant above it, writable by the owner only) or by
inheriting `Walled` and saying its own rules. A third-party evaluator has no tenant: it reads the
rows of exactly the projects it holds a live grant on (`Actor.grants`) — each `TenantOwned` class
says how a row reaches its project (`__wall_project__`: its `project_id` column by default, `"id"`
for the project itself, `("target_set_id", "TargetSet")` through a parent, None for rows that
belong to no project, which an evaluator never reads). From then on:

* every ORM SELECT/UPDATE/DELETE in a session with an actor gets `with_loader_criteria` for the
  walled classes, so code never adds the filter by hand;
* a session with neither an actor nor an explicit system reason refuses walled queries;
* a flush that writes a walled row the actor may not write raises `WallViolation`.

Escaping the walls is explicit and greppable: `Database.system_session(reason)` or
`.execution_options(all_tenants=True)` on one statement.
"""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache
from typing import Any, ClassVar

from sqlalchemy import ColumnElement, ForeignKey, Select, column, event, false, or_, select, table
from sqlalchemy.orm import (
    Mapped,
    ORMExecuteState,
    Session,
    declared_attr,
    mapped_column,
    with_loader_criteria,
)
from sqlalchemy.sql.util import find_tables

from . import rls
from .actor import Actor
from .errors import WallViolation

_registry: list[type[Walled]] = []

# The tenant hierarchy as the walls read it: named here rather than imported, as the core imports
# no model (jixiao.tenants.models.Tenant is the table's class).
_tenants = table("tenants", column("id"), column("path"))


def in_reach(tenant_column: Any, actor: Actor) -> ColumnElement[bool]:
    """`tenant_column` names a tenant the actor reads: its own or one below it (pilot data flows
    up). One subquery on the materialised path, whatever the size of the subtree — a province of
    3,000 counties binds one value, not 3,000."""
    if actor.tenant_id is None or actor.tenant_path is None:
        return false()
    subtree = select(_tenants.c.id).where(
        within(_tenants.c.id, _tenants.c.path, actor.tenant_id, actor.tenant_path)
    )
    return tenant_column.in_(subtree)


def within(id_column: Any, path_column: Any, tenant_id: int, path: str) -> ColumnElement[bool]:
    """The tenant (named by its id and materialised-path columns) is `tenant_id` or one below it —
    the one spelling of a subtree (the walls, the directory, the dashboard, row-level security's
    `rls.subtree`)."""
    return or_(id_column == tenant_id, path_column.startswith(path + "/"))


class Walled:
    """Base for every class behind the walls. Subclasses say who reads and who writes."""

    __wall_abstract__: ClassVar[bool] = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not cls.__dict__.get("__wall_abstract__", False) and "__tablename__" in cls.__dict__:
            _registry.append(cls)

    @classmethod
    def wall_read_criteria(cls, actor: Actor) -> ColumnElement[bool]:
        raise NotImplementedError

    @classmethod
    def wall_write_criteria(cls, actor: Actor) -> ColumnElement[bool]:
        """Bulk UPDATE/DELETE: the owner only, unless a class says otherwise."""
        raise NotImplementedError

    def wall_may_write(self, actor: Actor) -> bool:
        raise NotImplementedError


class TenantOwned(Walled):
    """Owned by one tenant; visible to it and every tenant above it (pilot data flows up)."""

    __wall_abstract__ = True
    # How a row reaches its project, for an evaluator's grants (see the module's docstring).
    __wall_project__: ClassVar[str | tuple[str, str] | None] = "project_id"
    # Who writes its rows: the owner only (the rule), or the owner and every tenant above it — a
    # pilot report, which the province accepts and the city comments on (services/reports); the
    # service still says which level may do what.
    __wall_writers__: ClassVar[str] = "owner"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        concrete = not cls.__dict__.get("__wall_abstract__", False) and "__tablename__" in cls.__dict__
        if concrete and cls.__wall_project__ == "project_id" and "project_id" not in cls.__annotations__:
            raise TypeError(
                f"{cls.__name__}: a TenantOwned row must say how it reaches its project, for an "
                'evaluator\'s grants — set __wall_project__ = "id", ("<parent fk column>", '
                '"<Parent class>") or None (platform/core/tenancy.py)'
            )

    @declared_attr
    def tenant_id(cls) -> Mapped[int]:  # noqa: N805 - SQLAlchemy declared_attr
        return mapped_column(ForeignKey("tenants.id", ondelete="RESTRICT"), index=True, nullable=False)

    @classmethod
    def wall_read_criteria(cls, actor: Actor) -> ColumnElement[bool]:
        if actor.is_evaluator:
            return cls.wall_granted_criteria(sorted(actor.granted_project_ids))
        return in_reach(cls.tenant_id, actor)

    @classmethod
    def wall_granted_criteria(cls, project_ids: list[int]) -> ColumnElement[bool]:
        """The rows of these projects (an evaluator's live grants)."""
        how = cls.__wall_project__
        if not project_ids or how is None:
            return false()
        if isinstance(how, str):
            column: Any = getattr(cls, how)
            return column.in_(project_ids)
        via, parent_name = how
        parent = next(c for c in _registry if c.__name__ == parent_name)
        assert issubclass(parent, TenantOwned)
        parents = select(parent.id).where(parent.wall_granted_criteria(project_ids))  # type: ignore[attr-defined]
        return getattr(cls, via).in_(parents)

    @classmethod
    def wall_write_criteria(cls, actor: Actor) -> ColumnElement[bool]:
        if actor.tenant_id is None:
            return false()
        if cls.__wall_writers__ == "owner_and_above":
            return in_reach(cls.tenant_id, actor)
        return cls.tenant_id == actor.tenant_id

    def wall_may_write(self, actor: Actor) -> bool:
        if actor.is_evaluator:  # what its grants let it do, in the tenants of its granted projects
            return self.tenant_id in actor.granted_tenant_ids
        if actor.tenant_id is None:
            return False
        if self.__wall_writers__ == "owner_and_above":
            return self.tenant_id in actor.readable_tenant_ids
        return self.tenant_id == actor.tenant_id


def walled_classes() -> list[type[Walled]]:
    return list(_registry)


def _walled_tables() -> set[Any]:
    return {cls.__table__ for cls in _registry}  # type: ignore[attr-defined]


def _tables(source: Any) -> set[Any]:
    """Every table `source` reads or writes, in subqueries, joins and aliases too (an alias: also
    the table it aliases)."""
    found: set[Any] = set()
    for table_ in find_tables(source, include_joins=True, include_aliases=True, include_crud=True):
        found.add(table_)
        original = getattr(table_, "original", None)
        if original is not None:
            found.add(original)
    return found


def _touches_walled_table(statement: Any) -> bool:
    walled = _walled_tables()
    sources = [statement]
    if isinstance(statement, Select):
        sources.extend(statement.get_final_froms())
    return any(not walled.isdisjoint(_tables(source)) for source in sources)


@event.listens_for(Session, "do_orm_execute")
def _apply_walls(state: ORMExecuteState) -> Any:
    session = state.session
    second_wall = rls.enabled(session)
    if second_wall:
        rls.ensure(session)  # the database's wall (rls.py), for every statement of the session
    if state.is_column_load:
        return None
    if not (state.is_select or state.is_update or state.is_delete):
        return None
    if "system" in session.info:
        return None
    if state.execution_options.get("all_tenants", False):
        # past the ORM's wall, and past the database's for this one statement
        return rls.across_walls(state) if second_wall else None
    actor: Actor | None = session.info.get("actor")
    if actor is None:
        if state.is_relationship_load or _touches_walled_table(state.statement):
            raise WallViolation(
                "tenant-owned query in a session without an actor; use Database.session(actor) "
                "or an explicit Database.system_session(reason)"
            )
        return
    if not state.is_orm_statement and _touches_walled_table(state.statement):
        # with_loader_criteria only reaches ORM entities: a Core statement on a walled table
        # would read or write across the walls unseen.
        raise WallViolation(
            "Core statement on a tenant-owned table; query the ORM model, or escape explicitly"
        )
    state.statement = state.statement.options(
        *_wall_options(session, actor, state.is_select, state.statement)
    )


# The options built for recent actors, across sessions: the criteria are immutable expressions of
# the actor's identity (never of the request), so the next request of the same person reuses them
# (building ~25 criteria was a sixth of an API request's time, issue 17). Bounded: cleared when full.
_OPTIONS: dict[tuple[Actor, bool], _Walls] = {}
_OPTIONS_KEPT = 256


def _wall_options(session: Session, actor: Actor, reading: bool, statement: Any) -> tuple[Any, ...]:
    """The criteria of the walled classes `statement` can reach, for this actor: built once per
    session and kind of statement (a request runs dozens of statements as one actor), each
    statement carrying those of the classes it reaches only — every option is walked to key the
    statement's compiled form, and ~25 of them on each statement was a tenth of an API request. A
    class's criteria may read another walled class (a role row: its user's), whose criteria then
    apply inside them: those come along."""
    built: dict[bool, tuple[Actor, _Walls, dict[Any, tuple[Any, ...]]]]
    built = session.info.setdefault("_wall_options", {})
    hit = built.get(reading)
    if hit is None or hit[0] is not actor:
        key = (replace(actor, request_id=None, client_id=None), reading)
        walls = _OPTIONS.get(key)
        if walls is None:
            walls = _Walls(actor, reading)
            if len(_OPTIONS) >= _OPTIONS_KEPT:
                _OPTIONS.clear()
            _OPTIONS[key] = walls
        hit = built[reading] = (actor, walls, {})
    _, walls, chosen = hit
    reached = reachable(statement)
    options = chosen.get(reached)
    if options is None:
        options = chosen[reached] = walls.options(reached)
    return options


class _Walls:
    """One actor's criteria for every walled class (reading, or bulk writing), and which other
    walled classes each one's criteria read."""

    def __init__(self, actor: Actor, reading: bool) -> None:
        criteria = {
            cls: cls.wall_read_criteria(actor) if reading else cls.wall_write_criteria(actor)
            for cls in _registry
        }
        self.option = {
            cls: with_loader_criteria(cls, where, include_aliases=True) for cls, where in criteria.items()
        }
        self.reads = {cls: reachable(where) for cls, where in criteria.items()}

    def options(self, reached: frozenset[type[Walled]]) -> tuple[Any, ...]:
        wanted, todo = set(), list(reached)
        while todo:
            cls = todo.pop()
            if cls not in wanted:
                wanted.add(cls)
                todo.extend(self.reads[cls])
        return tuple(self.option[cls] for cls in _registry if cls in wanted)


# --- which walled classes a statement reaches ----------------------------------------------------


def reachable(statement: Any) -> frozenset[type[Walled]]:
    """The walled classes whose rows `statement` can read or write: those of every table it names —
    in joins, subqueries and aliases — and of the paths of its loader options, then of the
    relationships those load in the same statement (`lazy="joined"`, transitively). A relationship
    loaded by a statement of its own (select, selectin) gets its own criteria there."""
    mappers: set[Any] = set()
    for opt in getattr(statement, "_with_options", ()):
        for element in getattr(opt, "context", ()):
            for entity in getattr(getattr(element, "path", None), "path", ()):
                mapper = getattr(entity, "mapper", None)
                if mapper is not None:
                    mappers.add(mapper)
    return _classes_of(frozenset(_tables(statement)), frozenset(mappers), _generation())


def _generation() -> int:
    """Changes when a model is mapped after the caches below were filled (tests define some)."""
    return len(_registry[0].metadata.tables) if _registry else 0  # type: ignore[attr-defined]


@lru_cache(maxsize=4096)
def _classes_of(tables: frozenset[Any], mappers: frozenset[Any], generation: int) -> frozenset[type[Walled]]:
    by_table = _mappers_by_table(generation)
    todo = [m for t in tables for m in by_table.get(t, ())] + list(mappers)
    seen: set[Any] = set()
    while todo:
        mapper = todo.pop()
        if mapper in seen:
            continue
        seen.add(mapper)
        todo.extend(rel.mapper for rel in mapper.relationships if rel.lazy == "joined")
    return frozenset(m.class_ for m in seen if m.class_ in _registry)


@lru_cache(maxsize=4)
def _mappers_by_table(generation: int) -> dict[Any, tuple[Any, ...]]:
    found: dict[Any, list[Any]] = {}
    if not _registry:
        return {}
    for mapper in _registry[0].__mapper__.registry.mappers:  # type: ignore[attr-defined]
        for mapped in mapper.tables:
            found.setdefault(mapped, []).append(mapper)
    return {mapped: tuple(ms) for mapped, ms in found.items()}


@event.listens_for(Session, "before_flush")
def _guard_writes(session: Session, _ctx: Any, _instances: Any) -> None:
    if "system" in session.info:
        return
    actor: Actor | None = session.info.get("actor")
    # each bucket is built once (session.new/dirty/deleted make a new set on every access): the
    # guard stays linear in the number of objects flushed
    for bucket, is_new in ((session.new, True), (session.dirty, False), (session.deleted, False)):
        for obj in bucket:
            if not isinstance(obj, Walled):
                continue
            if actor is None:
                raise WallViolation(f"writing {type(obj).__name__} in a session without an actor")
            if is_new and isinstance(obj, TenantOwned) and obj.tenant_id is None:
                obj.tenant_id = actor.tenant_id
            if not obj.wall_may_write(actor):
                raise WallViolation(
                    f"{actor.username} may not write {type(obj).__name__} of tenant "
                    f"{getattr(obj, 'tenant_id', None)}"
                )
