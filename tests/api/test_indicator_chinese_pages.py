"""Chinese only on the indicator pages: people by their display names (the login name only on
hover), the library's vocabularies by their Chinese labels — never an API code."""

from __future__ import annotations

import re
import secrets
from html.parser import HTMLParser
from typing import Any

from tests.api.test_indicators import _create, _indicator, _ok
from tests.api.test_security import _login

CODES = re.compile(
    r"\b(common|individual|project|department|quantitative|qualitative|range|active|retired|"
    r"pending|accepted|declined|accept|decline|create|update|retire|restore|system)\b|>=|<="
)


class _Text(HTMLParser):
    """The text a reader sees inside the element with one data-testid (titles aside)."""

    def __init__(self, testid: str) -> None:
        super().__init__()
        self.testid = testid
        self.depth = 0
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.depth:
            self.depth += 1
        elif dict(attrs).get("data-testid") == self.testid:
            self.depth = 1

    def handle_endtag(self, tag: str) -> None:
        if self.depth:
            self.depth -= 1

    def handle_data(self, data: str) -> None:
        if self.depth:
            self.parts.append(data)


def _seen(html: str, testid: str) -> str:
    parser = _Text(testid)
    parser.feed(html)
    assert parser.parts, f"no {testid} on the page"
    return " ".join(" ".join(parser.parts).split())


def _page(app: Any, username: str, path: str) -> str:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = f"10.80.{secrets.randbelow(250)}.{secrets.randbelow(250) + 1}"
    assert _login(client, username, "Demo@2026").status_code == 302
    resp = client.get(path)
    assert resp.status_code == 200, (path, resp.status_code)
    html: str = resp.get_data(as_text=True)
    return html


def test_history_and_proposals_name_people_and_states_in_chinese(app, api, unique):
    xq = api.as_user("xq.admin")
    created = _create(
        xq, _indicator(f"区间中文显示{unique}", direction="range", standard_value="80,90", unit="%")
    )
    path = f"/api/v1/indicators/{created['id']}"
    _ok(xq.patch(path, json={"version": created["version"], "standard_value": "85,95"}))
    _ok(xq.post(f"{path}/proposals", json={"reason": "全市适用"}), 201)
    proposal = _ok(api.as_user("yc.admin").get("/api/v1/indicator-proposals?direction=incoming"))
    mine = next(p for p in proposal["items"] if p["indicator"]["id"] == created["id"])
    _ok(
        api.as_user("yc.admin").post(
            f"/api/v1/indicator-proposals/{mine['id']}/decision",
            json={"decision": "decline", "reason": "与市级已有指标重复"},
        )
    )

    detail = _page(app, "xq.admin", f"/indicators/{created['id']}")
    history = _seen(detail, "history")
    assert "兴庆区财政局管理员" in history and "xq.admin" not in history, history
    assert 'title="xq.admin"' in detail  # the login name on hover
    fields = _seen(detail, "fields")
    assert "区间" in fields and "共性" in fields and "定量" in fields, fields
    for text in (history, fields):
        assert not CODES.search(text), CODES.search(text)

    outgoing = _seen(_page(app, "xq.admin", "/indicators/proposals"), "outgoing")
    assert "兴庆区财政局管理员" in outgoing and "银川市财政局管理员" in outgoing, outgoing
    assert "不予采纳" in outgoing
    assert not re.search(r"\w+\.admin", outgoing) and not CODES.search(outgoing), outgoing

    incoming = _seen(_page(app, "yc.admin", "/indicators/proposals"), "incoming")
    assert "兴庆区财政局管理员" in incoming and not re.search(r"\w+\.admin", incoming), incoming
