"""Monitoring's figures (跟踪监控, DESIGN.md §6 "Monitoring"): pure functions over Decimals.

* 序时进度 (time progress): the days of the project's budget year elapsed at `as_of` (that day
  included) over the days in the year.
* A line's warning from its completion (`evaluation.scoring.completion`, uncapped): green at or
  above `completion_green` (*default* 90 %), yellow from `completion_yellow` (*default* 70 %), red
  below.
* The budget's warning from how far execution lags time progress: more than `budget_lag_yellow`
  (*default* 10) points behind is yellow, more than `budget_lag_red` (*default* 20) red.
* The year-end forecast (预警): linear on time progress from the latest round — a value reached by
  `as_of` is expected to reach value / time progress by 31 December.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

ZERO, ONE, HUNDRED = Decimal(0), Decimal(1), Decimal(100)
DEFAULTS: dict[str, Any] = {
    "completion_green": 90,
    "completion_yellow": 70,
    "budget_lag_yellow": 10,
    "budget_lag_red": 20,
}


def time_progress(as_of: date, year: int | None = None) -> Decimal:
    """The share (0–1) of the budget year `year` (*default* `as_of`'s) elapsed at `as_of`."""
    year = year or as_of.year
    first, last = date(year, 1, 1), date(year, 12, 31)
    if as_of < first:
        return ZERO
    if as_of >= last:
        return ONE
    return Decimal((as_of - first).days + 1) / Decimal((last - first).days + 1)


def completion_warning(completion: Decimal, thresholds: dict[str, Any] | None = None) -> str:
    conf = {**DEFAULTS, **(thresholds or {})}
    percent = completion * HUNDRED
    if percent >= Decimal(str(conf["completion_green"])):
        return "green"
    if percent >= Decimal(str(conf["completion_yellow"])):
        return "yellow"
    return "red"


def budget_warning(
    execution_rate: Decimal, progress: Decimal, thresholds: dict[str, Any] | None = None
) -> str:
    """Execution (0–1) against time progress (0–1): the lag in percentage points decides."""
    conf = {**DEFAULTS, **(thresholds or {})}
    lag = (progress - execution_rate) * HUNDRED
    if lag > Decimal(str(conf["budget_lag_red"])):
        return "red"
    if lag > Decimal(str(conf["budget_lag_yellow"])):
        return "yellow"
    return "green"


def year_end_forecast(value: Decimal, progress: Decimal) -> Decimal | None:
    """The value expected by 31 December when `value` was reached at `progress` (None before any
    time has passed: nothing to extrapolate from)."""
    if progress <= 0:
        return None
    return value / progress
