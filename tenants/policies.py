"""Who may do what with tenants, users and evaluator organisations: the `@policy` rules.

Registered with `jixiao.platform.core.authz` when this module is imported. `service`, `users` and
`evaluators` all import it, so importing any one of them makes every action here known to
`authorize()` (each registered exactly once: Python imports a module once)."""

from __future__ import annotations

from jixiao.platform.core.actor import Actor
from jixiao.platform.core.authz import policy, require_role
from jixiao.platform.core.errors import Forbidden, NotFound

from .models import Tenant


@policy("tenants.read", scope="profile")
def _may_read_tenant(actor: Actor, *, tenant: Tenant) -> None:
    """Own tenant, its descendants and (for display) its ancestors; never a sibling."""
    if tenant.id in actor.readable_tenant_ids or tenant.id in actor.lineage_tenant_ids:
        return
    raise NotFound(f"行政区划 {tenant.code} 不存在")


@policy("tenants.list", scope="profile")
def _may_list_tenants(actor: Actor) -> None:
    """Anyone: the list holds the own tenant and those below it (evaluators: none)."""


@policy("tenants.create", scope="admin")
def _may_create_tenant(actor: Actor) -> None:
    """Only the province admin runs the tenant hierarchy."""
    require_role(actor, "province_admin", message="只有省财政厅管理员可以新增地区")


@policy("users.read", scope="admin")
def _may_read_users(actor: Actor, *, tenant: Tenant) -> None:
    """Admins read the users of their own tenant and the tenants below it."""
    _may_read_tenant(actor, tenant=tenant)
    if tenant.id not in actor.readable_tenant_ids:
        raise NotFound(f"行政区划 {tenant.code} 不存在")
    require_role(actor, "province_admin", "bureau_admin", message="只有管理员可以查看用户")


@policy("users.write", scope="admin")
def _may_write_users(actor: Actor, *, tenant: Tenant) -> None:
    """A bureau admin manages its own tenant's users; the province admin every tenant's."""
    _may_read_users(actor, tenant=tenant)
    if actor.has_role("province_admin"):
        return
    if tenant.id != actor.tenant_id:
        raise Forbidden("上级单位对下级用户只读：只能由该地区管理员或省财政厅管理员维护")
    require_role(actor, "bureau_admin", message="只有管理员可以维护用户")


@policy("evaluator_orgs.read", scope="profile")
def _may_read_evaluator_orgs(actor: Actor) -> None:
    """Any bureau or province admin (to grant access to projects)."""
    require_role(actor, "province_admin", "bureau_admin", message="只有管理员可以查看第三方机构")


@policy("evaluator_orgs.write", scope="admin")
def _may_write_evaluator_orgs(actor: Actor) -> None:
    """Third-party organisations are registered by the province."""
    require_role(actor, "province_admin", message="第三方机构由省财政厅登记")
