"""Pages of the indicator library (指标库, DESIGN.md §5, §9): the blueprint the registry mounts at
/indicators, with every page of the library registered on it by one module per kind of page:

- `browse`: the library browser (framework tree, filters, search, export link) and one
  indicator's page with its history; retire and restore;
- `forms`: create, derive (派生本单位指标) and edit an indicator;
- `sharing`: co-building (共建共享) — propose an indicator upwards, the proposals page and
  the upper level's decision;
- `library`: templates (模板库) and cases (案例库), and the indicator picker of their forms;
- `excel`: the Excel import with its progress bar.

All of them share one blueprint, `common.bp` (endpoints `indicators_pages.<view>`), and
its helpers; imports go one way only: this module -> page modules -> `common`.
"""

from __future__ import annotations

# Imported for their routes: each module registers its pages on the shared blueprint.
from . import browse, excel, forms, library, sharing  # noqa: F401
from .common import bp

__all__ = ["bp"]
