"""Monitoring (跟踪监控, DESIGN.md §6 "Monitoring"): a round per period with a line per target line,
and the correction requests (纠偏/约谈/发函) finance issues on a round, with their thread.

A round is measured against the latest approved target version when it is reported and keeps that
version for good (a later adjustment applies to later rounds). Figures are exact decimals: rates
and completions as percents with 2 decimals, money in yuan."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from jixiao.platform.core.db import Base, utcnow
from jixiao.platform.core.tenancy import TenantOwned
from jixiao.services.evaluation.scoring import ACHIEVEMENTS as ACHIEVEMENTS  # the one vocabulary
from jixiao.services.projects.models import Project
from jixiao.services.targets.models import TargetLine, TargetSet

# reported (awaiting finance) → confirmed (frozen), or returned (the editors correct it with PUT
# and it is reported again)
ROUND_STATUSES = ("reported", "returned", "confirmed")
ROUND_STATUS_NAMES = {"reported": "已报送", "returned": "已退回", "confirmed": "已确认"}
WARNINGS = ("green", "yellow", "red")
WARNING_NAMES = {"green": "绿色", "yellow": "黄色", "red": "红色"}
# a qualitative line's progress band
REASON_CATEGORIES = ("经费保障", "制度保障", "人员保障", "硬件条件保障", "其他")
LIKELIHOODS = ("确定能", "有可能", "完全不可能")

CORRECTION_KINDS = ("纠偏", "约谈", "发函")
SPOT_CHECK_KIND = "抽查"  # a spot check's finding (services/spotchecks): the same request, from above
CORRECTION_STATUSES = ("open", "answered", "closed")
CORRECTION_STATUS_NAMES = {"open": "待答复", "answered": "已答复", "closed": "已关闭"}
# the thread of a correction: finance's request, the editors' replies, asked again, closed
ENTRY_ACTIONS = ("request", "reply", "again", "close")


class MonitoringRound(TenantOwned, Base):
    __tablename__ = "monitoring_rounds"
    __table_args__ = (UniqueConstraint("project_id", "period"),)
    __wall_abstract__ = False

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    target_set_id: Mapped[int] = mapped_column(ForeignKey("target_sets.id", ondelete="RESTRICT"), index=True)
    period: Mapped[str] = mapped_column(String(7))  # YYYY-MM
    as_of: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10), default="reported")
    budget_executed: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    budget_explanation: Mapped[str] = mapped_column(Text, default="")  # executed above the budget
    budget_reason: Mapped[str] = mapped_column(Text, default="")
    budget_measure: Mapped[str] = mapped_column(Text, default="")
    execution_rate: Mapped[Decimal] = mapped_column(Numeric(24, 2))  # percent of the budget
    time_progress: Mapped[Decimal] = mapped_column(Numeric(7, 2))  # percent (序时进度)
    budget_warning: Mapped[str] = mapped_column(String(6))
    forecast_executed: Mapped[Decimal | None] = mapped_column(Numeric(24, 2))
    forecast_rate: Mapped[Decimal | None] = mapped_column(Numeric(24, 2))
    forecast_warning: Mapped[str | None] = mapped_column(String(6))
    return_opinion: Mapped[str | None] = mapped_column(Text)
    reported_by: Mapped[str] = mapped_column(String(64))
    reported_at: Mapped[datetime] = mapped_column(default=utcnow)
    returned_by: Mapped[str | None] = mapped_column(String(64))
    returned_at: Mapped[datetime | None]
    confirmed_by: Mapped[str | None] = mapped_column(String(64))
    confirmed_at: Mapped[datetime | None]
    lock_version: Mapped[int] = mapped_column(Integer, default=1)

    project: Mapped[Project] = relationship(lazy="joined", viewonly=True)
    target_set: Mapped[TargetSet] = relationship(lazy="joined", viewonly=True)
    lines: Mapped[list[MonitoringLine]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by="MonitoringLine.position"
    )

    __mapper_args__ = {"version_id_col": lock_version}

    @property
    def year(self) -> int:
        return int(self.period[:4])

    @property
    def warning(self) -> str:
        """The worst of the budget's and the lines' warnings."""
        found = [self.budget_warning, *(line.warning for line in self.lines)]
        return max(found, key=WARNINGS.index)

    @property
    def worst_forecast(self) -> str | None:
        found = [w for w in (self.forecast_warning, *(line.forecast_warning for line in self.lines)) if w]
        return max(found, key=WARNINGS.index) if found else None

    def to_audit(self) -> dict[str, Any]:
        return {
            "period": self.period,
            "as_of": self.as_of.isoformat(),
            "status": self.status,
            "target_set": self.target_set_id,
            "budget_executed": f"{self.budget_executed:.2f}",
            "execution_rate": f"{self.execution_rate:.2f}",
            "time_progress": f"{self.time_progress:.2f}",
            "budget_warning": self.budget_warning,
            "lines": [
                {
                    "target_line": line.target_line_id,
                    "planned": line.planned_value,
                    "actual": line.actual_value,
                    "achievement": line.achievement,
                    "completion": None if line.completion is None else f"{line.completion:.2f}",
                    "warning": line.warning,
                }
                for line in self.lines
            ],
        }


class MonitoringLine(TenantOwned, Base):
    __tablename__ = "monitoring_lines"
    __wall_project__ = ("round_id", "MonitoringRound")
    __wall_abstract__ = False

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("monitoring_rounds.id", ondelete="CASCADE"), index=True)
    target_line_id: Mapped[int] = mapped_column(ForeignKey("target_lines.id", ondelete="RESTRICT"))
    position: Mapped[int] = mapped_column(Integer)
    planned_value: Mapped[str] = mapped_column(String(100), default="")  # the planned stage value
    actual_value: Mapped[str] = mapped_column(String(100), default="")
    achievement: Mapped[str | None] = mapped_column(String(14))  # qualitative: ACHIEVEMENTS
    text: Mapped[str] = mapped_column(Text, default="")  # qualitative: the progress in words
    reason: Mapped[str] = mapped_column(Text, default="")  # 偏差原因
    measure: Mapped[str] = mapped_column(Text, default="")  # 纠偏措施
    reason_category: Mapped[str | None] = mapped_column(String(10))
    likelihood: Mapped[str | None] = mapped_column(String(10))  # 全年目标能否完成
    completion: Mapped[Decimal | None] = mapped_column(Numeric(24, 2))  # percent
    warning: Mapped[str] = mapped_column(String(6))
    forecast_value: Mapped[Decimal | None] = mapped_column(Numeric(24, 2))
    forecast_completion: Mapped[Decimal | None] = mapped_column(Numeric(24, 2))  # percent
    forecast_warning: Mapped[str | None] = mapped_column(String(6))

    target_line: Mapped[TargetLine] = relationship(lazy="joined", viewonly=True)


class Correction(TenantOwned, Base):
    """A request the project's editors must answer: finance's on a monitoring round (纠偏/约谈/发函,
    `round_id`) or a spot check's finding from the province or the city (抽查, `spot_check_item_id`,
    written from above — hence `owner_and_above`; the services' policies say which level does what)."""

    __tablename__ = "corrections"
    __wall_abstract__ = False
    __wall_writers__ = "owner_and_above"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    round_id: Mapped[int | None] = mapped_column(
        ForeignKey("monitoring_rounds.id", ondelete="CASCADE"), index=True
    )
    spot_check_item_id: Mapped[int | None] = mapped_column(
        ForeignKey("spot_check_items.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(4))
    text: Mapped[str] = mapped_column(Text)
    deadline: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10), default="open")
    issued_by: Mapped[str] = mapped_column(String(64))
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_by: Mapped[str | None] = mapped_column(String(64))
    closed_at: Mapped[datetime | None]
    adjustment_target_set_id: Mapped[int | None] = mapped_column(
        ForeignKey("target_sets.id", ondelete="SET NULL")
    )
    lock_version: Mapped[int] = mapped_column(Integer, default=1)

    monitoring_round: Mapped[MonitoringRound | None] = relationship(lazy="joined", viewonly=True)
    adjustment: Mapped[TargetSet | None] = relationship(lazy="joined", viewonly=True)
    entries: Mapped[list[CorrectionEntry]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by="CorrectionEntry.id"
    )

    __mapper_args__ = {"version_id_col": lock_version}

    # not a column: open past its deadline on the province's calendar, set by the service
    overdue = False

    def is_overdue(self, today: date) -> bool:
        return self.status == "open" and self.deadline < today


class CorrectionEntry(TenantOwned, Base):
    __tablename__ = "correction_entries"
    __wall_project__ = ("correction_id", "Correction")
    __wall_abstract__ = False
    __wall_writers__ = "owner_and_above"  # a spot check's follow-up is written from above

    id: Mapped[int] = mapped_column(primary_key=True)
    correction_id: Mapped[int] = mapped_column(ForeignKey("corrections.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(String(8))
    text: Mapped[str] = mapped_column(Text, default="")
    evidence_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    deadline: Mapped[date | None] = mapped_column(Date)  # the new deadline of an `again`
    author: Mapped[str] = mapped_column(String(64))
    written_at: Mapped[datetime] = mapped_column(default=utcnow)
