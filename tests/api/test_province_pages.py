"""The province dashboard page through HTTP (issue 15 item 1): the province sees every participant
grouped by city, each project with its stage, overdue stage, grade and report state, and the four
charts' data; a city sees its branch; a county gets 403; the filters (bookmarkable GET, or the htmx
swap of the content) narrow the table; a program out of sight is 404."""

from __future__ import annotations

import html
import json
import re
from typing import Any

import pytest

from tests.api.test_report_pages import browser
from tests.api.test_results import approved_self_evaluation
from tests.support.seeding import add_projects, program_with

CODES = ["640104", "640105", "640100", "640200"]


def text(resp: Any) -> str:
    return html.unescape(resp.get_data(as_text=True))


def tenants_in(page: str) -> set[str]:
    return set(re.findall(r'data-testid="tenant-(\d{6})"', page))


def projects_in(page: str) -> set[int]:
    return {int(n) for n in re.findall(r'data-project="(\d+)"', page)}


def row_of(page: str, project_id: int) -> str:
    start = page.index(f'data-project="{project_id}"')
    return page[start : page.index("</tr>", start)]


@pytest.fixture()
def pilot(api, runtime, unique) -> dict[str, Any]:
    """兴庆区 through an approved self-evaluation (优), 西夏区 with a project late at 事前评估."""
    pid = program_with(api, runtime, unique, CODES)
    graded = approved_self_evaluation(api, pid, unique)
    add_projects(runtime, pid, ["640105"], unique)
    body = api.as_user("nx.admin").get(f"/api/v1/province/dashboard?program_id={pid}").get_json()
    late = next(p["id"] for t in body["tenants"] if t["code"] == "640105" for p in t["projects"])
    return {"program": pid, "graded": graded, "late": late}


def test_the_province_sees_every_participant_grouped_by_city(app, pilot):
    nx, _ = browser(app, "nx.admin")
    got = nx.get(f"/province/dashboard?program_id={pilot['program']}")
    assert got.status_code == 200
    page = text(got)
    assert "汇总看板" in page and "参与地区" in page and "自评等级分布" in page
    assert tenants_in(page) == set(CODES)
    assert 'data-testid="city-640100"' in page and 'data-testid="city-640200"' in page
    assert re.search(r'data-testid="sum-tenants">4<', page) and re.search(
        r'data-testid="sum-overdue">1<', page
    )
    graded = row_of(page, pilot["graded"])
    assert f'href="/projects/{pilot["graded"]}"' in graded
    assert re.search(r'data-testid="grade">优<', graded) and "92.00%" in graded
    late = row_of(page, pilot["late"])
    assert "事前评估逾期" in late and 'data-testid="overdue"' in late
    assert 'data-testid="report-640104"' in page and "未生成" in page
    # the charts' data: the funnel counts both projects at 事前评估, the grades one 优 self-evaluation
    raw = re.search(r'data-charts="([^"]*)"', got.get_data(as_text=True))
    assert raw is not None
    charts = json.loads(html.unescape(raw.group(1)))
    assert charts["funnel"][0] == {"name": "事前评估", "value": 2}
    assert charts["grades"]["self"] == [1, 0, 0, 0]
    assert charts["warnings"]["cities"] == ["银川市", "石嘴山市"]
    assert sum(charts["warnings"]["green"] + charts["warnings"]["yellow"] + charts["warnings"]["red"]) == 4
    assert charts["execution"]["rate"][0] is not None and charts["execution"]["rate"][1] is None
    # no inline script under the CSP
    assert not re.search(r"<script\b(?![^>]*\bsrc=)", got.get_data(as_text=True))


def test_a_city_sees_its_branch_and_a_county_is_refused(app, pilot):
    yc, _ = browser(app, "yc.admin")
    page = text(yc.get(f"/province/dashboard?program_id={pilot['program']}"))
    assert tenants_in(page) == {"640100", "640104", "640105"}
    assert "全市" in page and 'value="640200"' not in page
    xq, _ = browser(app, "xq.admin")
    refused = xq.get(f"/province/dashboard?program_id={pilot['program']}")
    assert refused.status_code == 403
    assert "汇总看板供省级和市级查看" in text(refused)


def test_filters_narrow_the_table(app, pilot):
    nx, _ = browser(app, "nx.admin")
    base = f"/province/dashboard?program_id={pilot['program']}"
    late = text(nx.get(base + "&overdue=1"))
    assert projects_in(late) == {pilot["late"]} and tenants_in(late) == {"640105"}
    assert 'data-testid="filtered"' in late and re.search(r'<option value="1" selected>仅逾期', late)
    on_time = text(nx.get(base + "&overdue=0"))
    assert projects_in(on_time) == {pilot["graded"]}
    graded = text(nx.get(base + "&grade=优"))
    assert projects_in(graded) == {pilot["graded"]}
    warned = text(nx.get(base + "&warning=red"))
    assert pilot["late"] not in projects_in(warned)
    city = text(nx.get(base + "&city=640200"))
    assert tenants_in(city) == {"640200"} and projects_in(city) == set()
    nothing = text(nx.get(base + "&stage=done"))
    assert 'data-testid="no-rows"' in nothing
    # a value the dashboard does not know is ignored, not an error page
    odd = nx.get(base + "&warning=purple&stage=x&overdue=maybe")
    assert odd.status_code == 200 and tenants_in(text(odd)) == set(CODES)
    # the htmx swap answers only the content
    swapped = nx.get(base + "&overdue=1", headers={"HX-Request": "true", "HX-Target": "jx-dashboard"})
    part = text(swapped)
    assert part.lstrip().startswith("{#") is False and 'id="jx-dashboard"' in part
    assert "<nav" not in part and projects_in(part) == {pilot["late"]}


def test_a_program_out_of_sight_is_404(app, api, runtime, unique):
    other = program_with(api, runtime, unique + "石", ["640200"])
    yc, _ = browser(app, "yc.admin")
    assert yc.get(f"/province/dashboard?program_id={other}").status_code == 404


def test_above_the_threshold_the_page_shows_the_cities_and_drills_down(app, pilot, monkeypatch):
    from jixiao.services.province.views import dashboard as page

    monkeypatch.setattr(page, "PAGE_LISTS_ALL", 3)  # 4 participants: above it
    nx, _ = browser(app, "nx.admin")
    whole = text(nx.get(f"/province/dashboard?program_id={pilot['program']}"))
    # the cities' totals, no tenant's rows, a link down into each city
    assert tenants_in(whole) == set() and projects_in(whole) == set()
    assert 'data-testid="city-total-640100"' in whole and 'data-testid="by-city-note"' in whole
    assert re.search(r'data-testid="sum-tenants">4<', whole)
    drill = re.search(r'href="([^"]+)" data-testid="drill-640100"', whole)
    assert drill is not None and "city=640100" in drill.group(1)
    city = text(nx.get(html.unescape(drill.group(1))))
    assert tenants_in(city) == {"640100", "640104", "640105"}
    assert 'data-testid="by-city-note"' not in city

    # the link down keeps the other filters: only 西夏区's late project
    monkeypatch.setattr(page, "PAGE_LISTS_ALL", 0)
    late = text(nx.get(f"/province/dashboard?program_id={pilot['program']}&overdue=1"))
    assert projects_in(late) == set()
    drill = re.search(r'href="([^"]+)" data-testid="drill-640100"', late)
    assert drill is not None and "overdue=1" in drill.group(1)
    assert projects_in(text(nx.get(html.unescape(drill.group(1))))) == {pilot["late"]}
