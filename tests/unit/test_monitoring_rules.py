"""Monitoring's figures (DESIGN.md §6): time progress, warnings, the year-end forecast — hand-computed."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from jixiao.services.evaluation.scoring import completion
from jixiao.services.monitoring.rules import (
    budget_warning,
    completion_warning,
    time_progress,
    year_end_forecast,
)


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        (date(2027, 1, 1), D(1) / D(365)),
        (date(2027, 3, 31), D(90) / D(365)),
        (date(2027, 9, 30), D(273) / D(365)),
        (date(2028, 9, 30), D(274) / D(366)),  # a leap year
        (date(2027, 12, 31), D(1)),
    ],
)
def test_time_progress(as_of, expected):
    assert time_progress(as_of) == expected


def test_time_progress_outside_the_budget_year():
    assert time_progress(date(2026, 12, 31), 2027) == 0
    assert time_progress(date(2028, 1, 15), 2027) == 1


@pytest.mark.parametrize(
    ("value", "expected"),
    [("0.90", "green"), ("1.30", "green"), ("0.8999", "yellow"), ("0.70", "yellow"), ("0.6999", "red")],
)
def test_completion_warning_at_the_default_thresholds(value, expected):
    assert completion_warning(D(value)) == expected


def test_completion_warning_follows_the_program():
    assert completion_warning(D("0.85"), {"completion_green": 80}) == "green"


@pytest.mark.parametrize(
    ("executed", "progress", "expected"),
    [
        ("0.70", "0.75", "green"),
        ("0.64", "0.75", "yellow"),
        ("0.65", "0.75", "green"),
        ("0.54", "0.75", "red"),
        ("0.55", "0.75", "yellow"),
    ],
)
def test_budget_warning_by_lag_behind_time_progress(executed, progress, expected):
    assert budget_warning(D(executed), D(progress)) == expected


def test_the_march_round_forecasts_a_shortfall_before_september():
    """12 of 100 km by 31 March (24.66 % of the year) → 48.7 km by 31 December: red already now."""
    progress = time_progress(date(2027, 3, 31))
    forecast = year_end_forecast(D(12), progress)
    assert forecast is not None and forecast.quantize(D("0.1")) == D("48.7")
    assert completion_warning(completion(">=", "100", forecast)) == "red"
    assert year_end_forecast(D(5), D(0)) is None
