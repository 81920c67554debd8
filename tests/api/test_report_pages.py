"""The pilot report pages through HTTP (issue 14): a county generates its report from the list (the
job's bar, then the PDF in the page, streamed inline and framable only by the app), is refused
报送 with the service's reason while a project's self-evaluation is pending, and its neighbour
gets 404 on every page of it; the city reads it and gives its 初审意见 on the page; the province's
workbench lists it, the checklist form keeps what was typed and names the item on a 422, returns
then passes; a case is published from the accepted report into the library; the 专报 page generates
and offers both files; a county gets 403 on the workbench and the 专报 page."""

from __future__ import annotations

import html
import re
import secrets
from typing import Any

import pytest

from jixiao.services.reports.models import PilotReport
from tests.api.test_done_when_reports import CHECKLIST, generate
from tests.api.test_project_lifecycle import create_program, new_project
from tests.api.test_results import approved_self_evaluation
from tests.api.test_security import _login, _meta_csrf


def browser(app: Any, username: str) -> tuple[Any, str]:
    """A signed-in page client and its CSRF token."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = f"10.78.{secrets.randbelow(250)}.{secrets.randbelow(250) + 1}"
    assert _login(client, username, "Demo@2026").status_code == 302
    return client, _meta_csrf(client)


def text(resp: Any) -> str:
    return html.unescape(resp.get_data(as_text=True))


def scores(**given: str) -> dict[str, str]:
    """The checklist form as the page posts it: 80 % of each maximum unless given by position."""
    data = {}
    for n, (item, top) in enumerate(CHECKLIST.items(), start=1):
        data[f"score-{n}"] = given.get(f"s{n}", str(top * 0.8))
        data[f"comment-{n}"] = f"{item}评分说明"
    return data


@pytest.fixture()
def program_id(api, unique) -> int:
    return create_program(api, unique, 10)


def test_generate_preview_and_refused_submission(app, api, runtime, program_id, unique):
    approved_self_evaluation(api, program_id, unique, "xq")
    pending = new_project(api, program_id, unique + "待评", tenant="xq")["name"]
    admin, token = browser(app, "xq.admin")

    listed = admin.get(f"/reports?program_id={program_id}")
    assert listed.status_code == 200
    assert f'data-testid="generate-{program_id}"' in text(listed)

    started = admin.post("/reports/generate", data={"csrf_token": token, "program_id": str(program_id)})
    assert started.status_code == 302
    found = re.search(r"/reports/(\d+)\?job=([\w-]+)", started.headers["Location"])
    assert found, started.headers["Location"]
    report_id, job_id = int(found.group(1)), found.group(2)
    bar = admin.get(f"/reports/{report_id}/jobs/{job_id}")
    assert bar.status_code == 200 and 'data-testid="job"' in text(bar)
    assert api.as_user("xq.admin").wait_job(job_id, timeout=180)["status"] == "finished"

    page = text(admin.get(started.headers["Location"]))
    assert 'data-status="finished"' in page and "第 1 版已生成" in page
    assert f'src="/reports/{report_id}/versions/1/preview"' in page
    assert 'data-testid="version-1"' in page and 'data-testid="submit-report"' in page
    assert f"/api/v1/pilot-reports/{report_id}/versions/1/files/docx" in page
    pdf = admin.get(f"/reports/{report_id}/versions/1/preview")
    assert pdf.status_code == 200 and pdf.data[:5] == b"%PDF-"
    assert pdf.headers["Content-Disposition"].startswith("inline")
    assert "frame-ancestors 'self'" in pdf.headers["Content-Security-Policy"]
    assert admin.get(f"/reports/{report_id}/versions/9/preview").status_code == 404
    # the report is made: the list no longer offers 生成 for that program, and shows the report
    listed = text(admin.get(f"/reports?program_id={program_id}"))
    assert f'data-testid="generate-{program_id}"' not in listed and f"report-row-{report_id}" in listed

    # 报送 refused: the service's reason, naming the pending project, in an alert (409)
    refused = admin.post(f"/reports/{report_id}/submit", data={"csrf_token": token})
    assert refused.status_code == 409
    shown = text(refused)
    assert 'data-testid="problem"' in shown and "自评尚未审核通过" in shown and pending in shown

    # walls: a neighbour county 404 everywhere; the city and the province read without 报送
    other, _ = browser(app, "xx.admin")
    for path in (f"/reports/{report_id}", f"/reports/{report_id}/versions/1/preview"):
        assert other.get(path).status_code == 404, path
    assert f"report-row-{report_id}" not in text(other.get(f"/reports?program_id={program_id}"))
    for who in ("yc.admin", "nx.admin"):
        client, _ = browser(app, who)
        seen = client.get(f"/reports/{report_id}")
        assert seen.status_code == 200, who
        assert 'data-testid="report-preview"' in text(seen)
        assert 'data-testid="submit-report"' not in text(seen)
        assert f"report-row-{report_id}" in text(client.get(f"/reports?program_id={program_id}"))
    # a generation that failed: its reason on the page
    with runtime.db.transaction(system="test: a failed generation") as session:
        session.get(PilotReport, report_id).last_error = f"生成报告失败：对象存储不可用{unique}"
    failed = text(admin.get(f"/reports/{report_id}"))
    assert re.search(r'data-testid="last-error">.*对象存储不可用' + unique, failed)

    editor, editor_token = browser(app, "xq.editor")
    assert editor.get(f"/reports/{report_id}").status_code == 200
    assert 'data-testid="submit-report"' not in text(editor.get(f"/reports/{report_id}"))
    assert editor.post(f"/reports/{report_id}/submit", data={"csrf_token": editor_token}).status_code == 403


def test_opinion_workbench_acceptance_and_case(app, api, program_id, unique):
    pid = approved_self_evaluation(api, program_id, unique, "xx")
    report = generate(api, "xx.admin", program_id)
    rid = report["id"]
    county, county_token = browser(app, "xx.admin")
    assert county.post(f"/reports/{rid}/submit", data={"csrf_token": county_token}).status_code == 302
    assert "已报送" in text(county.get(f"/reports/{rid}"))
    # a county never reaches the workbench nor the 专报 page; nor the accept form
    for path in ("/reports/acceptance", "/reports/briefing", f"/reports/{rid}/accept"):
        assert county.get(path).status_code == 403, path
    assert (
        county.post(
            f"/reports/{rid}/accept", data={"csrf_token": county_token, **scores(), "outcome": "pass"}
        )
    ).status_code == 403

    # the city above: the opinion form while submitted, once; no acceptance
    city, city_token = browser(app, "yc.admin")
    assert 'data-testid="opinion-form"' in text(city.get(f"/reports/{rid}"))
    assert city.get("/reports/acceptance").status_code == 403
    given = city.post(
        f"/reports/{rid}/opinions", data={"csrf_token": city_token, "text": f"初审意见{unique}：内容完整"}
    )
    assert given.status_code == 302
    shown = text(city.get(f"/reports/{rid}"))
    assert f"初审意见{unique}" in shown and 'data-testid="opinion-form"' not in shown

    # the province's workbench: 待验收 lists it; the form shows the checklist and the city's opinion
    nx, nx_token = browser(app, "nx.admin")
    bench = text(nx.get(f"/reports/acceptance?program_id={program_id}"))
    assert f'data-testid="accept-{rid}"' in bench
    form = text(nx.get(f"/reports/{rid}/accept"))
    assert all(item in form for item in CHECKLIST) and f"初审意见{unique}" in form
    assert f'src="/reports/{rid}/versions/1/preview"' in form and 'x-data="acceptanceChecklist"' in form

    # a score above its maximum: 422, the problem beside the item, what was typed kept
    above = nx.post(
        f"/reports/{rid}/accept", data={"csrf_token": nx_token, **scores(s1="16"), "outcome": "pass"}
    )
    assert above.status_code == 422
    shown = text(above)
    beside = re.search(r'data-testid="error-item\.1">([^<]*)<', shown)
    assert beside and "事前绩效评估" in beside.group(1) and "15" in beside.group(1)
    assert 'value="16"' in shown
    # a blank score: named beside its item; a return without an opinion: beside the opinion
    blank = text(
        nx.post(f"/reports/{rid}/accept", data={"csrf_token": nx_token, **scores(s6=""), "outcome": "pass"})
    )
    assert re.search(r'data-testid="error-item\.6">[^<]*资料完整性', blank)
    silent = text(
        nx.post(f"/reports/{rid}/accept", data={"csrf_token": nx_token, **scores(), "outcome": "return"})
    )
    assert 'data-testid="error-opinion"' in silent and "退回须填写验收意见" in silent

    # round 1: returned; the county's page shows the round with its checklist and the opinion
    low = {f"s{n}": "5" for n in range(1, 7)}
    returned = nx.post(
        f"/reports/{rid}/accept",
        data={"csrf_token": nx_token, **scores(**low), "outcome": "return", "opinion": f"请补充{unique}"},
    )
    assert returned.status_code == 302
    page = text(county.get(f"/reports/{rid}"))
    assert 'data-testid="round-1"' in page and f"请补充{unique}" in page and "30.00" in page
    assert 'data-testid="returned-note"' in page
    # accepting again is 409 with the reason
    again = nx.get(f"/reports/{rid}/accept")
    assert again.status_code == 409 and "报送后方可验收" in text(again)
    assert f'data-testid="workbench-row-{rid}"' in text(
        nx.get(f"/reports/acceptance?tab=returned&program_id={program_id}")
    )

    # version 2 submitted (through the API), passed on the page
    generate(api, "xx.admin", program_id)
    assert api.as_user("xx.admin").post(f"/api/v1/pilot-reports/{rid}/submit").status_code == 200
    passed = nx.post(
        f"/reports/{rid}/accept",
        data={"csrf_token": nx_token, **scores(), "outcome": "pass", "opinion": "同意"},
    )
    assert passed.status_code == 302
    page = text(nx.get(f"/reports/{rid}"))
    assert "已通过验收" in page and 'data-testid="round-2"' in page and "80.00" in page
    assert 'data-testid="reviews-of-1"' in page and 'data-testid="reviews-of-2"' in page

    # 发布为规范管理蓝本: the province only; then the link to the case in the library
    assert 'data-testid="publish-case"' not in text(county.get(f"/reports/{rid}"))
    title = f"蓝本{unique}"
    published = nx.post(
        f"/reports/{rid}/cases", data={"csrf_token": nx_token, "project_id": str(pid), "title": title}
    )
    assert published.status_code == 302
    page = text(nx.get(f"/reports/{rid}"))
    case = re.search(r'href="/indicators/cases/(\d+)" data-testid="case-link">' + title, page)
    assert case, "the published case is linked"
    assert title in text(nx.get(f"/indicators/cases/{case.group(1)}"))
    assert (
        nx.post(
            f"/reports/{rid}/cases", data={"csrf_token": nx_token, "project_id": "999999", "title": "x"}
        ).status_code
        == 404
    )


def test_briefing_page(app, api, program_id):
    province, token = browser(app, "nx.admin")
    page = province.get(f"/reports/briefing?program_id={program_id}")
    assert page.status_code == 200 and 'data-testid="briefing-form"' in text(page)
    started = province.post("/reports/briefing", data={"csrf_token": token, "program_id": str(program_id)})
    assert started.status_code == 302
    job_id = re.search(r"job=([\w-]+)", started.headers["Location"]).group(1)
    assert api.as_user("nx.admin").wait_job(job_id, timeout=180)["status"] == "finished"
    shown = text(province.get(started.headers["Location"]))
    assert 'data-testid="briefing-ready"' in shown
    pdf = f"/api/v1/programs/{program_id}/briefings/{job_id}/files/pdf"
    assert pdf in shown and province.get(pdf).status_code in (200, 302)
    # another user's job id shows no bar; a city reads the page
    city, _ = browser(app, "yc.admin")
    assert city.get(f"/reports/briefing?program_id={program_id}").status_code == 200
    assert 'data-testid="job"' not in text(
        city.get(f"/reports/briefing?program_id={program_id}&job={job_id}")
    )
    assert city.get(f"/reports/briefing/{program_id}/jobs/{job_id}").status_code == 404
