"""The shell around every page: API docs from local assets, security headers, no inline script."""

from __future__ import annotations

import re
from urllib.parse import urljoin

import pytest
from playwright.sync_api import expect

from .helpers import assert_no_inline_script, csp_directives, expect_document_status, shot

pytestmark = pytest.mark.browser


def test_api_docs_render_swagger_ui_without_leaving_the_server(page, live_server):
    requests: list[str] = []
    page.on("request", lambda req: requests.append(req.url))
    response = page.goto("/api/v1/docs")
    assert response is not None and response.status == 200
    assert csp_directives(response.headers)["script-src"] == ["'self'"]

    operation = page.locator(".opblock-summary-path[data-path='/api/v1/me']")
    expect(operation).to_be_visible(timeout=10_000)
    expect(page.locator(".info .title")).to_contain_text("jixiao 预算绩效一体化管理试点平台 API")
    expect(page.locator(".swagger-ui .errors-wrapper")).to_have_count(0)  # the spec loaded and parsed
    operation.click()  # expanding an operation renders more of the UI (and could load more)
    expect(page.locator(".opblock.is-open").get_by_text("Responses")).to_be_visible()
    page.wait_for_load_state("networkidle")
    assert_no_inline_script(page)

    assert f"{live_server}/api/v1/openapi.json" in requests
    outside = [url for url in requests if not url.startswith(f"{live_server}/")]
    assert outside == []
    assert page.problems == [], "\n".join(page.problems)


def test_security_headers_and_no_inline_script(page, live_server):
    """What the browser gets with the login page. (Every page any browser test opens is also
    checked: `helpers.watch` flags a page served without `script-src 'self'`, and the tests call
    `assert_no_inline_script` on each page they look at.)"""
    response = page.goto("/login")
    assert response is not None and response.status == 200
    headers = response.headers
    assert "content-security-policy" in headers, sorted(headers)
    csp = csp_directives(headers)
    assert csp["script-src"] == ["'self'"]
    assert csp["default-src"] == ["'self'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["object-src"] == ["'none'"]
    assert "'unsafe-inline'" not in headers["content-security-policy"]
    assert "'unsafe-eval'" not in headers["content-security-policy"]
    assert headers.get("x-content-type-options") == "nosniff"
    assert headers.get("x-frame-options") == "DENY"
    assert_no_inline_script(page)
    # the request id is for support calls: on error pages only, never in every footer
    expect(page.locator("footer")).not_to_contain_text("请求编号")

    # an error page is a page too
    expect_document_status(page, 404)
    response = page.goto("/no-such-page")
    assert response is not None and response.status == 404
    assert csp_directives(response.headers)["script-src"] == ["'self'"]
    expect(page.get_by_role("heading", level=1)).to_have_text("404 · 请求的资源不存在")
    expect(page.get_by_test_id("request-id")).to_contain_text(response.headers["x-request-id"])
    assert_no_inline_script(page)
    shot(page, "error-404")
    assert page.problems == [], "\n".join(page.problems)


ICON_URL = """() => {
  const link = document.querySelector('link[rel~="icon"]');
  return link ? link.href : location.origin + "/favicon.ico";
}"""
ICON_LINK = re.compile(r"<link\b[^>]*\brel=\"[^\"]*\bicon\b[^\"]*\"[^>]*\bhref=\"([^\"]+)\"")


def _assert_icon(page, icon: str, where: str) -> None:  # type: ignore[no-untyped-def]
    response = page.request.get(icon)
    assert response.status == 200, f"{where}: tab icon {icon} is {response.status}"
    assert response.headers["content-type"].startswith("image/"), f"{where}: {icon}"


def test_every_page_has_a_tab_icon(page, live_server):
    """The icon a browser shows in the tab exists (else every page logs a 404 for /favicon.ico)."""
    page.goto("/login")  # every page of base.html
    icon = page.evaluate(ICON_URL)
    assert icon.startswith(f"{live_server}/"), icon
    _assert_icon(page, icon, "/login")
    # the API docs have a page of their own (rendered by test_api_docs_…; here only its HTML)
    html = page.request.get("/api/v1/docs").text()
    found = ICON_LINK.search(html)
    _assert_icon(
        page, urljoin(f"{live_server}/api/v1/docs", found.group(1) if found else "/favicon.ico"), "docs"
    )
    assert page.problems == [], "\n".join(page.problems)


@pytest.mark.parametrize("username", ["nx.admin", "yc.admin", "xq.editor"])
def test_the_navbar_fits_a_1366_pixel_screen(fresh_page, username):
    """The longest navigation (the province admin's: 看板, 抽查, 试点报告, 验收, 系统管理 …) stays on one
    line of a common office screen: nothing scrolls sideways, the menu's items open from 系统管理."""
    from .helpers import signed_in

    page = signed_in(fresh_page, username)
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366
    nav = page.get_by_role("navigation")
    tops = nav.locator("#jx-nav > ul > li").evaluate_all("els => els.map(e => e.getBoundingClientRect().top)")
    assert len(set(tops)) == 1, tops  # one row
    if username.endswith(".admin"):
        nav.get_by_test_id("nav-admin").click()
        expect(nav.get_by_role("link", name="用户管理", exact=True)).to_be_visible()
    assert page.problems == [], "\n".join(page.problems)
