"""`jixiao demo load`: the demo province of DEMO.md, every capability's part in order."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from jixiao.platform import showcase
from jixiao.services.indicators import demo as indicators
from jixiao.services.programs import service as programs
from jixiao.tenants import demo as tenants


def load_all(session: Session, password: str, today: date | None = None) -> dict[str, int]:
    """`today`: the day of the first load (the running program's dates follow it, DEMO.md)."""
    created = tenants.load(session, password)
    created.update(indicators.load_demo(session))
    created.update(programs.load_demo(session, today))
    created.update(showcase.load(session, today))  # the finished program of last year
    return created
