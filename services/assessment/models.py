"""Ex-ante assessment (事前绩效评估) of a project: six criteria with score and opinion, a summary,
and finance's conclusion (予以支持 / 部分支持 / 不予支持)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from jixiao.platform.core.db import Base, utcnow
from jixiao.platform.core.tenancy import TenantOwned

CRITERIA = {
    "necessity": "立项必要性",
    "economy": "投入经济性",
    "target_reasonableness": "绩效目标合理性",
    "plan_effectiveness": "实施方案有效性",
    "funding_compliance": "筹资合规性",
    "fiscal_affordability": "财政承受能力",
}
CONCLUSIONS = {"support": "予以支持", "partial": "部分支持", "reject": "不予支持"}


class Assessment(TenantOwned, Base):
    __tablename__ = "assessments"
    __wall_abstract__ = False

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), unique=True)
    criteria: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # key → {score, opinion}
    summary: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(10), default="draft")  # draft / submitted / decided
    conclusion: Mapped[str | None] = mapped_column(String(10))
    opinion: Mapped[str | None] = mapped_column(Text)
    submitted_by: Mapped[str | None] = mapped_column(String(64))
    submitted_at: Mapped[datetime | None]
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}
