"""Pages of the province's views (issue 15): the dashboard (汇总看板) with its filters, charts and
grouped table (`dashboard`), and its Excel export with the shared progress bar (`export`)."""

from __future__ import annotations

from . import dashboard, export  # noqa: F401 - their routes join the blueprint
from .common import bp

__all__ = ["bp"]
