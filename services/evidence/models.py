"""Evidence metadata (DESIGN.md §7). The bytes live in the object store under
`tenants/{code}/projects/{id}/{stage}/{uuid}`; the row keeps the original name as metadata only,
the size, the SHA-256, who and when, and the version chain (a later upload supersedes)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from jixiao.platform.core.db import Base, utcnow
from jixiao.platform.core.tenancy import TenantOwned

PURPOSES = (
    "立项依据",
    "市场参考价格",
    "管理制度",
    "组织实施",
    "实施方案",
    "预算执行佐证",
    "验收材料",
    "监控佐证",
    "自评报告",
    "评价报告",
    "整改材料",
    "其他",
)


# A version is superseded by one newer version at most: the database refuses a fork (two
# parallel supersedes of the same item), whatever the check before it saw.
_KEPT = text("status IN ('current', 'superseded')")


class Evidence(TenantOwned, Base):
    __tablename__ = "evidence"
    __table_args__ = (
        Index(
            "uq_evidence_superseded_once",
            "supersedes_id",
            unique=True,
            sqlite_where=_KEPT,
            postgresql_where=_KEPT,
        ),
    )
    __wall_abstract__ = False

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="RESTRICT"), index=True)
    stage: Mapped[str] = mapped_column(String(20))
    purpose: Mapped[str] = mapped_column(String(40))
    object_key: Mapped[str] = mapped_column(String(300), unique=True)
    filename: Mapped[str] = mapped_column(String(255))  # the original name, metadata only
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(12), default="current")  # current / superseded / deleted
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("evidence.id", ondelete="RESTRICT"))
    version_no: Mapped[int] = mapped_column(Integer, default=1)
    uploaded_by: Mapped[str] = mapped_column(String(64))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)
    deleted_by: Mapped[str | None] = mapped_column(String(64))
    deleted_at: Mapped[datetime | None]
