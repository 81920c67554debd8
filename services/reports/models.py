"""A pilot report (试点报告) per tenant per program, its versions, and the reviews written on it
from above: the province's acceptance rounds (验收) and a city's preliminary opinions (初审意见).

A report is `draft` (generated, never submitted) → `submitted` (one version sent to the province) →
`returned` (the province returned it with an opinion; the tenant regenerates and submits a new
version) → `submitted` … → `accepted`. A version is immutable: its files (DOCX + PDF) lie in the
object store under `reports/{tenant code}/{report id}/`; the job that made it is its key (a retried
job finds its version instead of making a second one).

The rows belong to the report's tenant and are read by it and every tenant above (pilot data flows
up); the report and its reviews are also written from above — the province accepts, the city
gives its opinion — which the walls allow (`__wall_writers__ = "owner_and_above"`) while the
service says which level may do what."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from jixiao.platform.core.db import Base, utcnow
from jixiao.platform.core.tenancy import TenantOwned
from jixiao.services.programs.models import Program
from jixiao.tenants.models import Tenant

TRACK = "pilot_report"  # the work queue's and the notifications' "stage" of a report
TRACK_NAME = "试点报告"

STATUSES = ("draft", "submitted", "returned", "accepted")
STATUS_NAMES = {"draft": "未报送", "submitted": "待验收", "returned": "已退回", "accepted": "已通过验收"}
FORMATS = {"docx": "Word", "pdf": "PDF"}
MIME = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pdf": "application/pdf",
}
REVIEW_KINDS = {"acceptance": "验收", "opinion": "初审意见"}
OUTCOMES = {"pass": "通过", "return": "退回"}


class PilotReport(TenantOwned, Base):
    __tablename__ = "pilot_reports"
    __table_args__ = (UniqueConstraint("program_id", "tenant_id"),)
    __wall_abstract__ = False
    __wall_project__ = None  # a tenant's report, no project's: an evaluator never reads it
    __wall_writers__ = "owner_and_above"  # the province accepts, the city gives its opinion

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(10), default="draft", index=True)
    # the version sent to the province (set on submit; kept after acceptance)
    submitted_version: Mapped[int | None] = mapped_column(Integer)
    submitted_by: Mapped[str | None] = mapped_column(String(64))
    submitted_at: Mapped[datetime | None]
    accepted_at: Mapped[datetime | None]
    # the last generation asked for: the page shows its progress, or why it failed
    last_job_id: Mapped[str | None] = mapped_column(String(64))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    lock_version: Mapped[int] = mapped_column(Integer, default=1)

    program: Mapped[Program] = relationship(lazy="joined", viewonly=True)
    owner: Mapped[Tenant] = relationship(
        lazy="joined",
        viewonly=True,
        primaryjoin="PilotReport.tenant_id == Tenant.id",
        foreign_keys="PilotReport.tenant_id",
    )
    versions: Mapped[list[PilotReportVersion]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by="PilotReportVersion.number"
    )
    reviews: Mapped[list[PilotReportReview]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by="PilotReportReview.id"
    )

    __mapper_args__ = {"version_id_col": lock_version}

    @property
    def latest(self) -> PilotReportVersion | None:
        return self.versions[-1] if self.versions else None

    def version(self, number: int) -> PilotReportVersion | None:
        return next((v for v in self.versions if v.number == number), None)

    @property
    def acceptances(self) -> list[PilotReportReview]:
        return [r for r in self.reviews if r.kind == "acceptance"]

    @property
    def opinions(self) -> list[PilotReportReview]:
        return [r for r in self.reviews if r.kind == "opinion"]

    def to_audit(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "submitted_version": self.submitted_version,
            "versions": len(self.versions),
        }


class PilotReportVersion(TenantOwned, Base):
    __tablename__ = "pilot_report_versions"
    __table_args__ = (UniqueConstraint("report_id", "number"), UniqueConstraint("job_id"))
    __wall_abstract__ = False
    __wall_project__ = None

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("pilot_reports.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    job_id: Mapped[str] = mapped_column(String(64))
    generated_by: Mapped[str] = mapped_column(String(64))
    generated_at: Mapped[datetime] = mapped_column(default=utcnow)
    docx_key: Mapped[str] = mapped_column(String(300))
    docx_size: Mapped[int] = mapped_column(Integer)
    docx_sha256: Mapped[str] = mapped_column(String(64))
    pdf_key: Mapped[str] = mapped_column(String(300))
    pdf_size: Mapped[int] = mapped_column(Integer)
    pdf_sha256: Mapped[str] = mapped_column(String(64))
    project_names: Mapped[list[str]] = mapped_column(JSON, default=list)
    figures: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # the summary's headline figures

    def file(self, fmt: str) -> tuple[str, int, str]:
        """(key, size, sha256) of the version's `docx` or `pdf`."""
        return (
            (self.docx_key, self.docx_size, self.docx_sha256)
            if fmt == "docx"
            else (self.pdf_key, self.pdf_size, self.pdf_sha256)
        )


class PilotReportReview(TenantOwned, Base):
    """An acceptance round (the province) or a preliminary opinion (the city) on one version."""

    __tablename__ = "pilot_report_reviews"
    __wall_abstract__ = False
    __wall_project__ = None
    __wall_writers__ = "owner_and_above"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("pilot_reports.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)  # the version it concerns
    kind: Mapped[str] = mapped_column(String(12))  # acceptance / opinion
    round: Mapped[int | None] = mapped_column(Integer)  # the acceptance round (1, 2 …)
    # [{item, max, score, comment}] in the program's checklist order
    checklist: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    total: Mapped[Decimal | None] = mapped_column(Numeric(6, 2))
    pass_mark: Mapped[Decimal | None] = mapped_column(Numeric(6, 2))
    outcome: Mapped[str | None] = mapped_column(String(8))  # pass / return (an acceptance)
    opinion: Mapped[str] = mapped_column(Text, default="")
    author: Mapped[str] = mapped_column(String(64))
    author_tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="RESTRICT"))
    written_at: Mapped[datetime] = mapped_column(default=utcnow)

    author_tenant: Mapped[Tenant] = relationship(
        lazy="joined", viewonly=True, foreign_keys="PilotReportReview.author_tenant_id"
    )
