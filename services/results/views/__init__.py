"""Pages of the result application (结果应用, issue 13 items 4–5), split by meaning:

- `tracker`: the rectification tracker — the notices, their items with deadlines, state and
  threads (replies with evidence); finance's issue / 销号 / 退回 forms, the editors' reply form;
- `application`: the result-application panel — the grade and the suggested recommendation, the
  choice (a reason asked for when it differs), the disclosure switch;
- `public`: the public page at /public (no login, its own plain printable layout);
- `common`: the blueprint and what the pages share (the overview's card).
"""

from __future__ import annotations

from . import application, public, tracker  # noqa: F401 - their routes join the blueprint
from .common import bp

__all__ = ["bp"]
