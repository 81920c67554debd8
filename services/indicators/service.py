"""Indicators (三级指标): create, derive, edit, retire/restore, search, history (no Flask).

Walls come from the models (library visibility flows down, reads flow up); the policies below say
who may write: the owner tenant's admin (the province admin for the shared library)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, func, select, update
from sqlalchemy.orm import Session

from jixiao.platform.core.actor import Actor
from jixiao.platform.core.audit import record
from jixiao.platform.core.authz import authorize, policy, require_role
from jixiao.platform.core.db import utcnow
from jixiao.platform.core.errors import Conflict, Forbidden, NotFound, StaleVersion, ValidationFailed
from jixiao.tenants.models import Tenant

from .models import FrameworkNode, Indicator, IndicatorVersion
from .rules import FIELD_LABELS, validate_fields

# Searching lives in .search; its entry points stay reachable here, where callers look for them.
from .search import pinyin_keys as pinyin_keys
from .search import search as search
from .search import search_stmt as search_stmt

KIND_CODES = {"common": "CC", "individual": "IN"}
EDITABLE = (
    "name",
    "level2",
    "category",
    "common_class",
    "kind",
    "scope",
    "explanation",
    "source",
    "value_type",
    "direction",
    "unit",
    "standard_value",
    "value_basis",
    "historical_values",
)


# --- policies ---------------------------------------------------------------------------------


@policy("indicators.read", scope="indicators:read")
def _may_read(actor: Actor) -> None:
    """Anyone with the scope; the walls decide which indicators."""


@policy("indicators.write", scope="indicators:write")
def _may_write(actor: Actor, *, indicator: Indicator | None = None) -> None:
    """The admins of the owner tenant (the province admin for the shared library); above and below
    the owner the library is read-only."""
    require_role(actor, "province_admin", "bureau_admin", message="只有财政局或省财政厅管理员可以维护指标库")
    if indicator is not None and indicator.tenant_id != actor.tenant_id:
        raise Forbidden(f"指标 {indicator.code} 不属于本单位，只能查看；可从它派生本单位指标")


# --- reading ----------------------------------------------------------------------------------


def framework(session: Session) -> list[dict[str, Any]]:
    """Level 1 → level 2, in the Ministry's order."""
    nodes = session.execute(
        select(FrameworkNode).order_by(FrameworkNode.level, FrameworkNode.position)
    ).scalars()
    tree: dict[int, dict[str, Any]] = {}
    for node in nodes:
        if node.level == 1:
            tree[node.id] = {"name": node.name, "children": []}
        elif node.parent_id in tree:
            tree[node.parent_id]["children"].append({"name": node.name})
    return list(tree.values())


def level2_nodes(session: Session) -> dict[str, FrameworkNode]:
    return {
        n.name: n for n in session.execute(select(FrameworkNode).where(FrameworkNode.level == 2)).scalars()
    }


def get_indicator(session: Session, actor: Actor, indicator_id: int) -> Indicator:
    authorize(actor, "indicators.read")
    indicator = session.get(Indicator, indicator_id)
    if indicator is None:
        raise NotFound(f"指标 {indicator_id} 不存在")
    return indicator


def versions(session: Session, actor: Actor, indicator_id: int) -> list[IndicatorVersion]:
    indicator = get_indicator(session, actor, indicator_id)
    return list(
        session.execute(
            select(IndicatorVersion)
            .where(IndicatorVersion.indicator_id == indicator.id)
            .order_by(IndicatorVersion.version.desc())
        ).scalars()
    )


# --- writing ----------------------------------------------------------------------------------


def lock_owner(session: Session, owner: Tenant) -> None:
    if not session.info.get(("owner_locked", owner.id)):
        session.execute(
            update(Tenant)
            .where(Tenant.id == owner.id)
            .values(name=Tenant.name)
            .execution_options(synchronize_session=False)
        )
        session.info[("owner_locked", owner.id)] = True


@event.listens_for(Session, "after_transaction_end")
def _forget_owner_locks(session: Session, transaction: Any) -> None:
    if transaction.parent is None:  # the lock ends with the outermost transaction
        for key in [k for k in session.info if isinstance(k, tuple) and k[:1] == ("owner_locked",)]:
            del session.info[key]


def next_code(session: Session, owner: Tenant, kind: str) -> str:
    """`{owner code}-{CC|IN}-{seq}`: stable once given, numbered per owner and kind.

    Concurrent creates in one tenant take turns: a no-op UPDATE of the owner's row locks it
    (PostgreSQL: a no-key row lock that does not block foreign keys; SQLite: the write lock)
    until the transaction ends, so two transactions never read the same highest code."""
    lock_owner(session, owner)
    prefix = f"{owner.code}-{KIND_CODES[kind]}-"
    return f"{prefix}{last_sequence(session, prefix) + 1:04d}"


def last_sequence(session: Session, prefix: str) -> int:
    """The highest sequence number of the codes starting with `prefix` (0: none yet)."""
    last = session.execute(  # numerically highest: 640104-CC-10000 sorts after 640104-CC-9999
        select(Indicator.code)
        .where(Indicator.code.startswith(prefix))
        .order_by(func.length(Indicator.code).desc(), Indicator.code.desc())
        .limit(1)
        .execution_options(all_tenants=True)
    ).scalar_one_or_none()
    return int(last.rsplit("-", 1)[1]) if last else 0


def fields_of(indicator: Indicator) -> dict[str, Any]:
    return {
        "name": indicator.name,
        "level2": indicator.level2.name,
        "category": indicator.category,
        "common_class": indicator.common_class,
        "kind": indicator.kind,
        "scope": indicator.scope,
        "explanation": indicator.explanation,
        "source": indicator.source,
        "value_type": indicator.value_type,
        "direction": indicator.direction,
        "unit": indicator.unit,
        "standard_value": indicator.standard_value,
        "value_basis": indicator.value_basis,
        "historical_values": dict(indicator.historical_values or {}),
    }


def _normalise(data: dict[str, Any]) -> dict[str, Any]:
    clean = dict(data)
    for key in ("name", "category", "common_class", "unit", "standard_value", "explanation", "source"):
        if isinstance(clean.get(key), str):
            clean[key] = clean[key].strip()
    for key in ("category", "common_class"):
        if clean.get(key) == "":
            clean[key] = None
    if clean.get("historical_values") is None and "historical_values" in clean:
        clean["historical_values"] = {}
    if isinstance(clean.get("historical_values"), dict):
        clean["historical_values"] = {str(k): str(v).strip() for k, v in clean["historical_values"].items()}
    return clean


def check_fields(
    session: Session, owner_id: int, data: dict[str, Any], *, exclude_id: int | None = None
) -> None:
    """All field rules plus the owner's unique names; raises with every problem at once."""
    errors = validate_fields(data)
    if "name" not in errors:
        clash = select(Indicator.id).where(Indicator.tenant_id == owner_id, Indicator.name == data["name"])
        if exclude_id is not None:
            clash = clash.where(Indicator.id != exclude_id)
        if session.execute(clash.execution_options(all_tenants=True)).first() is not None:
            errors.setdefault("name", []).append(f"本单位已有名为「{data['name']}」的指标")
    if errors:
        first = next(iter(errors))
        raise ValidationFailed(f"{FIELD_LABELS.get(first, first)}：{errors[first][0]}", errors=errors)


def insert_indicator(
    session: Session,
    owner: Tenant,
    data: dict[str, Any],
    *,
    actor: Actor | None,
    derived_from: Indicator | None = None,
    origin: Indicator | None = None,
    level2: dict[str, FrameworkNode],
) -> Indicator:
    """Write a checked indicator with its code, pinyin keys, first version and audit event."""
    full, initials = pinyin_keys(data["name"])
    indicator = Indicator(
        tenant_id=owner.id,
        code=next_code(session, owner, data["kind"]),
        name_pinyin=full,
        name_initials=initials,
        shared=owner.level == "province",
        level2_id=level2[data["level2"]].id,
        derived_from_id=derived_from.id if derived_from else None,
        origin_id=origin.id if origin else None,
        **{k: data.get(k) for k in EDITABLE if k != "level2"},
    )
    indicator.level2 = level2[data["level2"]]
    session.add(indicator)
    session.flush()
    _snapshot(session, indicator, "create", actor)
    record(
        session,
        "indicator.create",
        object_type="indicator",
        object_id=indicator.id,
        after={
            **indicator.to_audit(),
            "derived_from": derived_from.code if derived_from else None,
            "origin": origin.code if origin else None,
        },
        tenant_id=owner.id,
        actor=actor,
    )
    return indicator


def version_row(indicator: Indicator, action: str, actor: Actor | None) -> IndicatorVersion:
    """The indicator as it is now, as a history entry (历史版本)."""
    return IndicatorVersion(
        tenant_id=indicator.tenant_id,
        indicator_id=indicator.id,
        version=indicator.version,
        shared=indicator.shared,
        action=action,
        data={
            **fields_of(indicator),
            "code": indicator.code,
            "status": indicator.status,
            "retired_reason": indicator.retired_reason,
        },
        changed_by=actor.username if actor else "system",
    )


def _snapshot(session: Session, indicator: Indicator, action: str, actor: Actor | None) -> None:
    session.add(version_row(indicator, action, actor))


def create_indicator(session: Session, actor: Actor, data: dict[str, Any]) -> Indicator:
    """A new indicator of the caller's tenant; with `derived_from`, a local variant of an upper
    level's indicator (its fields by default, its own standard value, the link kept)."""
    authorize(actor, "indicators.write")
    owner = session.get(Tenant, actor.tenant_id)
    if owner is None:
        raise Forbidden("只有地区用户可以维护指标库")
    data = _normalise(data)
    base: Indicator | None = None
    if data.get("derived_from") is not None:
        base = get_indicator(session, actor, int(data.pop("derived_from")))
        if base.tenant_id == actor.tenant_id or base.tenant_id not in actor.lineage_tenant_ids:
            raise ValidationFailed(
                "只能从上级单位的指标派生", errors={"derived_from": ["只能从上级单位的指标派生"]}
            )
        if base.status != "active":
            raise ValidationFailed(
                "已退出的指标不能派生", errors={"derived_from": [f"指标 {base.code} 已退出"]}
            )
        data = {**fields_of(base), **{k: v for k, v in data.items() if v is not None}}
    data.pop("derived_from", None)
    data.setdefault("historical_values", {})
    check_fields(session, owner.id, data)
    return insert_indicator(
        session, owner, data, actor=actor, derived_from=base, level2=level2_nodes(session)
    )


def update_indicator(
    session: Session, actor: Actor, indicator_id: int, version: int, changes: dict[str, Any]
) -> Indicator:
    indicator = get_indicator(session, actor, indicator_id)
    authorize(actor, "indicators.write", indicator=indicator)
    if version != indicator.version:
        raise StaleVersion(
            f"指标已被修改（当前版本 {indicator.version}，您提交的是版本 {version}），请刷新后重试"
        )
    if indicator.status != "active":
        raise Conflict("已退出的指标不能修改，请先恢复")
    before = indicator.to_audit()
    data = {**fields_of(indicator), **_normalise({k: v for k, v in changes.items() if k in EDITABLE})}
    check_fields(session, indicator.tenant_id, data, exclude_id=indicator.id)
    if data == fields_of(indicator):
        return indicator
    apply_fields(indicator, data, level2_nodes(session))
    _changed(session, indicator, "update", actor, before)
    return indicator


def apply_fields(indicator: Indicator, data: dict[str, Any], nodes: dict[str, FrameworkNode]) -> None:
    """Checked `data` onto the indicator (the pinyin keys follow its name); used by the API and the import."""
    before_name = indicator.name
    for key in EDITABLE:
        if key == "level2":
            indicator.level2 = nodes[data["level2"]]
        else:
            setattr(indicator, key, data.get(key))
    if indicator.name != before_name or not indicator.name_pinyin:
        indicator.name_pinyin, indicator.name_initials = pinyin_keys(indicator.name)
    indicator.updated_at = utcnow()


def _changed(
    session: Session, indicator: Indicator, action: str, actor: Actor, before: dict[str, Any], **extra: Any
) -> None:
    """Every change of an indicator: flushed, kept as a version, audited."""
    session.flush()
    _snapshot(session, indicator, action, actor)
    record(
        session,
        f"indicator.{action}",
        object_type="indicator",
        object_id=indicator.id,
        before=before,
        after={**indicator.to_audit(), **extra},
    )


def retire_indicator(session: Session, actor: Actor, indicator_id: int, reason: str) -> Indicator:
    """退出机制: retired stays readable and searchable (with a filter) but is never picked again."""
    indicator = get_indicator(session, actor, indicator_id)
    authorize(actor, "indicators.write", indicator=indicator)
    if not (reason or "").strip():
        raise ValidationFailed("请填写退出原因", errors={"reason": ["请填写退出原因"]})
    if indicator.status == "retired":
        raise Conflict(f"指标 {indicator.code} 已经退出")
    before = indicator.to_audit()
    indicator.status = "retired"
    indicator.retired_reason = reason.strip()
    indicator.retired_at = utcnow()
    _changed(session, indicator, "retire", actor, before, reason=indicator.retired_reason)
    return indicator


def restore_indicator(session: Session, actor: Actor, indicator_id: int) -> Indicator:
    indicator = get_indicator(session, actor, indicator_id)
    authorize(actor, "indicators.write", indicator=indicator)
    if indicator.status != "retired":
        raise Conflict(f"指标 {indicator.code} 未退出，无需恢复")
    before = indicator.to_audit()
    indicator.status = "active"
    indicator.retired_reason = None
    indicator.retired_at = None
    _changed(session, indicator, "restore", actor, before)
    return indicator
