"""Authorization: one function per action, registered here, checked in one place.

A policy answers "may this actor do this action on this thing?" from role × tenant relation ×
grant × token scope. It raises `NotFound` when the thing lies outside what the actor may even see
(never confirm another tenant's object exists) and `Forbidden` with a reason otherwise.
Capabilities register their policies with `@policy("capability.action", scope=...)`; the route
table test enumerates `POLICIES` to check every action has one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .actor import Actor
from .errors import Forbidden

ALL_SCOPES = (
    "profile",
    "notifications:write",
    "indicators:read",
    "indicators:write",
    "projects:read",
    "projects:write",
    "reviews:write",
    "evidence:read",
    "evidence:write",
    "evaluations:write",
    "reports:read",
    "reports:write",
    "acceptance:write",
    "admin",
)

ROLE_SCOPES: dict[str, frozenset[str]] = {
    "province_admin": frozenset(ALL_SCOPES),
    "province_reviewer": frozenset(
        {
            "profile",
            "notifications:write",
            "indicators:read",
            "projects:read",
            "evidence:read",
            "reports:read",
            "acceptance:write",
            "reviews:write",  # 抽查: the province's performance centre reviews drawn targets
        }
    ),
    "bureau_admin": frozenset(
        {
            "profile",
            "notifications:write",
            "indicators:read",
            "indicators:write",
            "projects:read",
            "projects:write",
            "reviews:write",
            "evidence:read",
            "evidence:write",
            "reports:read",
            "reports:write",
            "admin",
        }
    ),
    "dept_reviewer": frozenset(
        {
            "profile",
            "notifications:write",
            "indicators:read",
            "projects:read",
            "reviews:write",
            "evidence:read",
            "reports:read",
        }
    ),
    "project_editor": frozenset(
        {
            "profile",
            "notifications:write",
            "indicators:read",
            "projects:read",
            "projects:write",
            "evidence:read",
            "evidence:write",
            "reports:read",
        }
    ),
    "evaluator": frozenset(
        {
            "profile",
            "notifications:write",
            "indicators:read",
            "projects:read",
            "reviews:write",
            "evidence:read",
            "evidence:write",
            "evaluations:write",
        }
    ),
}

SCOPE_NAMES = {
    "profile": "个人信息",
    "notifications:write": "消息已读",
    "indicators:read": "查看指标库",
    "indicators:write": "维护指标库",
    "projects:read": "查看项目",
    "projects:write": "填报项目",
    "reviews:write": "审核",
    "evidence:read": "查看佐证材料",
    "evidence:write": "上传佐证材料",
    "evaluations:write": "绩效评价",
    "reports:read": "查看试点报告",
    "reports:write": "编制试点报告",
    "acceptance:write": "验收评分",
    "admin": "系统管理",
}


def scopes_for_roles(roles: set[str] | frozenset[str] | list[str]) -> frozenset[str]:
    allowed: set[str] = set()
    for role in roles:
        allowed |= ROLE_SCOPES.get(role, frozenset())
    return frozenset(allowed)


@dataclass(frozen=True)
class Policy:
    action: str
    scope: str
    check: Callable[..., None]
    description: str


POLICIES: dict[str, Policy] = {}


def policy(action: str, *, scope: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    if scope not in ALL_SCOPES:
        raise ValueError(f"unknown scope {scope}")

    def register(fn: Callable[..., None]) -> Callable[..., None]:
        if action in POLICIES:
            raise ValueError(f"policy {action} registered twice")
        POLICIES[action] = Policy(action, scope, fn, (fn.__doc__ or "").strip())
        return fn

    return register


def authorize(actor: Actor, action: str, **context: Any) -> None:
    """The one door: token scope first, then the action's own rule."""
    pol = POLICIES[action]
    if pol.scope not in actor.scopes:
        raise Forbidden(f"令牌缺少权限范围 {pol.scope}（{SCOPE_NAMES[pol.scope]}），不能执行此操作")
    pol.check(actor, **context)


def require_role(actor: Actor, *roles: str, message: str) -> None:
    if not actor.has_role(*roles):
        raise Forbidden(message)
