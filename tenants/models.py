"""Tenants (行政区划: province → city → county), users, roles, evaluator organisations."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, ForeignKey, String, UniqueConstraint, and_, or_, select, true
from sqlalchemy.orm import Mapped, mapped_column, object_session, relationship

from jixiao.platform.core.actor import Actor
from jixiao.platform.core.db import Base, utcnow
from jixiao.platform.core.tenancy import Walled, in_reach

LEVELS = ("province", "city", "county")
LEVEL_NAMES = {"province": "省级", "city": "市级", "county": "县级"}

ROLES = (
    "province_admin",
    "province_reviewer",
    "bureau_admin",
    "dept_reviewer",
    "project_editor",
    "evaluator",
)
ROLE_NAMES = {
    "province_admin": "省财政厅管理员",
    "province_reviewer": "省级审核人",
    "bureau_admin": "财政局管理员",
    "dept_reviewer": "主管部门审核人",
    "project_editor": "项目单位填报人",
    "evaluator": "第三方评价人员",
}
# Which roles a user of a tenant at this level may hold.
ROLES_BY_LEVEL = {
    "province": {"province_admin", "province_reviewer"},
    "city": {"bureau_admin", "dept_reviewer", "project_editor"},
    "county": {"bureau_admin", "dept_reviewer", "project_editor"},
}


class Tenant(Base):
    """A finance bureau's workspace, addressed by its 6-digit administrative division code.

    The hierarchy is public administrative data, so this table is not behind the walls itself;
    the tenants service decides who may see which tenant."""

    __tablename__ = "tenants"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(6), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    level: Mapped[str] = mapped_column(String(10))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("tenants.id", ondelete="RESTRICT"), index=True)
    # Codes from the root down, e.g. "640000/640100/640104": subtree queries are a prefix match.
    path: Mapped[str] = mapped_column(String(200), index=True)
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    parent: Mapped[Tenant | None] = relationship(remote_side=[id], lazy="joined", join_depth=1)

    def to_audit(self) -> dict[str, Any]:
        return {"code": self.code, "name": self.name, "level": self.level, "path": self.path}


class EvaluatorOrg(Base):
    """A third-party evaluator organisation (第三方机构), registered by the province. Its users have
    no tenant; they reach projects only through grants."""

    __tablename__ = "evaluator_orgs"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    credit_code: Mapped[str | None] = mapped_column(String(18))  # 统一社会信用代码
    contact: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def to_audit(self) -> dict[str, Any]:
        return {"name": self.name, "credit_code": self.credit_code, "contact": self.contact}


class User(Walled, Base):
    """A person who logs in. Bureau users belong to one tenant; evaluator users to an organisation.

    Walls: a tenant's users are readable by it and the tenants above it; writable by its own
    admins and by the province admin. Evaluator users are read and written by the province."""

    __tablename__ = "users"
    __wall_abstract__ = False

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(200))
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenants.id", ondelete="RESTRICT"), index=True)
    evaluator_org_id: Mapped[int | None] = mapped_column(
        ForeignKey("evaluator_orgs.id", ondelete="RESTRICT"), index=True
    )
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]
    # Where outbound notifications go when an SMTP server is configured (optional).
    email: Mapped[str | None] = mapped_column(String(254))

    tenant: Mapped[Tenant | None] = relationship(lazy="joined")
    evaluator_org: Mapped[EvaluatorOrg | None] = relationship(lazy="joined")
    role_rows: Mapped[list[UserRole]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", back_populates="user"
    )

    @property
    def roles(self) -> list[str]:
        return sorted(r.role for r in self.role_rows)

    def get_user_id(self) -> int:  # Authlib
        return self.id

    def to_audit(self) -> dict[str, Any]:
        return {
            "username": self.username,
            "display_name": self.display_name,
            "tenant_id": self.tenant_id,
            "evaluator_org_id": self.evaluator_org_id,
            "roles": self.roles,
            "email": self.email,
            "is_active": self.is_active,
        }

    @classmethod
    def wall_read_criteria(cls, actor: Actor) -> ColumnElement[bool]:
        own = in_reach(cls.tenant_id, actor)
        if actor.is_province:
            return or_(own, cls.tenant_id.is_(None))
        if actor.evaluator_org_id is not None:
            return or_(own, cls.id == actor.user_id)
        return own

    @classmethod
    def wall_write_criteria(cls, actor: Actor) -> ColumnElement[bool]:
        if actor.has_role("province_admin"):
            return true()
        return and_(cls.tenant_id.is_not(None), cls.tenant_id == actor.tenant_id)

    def wall_may_write(self, actor: Actor) -> bool:
        if actor.has_role("province_admin"):
            return True
        if self.id is not None and self.id == actor.user_id:
            # own password, own last login — but never out of one's own tenant or organisation
            return self.tenant_id == actor.tenant_id and self.evaluator_org_id == actor.evaluator_org_id
        return self.tenant_id is not None and self.tenant_id == actor.tenant_id


class UserRole(Walled, Base):
    """A role of a user; behind the same walls as the user it belongs to."""

    __tablename__ = "user_roles"
    __table_args__ = (UniqueConstraint("user_id", "role"),)
    __wall_abstract__ = False

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(32))

    user: Mapped[User] = relationship(back_populates="role_rows")

    @classmethod
    def wall_read_criteria(cls, actor: Actor) -> ColumnElement[bool]:
        # the inner select gets User's own criteria from the same with_loader_criteria pass
        return cls.user_id.in_(select(User.id))

    @classmethod
    def wall_write_criteria(cls, actor: Actor) -> ColumnElement[bool]:
        return cls.user_id.in_(select(User.id).where(User.wall_write_criteria(actor)))

    def wall_may_write(self, actor: Actor) -> bool:
        user = self.user
        if user is None and self.user_id is not None:
            # a role taken away (a delete-orphan) no longer points at its user: find it by id (in
            # the identity map, no query)
            session = object_session(self)
            user = session.get(User, self.user_id) if session is not None else None
        return user is not None and user.wall_may_write(actor)
