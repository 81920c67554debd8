"""Pages of the pilot reports (试点报告, issue 14), split by meaning:

- `reports`: the caller's reports with 生成 per program; a report's page (progress bar, the PDF in
  the page, versions and files, acceptance rounds and opinions by version, 报送, 初审意见, 蓝本);
- `acceptance`: the province's workbench (验收) and the checklist form of a submitted report;
- `briefing`: the 专报 page (province and cities);
- `common`: the blueprint and what the pages share.
"""

from __future__ import annotations

from . import acceptance, briefing, reports  # noqa: F401 - their routes join the blueprint
from .common import bp

__all__ = ["bp"]
