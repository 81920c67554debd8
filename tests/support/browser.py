"""Browser tests: the app served on a loopback port, driven by Debian's chromium via Playwright.

Never `playwright install`: the browser is /usr/bin/chromium (apt). With CI=true a missing
chromium fails the run; elsewhere browser tests are skipped with the reason.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

CHROMIUM = os.environ.get("JIXIAO_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
# How long an `expect(…)` waits for the page (Playwright's default is 5 s): `make test` runs its two
# passes side by side, each with a browser, and a page can take longer than 5 s under that load.
EXPECT_TIMEOUT_MS = 15_000


@pytest.fixture(scope="session")
def live_server(app: Any) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        message = f"chromium not found at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("CI", "").strip().lower() == "true":
            pytest.fail(message + " — CI=true requires it", pytrace=False)
        pytest.skip(message)
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=EXPECT_TIMEOUT_MS)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture()
def page(chromium: Any, live_server: str, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh browser context per test; console errors and failed requests fail the test."""
    context = chromium.new_context(
        base_url=live_server, locale="zh-CN", viewport={"width": 1366, "height": 900}
    )
    pg = context.new_page()
    problems: list[str] = []
    pg.on(
        "console",
        lambda msg: problems.append(f"console {msg.type}: {msg.text}") if msg.type == "error" else None,
    )
    # A request the browser itself cut short (net::ERR_ABORTED: the page navigated on, a form was
    # submitted while a script still loaded) is not a failure of the app's; a refused or failing
    # one is (and an asset's error status is caught below).
    pg.on(
        "requestfailed",
        lambda req: (
            None
            if (req.failure or "").endswith("net::ERR_ABORTED")
            else problems.append(f"request failed: {req.url} {req.failure}")
        ),
    )
    pg.on(
        "response",
        lambda resp: (
            problems.append(f"{resp.status} {resp.url}")
            if resp.url.startswith(live_server + "/static/") and resp.status >= 400
            else None
        ),
    )
    pg.problems = problems  # type: ignore[attr-defined]
    try:
        yield pg
    finally:
        ARTIFACTS.mkdir(exist_ok=True)
        with contextlib.suppress(Exception):  # a screenshot is a courtesy
            pg.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
        context.close()


def login(page: Any, username: str, password: str = "Demo@2026") -> None:
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")
