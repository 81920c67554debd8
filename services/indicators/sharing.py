"""Co-building (共建共享): a tenant proposes one of its indicators to its parent level; the parent
accepts (a copy owned by the parent, shared down its branch, provenance kept) or declines with a
reason. Both sides see the proposal and its state."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from jixiao.platform.core.actor import Actor
from jixiao.platform.core.audit import record
from jixiao.platform.core.authz import authorize, policy, require_role
from jixiao.platform.core.db import utcnow
from jixiao.platform.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from jixiao.platform.core.pagination import Page, paginate
from jixiao.tenants.models import Tenant

from .models import IndicatorProposal
from .service import check_fields, fields_of, get_indicator, insert_indicator, level2_nodes


@policy("indicators.propose", scope="indicators:write")
def _may_propose(actor: Actor) -> None:
    """The admins of the indicator's owner propose it upward."""
    require_role(actor, "bureau_admin", "province_admin", message="只有财政局管理员可以向上级推荐指标")


@policy("indicators.decide", scope="indicators:write")
def _may_decide(actor: Actor, *, proposal: IndicatorProposal) -> None:
    """The admins of the level the indicator was proposed to."""
    require_role(actor, "bureau_admin", "province_admin", message="只有上级财政局管理员可以处理推荐")
    if proposal.target_tenant_id != actor.tenant_id:
        raise Forbidden("这条推荐是提交给上级单位的，本单位只能查看")


def propose(session: Session, actor: Actor, indicator_id: int, reason: str) -> IndicatorProposal:
    authorize(actor, "indicators.propose")
    indicator = get_indicator(session, actor, indicator_id)
    if indicator.tenant_id != actor.tenant_id:
        raise Forbidden(f"只能推荐本单位的指标，{indicator.code} 属于其他单位")
    if indicator.status != "active":
        raise Conflict("已退出的指标不能推荐")
    owner = session.get(Tenant, indicator.tenant_id)
    if owner is None or owner.parent_id is None:
        raise Conflict("省级指标已是共享指标，无需推荐")
    if not (reason or "").strip():
        raise ValidationFailed("请填写推荐理由", errors={"reason": ["请填写推荐理由"]})
    pending = session.execute(
        select(IndicatorProposal.id).where(
            IndicatorProposal.indicator_id == indicator.id, IndicatorProposal.status == "pending"
        )
    ).first()
    if pending is not None:
        raise Conflict(f"指标 {indicator.code} 已有待上级处理的推荐")
    proposal = IndicatorProposal(
        tenant_id=owner.id,
        indicator_id=indicator.id,
        target_tenant_id=owner.parent_id,
        reason=reason.strip(),
        proposed_by=actor.username,
    )
    session.add(proposal)
    session.flush()
    record(
        session,
        "indicator_proposal.create",
        object_type="indicator_proposal",
        object_id=proposal.id,
        after={
            "indicator": indicator.code,
            "to": owner.parent.code if owner.parent else None,
            "reason": proposal.reason,
        },
    )
    return proposal


def list_proposals(
    session: Session,
    actor: Actor,
    *,
    direction: str | None = None,
    status: str | None = None,
    page: int = 1,
    page_size: int = 50,
) -> Page[IndicatorProposal]:
    """`incoming`: proposed to the caller's tenant; `outgoing`: by it; neither: everything visible."""
    authorize(actor, "indicators.read")
    stmt = select(IndicatorProposal).order_by(IndicatorProposal.id.desc())
    if direction == "incoming":
        stmt = stmt.where(IndicatorProposal.target_tenant_id == actor.tenant_id)
    elif direction == "outgoing":
        stmt = stmt.where(IndicatorProposal.tenant_id == actor.tenant_id)
    if status:
        stmt = stmt.where(IndicatorProposal.status == status)
    return paginate(session, stmt, page, page_size)


def get_proposal(session: Session, actor: Actor, proposal_id: int) -> IndicatorProposal:
    authorize(actor, "indicators.read")
    proposal = session.get(IndicatorProposal, proposal_id)
    if proposal is None:
        raise NotFound(f"推荐 {proposal_id} 不存在")
    return proposal


def decide(
    session: Session, actor: Actor, proposal_id: int, decision: str, reason: str | None
) -> IndicatorProposal:
    proposal = get_proposal(session, actor, proposal_id)
    authorize(actor, "indicators.decide", proposal=proposal)
    if proposal.status != "pending":
        raise Conflict(f"这条推荐已于之前处理（{'已采纳' if proposal.status == 'accepted' else '已退回'}）")
    if decision not in ("accept", "decline"):
        raise ValidationFailed("决定须为 accept 或 decline", errors={"decision": ["须为 accept 或 decline"]})
    reason = (reason or "").strip()
    if decision == "decline" and not reason:
        raise ValidationFailed("不予采纳须说明理由", errors={"reason": ["不予采纳须说明理由"]})
    after: dict[str, Any] = {"decision": decision, "reason": reason}
    if decision == "accept":
        if proposal.indicator.status != "active":
            raise Conflict(f"指标 {proposal.indicator.code} 已被推荐单位退出，不能采纳；可不予采纳并说明理由")
        parent = session.get(Tenant, actor.tenant_id)
        assert parent is not None
        data = fields_of(proposal.indicator)
        check_fields(session, parent.id, data)
        copy = insert_indicator(
            session, parent, data, actor=actor, origin=proposal.indicator, level2=level2_nodes(session)
        )
        proposal.accepted_indicator_id = copy.id
        after["shared_copy"] = copy.code
    proposal.status = "accepted" if decision == "accept" else "declined"
    proposal.decision_reason = reason or None
    proposal.decided_by = actor.username
    proposal.decided_at = utcnow()
    session.flush()
    record(
        session,
        "indicator_proposal.decide",
        object_type="indicator_proposal",
        object_id=proposal.id,
        before={"status": "pending"},
        after={**after, "status": proposal.status},
    )
    return proposal
