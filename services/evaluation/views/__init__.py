"""Pages of the self-evaluation (自评, DESIGN.md §6 stage 4; FORMS.md 项目支出绩效自评表), split by
meaning:

- `fill`: the form with the live score (htmx preview), 保存 and 提交;
- `review`: the review page (初审 / 复核) with the resubmission's diff, and the printable 自评表;
- `common`: the blueprint and what the pages share.

The scores are the service's own (`service.view` / `preview`, `scoring.score`): the page shows
exactly what the API says. The header, stepper and tabs come from
`projects.views.render_project_page`; the URLs stay under /projects/<id>/self-evaluation.
"""

from __future__ import annotations

from ..key import views as key_views  # noqa: F401 - 重点评价's pages join the blueprint
from . import fill, review  # noqa: F401 - their routes join the blueprint
from .common import bp

__all__ = ["bp"]
