"""The content of the reports (试点报告 and 专报) as the document model the renderers read
(`platform/core/documents/model.py`), built from the stage data in the caller's walled session."""

from .briefing import build_briefing
from .pilot import STAGE_TITLES, Built, build_pilot_report

__all__ = ["STAGE_TITLES", "Built", "build_briefing", "build_pilot_report"]
