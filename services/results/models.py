"""Result application (结果应用, DESIGN.md §6 stage 5): rectification notices (整改通知) with their
items and each item's thread, and the project's result application — the budget recommendation
and whether the results are disclosed (公开).

An item is open (待整改) → answered (已答复, the editors replied with text and evidence) → closed
(已销号) by finance, or returned by finance with an opinion (back to open). The public figures of a
disclosed project (self-evaluation score and grade, key evaluation grade, key findings) are copied
onto the result application when it is disclosed: the public page reads that one table and never
the lifecycle's own rows."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from jixiao.platform.core.db import Base, utcnow
from jixiao.platform.core.tenancy import TenantOwned
from jixiao.services.projects.models import Project

STAGE = "result_application"

ITEM_STATUSES = ("open", "answered", "closed")
ITEM_STATUS_NAMES = {"open": "待整改", "answered": "已答复", "closed": "已销号"}
# an item's thread: the editors' replies, finance's returns (with an opinion) and its closing
ENTRY_ACTIONS = ("reply", "return", "close")
ENTRY_ACTION_NAMES = {"reply": "答复", "return": "退回", "close": "销号"}

RECOMMENDATIONS = ("prioritise", "improve", "reduce", "cancel")
RECOMMENDATION_NAMES = {"prioritise": "优先保障", "improve": "督促改进", "reduce": "削减", "cancel": "取消"}
# *default* grade → recommendation (program settings `result_application.recommendations`)
DEFAULT_RECOMMENDATIONS = {"优": "prioritise", "良": "improve", "中": "reduce", "差": "cancel"}
GRADE_SOURCES = {"key_evaluation": "重点评价", "self_evaluation": "自评"}


class RectificationNotice(TenantOwned, Base):
    __tablename__ = "rectification_notices"
    __wall_abstract__ = False

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(Text, default="")  # the notice's preamble (optional)
    issued_by: Mapped[str] = mapped_column(String(64))
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)

    project: Mapped[Project] = relationship(lazy="joined", viewonly=True)
    items: Mapped[list[RectificationItem]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by="RectificationItem.position"
    )

    @property
    def closed_count(self) -> int:
        return sum(1 for item in self.items if item.status == "closed")


class RectificationItem(TenantOwned, Base):
    __tablename__ = "rectification_items"
    __wall_abstract__ = False

    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(
        ForeignKey("rectification_notices.id", ondelete="CASCADE"), index=True
    )
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    deadline: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10), default="open")
    closed_by: Mapped[str | None] = mapped_column(String(64))
    closed_at: Mapped[datetime | None]
    lock_version: Mapped[int] = mapped_column(Integer, default=1)

    notice: Mapped[RectificationNotice] = relationship(lazy="joined", viewonly=True)
    entries: Mapped[list[RectificationEntry]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by="RectificationEntry.id"
    )

    __mapper_args__ = {"version_id_col": lock_version}

    # not a column: not closed and past its deadline on the province's calendar, set by the service
    overdue = False

    def is_overdue(self, today: date) -> bool:
        return self.status != "closed" and self.deadline < today


class RectificationEntry(TenantOwned, Base):
    __tablename__ = "rectification_entries"
    __wall_abstract__ = False
    __wall_project__ = ("item_id", "RectificationItem")

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("rectification_items.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(String(8))
    text: Mapped[str] = mapped_column(Text, default="")
    evidence_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    author: Mapped[str] = mapped_column(String(64))
    written_at: Mapped[datetime] = mapped_column(default=utcnow)


class ResultApplication(TenantOwned, Base):
    __tablename__ = "result_applications"
    __table_args__ = (UniqueConstraint("project_id"),)
    __wall_abstract__ = False

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    budget_recommendation: Mapped[str] = mapped_column(String(12))
    suggested_recommendation: Mapped[str | None] = mapped_column(String(12))  # when it was decided
    recommendation_reason: Mapped[str] = mapped_column(Text, default="")
    grade: Mapped[str | None] = mapped_column(String(2))  # the grade the suggestion came from
    grade_source: Mapped[str | None] = mapped_column(String(16))  # key_evaluation / self_evaluation
    disclosed: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    disclosed_by: Mapped[str | None] = mapped_column(String(64))
    disclosed_at: Mapped[datetime | None]
    # the public figures, copied when disclosed (the public page reads only this row)
    public_self_score: Mapped[Decimal | None] = mapped_column(Numeric(6, 2))
    public_self_grade: Mapped[str | None] = mapped_column(String(2))
    public_key_grade: Mapped[str | None] = mapped_column(String(2))
    public_findings: Mapped[str] = mapped_column(Text, default="")
    decided_by: Mapped[str] = mapped_column(String(64))
    decided_at: Mapped[datetime] = mapped_column(default=utcnow)
    lock_version: Mapped[int] = mapped_column(Integer, default=1)

    project: Mapped[Project] = relationship(lazy="joined", viewonly=True)

    __mapper_args__ = {"version_id_col": lock_version}

    def to_audit(self) -> dict[str, Any]:
        return {
            "budget_recommendation": self.budget_recommendation,
            "suggested_recommendation": self.suggested_recommendation,
            "recommendation_reason": self.recommendation_reason,
            "grade": self.grade,
            "grade_source": self.grade_source,
            "disclosed": self.disclosed,
        }
