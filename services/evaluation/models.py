"""The self-evaluation (自评): one per project, a line per target line, and its reviews.

It is measured against the latest approved target version when it is first saved; its score and
each line's points are computed by `scoring.score` and stored for display (the API recomputes the
same figures). Approved, it is frozen."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from jixiao.platform.core.db import Base, utcnow
from jixiao.platform.core.tenancy import TenantOwned
from jixiao.services.evaluation.scoring import ACHIEVEMENTS as ACHIEVEMENTS  # the one vocabulary
from jixiao.services.targets.models import TargetLine

# draft → submitted (awaiting `review_level`: 初审, then 复核) → approved; returned goes back to the
# editors (editable again, the reasons shown) and becomes a draft when saved.
STATUSES = ("draft", "submitted", "returned", "approved")
STATUS_NAMES = {"draft": "填报中", "submitted": "审核中", "returned": "已退回", "approved": "已通过"}
# The texts of the form (FORMS.md 项目支出绩效自评表) and their labels.
TEXTS = {
    "budget_reason": "预算执行原因",
    "summary": "年度目标完成情况",
    "conclusion": "评价结论",
    "problems": "存在问题",
    "measures": "改进措施",
}
LINE_INPUTS = ("actual_value", "achievement", "rate", "shortfall_reason")


class SelfEvaluation(TenantOwned, Base):
    __tablename__ = "self_evaluations"
    __table_args__ = (UniqueConstraint("project_id"),)
    __wall_abstract__ = False

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    # the target version it is measured against (the latest approved one when first saved)
    target_set_id: Mapped[int] = mapped_column(ForeignKey("target_sets.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(12), default="draft")
    review_level: Mapped[str | None] = mapped_column(String(10))  # awaiting this review when submitted
    budget_executed: Mapped[Decimal | None] = mapped_column(Numeric(18, 2))  # 预算执行数
    adjusted_budget: Mapped[Decimal | None] = mapped_column(Numeric(18, 2))  # 调整后预算数 (optional)
    budget_reason: Mapped[str] = mapped_column(Text, default="")  # 原因 (asked below 90 %)
    summary: Mapped[str] = mapped_column(Text, default="")  # 年度目标完成情况
    conclusion: Mapped[str] = mapped_column(Text, default="")  # 评价结论
    problems: Mapped[str] = mapped_column(Text, default="")  # 存在问题
    measures: Mapped[str] = mapped_column(Text, default="")  # 改进措施
    score: Mapped[Decimal | None] = mapped_column(Numeric(6, 2))  # 总分
    grade: Mapped[str | None] = mapped_column(String(2))  # 优 / 良 / 中 / 差
    submitted_by: Mapped[str | None] = mapped_column(String(64))
    submitted_at: Mapped[datetime | None]
    approved_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    lock_version: Mapped[int] = mapped_column(Integer, default=1)

    lines: Mapped[list[SelfEvaluationLine]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by="SelfEvaluationLine.position"
    )
    reviews: Mapped[list[SelfEvaluationReview]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by="SelfEvaluationReview.id"
    )

    __mapper_args__ = {"version_id_col": lock_version}


class SelfEvaluationLine(TenantOwned, Base):
    __tablename__ = "self_evaluation_lines"
    __wall_project__ = ("evaluation_id", "SelfEvaluation")
    __table_args__ = (UniqueConstraint("evaluation_id", "target_line_id"),)
    __wall_abstract__ = False

    id: Mapped[int] = mapped_column(primary_key=True)
    evaluation_id: Mapped[int] = mapped_column(
        ForeignKey("self_evaluations.id", ondelete="CASCADE"), index=True
    )
    target_line_id: Mapped[int] = mapped_column(ForeignKey("target_lines.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    actual_value: Mapped[str | None] = mapped_column(String(100))  # 完成值 (a number when quantitative)
    achievement: Mapped[str | None] = mapped_column(
        String(14)
    )  # qualitative: achieved / partly / not_achieved
    rate: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))  # qualitative: percent inside the band
    shortfall_reason: Mapped[str] = mapped_column(Text, default="")  # 未完成原因分析
    # computed by the scoring, stored for display (2 decimals; completion in percent)
    completion: Mapped[Decimal | None] = mapped_column(Numeric(9, 2))
    available: Mapped[Decimal | None] = mapped_column(Numeric(6, 2))
    earned: Mapped[Decimal | None] = mapped_column(Numeric(6, 2))

    target_line: Mapped[TargetLine] = relationship(lazy="joined", viewonly=True)


class SelfEvaluationReview(TenantOwned, Base):
    __tablename__ = "self_evaluation_reviews"
    __wall_project__ = ("evaluation_id", "SelfEvaluation")
    __wall_abstract__ = False

    id: Mapped[int] = mapped_column(primary_key=True)
    evaluation_id: Mapped[int] = mapped_column(
        ForeignKey("self_evaluations.id", ondelete="CASCADE"), index=True
    )
    level: Mapped[str] = mapped_column(String(10))
    decision: Mapped[str] = mapped_column(String(10))  # approve / return
    comments: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    reviewer: Mapped[str] = mapped_column(String(64))
    reviewed_at: Mapped[datetime] = mapped_column(default=utcnow)
    # A return keeps what it returned, so the resubmission can be shown as a diff.
    snapshot: Mapped[dict[str, Any] | None] = mapped_column(JSON)
