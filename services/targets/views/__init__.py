"""Pages of a project's performance targets (绩效目标, DESIGN.md §6 stage 2, §9), split by meaning:

- `editor`: the editor with the library picker, 一键勾选 templates, 平均分配权重, the inline
  quality checks, the required evidence purposes, and target adjustments;
- `review`: the review page (初审 / 复核), the version history with its diff, and the
  printable 绩效目标申报表;
- `common`: the blueprint and what the pages share.

The quality rules are the targets service's own (`service.check` / `dry_run`), so the page says
exactly what the API says. The project's header, stepper and tabs come from
`projects.views.render_project_page`; the URLs stay under /projects/<id>/targets.
"""

from __future__ import annotations

from . import editor, review  # noqa: F401 - their routes join the blueprint
from .common import bp

__all__ = ["bp"]
