"""Co-building pages of the indicator library (共建共享): 推荐 one of the unit's indicators to the
upper level (from the indicator's page), and the proposals page where both sides see them and
the upper level 采纳 or 不予采纳 with a reason.

Thin like every handler: call `sharing`, re-render with its Chinese messages on 422 — a refused
推荐 on the indicator's page (`browse.detail_page`), a refused decision on the proposals page.
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_login import login_required

from jixiao.platform.core.errors import ValidationFailed
from jixiao.platform.web.context import actor, db
from jixiao.platform.web.pages import may as _may

from .. import sharing
from .browse import detail_page
from .common import bp, writable


@bp.post("/<int:indicator_id>/propose")
@login_required
def propose(indicator_id: int) -> Any:
    writable()
    s = db()
    reason = (request.form.get("reason") or "").strip()
    try:
        proposal = sharing.propose(s, actor(), indicator_id, reason)
        s.commit()
    except ValidationFailed as exc:
        s.rollback()
        return detail_page(
            indicator_id, {f"propose_{k}": v for k, v in exc.errors.items()}, {"propose_reason": reason}
        )
    flash(f"已向{proposal.target.name}推荐该指标，待上级处理", "success")
    return redirect(url_for(".detail", indicator_id=indicator_id))


def _proposals_page(
    errors: dict[int, dict[str, Any]] | None = None, form: dict[int, str] | None = None
) -> Any:
    who = actor()
    s = db()
    incoming = (
        sharing.list_proposals(s, who, direction="incoming", page_size=200).items if who.tenant_id else []
    )
    outgoing = (
        sharing.list_proposals(s, who, direction="outgoing", page_size=200).items if who.tenant_id else []
    )
    return render_template(
        "indicators/proposals.html",
        incoming=incoming,
        outgoing=outgoing,
        may_decide={p.id: _may("indicators.decide", proposal=p) for p in incoming},
        errors=errors or {},
        form=form or {},
    ), (422 if errors else 200)


@bp.get("/proposals")
@login_required
def proposals() -> Any:
    return _proposals_page()


@bp.post("/proposals/<int:proposal_id>/decision")
@login_required
def decide(proposal_id: int) -> Any:
    writable()
    s = db()
    decision = request.form.get("decision", "")
    reason = (request.form.get("reason") or "").strip()
    try:
        proposal = sharing.decide(s, actor(), proposal_id, decision, reason)
        s.commit()
    except ValidationFailed as exc:
        s.rollback()
        return _proposals_page({proposal_id: exc.errors}, {proposal_id: reason})
    if proposal.status == "accepted":
        flash(f"已采纳「{proposal.indicator.name}」，本级指标库新增共享指标", "success")
    else:
        flash(f"已不予采纳「{proposal.indicator.name}」，理由已告知{proposal.proposer.name}", "success")
    return redirect(url_for(".proposals"))
