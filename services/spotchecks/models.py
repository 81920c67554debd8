"""A spot check (抽查) and its items.

The check belongs to the tenant that draws it (the province or a city); it records what was asked
(a share or a count), the seed, and the population it was drawn from, so the draw can be repeated
exactly. Each item is one drawn project and the approved target version it was drawn on; it
belongs to the project's tenant — pilot data flows up, so the drawing tenant above reads it — and
is written from above (`owner_and_above`: the review); the service says which level does what.
A finding is a `Correction` of kind 抽查 on the item (services/monitoring/models.py)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from jixiao.platform.core.db import Base, utcnow
from jixiao.platform.core.tenancy import TenantOwned
from jixiao.services.monitoring.models import Correction
from jixiao.services.programs.models import Program
from jixiao.services.projects.models import Project
from jixiao.services.targets.models import TargetSet
from jixiao.tenants.models import Tenant

TRACK = "spot_check"  # the work queue's and the notifications' "stage" of a spot check
TRACK_NAME = "抽查"
RESULTS = ("pass", "rectify")
RESULT_NAMES = {"pending": "待审查", "pass": "通过", "rectify": "须整改", "rectified": "整改完成"}
# the four aspects every drawn target set is reviewed on (the API's `comments` keys)
ASPECTS = {
    "completeness": "完整性",
    "relevance": "相关性",
    "appropriateness": "适当性",
    "feasibility": "可行性",
}


class SpotCheck(TenantOwned, Base):
    __tablename__ = "spot_checks"
    __table_args__ = (UniqueConstraint("program_id", "tenant_id", "round"),)
    __wall_abstract__ = False
    __wall_project__ = None  # the drawing tenant's: an evaluator never reads it

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id", ondelete="CASCADE"), index=True)
    round: Mapped[int] = mapped_column(Integer, default=1)
    share: Mapped[Decimal | None] = mapped_column(Numeric(5, 4))
    count: Mapped[int | None] = mapped_column(Integer)
    seed: Mapped[int] = mapped_column(BigInteger)
    population: Mapped[int] = mapped_column(Integer)  # the approved target sets it was drawn from
    drawn_by: Mapped[str] = mapped_column(String(64))
    drawn_at: Mapped[datetime] = mapped_column(default=utcnow)

    program: Mapped[Program] = relationship(lazy="joined", viewonly=True)
    owner: Mapped[Tenant] = relationship(
        lazy="joined",
        viewonly=True,
        primaryjoin="SpotCheck.tenant_id == Tenant.id",
        foreign_keys="SpotCheck.tenant_id",
    )
    items: Mapped[list[SpotCheckItem]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by="SpotCheckItem.id"
    )


class SpotCheckItem(TenantOwned, Base):
    __tablename__ = "spot_check_items"
    __table_args__ = (UniqueConstraint("spot_check_id", "project_id"),)
    __wall_abstract__ = False
    __wall_writers__ = "owner_and_above"  # reviewed by the tenant above that drew it

    id: Mapped[int] = mapped_column(primary_key=True)
    spot_check_id: Mapped[int] = mapped_column(ForeignKey("spot_checks.id", ondelete="CASCADE"), index=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    target_set_id: Mapped[int] = mapped_column(ForeignKey("target_sets.id", ondelete="RESTRICT"))
    # the drawing tenant (the check's), kept here so the tenant drawn never needs to read the check
    checked_by_tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="RESTRICT"))
    status: Mapped[str] = mapped_column(String(10), default="pending", index=True)
    comments: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    findings: Mapped[str | None] = mapped_column(Text)
    reviewed_by: Mapped[str | None] = mapped_column(String(64))
    reviewed_at: Mapped[datetime | None]
    lock_version: Mapped[int] = mapped_column(Integer, default=1)

    project: Mapped[Project] = relationship(lazy="joined", viewonly=True)
    target_set: Mapped[TargetSet] = relationship(lazy="select", viewonly=True)
    finding: Mapped[Correction | None] = relationship(
        lazy="selectin",
        viewonly=True,
        uselist=False,
        primaryjoin="SpotCheckItem.id == Correction.spot_check_item_id",
        foreign_keys="Correction.spot_check_item_id",
    )

    __mapper_args__ = {"version_id_col": lock_version}

    @property
    def result(self) -> str:
        """pending / pass / rectify — and rectified once its finding is closed."""
        if self.status == "rectify" and self.finding is not None and self.finding.status == "closed":
            return "rectified"
        return self.status
