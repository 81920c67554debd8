"""The province's calendar: deadlines and program dates are calendar dates in its time zone."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo


def today_in(zone: str) -> date:
    """Today in `zone` (e.g. `Asia/Shanghai`, JIXIAO_TIMEZONE), whatever the server's clock zone."""
    return datetime.now(ZoneInfo(zone)).date()
