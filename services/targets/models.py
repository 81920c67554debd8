"""Performance targets (绩效目标): a versioned set per project, its indicator lines and reviews.

The approved version is frozen; a change after approval (调整) is a new version that goes through
the same chain, the old one kept. Weights and values are exact decimals."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from jixiao.platform.core.db import Base, utcnow
from jixiao.platform.core.tenancy import TenantOwned

# Target-set status: draft → submitted (awaiting `review_level`) → approved; returned goes back to
# the editor; superseded when a later adjustment is approved.
SET_STATUSES = ("draft", "submitted", "returned", "approved", "superseded")
REVIEW_LEVELS = {"first": "初审", "finance": "复核", "joint": "联审"}
# Who reviews at each level (联审 by a granted evaluator arrives with the grants).
ROLE_OF_LEVEL = {"first": "dept_reviewer", "finance": "bureau_admin", "joint": "evaluator"}
# The chain's levels in order; 联审 ("joint") follows where the program says so (chain.levels).
CHAIN = ("first", "finance")
COMMENT_KEYS = {
    "completeness": "完整性",
    "relevance": "相关性",
    "appropriateness": "适当性",
    "feasibility": "可行性",
}
ADJUSTMENT_REASONS = ("机构改革", "政策变化", "突发事件", "其他")
EXPLANATION_MIN = 10  # 调整说明: characters, after stripping
# The fields of a line as it is written, compared (diffs) and copied (adjustments).
LINE_FIELDS = (
    "name",
    "level2",
    "value_type",
    "direction",
    "target_value",
    "unit",
    "weight",
    "value_basis",
    "note",
)


class TargetSet(TenantOwned, Base):
    __tablename__ = "target_sets"
    __table_args__ = (UniqueConstraint("project_id", "number"),)
    __wall_abstract__ = False

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)  # 1, 2 … (API: `version`)
    status: Mapped[str] = mapped_column(String(12), default="draft")
    review_level: Mapped[str | None] = mapped_column(String(10))  # awaiting this review when submitted
    overall_goal: Mapped[str] = mapped_column(Text, default="")  # annual
    midterm_goal: Mapped[str] = mapped_column(Text, default="")  # mid/long-term, multi-year projects
    adjustment_reason: Mapped[str | None] = mapped_column(String(10))
    adjustment_explanation: Mapped[str | None] = mapped_column(Text)
    submitted_by: Mapped[str | None] = mapped_column(String(64))
    submitted_at: Mapped[datetime | None]
    approved_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    lock_version: Mapped[int] = mapped_column(Integer, default=1)

    lines: Mapped[list[TargetLine]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by="TargetLine.position"
    )
    reviews: Mapped[list[TargetReview]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by="TargetReview.id"
    )

    __mapper_args__ = {"version_id_col": lock_version}


class TargetLine(TenantOwned, Base):
    __tablename__ = "target_lines"
    __wall_project__ = ("target_set_id", "TargetSet")
    __wall_abstract__ = False

    id: Mapped[int] = mapped_column(primary_key=True)
    target_set_id: Mapped[int] = mapped_column(ForeignKey("target_sets.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    indicator_id: Mapped[int | None] = mapped_column(ForeignKey("indicators.id", ondelete="RESTRICT"))
    name: Mapped[str] = mapped_column(String(100))
    level2: Mapped[str] = mapped_column(String(20))
    value_type: Mapped[str] = mapped_column(String(14))
    direction: Mapped[str] = mapped_column(String(6))
    target_value: Mapped[str] = mapped_column(String(100), default="")
    unit: Mapped[str] = mapped_column(String(20), default="")
    weight: Mapped[Decimal | None] = mapped_column(Numeric(7, 2))
    value_basis: Mapped[str] = mapped_column(String(20), default="")
    note: Mapped[str] = mapped_column(Text, default="")  # 指标值说明


class TargetReview(TenantOwned, Base):
    __tablename__ = "target_reviews"
    __wall_project__ = ("target_set_id", "TargetSet")
    __wall_abstract__ = False

    id: Mapped[int] = mapped_column(primary_key=True)
    target_set_id: Mapped[int] = mapped_column(ForeignKey("target_sets.id", ondelete="CASCADE"), index=True)
    level: Mapped[str] = mapped_column(String(10))
    decision: Mapped[str] = mapped_column(String(10))  # approve / return
    comments: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    reviewer: Mapped[str] = mapped_column(String(64))
    reviewed_at: Mapped[datetime] = mapped_column(default=utcnow)
    # A return keeps what it returned (goals and lines), so the resubmission can be shown as a diff.
    snapshot: Mapped[dict[str, Any] | None] = mapped_column(JSON)
