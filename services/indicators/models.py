"""Indicator library models (DESIGN.md §5): the Ministry's framework, level-3 indicators, templates.

Visibility flows DOWN: an indicator owned by the province is shared with everyone, a city's is
visible to its counties, a county's only to itself — and every indicator is readable by the
tenants above its owner (read-only upward). Only the owner writes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    ColumnElement,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    or_,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from jixiao.platform.core.actor import Actor
from jixiao.platform.core.db import Base, utcnow
from jixiao.platform.core.tenancy import TenantOwned, Walled, in_reach
from jixiao.tenants.models import Tenant

# The Ministry of Finance's framework: 4 level-1 × 10 level-2 (fixed, seeded by the migration).
FRAMEWORK: dict[str, list[str]] = {
    "产出": ["数量", "质量", "时效"],
    "成本": ["经济成本", "社会成本", "生态环境成本"],
    "效益": ["经济效益", "社会效益", "生态效益"],
    "满意度": ["服务对象满意度"],
}
LEVEL1_OF = {level2: level1 for level1, children in FRAMEWORK.items() for level2 in children}

KINDS = ("common", "individual")
SCOPES = ("project", "department")
VALUE_TYPES = ("quantitative", "qualitative")
DIRECTIONS = (">=", "<=", "=", "range")
VALUE_BASES = ("计划标准", "行业标准", "历史标准", "预算支出标准")
STATUSES = ("active", "retired")


class FrameworkNode(Base):
    """A level-1 or level-2 node of the framework. Read-only: seeded by the migration."""

    __tablename__ = "indicator_framework"

    id: Mapped[int] = mapped_column(primary_key=True)
    level: Mapped[int] = mapped_column(Integer)  # 1 or 2
    name: Mapped[str] = mapped_column(String(20), unique=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("indicator_framework.id", ondelete="RESTRICT"))
    position: Mapped[int] = mapped_column(Integer)

    parent: Mapped[FrameworkNode | None] = relationship(remote_side=[id], lazy="joined", join_depth=1)


class _LibraryOwned(TenantOwned):
    """Walls for the library: readable along the owner's lineage (down) and subtree (up)."""

    __wall_abstract__ = True
    __wall_project__ = None  # the library belongs to no project

    @classmethod
    def wall_read_criteria(cls, actor: Actor) -> ColumnElement[bool]:
        lineage = sorted(actor.lineage_tenant_ids)
        own = or_(cls.tenant_id.in_(lineage), in_reach(cls.tenant_id, actor)) if lineage else false()
        # Evaluators belong to no tenant: they read the shared (province) library only.
        return or_(own, cls.shared.is_(True)) if actor.tenant_id is None else own


# What an indicator's audit events record (`Indicator.to_audit`, and the import's rows: excel.plan)
AUDITED = (
    "code",
    "name",
    "level2",
    "category",
    "common_class",
    "kind",
    "scope",
    "value_type",
    "direction",
    "unit",
    "standard_value",
    "value_basis",
    "status",
    "version",
)


class Indicator(_LibraryOwned, Base):
    """A level-3 indicator (三级指标) of some tenant's library."""

    __tablename__ = "indicators"
    __table_args__ = (
        UniqueConstraint("tenant_id", "name"),
        UniqueConstraint("code"),
    )
    __wall_abstract__ = False

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32))  # {owner code}-{CC|IN}-{seq}, stable
    name: Mapped[str] = mapped_column(String(100))
    name_pinyin: Mapped[str] = mapped_column(String(400), default="", index=True)
    name_initials: Mapped[str] = mapped_column(String(100), default="", index=True)
    shared: Mapped[bool] = mapped_column(default=False, index=True)  # owned by the province
    level2_id: Mapped[int] = mapped_column(
        ForeignKey("indicator_framework.id", ondelete="RESTRICT"), index=True
    )
    category: Mapped[str | None] = mapped_column(String(40))  # domain, e.g. 教育
    common_class: Mapped[str | None] = mapped_column(String(40))  # 共性类别, e.g. 培训
    kind: Mapped[str] = mapped_column(String(12))
    scope: Mapped[str] = mapped_column(String(12), default="project")
    explanation: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(Text, default="")
    value_type: Mapped[str] = mapped_column(String(14))
    direction: Mapped[str] = mapped_column(String(6))
    unit: Mapped[str] = mapped_column(String(20), default="")
    standard_value: Mapped[str] = mapped_column(String(100), default="")
    value_basis: Mapped[str] = mapped_column(String(20), default="计划标准")
    historical_values: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(10), default="active", index=True)
    retired_reason: Mapped[str | None] = mapped_column(Text)
    retired_at: Mapped[datetime | None]
    derived_from_id: Mapped[int | None] = mapped_column(
        ForeignKey("indicators.id", ondelete="RESTRICT"), index=True
    )
    origin_id: Mapped[int | None] = mapped_column(
        ForeignKey("indicators.id", ondelete="RESTRICT"), index=True
    )
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    level2: Mapped[FrameworkNode] = relationship(lazy="joined")
    owner: Mapped[Tenant] = relationship(lazy="joined", foreign_keys="Indicator.tenant_id", viewonly=True)

    __mapper_args__ = {"version_id_col": version}

    @property
    def level1_name(self) -> str:
        return LEVEL1_OF[self.level2.name]

    def to_audit(self) -> dict[str, Any]:
        level2 = self.level2.name if self.level2 else None
        return {f: level2 if f == "level2" else getattr(self, f) for f in AUDITED}


# The library's listing order (shared first, then by code): page 1 of 100k rows without a sort.
Index("ix_indicators_listing", Indicator.shared.desc(), Indicator.code)


class IndicatorTemplate(_LibraryOwned, Base):
    """A named indicator set for a kind of project (模板库), applied in one action (一键勾选)."""

    __tablename__ = "indicator_templates"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)
    __wall_abstract__ = False

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    project_class: Mapped[str] = mapped_column(String(40))
    shared: Mapped[bool] = mapped_column(default=False, index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    items: Mapped[list[TemplateItem]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by="TemplateItem.position"
    )

    __mapper_args__ = {"version_id_col": version}


class TemplateItem(Walled, Base):
    """One indicator of a template; behind the walls of its template."""

    __tablename__ = "indicator_template_items"
    __table_args__ = (UniqueConstraint("template_id", "indicator_id"),)
    __wall_abstract__ = False

    id: Mapped[int] = mapped_column(primary_key=True)
    template_id: Mapped[int] = mapped_column(
        ForeignKey("indicator_templates.id", ondelete="CASCADE"), index=True
    )
    indicator_id: Mapped[int] = mapped_column(ForeignKey("indicators.id", ondelete="RESTRICT"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)

    indicator: Mapped[Indicator] = relationship(lazy="joined")

    @classmethod
    def wall_read_criteria(cls, actor: Actor) -> ColumnElement[bool]:
        return cls.template_id.in_(select(IndicatorTemplate.id))

    @classmethod
    def wall_write_criteria(cls, actor: Actor) -> ColumnElement[bool]:
        return cls.template_id.in_(
            select(IndicatorTemplate.id).where(IndicatorTemplate.wall_write_criteria(actor))
        )

    def wall_may_write(self, actor: Actor) -> bool:
        return True  # written only through its template, whose own write check runs in the same flush


class IndicatorVersion(_LibraryOwned, Base):
    """A snapshot of an indicator as it was after each change (历史版本)."""

    __tablename__ = "indicator_versions"
    __table_args__ = (UniqueConstraint("indicator_id", "version"),)
    __wall_abstract__ = False

    id: Mapped[int] = mapped_column(primary_key=True)
    indicator_id: Mapped[int] = mapped_column(ForeignKey("indicators.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    shared: Mapped[bool] = mapped_column(default=False)
    action: Mapped[str] = mapped_column(String(20))  # create / update / retire / restore
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    changed_by: Mapped[str] = mapped_column(String(64))
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)


PROPOSAL_STATUSES = ("pending", "accepted", "declined")


class IndicatorProposal(TenantOwned, Base):
    """A lower level proposes one of its indicators to its parent (共建共享); the parent accepts (a
    shared copy owned by the parent, provenance kept) or declines with a reason. Both sides see it."""

    __tablename__ = "indicator_proposals"
    __wall_project__ = None  # no project: an evaluator reads none
    __wall_abstract__ = False

    id: Mapped[int] = mapped_column(primary_key=True)
    indicator_id: Mapped[int] = mapped_column(ForeignKey("indicators.id", ondelete="RESTRICT"), index=True)
    target_tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="RESTRICT"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default="pending", index=True)
    decision_reason: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None]
    accepted_indicator_id: Mapped[int | None] = mapped_column(
        ForeignKey("indicators.id", ondelete="RESTRICT")
    )
    proposed_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    indicator: Mapped[Indicator] = relationship(foreign_keys=[indicator_id], lazy="joined")
    proposer: Mapped[Tenant] = relationship(
        foreign_keys="IndicatorProposal.tenant_id", lazy="joined", viewonly=True
    )
    target: Mapped[Tenant] = relationship(foreign_keys=[target_tenant_id], lazy="joined", viewonly=True)

    __mapper_args__ = {"version_id_col": version}

    @classmethod
    def wall_read_criteria(cls, actor: Actor) -> ColumnElement[bool]:
        return or_(in_reach(cls.tenant_id, actor), in_reach(cls.target_tenant_id, actor))

    @classmethod
    def wall_write_criteria(cls, actor: Actor) -> ColumnElement[bool]:
        return or_(cls.tenant_id == actor.tenant_id, cls.target_tenant_id == actor.tenant_id)

    def wall_may_write(self, actor: Actor) -> bool:
        return actor.tenant_id is not None and actor.tenant_id in (self.tenant_id, self.target_tenant_id)


# the category of a case published from an accepted project (规范管理蓝本, services/reports/cases.py)
BLUEPRINT_CATEGORY = "规范管理蓝本"


class Case(_LibraryOwned, Base):
    """An exemplary target or evaluation (案例库): the province publishes, everyone reads."""

    __tablename__ = "indicator_cases"
    __wall_abstract__ = False

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    project_class: Mapped[str] = mapped_column(String(40), default="")
    category: Mapped[str] = mapped_column(String(40), default="")
    text: Mapped[str] = mapped_column(Text, default="")
    indicator_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    source_project_id: Mapped[int | None]
    # 规范管理蓝本 (a case published from an accepted pilot report's project): the project's approved
    # targets [{indicator_id, name, level1, level2, direction, target_value, unit, weight, value_type}],
    # its scores {self_score, self_grade, key_score, key_grade} and findings, and the report
    source_report_id: Mapped[int | None]
    targets: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    scores: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    findings: Mapped[str] = mapped_column(Text, default="")
    shared: Mapped[bool] = mapped_column(default=False, index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __mapper_args__ = {"version_id_col": version}
