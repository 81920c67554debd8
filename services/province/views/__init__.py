"""Pages of the province's views (issue 15): the dashboard (汇总看板) with its filters, charts and
grouped table (`dashboard`), its Excel export with the shared progress bar (`export`), and the
indicator comparison reached from every library indicator (`comparison`)."""

from __future__ import annotations

from . import comparison, dashboard, export  # noqa: F401 - their routes join the blueprint
from .common import bp

__all__ = ["bp"]
