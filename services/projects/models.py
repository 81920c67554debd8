"""Pilot project models (DESIGN.md §5 "Pilot project", §6 stages).

A project carries one row per stage (`ProjectStage`) with its status; a stage opens only when the
one before it is approved. Money is Decimal yuan (Numeric(18, 2)), never float."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ForeignKey, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from jixiao.platform.core.db import Base, utcnow
from jixiao.platform.core.tenancy import TenantOwned
from jixiao.services.programs.models import STAGES, Program
from jixiao.tenants.models import Tenant

FUND_SOURCES = (
    "一般公共预算",
    "政府性基金",
    "国有资本经营",
    "社会保险基金",
    "直达资金",
    "上级转移支付",
    "本级专项",
)
PROJECT_CLASSES = (
    "工程基建",
    "大型修缮及购置",
    "会议",
    "培训",
    "信息化建设",
    "设备购置",
    "政府购买服务",
    "专项补助",
    "其他",
)
# Classes for which a 成本 indicator is mandatory (DESIGN.md §6).
COST_REQUIRED_CLASSES = ("工程基建", "大型修缮及购置")

# Per-stage status: locked (not reached), draft, submitted (awaiting a decision or review),
# returned (back to the editor with comments), approved; `closed` when the project ended there.
STAGE_STATUSES = ("locked", "draft", "submitted", "returned", "approved", "closed")
STAGE_STATUS_NAMES = {
    "locked": "未开始",
    "draft": "填报中",
    "submitted": "审核中",
    "returned": "已退回",
    "approved": "已通过",
    "closed": "已终止",
}


class Project(TenantOwned, Base):
    __tablename__ = "projects"
    __wall_project__ = "id"
    __table_args__ = (UniqueConstraint("tenant_id", "program_id", "name"),)
    __wall_abstract__ = False

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    department: Mapped[str] = mapped_column(String(100))  # 主管部门
    implementing_unit: Mapped[str] = mapped_column(String(100))  # 实施单位
    budget_amount: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    fund_source: Mapped[str] = mapped_column(String(20))
    project_class: Mapped[str] = mapped_column(String(20))
    start_year: Mapped[int] = mapped_column(Integer)
    end_year: Mapped[int] = mapped_column(Integer)
    serves_public: Mapped[bool] = mapped_column(default=True)  # then a 满意度 indicator is required
    stage: Mapped[str] = mapped_column(String(20), default="assessment")  # the current stage
    status: Mapped[str] = mapped_column(String(10), default="active")  # active / closed
    closed_reason: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    program: Mapped[Program] = relationship(lazy="joined", viewonly=True)
    owner: Mapped[Tenant] = relationship(lazy="joined", foreign_keys="Project.tenant_id", viewonly=True)
    stages: Mapped[list[ProjectStage]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by="ProjectStage.position"
    )

    __mapper_args__ = {"version_id_col": version}

    @property
    def years(self) -> list[int]:
        return list(range(self.start_year, self.end_year + 1))

    def stage_row(self, stage: str) -> ProjectStage:
        return next(s for s in self.stages if s.stage == stage)

    def to_audit(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "program_id": self.program_id,
            "department": self.department,
            "implementing_unit": self.implementing_unit,
            "budget_amount": f"{self.budget_amount:.2f}",
            "fund_source": self.fund_source,
            "project_class": self.project_class,
            "years": [self.start_year, self.end_year],
            "serves_public": self.serves_public,
            "stage": self.stage,
            "status": self.status,
        }


class ProjectStage(TenantOwned, Base):
    __tablename__ = "project_stages"
    __table_args__ = (UniqueConstraint("project_id", "stage"),)
    __wall_abstract__ = False

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    stage: Mapped[str] = mapped_column(String(20))
    position: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(10), default="locked")
    opened_at: Mapped[datetime | None]
    approved_at: Mapped[datetime | None]


def initial_stages(tenant_id: int) -> list[ProjectStage]:
    return [
        ProjectStage(
            tenant_id=tenant_id,
            stage=stage,
            position=n,
            status="draft" if n == 0 else "locked",
            opened_at=utcnow() if n == 0 else None,
        )
        for n, stage in enumerate(STAGES)
    ]
