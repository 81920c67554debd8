"""横向可对比 (issue 15 item 2) through HTTP: one library indicator's approved targets across
tenants, values normalised where the units allow (万元 → 元), the outlier flagged by the modified
z-score on the MAD with the method and threshold returned, derived indicators counted with their
origin; a city sees its branch, a county gets 403."""

from __future__ import annotations

import html

from tests.api.test_report_pages import browser
from tests.support.seeding import approved_targets, program_with

# (tenant, target value, unit): six values near 100 000 元 — one given in 万元 — and one far off
VALUES = [
    ("640104", "100000", "元"),
    ("640104", "98000", "元"),
    ("640105", "10.5", "万元"),
    ("640105", "101000", "元"),
    ("640106", "99000", "元"),
    ("640121", "103000", "元"),
    ("640202", "900000", "元"),
]


def seed(runtime, program_id: int, unique: str) -> tuple[int, int]:
    """Approved targets (version 1) using one shared indicator — the last through a derived copy."""
    shared, derived = approved_targets(runtime, program_id, unique, VALUES, derived_in="640202")
    assert derived is not None
    return shared, derived


def test_one_indicator_across_tenants_with_its_outlier(api, runtime, unique):
    pid = program_with(api, runtime, unique, ["640104", "640105", "640106", "640121", "640202"])
    shared, derived = seed(runtime, pid, unique)
    got = api.as_user("nx.admin").get(
        f"/api/v1/province/indicator-comparison?indicator_id={shared}&program_id={pid}"
    )
    assert got.status_code == 200, got.get_json()
    body = got.get_json()
    mine = [i for i in body["items"] if i["program_id"] == pid]
    assert len(mine) == 7
    by_value = {i["target_value"]: i for i in mine}
    assert by_value["10.5"]["normalised_value"] == "105000.0" and by_value["10.5"]["normalised_unit"] == "元"
    far = by_value["900000"]
    assert (
        far["outlier"]
        and far["derived"]
        and far["indicator_id"] == derived
        and far["tenant_code"] == "640202"
    )
    assert [i["target_value"] for i in mine if i["outlier"]] == ["900000"]
    assert body["method"]["name"] == "modified_z_score_mad" and body["method"]["threshold"] == "3.5"
    # a stricter threshold: the method is what the caller asked
    loose = (
        api.as_user("nx.admin")
        .get(f"/api/v1/province/indicator-comparison?indicator_id={shared}&program_id={pid}&threshold=9")
        .get_json()
    )
    assert loose["method"]["threshold"].startswith("9")
    # 银川市 sees its branch (no 640202); a county gets 403
    city = (
        api.as_user("yc.admin")
        .get(f"/api/v1/province/indicator-comparison?indicator_id={shared}&program_id={pid}")
        .get_json()
    )
    assert {i["tenant_code"] for i in city["items"] if i["program_id"] == pid} == {
        "640104",
        "640105",
        "640106",
        "640121",
    }
    assert (
        api.as_user("xq.admin")
        .get(f"/api/v1/province/indicator-comparison?indicator_id={shared}&program_id={pid}")
        .status_code
        == 403
    )


def test_the_comparison_page_from_the_indicator(app, api, runtime, unique):
    pid = program_with(api, runtime, unique, ["640104", "640105", "640106", "640121", "640202"])
    shared, _ = seed(runtime, pid, unique)
    nx, _ = browser(app, "nx.admin")
    detail = nx.get(f"/indicators/{shared}")
    assert f"/province/indicators/{shared}/comparison" in detail.get_data(as_text=True)
    page = nx.get(f"/province/indicators/{shared}/comparison?program_id={pid}")
    assert page.status_code == 200
    body = html.unescape(page.get_data(as_text=True))
    assert body.count('data-testid="comparison-row"') == 7
    assert body.count('data-testid="outlier"') == 1 and "修正 Z 分数" in body and "派生" in body
    county, _ = browser(app, "xq.admin")
    assert f"/province/indicators/{shared}/comparison" not in county.get(f"/indicators/{shared}").get_data(
        as_text=True
    )
    assert county.get(f"/province/indicators/{shared}/comparison").status_code == 403
