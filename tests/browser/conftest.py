"""Browser fixtures on top of tests.support.browser: stricter problem collection, a second browser."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.support.browser import ARTIFACTS

from .helpers import watch


@pytest.fixture()
def page(page: Any, live_server: str) -> Any:
    """The support `page` (screenshot at teardown), its `problems` collected by `helpers.watch`."""
    watch(page, live_server)
    return page


@pytest.fixture()
def fresh_page(
    chromium: Any, live_server: str, request: pytest.FixtureRequest
) -> Iterator[Callable[[], Any]]:
    """Factory of pages in new browser contexts (no shared cookies), watched like `page`."""
    contexts: list[Any] = []

    def make() -> Any:
        context = chromium.new_context(
            base_url=live_server, locale="zh-CN", viewport={"width": 1366, "height": 900}
        )
        contexts.append(context)
        pg = context.new_page()
        watch(pg, live_server)
        return pg

    yield make
    ARTIFACTS.mkdir(exist_ok=True)
    for i, context in enumerate(contexts):
        for pg in context.pages:
            with contextlib.suppress(Exception):  # a screenshot is a courtesy
                pg.screenshot(path=str(ARTIFACTS / f"{request.node.name}-other{i}.png"), full_page=True)
        context.close()
