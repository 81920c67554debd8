"""The public page (结果公开) at /public: no login, no session cookie, cacheable for five minutes;
plain and printable, in its own minimal layout without the application's navigation. Filters: the
tenant (by code) and the project year. It reads only `public.disclosures` (disclosed results)."""

from __future__ import annotations

from typing import Any

from flask import render_template, request

from jixiao.platform.web.context import runtime

from .. import public
from .common import bp

PAGE_SIZE = 50
CACHE = "public, max-age=300"


@bp.get("/public", endpoint="public")
def public_page() -> Any:
    tenant_code = request.args.get("tenant", "").strip()
    year_arg = request.args.get("year", "").strip()
    year = int(year_arg) if year_arg.isdigit() and 2000 <= int(year_arg) <= 2100 else None
    page = request.args.get("page", type=int) or 1
    rt = runtime()
    found = public.disclosures(
        rt.db,
        tenant_code=tenant_code if tenant_code.isdigit() and len(tenant_code) == 6 else None,
        year=year,
        page=page,
        page_size=PAGE_SIZE,
    )
    body = render_template(
        "results/public.html",
        found=found,
        choices=public.filters(rt.db),
        tenant=tenant_code,
        year=year,
    )
    return body, 200, {"Cache-Control": CACHE}
