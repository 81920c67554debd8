"""The dashboard page (汇总看板): the province sees every participant, a city its branch, a county
is refused (403, the `province.dashboard` policy). A program picker and the filters are one GET
form (bookmarkable; htmx swaps the content in place and pushes the URL)."""

from __future__ import annotations

from typing import Any

from flask import render_template, request
from flask_login import login_required

from jixiao.platform.core.authz import authorize
from jixiao.platform.core.clock import today_in
from jixiao.platform.web.context import actor, db, runtime
from jixiao.platform.web.pages import is_htmx
from jixiao.tenants.models import Tenant

from .. import dashboard
from ..charts import chart_data, cities_of
from ..dashboard.collector import paused
from .common import bp, filters_of, program_id_of
from .export import export_job

# Up to this many tenants the page lists every tenant's projects; above it (a big province's
# thousands of counties) it shows the cities' totals, each a link to that city's rows — a page of
# 6,000 rows was 9.4 MB (benchmarks/dashboard.py). The API and the Excel export always hold them all.
PAGE_LISTS_ALL = 200


@bp.get("/dashboard")
@login_required
def dashboard_page() -> Any:
    with paused():  # tens of thousands of short-lived containers (dashboard/collector.py)
        return _dashboard_page()


def _dashboard_page() -> Any:
    who = actor()
    authorize(who, "province.dashboard")
    s = db()
    programs = dashboard.programs(s, who)
    program_id = program_id_of(request.args.get("program_id"))
    if program_id is None and programs:
        program_id = programs[0].id
    filters, said = filters_of(request.args)
    found = None
    if program_id is not None:
        today = today_in(runtime().settings.timezone)
        found = dashboard.build(s, who, program_id, filters, today)
    # the tenants are public data, never walled: the option only spares the walls' work
    root = s.get(Tenant, who.tenant_id, execution_options={"all_tenants": True})
    context = {
        "programs": programs,
        "program_id": program_id,
        "found": found,
        "filters": said,
        "charts": chart_data(found) if found is not None else None,
        "cities": cities_of(s, root) if root is not None else [],
        "job": export_job(request.args.get("job")),
        "filters_without_city": {k: v for k, v in said.items() if v and k != "city"},
        "by_city": found is not None and not filters.city and found.totals.tenants > PAGE_LISTS_ALL,
    }
    if is_htmx("jx-dashboard"):
        return render_template("province/_content.html", **context)
    return render_template("province/dashboard.html", **context)
