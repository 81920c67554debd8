"""`jixiao demo load`: the demo province of DEMO.md, every capability's part in order
(`loaded.py`: whether it is all there already, without the app).

Light to import: the loaders — every capability's services — are imported when a load runs."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


def load_all(session: Session, password: str, today: date | None = None) -> dict[str, int]:
    """`today`: the day of the first load (the running program's dates follow it, DEMO.md)."""
    from jixiao.platform import showcase
    from jixiao.services.indicators import demo as indicators
    from jixiao.services.programs import service as programs
    from jixiao.tenants import demo as tenants

    created = tenants.load(session, password)
    created.update(indicators.load_demo(session))
    created.update(programs.load_demo(session, today))
    created.update(showcase.load(session, today))  # the finished program of last year
    return created
