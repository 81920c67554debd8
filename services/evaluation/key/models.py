"""The key evaluation (重点评价): one per project, its scored items and the bureau's decisions.

Status: draft (the evaluator writing) → submitted (awaiting the bureau admin) → accepted (审定通过,
frozen) — or returned (back to the evaluator with the opinion; a draft again when saved). `skipped`:
the bureau admin decided the project has no key evaluation (the stage approved without one, the
reason kept). The rows belong to the project's tenant (`tenant_id`), like all of its data.

The walls: read as every tenant-owned row (the tenant, the tenants above, an evaluator on the
projects it holds a live grant on); written by the tenant — and by an evaluator holding
`key_evaluation` on the row's project (`actor.grants`, loaded with the actor on each request) — said
here, in the one tenancy mechanism (`platform.core.tenancy`), not by checks in handlers.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, ColumnElement, ForeignKey, Integer, Numeric, String, Text, UniqueConstraint, or_
from sqlalchemy.orm import Mapped, mapped_column, relationship

from jixiao.platform.core.actor import Actor
from jixiao.platform.core.db import Base, utcnow
from jixiao.platform.core.tenancy import TenantOwned

STATUSES = ("draft", "submitted", "returned", "accepted", "skipped")
STATUS_NAMES = {
    "draft": "评价中",
    "submitted": "待财政审定",
    "returned": "已退回",
    "accepted": "已审定",
    "skipped": "不开展重点评价",
}
DECISIONS = {"accept": "审定通过", "return": "退回修改"}
TEXTS = {"findings": "评价发现（主要问题）", "recommendations": "评价建议"}


class GrantedProjectRow(TenantOwned):
    """Tenant-owned (an evaluator reads the rows of the projects it holds a grant on, as for every
    tenant-owned row), and written also by an evaluator holding `key_evaluation` on the row's project."""

    __wall_abstract__ = True

    @classmethod
    def wall_write_criteria(cls, actor: Actor) -> ColumnElement[bool]:
        own = super().wall_write_criteria(actor)
        granted = sorted({p for p, action in actor.grants if action == "key_evaluation"})
        return or_(own, cls.project_id.in_(granted)) if granted else own

    def wall_may_write(self, actor: Actor) -> bool:
        project_id = self.project_id
        return super().wall_may_write(actor) or actor.granted(project_id, "key_evaluation")


class KeyEvaluation(GrantedProjectRow, Base):
    __tablename__ = "key_evaluations"
    __table_args__ = (UniqueConstraint("project_id"),)
    __wall_abstract__ = False

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(12), default="draft")
    # the evaluator organisation that writes it (the first to save; None when skipped unwritten)
    evaluator_org_id: Mapped[int | None] = mapped_column(
        ForeignKey("evaluator_orgs.id", ondelete="RESTRICT"), index=True
    )
    findings: Mapped[str] = mapped_column(Text, default="")  # 评价发现
    recommendations: Mapped[str] = mapped_column(Text, default="")  # 评价建议
    report_evidence_id: Mapped[int | None] = mapped_column(ForeignKey("evidence.id", ondelete="RESTRICT"))
    score: Mapped[Decimal | None] = mapped_column(Numeric(6, 2))  # 总分
    grade: Mapped[str | None] = mapped_column(String(2))  # 优 / 良 / 中 / 差
    skip_reason: Mapped[str] = mapped_column(Text, default="")
    saved_by: Mapped[str | None] = mapped_column(String(64))
    submitted_by: Mapped[str | None] = mapped_column(String(64))
    submitted_at: Mapped[datetime | None]
    decided_by: Mapped[str | None] = mapped_column(String(64))  # who accepted (or skipped) it
    decided_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    lock_version: Mapped[int] = mapped_column(Integer, default=1)

    items: Mapped[list[KeyEvaluationItem]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by="KeyEvaluationItem.position"
    )
    decisions: Mapped[list[KeyEvaluationDecision]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by="KeyEvaluationDecision.id"
    )

    __mapper_args__ = {"version_id_col": lock_version}


class KeyEvaluationItem(GrantedProjectRow, Base):
    """One scored item: dimension (一级: 决策 / 过程 / 产出 / 效益), group (二级, optional), item
    (三级), weight (分值), score (得分, None until scored) and basis (评分依据)."""

    __tablename__ = "key_evaluation_items"
    __wall_abstract__ = False

    id: Mapped[int] = mapped_column(primary_key=True)
    evaluation_id: Mapped[int] = mapped_column(
        ForeignKey("key_evaluations.id", ondelete="CASCADE"), index=True
    )
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    dimension: Mapped[str] = mapped_column(String(4))
    group: Mapped[str] = mapped_column(String(40), default="")
    item: Mapped[str] = mapped_column(String(100))
    weight: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    score: Mapped[Decimal | None] = mapped_column(Numeric(6, 2))
    basis: Mapped[str] = mapped_column(Text, default="")


class KeyEvaluationDecision(GrantedProjectRow, Base):
    """The bureau admin's decision on a submission: accept (审定通过) or return with the opinion."""

    __tablename__ = "key_evaluation_decisions"
    __wall_abstract__ = False

    id: Mapped[int] = mapped_column(primary_key=True)
    evaluation_id: Mapped[int] = mapped_column(
        ForeignKey("key_evaluations.id", ondelete="CASCADE"), index=True
    )
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    decision: Mapped[str] = mapped_column(String(10))  # accept / return
    opinion: Mapped[str] = mapped_column(Text, default="")
    decided_by: Mapped[str] = mapped_column(String(64))
    decided_at: Mapped[datetime] = mapped_column(default=utcnow)
    # what was decided on (a return keeps what it returned)
    snapshot: Mapped[dict[str, Any] | None] = mapped_column(JSON)
