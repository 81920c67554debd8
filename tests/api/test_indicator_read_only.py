"""Read-only mode on the indicator pages: a city admin who views one of its counties through the
header's switcher (上级只读查看) is offered no write control anywhere in the library — no form that
posts, no link to a create, edit or import page — and the write pages themselves refuse; back in
their own city, the controls are there again."""

from __future__ import annotations

import re
import secrets
from html.parser import HTMLParser
from typing import Any

from tests.api.test_indicators import _create, _indicator, _ok
from tests.api.test_security import _login, _meta_csrf

# The shell's own forms change no data: the tenant switcher and the logout.
SHELL_ACTIONS = ("/switch-tenant", "/logout")
WRITE_PAGE = re.compile(
    r"/indicators/(new|import|\d+/edit|templates/new|templates/\d+/edit|cases/new|cases/\d+/edit)\b"
)


class _Controls(HTMLParser):
    """The enabled controls of the page's forms that post (the shell's aside), and its links."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[bool] = []  # a stack: does the form being read post?
        self.disabled_fieldsets = 0
        self.enabled: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "form":
            posts = (a.get("method") or "get").lower() == "post"
            self.forms.append(posts and not (a.get("action") or "").endswith(SHELL_ACTIONS))
        elif tag == "fieldset" and "disabled" in a:
            self.disabled_fieldsets += 1
        elif tag == "a" and a.get("href"):
            self.links.append(a["href"] or "")
        elif tag in ("button", "input", "select", "textarea") and self.forms and self.forms[-1]:
            hidden = tag == "input" and a.get("type") == "hidden"
            if not hidden and "disabled" not in a and not self.disabled_fieldsets:
                self.enabled.append(f"{tag} {a.get('name') or ''} {a.get('data-testid') or ''}".strip())

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self.forms:
            self.forms.pop()
        elif tag == "fieldset" and self.disabled_fieldsets:
            self.disabled_fieldsets -= 1


def _controls(html: str) -> _Controls:
    parser = _Controls()
    parser.feed(html)
    return parser


def _yc_admin(app: Any) -> tuple[Any, str]:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = f"10.79.{secrets.randbelow(250)}.{secrets.randbelow(250) + 1}"
    assert _login(client, "yc.admin", "Demo@2026").status_code == 302
    return client, _meta_csrf(client)


def _pages(api: Any, unique: str) -> list[str]:
    """The library's pages, each with something yc.admin could change in its own city."""
    yc = api.as_user("yc.admin")
    own = _create(yc, _indicator(f"只读模式市级指标{unique}"))
    template = _ok(
        yc.post(
            "/api/v1/indicator-templates",
            json={"name": f"只读模式模板{unique}", "project_class": "培训", "indicator_ids": [own["id"]]},
        ),
        201,
    )
    county = _create(api.as_user("xq.admin"), _indicator(f"只读模式区级指标{unique}"))
    _ok(
        api.as_user("xq.admin").post(
            f"/api/v1/indicators/{county['id']}/proposals", json={"reason": "全市适用"}
        ),
        201,
    )
    shared = _ok(api.as_user("yc.admin").get("/api/v1/indicators?owner=shared&page_size=1"))["items"][0]
    return [
        "/indicators/",
        f"/indicators/?q=只读模式{unique}",
        f"/indicators/{own['id']}",
        f"/indicators/{county['id']}",
        f"/indicators/{shared['id']}",
        "/indicators/templates",
        f"/indicators/templates/{template['id']}",
        "/indicators/cases",
        "/indicators/proposals",
    ]


def test_viewing_a_county_shows_no_write_control_on_any_indicator_page(app, api, unique):
    pages = _pages(api, unique)
    client, csrf = _yc_admin(app)

    # in their own city: the controls are offered (so the check below can see them)
    own_city = {path: _controls(client.get(path).get_data(as_text=True)) for path in pages}
    assert own_city[pages[2]].enabled, "the own indicator's page offers edit/retire"
    assert any(WRITE_PAGE.search(h) for h in own_city["/indicators/"].links)
    assert any(c.startswith("button decision") for c in own_city["/indicators/proposals"].enabled)

    switched = client.post("/switch-tenant", data={"code": "640104", "csrf_token": csrf})
    assert switched.status_code == 302
    for path in pages:
        resp = client.get(path)
        assert resp.status_code == 200, path
        html = resp.get_data(as_text=True)
        seen = _controls(html)
        assert seen.enabled == [], (path, seen.enabled)
        assert [h for h in seen.links if WRITE_PAGE.search(h)] == [], path
        assert "上传并导入" not in html and "新建指标" not in html, path

    # typing the address of a write page does not get a form either
    for path in ("/indicators/import", "/indicators/new", "/indicators/templates/new"):
        resp = client.get(path)
        assert resp.status_code == 403, path
        html = resp.get_data(as_text=True)
        assert "只读查看" in html and "上传并导入" not in html, path
        assert _controls(html).enabled == [], path

    # back in their own city, writable again
    client.post("/switch-tenant", data={"code": "640100", "csrf_token": csrf})
    assert "上传并导入" in client.get("/indicators/import").get_data(as_text=True)
