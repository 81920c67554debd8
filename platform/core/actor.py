"""Who is acting: the identity every service call and every query is scoped by."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


@dataclass(frozen=True)
class Actor:
    user_id: int | None
    username: str
    tenant_id: int | None
    tenant_code: str | None
    tenant_level: str | None
    roles: frozenset[str]
    scopes: frozenset[str]
    # Pilot data flows up: the own tenant and every descendant (read-only below the own tenant).
    readable_tenant_ids: frozenset[int] = field(default_factory=frozenset)
    # … the same subtree as the SQL sees it: the own tenant's materialised path (`640000/640100`),
    # so that a wall is one subquery rather than thousands of bound ids (platform/core/tenancy.py)
    tenant_path: str | None = None
    # The indicator library flows down: the own tenant and every ancestor.
    lineage_tenant_ids: frozenset[int] = field(default_factory=frozenset)
    evaluator_org_id: int | None = None
    # A third-party evaluator's live grants: (project id, action) pairs — `read`, `joint_review`,
    # `key_evaluation`, `evidence_read`, `evidence_write` (services/grants). Loaded with the actor on
    # every request (no cache outlives an expiry).
    grants: frozenset[tuple[int, str]] = field(default_factory=frozenset)
    # … and the tenants of those projects: what it writes (a 联审, its key evaluation, a report file)
    # belongs to them — the flush guard's measure, never a read criterion
    granted_tenant_ids: frozenset[int] = field(default_factory=frozenset)
    request_id: str | None = None
    client_id: str | None = None

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes

    @property
    def is_province(self) -> bool:
        return self.tenant_level == "province"

    @property
    def is_evaluator(self) -> bool:
        return self.tenant_id is None and self.evaluator_org_id is not None

    @property
    def granted_project_ids(self) -> frozenset[int]:
        return frozenset(project_id for project_id, _ in self.grants)

    def granted(self, project_id: int, action: str) -> bool:
        """Holds a live grant of `action` on the project."""
        return (project_id, action) in self.grants

    def can_read_tenant(self, tenant_id: int | None) -> bool:
        return tenant_id is not None and tenant_id in self.readable_tenant_ids


# What completes an actor beyond the tenant hierarchy (an evaluator's live grants …): each is called
# by `tenants.build_actor` with the session and the actor, and returns the actor to use. A
# capability registers itself here at import, so that the tenants layer imports no capability.
ACTOR_EXTENSIONS: list[Callable[[Session, Actor], Actor]] = []
