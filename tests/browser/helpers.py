"""What every browser test checks besides its own flow: problems, CSP reports, inline scripts, screenshots."""

from __future__ import annotations

import re
from typing import Any

from tests.support.browser import ARTIFACTS

# A <script> start tag without a src attribute (an inline script, which the CSP must never need).
INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc\s*=)[^>]*>", re.IGNORECASE)

# Runs in every document before the page's own scripts (injected by the browser, outside the CSP):
# forwards each CSP violation to Python, so a violation fails the test even without a console line.
CSP_REPORTER = """
document.addEventListener("securitypolicyviolation", function (e) {
  window.__jxCspViolation(e.violatedDirective + " blocked " + (e.blockedURI || "inline") + " on " + e.documentURI);
});
"""

FIND_INLINE_HANDLERS = """
() => Array.from(document.querySelectorAll("*")).flatMap(el =>
  Array.from(el.attributes)
    .filter(a => a.name.toLowerCase().startsWith("on"))
    .map(a => el.tagName.toLowerCase() + "[" + a.name + "]"))
"""

# Chromium logs "Failed to load resource: … status of 422 (…)" for a page (document) answered with an
# error status, too; a test that expects such a page says so with `expect_document_status`.
ICON = re.compile(r"/favicon[^/]*$")
FAILED_RESOURCE = re.compile(r"^Failed to load resource: the server responded with a status of (\d{3})\b")


def csp_directives(headers: dict[str, str]) -> dict[str, list[str]]:
    """The Content-Security-Policy header of a response, as {directive: [values]} ({} if none)."""
    directives: dict[str, list[str]] = {}
    for part in headers.get("content-security-policy", "").split(";"):
        if part.strip():
            name, *values = part.split()
            directives[name] = values
    return directives


def watch(page: Any, origin: str) -> list[str]:
    """Collect into a new `page.problems` what tests.support.browser collects — console errors,
    failed requests, static assets >= 400 — plus every CSP violation and every page served without
    `script-src 'self'`, except the error status of a page the test declared with
    `expect_document_status`.

    The tab icon is left to `test_shell.py::test_every_page_has_a_tab_icon`, which checks it
    deterministically: chromium fetches it only now and then, after `load`, and drops the request
    when the test moves on.
    """
    problems: list[str] = []
    documents: set[str] = set()
    page.expected_document_statuses = set()

    def on_request(req: Any) -> None:
        if req.is_navigation_request():
            documents.add(req.url)

    def on_console(msg: Any) -> None:
        if msg.type != "error":
            return
        url = (msg.location or {}).get("url", "")
        failed = FAILED_RESOURCE.match(msg.text)
        if failed and ICON.search(url):
            return
        if failed and url in documents and int(failed.group(1)) in page.expected_document_statuses:
            return
        problems.append(f"console {msg.type}: {msg.text} ({url})")

    def on_request_failed(req: Any) -> None:
        # a request the browser itself cut short (the page navigated on while a script still
        # loaded) is not the app's failure — the same rule as tests/support/browser.py's `page`;
        # an asset's error status is caught in on_response
        if req.failure == "net::ERR_ABORTED":
            return
        problems.append(f"request failed: {req.url} {req.failure}")

    def on_response(resp: Any) -> None:
        if resp.url.startswith(f"{origin}/static/") and resp.status >= 400:
            problems.append(f"{resp.status} {resp.url}")
        page_itself = resp.request.is_navigation_request() and not 300 <= resp.status < 400
        if page_itself and csp_directives(resp.headers).get("script-src") != ["'self'"]:
            problems.append(f"page without CSP script-src 'self': {resp.status} {resp.url}")

    page.on("request", on_request)
    page.on("console", on_console)
    page.on("requestfailed", on_request_failed)
    page.on("response", on_response)
    page.expose_function("__jxCspViolation", lambda text: problems.append(f"csp violation: {text}"))
    page.add_init_script(CSP_REPORTER)
    page.problems = problems
    return problems


def expect_document_status(page: Any, *statuses: int) -> None:
    """This test deliberately gets pages answered with these statuses (401 login, 422 form, 429)."""
    page.expected_document_statuses.update(statuses)


def settle(page: Any) -> None:
    """Let the current page finish loading (deferred scripts included) before the next action:
    leaving earlier would abort its script requests, and the tenant switcher needs app.js."""
    page.wait_for_load_state("load")


def shot(page: Any, name: str) -> None:
    """A full-page screenshot of what the user sees now, into test-artifacts/."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def assert_no_inline_script(page: Any) -> None:
    """The page works under `script-src 'self'`: no inline <script>, no on* handler attributes."""
    html = page.content()
    assert INLINE_SCRIPT.findall(html) == [], f"inline <script> on {page.url}"
    assert page.evaluate(FIND_INLINE_HANDLERS) == [], f"inline event handler on {page.url}"


def signed_in(fresh_page: Any, username: str, password: str = "Demo@2026") -> Any:
    """A new browser context logged in as `username` (confirm dialogs accepted), page settled."""
    from playwright.sync_api import expect

    from tests.support.browser import login

    page = fresh_page()
    page.on("dialog", lambda dialog: dialog.accept())  # the data-confirm questions
    login(page, username, password)
    expect(page.get_by_test_id("who")).to_contain_text(username)
    settle(page)
    return page


def go(page: Any, url: str) -> None:
    """Navigate once the current page has settled, and let the new one settle."""
    settle(page)
    page.goto(url)
    settle(page)
