"""Every problem of a form at once (FORMS.md, the newcomer's first hour): the first refusal of an
indicator, template or case — through the API or on the page — names every bad field, and the
pages show each message beside its field, in Chinese, with 请选择… in the empty selects."""

from __future__ import annotations

import re
import secrets
from typing import Any

from tests.api.test_indicators import _create, _indicator, _ok
from tests.api.test_security import _login, _meta_csrf

CODES = re.compile(r">=|<=|\brange\b|\bcommon\b|\bindividual\b|\bquantitative\b|\bproject\b")


def _errors(resp: Any) -> dict[str, Any]:
    assert resp.status_code == 422, (resp.status_code, resp.get_json())
    errors: dict[str, Any] = resp.get_json()["errors"]
    return errors.get("json", errors)


def _page_client(app: Any, username: str) -> tuple[Any, str]:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = f"10.78.{secrets.randbelow(250)}.{secrets.randbelow(250) + 1}"
    assert _login(client, username, "Demo@2026").status_code == 302
    return client, _meta_csrf(client)


def _beside(html: str, field: str) -> str:
    """The message shown under one field of the page (empty when there is none)."""
    match = re.search(rf'data-testid="error-{field}">([^<]*)<', html)
    return match.group(1) if match else ""


# --- the API ------------------------------------------------------------------------------------


def test_api_create_names_a_wrongly_typed_field_and_every_other_problem_at_once(api):
    xq = api.as_user("xq.admin")
    body = {
        "name": "",
        "level2": 5,  # not a string: refused before the service, with the rest
        "kind": "common",
        "scope": "project",
        "value_type": "quantitative",
        "direction": "sideways",
        "unit": "",
        "value_basis": "计划标准",
    }
    errors = _errors(xq.post("/api/v1/indicators", json=body))
    assert set(errors) >= {"name", "level2", "direction", "unit"}, errors
    assert errors["name"] == ["指标名称不能为空"]
    assert errors["unit"] == ["定量指标须填写计量单位"]


def test_api_template_refusal_names_every_missing_field(api):
    nx = api.as_user("nx.admin")
    errors = _errors(nx.post("/api/v1/indicator-templates", json={"name": "  "}))
    assert errors == {
        "name": ["模板名称不能为空"],
        "project_class": ["请填写适用的项目类别"],
        "indicator_ids": ["模板至少包含一个指标"],
    }


def test_api_case_refusal_names_the_missing_title_and_the_unknown_indicator(api):
    nx = api.as_user("nx.admin")
    errors = _errors(nx.post("/api/v1/cases", json={"indicator_ids": [987654321]}))
    assert errors == {"title": ["案例标题不能为空"], "indicator_ids": ["指标 987654321 不存在"]}


# --- the pages ----------------------------------------------------------------------------------

BAD_FORM = {
    "name": "",
    "level2": "",
    "kind": "common",
    "scope": "project",
    "value_type": "quantitative",
    "direction": "sideways",
    "unit": "",
    "standard_value": "九十",
    "value_basis": "计划标准",
    "hist_year": ["20x4"],
    "hist_value": ["88"],
}


def _assert_every_problem_beside_its_field(html: str) -> None:
    assert _beside(html, "name") == "指标名称不能为空"
    assert _beside(html, "level2") == "请选择二级指标"
    assert _beside(html, "direction") == "请选择指标方向"
    assert _beside(html, "unit") == "定量指标须填写计量单位"
    assert "不是数字" in _beside(html, "standard_value")
    assert "四位年份" in _beside(html, "historical_values")
    assert "共 6 处" in html
    shown = " ".join(re.findall(r'data-testid="error-[a-z_]+">([^<]*)<', html))
    assert not CODES.search(shown), shown


def test_new_indicator_page_shows_every_problem_beside_its_field_in_chinese(app):
    client, csrf = _page_client(app, "xq.admin")
    resp = client.post("/indicators/new", data={**BAD_FORM, "csrf_token": csrf})
    assert resp.status_code == 422
    _assert_every_problem_beside_its_field(resp.get_data(as_text=True))


def test_edit_indicator_page_shows_every_problem_at_once(app, api, unique):
    created = _create(api.as_user("xq.admin"), _indicator(f"表单全部问题{unique}"))
    client, csrf = _page_client(app, "xq.admin")
    form = {**BAD_FORM, "version": str(created["version"]), "csrf_token": csrf}
    resp = client.post(f"/indicators/{created['id']}/edit", data=form)
    assert resp.status_code == 422
    _assert_every_problem_beside_its_field(resp.get_data(as_text=True))
    # nothing was saved
    shown = _ok(api.as_user("xq.admin").get(f"/api/v1/indicators/{created['id']}"))
    assert shown["name"] == created["name"] and shown["version"] == created["version"]


def test_every_select_of_the_indicator_form_offers_a_chinese_placeholder(app):
    client, _ = _page_client(app, "xq.admin")
    html = client.get("/indicators/new").get_data(as_text=True)
    selects = re.findall(r"<select\b[^>]*\bname=\"(\w+)\"[^>]*>\s*<option value=\"\">([^<]*)</option>", html)
    assert {name for name, _ in selects} == {
        "level2",
        "kind",
        "scope",
        "value_type",
        "direction",
        "value_basis",
    }, selects
    assert all(text == "请选择…" for _, text in selects), selects
