"""Pages of monitoring (跟踪监控, issue 12 item 8), split by meaning:

- `rounds`: the rounds list with the periods due and the form of the next one (live badges in
  monitoring.js, the service decides), a round's page (read, corrected once returned, finance's
  确认 / 退回), the printable 项目支出绩效目标执行监控表;
- `threads`: the correction requests (纠偏/约谈/发函) — issue, reply, ask again, close, open a
  target adjustment — the project's list and the inbox at /corrections;
- `common`: the blueprint and what the pages share.
"""

from __future__ import annotations

from . import rounds, threads  # noqa: F401 - their routes join the blueprint
from .common import bp

__all__ = ["bp"]
