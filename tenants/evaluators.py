"""Evaluator organisations (third-party assessors, registered by the province) and their users."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from jixiao.platform.core.actor import Actor
from jixiao.platform.core.audit import record
from jixiao.platform.core.authz import authorize
from jixiao.platform.core.errors import NotFound, ValidationFailed
from jixiao.platform.core.pagination import Page, paginate

from . import policies  # noqa: F401 - registers evaluator_orgs.*
from .models import EvaluatorOrg, User
from .users import _insert_user, _user_errors, refusal


def list_evaluator_orgs(
    session: Session, actor: Actor, *, page: int = 1, page_size: int = 50
) -> Page[EvaluatorOrg]:
    authorize(actor, "evaluator_orgs.read")
    return paginate(session, select(EvaluatorOrg).order_by(EvaluatorOrg.name), page, page_size)


def create_evaluator_org(
    session: Session,
    actor: Actor | None,
    *,
    name: str,
    credit_code: str | None = None,
    contact: str | None = None,
) -> EvaluatorOrg:
    if actor is not None:
        authorize(actor, "evaluator_orgs.write")
    errors: dict[str, list[str]] = {}
    if not (name or "").strip():
        errors["name"] = ["机构名称不能为空"]
    elif session.execute(select(EvaluatorOrg).where(EvaluatorOrg.name == name.strip())).scalar_one_or_none():
        errors["name"] = [f"机构 {name} 已登记"]
    if credit_code and not re.match(r"^[0-9A-HJ-NPQRTUWXY]{18}$", credit_code):
        errors["credit_code"] = ["统一社会信用代码须为 18 位"]
    if len((name or "").strip()) > 200:
        errors["name"] = ["机构名称不能超过 200 个字"]
    if contact and len(contact) > 100:
        errors["contact"] = ["联系人不能超过 100 个字"]
    if errors:
        raise ValidationFailed("机构信息有误", errors=errors)
    org = EvaluatorOrg(name=name.strip(), credit_code=credit_code or None, contact=contact or None)
    session.add(org)
    session.flush()
    record(
        session,
        "evaluator_org.create",
        object_type="evaluator_org",
        object_id=org.id,
        after=org.to_audit(),
        actor=actor,
    )
    return org


def get_evaluator_org(session: Session, actor: Actor, org_id: int) -> EvaluatorOrg:
    authorize(actor, "evaluator_orgs.read")
    org = session.get(EvaluatorOrg, org_id)
    if org is None:
        raise NotFound(f"第三方机构 {org_id} 不存在")
    return org


def create_evaluator_user(
    session: Session, actor: Actor | None, org_id: int, *, username: str, display_name: str, password: str
) -> User:
    if actor is not None:
        authorize(actor, "evaluator_orgs.write")
    org = session.get(EvaluatorOrg, org_id)
    if org is None:
        raise NotFound(f"第三方机构 {org_id} 不存在")
    username = (username or "").strip().lower()
    errors = _user_errors(
        session,
        username=username,
        display_name=display_name,
        password=password,
        roles=["evaluator"],
        allowed_roles={"evaluator"},
    )
    if errors:
        raise refusal(errors)
    return _insert_user(
        session,
        actor,
        username=username,
        display_name=display_name,
        password=password,
        roles=["evaluator"],
        org=org,
    )
