"""The header's tenant switcher (上级只读查看): all tenants in reach in a small province; in a
big one (thousands of counties) the way down — the own tenant, the viewed one with those above it,
and those right below it — so that no page carries thousands of options."""

from __future__ import annotations

import re

from jixiao.platform.web.views import home
from tests.api.test_security import _login, _meta_csrf

OPTION = re.compile(r'<option value="(\d+)"')


def _options(client) -> list[str]:  # type: ignore[no-untyped-def]
    html = client.get("/").get_data(as_text=True)
    select = html[html.index('id="jx-tenant-switch"') :]
    return OPTION.findall(select[: select.index("</select>")])


def test_the_switcher_lists_every_tenant_in_reach_of_a_small_province(app):
    client = app.test_client()
    _login(client, "nx.admin", "Demo@2026")
    codes = _options(client)
    assert "640000" in codes and "640100" in codes and "640104" in codes  # 兴庆区, a county
    assert len(codes) >= 27  # the demo's, and any a test added


def test_above_the_threshold_the_switcher_lists_the_way_down(app, monkeypatch):
    monkeypatch.setattr(home, "SWITCHER_LISTS_ALL", 10)
    client = app.test_client()
    _login(client, "nx.admin", "Demo@2026")
    codes = _options(client)
    # the province and its cities, no county
    assert codes[0] == "640000"
    assert {"640100", "640200", "640300", "640400", "640500"} <= set(codes)
    assert not {"640104", "640205", "640302"} & set(codes)

    csrf = _meta_csrf(client)
    assert client.post("/switch-tenant", data={"code": "640100", "csrf_token": csrf}).status_code == 302
    codes = _options(client)
    # viewing 银川市: the province, the city, and the city's counties — not another city's
    assert codes[:2] == ["640000", "640100"]
    assert {"640104", "640105", "640106", "640121", "640122", "640181"} <= set(codes)
    assert "640200" not in codes and "640205" not in codes

    assert client.post("/switch-tenant", data={"code": "640104", "csrf_token": csrf}).status_code == 302
    assert _options(client) == ["640000", "640100", "640104"]
