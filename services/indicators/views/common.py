"""What every page module of the indicator library shares: the one blueprint they all register
their routes on (`indicators_pages`, under /indicators), the Chinese names of the library's
vocabularies for its templates, and the small lookups more than one page needs.

Imported by the page modules (`browse`, `forms`, `sharing`, `library`, `excel`),
never the other way round; the package's `__init__` imports the page modules so that the
blueprint it hands to the registry carries every route.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from sqlalchemy import select

from jixiao.platform.core.errors import Forbidden, NotFound
from jixiao.platform.web.context import actor, db
from jixiao.platform.web.pages import may, viewing_other_tenant

from .. import service
from ..models import Indicator
from ..rules import (
    DIRECTION_LABELS,
    FIELD_LABELS,
    KIND_LABELS,
    SCOPE_LABELS,
    VALUE_TYPE_LABELS,
)

bp = Blueprint("indicators_pages", __name__, url_prefix="/indicators", template_folder="../templates")

STATUS_LABELS = {"active": "在用", "retired": "已退出"}
PROPOSAL_STATUS = {"pending": "待处理", "accepted": "已采纳", "declined": "不予采纳"}


@bp.app_template_global("indicator_labels")
def _labels() -> dict[str, Any]:
    """The Chinese names of the library's vocabularies, for every template of the blueprint."""
    return {
        "field": FIELD_LABELS,
        "kind": KIND_LABELS,
        "scope": SCOPE_LABELS,
        "value_type": VALUE_TYPE_LABELS,
        "direction": DIRECTION_LABELS,
        "status": STATUS_LABELS,
        "proposal": PROPOSAL_STATUS,
    }


@bp.app_template_global("indicators_may")
def _indicators_may(action: str, **context: Any) -> bool:
    """`may` for the library's templates (layout, tabs): False in read-only mode."""
    return may(action, **context)


READ_ONLY_MESSAGE = "当前为上级只读查看，不能新建、修改或导入；请在页头“切换查看地区”中切回本单位后再操作"


def writable() -> None:
    """The library's write pages (forms, imports, every POST) while the user views another tenant
    through the header's switcher: refused — read-only mode offers no write control at all."""
    if viewing_other_tenant():
        raise Forbidden(READ_ONLY_MESSAGE)


def vocabulary(column: Any) -> list[str]:
    """Values of a free-text column (行业领域, 共性类别) in the caller's visible library."""
    rows = db().execute(select(column).distinct().where(column.is_not(None), column != "").order_by(column))
    return [r for r in rows.scalars() if r]


def linked(indicator_id: int | None) -> Indicator | None:
    """A related indicator, if the caller may see it (a sibling's original is behind the walls)."""
    if indicator_id is None:
        return None
    try:
        return service.get_indicator(db(), actor(), indicator_id)
    except NotFound:
        return None
