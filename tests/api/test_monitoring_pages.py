"""The monitoring pages through HTTP (issue 12 item 8): the rounds list with the next due period's
form, a red line refused with the service's message beside that line (422), the round's page for
the editors and for finance (确认 / 退回, a returned round corrected), corrections issued, answered
and closed from the round's page, the project's list and the inbox, the printable 执行监控表; the
walls — a sibling county 404 on every page and action, the city above reads without buttons and
gets 403 on every action."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests.api.test_monitoring import EXPLAINED, MARCH, SEPTEMBER, approved_project, march_body, post_round
from tests.api.test_project_lifecycle import create_program
from tests.api.test_walls_added_pages import _page

LATER = (date.today() + timedelta(days=30)).isoformat()
ORDER = ["改造小区数量", "项目总成本", "受益居民户数", "居民满意度"]  # the lines' positions


@pytest.fixture()
def program_id(api, unique) -> int:
    return create_program(api, unique, 10)


def round_form(token: str, values: dict, *, period: str, as_of: str, executed: str, **lines: dict) -> dict:
    """The round form as the page posts it (`line-<n>-<field>`, n the line's position from 1)."""
    data = {"csrf_token": token, "period": period, "as_of": as_of, "budget_executed": executed}
    for n, name in enumerate(ORDER, start=1):
        planned, actual = values[name]
        data[f"line-{n}-planned_value"] = planned
        data[f"line-{n}-actual_value"] = actual
        for field, value in lines.get(name, {}).items():
            data[f"line-{n}-{field}"] = value
    return data


def text(resp) -> str:
    return resp.get_data(as_text=True)


def test_a_red_line_is_refused_beside_it_then_the_round_is_reported(app, api, program_id, unique):
    pid, _ = approved_project(api, program_id, unique)
    editor, token = _page(app, "xq.editor")
    page = editor.get(f"/projects/{pid}/monitoring")
    assert page.status_code == 200
    html = text(page)
    assert "填报 2023-03 监控" in html and "data-round-form" in html
    assert 'data-green="90"' in html and 'data-yellow="70"' in html and 'data-lag-red="20"' in html
    assert "受益居民户数" in html and "≥3000 户" in html

    # 375 of 750 planned: red; without reason and measure → 422, the message on that line's fields
    refused = editor.post(
        f"/projects/{pid}/monitoring",
        data=round_form(token, MARCH, period="2023-03", as_of="2023-03-31", executed="300000.00"),
    )
    assert refused.status_code == 422
    html = text(refused)
    assert 'data-testid="line-error-3-reason"' in html and 'data-testid="line-error-3-measure"' in html
    assert "「受益居民户数」为红色预警（完成率 50.00%），须填写偏差原因和纠偏措施" in html
    assert 'value="375"' in html  # what was typed stays
    assert api.as_user("xq.editor").get(f"/api/v1/projects/{pid}/monitoring-rounds").get_json() == []

    # a bad date and a non-number are named too (the API's schema, the service's rules)
    bad = editor.post(
        f"/projects/{pid}/monitoring",
        data=round_form(
            token, MARCH | {"改造小区数量": ("2", "两个")}, period="2023-03", as_of="", executed="-1"
        ),
    )
    assert bad.status_code == 422
    assert 'data-testid="error-as_of"' in text(bad)

    done = editor.post(
        f"/projects/{pid}/monitoring",
        data=round_form(
            token, MARCH, period="2023-03", as_of="2023-03-31", executed="300000.00", 受益居民户数=EXPLAINED
        ),
    )
    assert done.status_code == 302 and done.headers["Location"].endswith(
        f"/projects/{pid}/monitoring/2023-03"
    )
    shown = editor.get(f"/projects/{pid}/monitoring/2023-03")
    assert shown.status_code == 200
    html = text(shown)
    assert "已报送" in html and EXPLAINED["reason"] in html and "按当前进度年末难以完成" in html
    assert 'data-testid="confirm-round"' not in html  # the editor does not confirm
    listed = text(editor.get(f"/projects/{pid}/monitoring"))
    assert 'data-testid="round-row-2023-03"' in listed and "填报 2023-09 监控" in listed
    assert "24.00% / 24.66%" in listed
    # a period already reported or not allowed is not offered
    assert editor.get(f"/projects/{pid}/monitoring/new?period=2023-03").status_code == 302
    assert "填报 2023-09 监控" in text(editor.get(f"/projects/{pid}/monitoring/new?period=2023-09"))
    assert editor.get(f"/projects/{pid}/monitoring/2023-09").status_code == 404

    printed = editor.get(f"/projects/{pid}/monitoring/2023-03/print")
    assert printed.status_code == 200
    html = text(printed)
    assert "项目支出绩效目标执行监控表" in html and "全年预计完成值" in html and "完成目标可能性" in html
    assert "1,216,666.67" in html  # 全年预计执行数


def test_finance_returns_confirms_and_follows_up_a_correction(app, api, program_id, unique):
    pid, ids = approved_project(api, program_id, unique)
    assert post_round(api, pid, march_body(ids)).status_code == 201
    finance, ftoken = _page(app, "xq.admin")
    editor, etoken = _page(app, "xq.editor")
    base = f"/projects/{pid}/monitoring/2023-03"

    html = text(finance.get(base))
    assert 'data-testid="confirm-round"' in html and 'data-testid="issue-form"' in html
    assert 'data-testid="round-form"' not in html

    # 退回 needs an opinion
    refused = finance.post(base + "/return", data={"csrf_token": ftoken, "opinion": " "})
    assert refused.status_code == 422 and "退回须写明意见" in text(refused)
    assert (
        finance.post(
            base + "/return", data={"csrf_token": ftoken, "opinion": "户数偏差原因不具体"}
        ).status_code
        == 302
    )
    html = text(editor.get(base))
    assert "户数偏差原因不具体" in html and 'data-testid="round-form"' in html and "修改后重新报送" in html
    assert 'value="375"' in html  # the returned values, to correct
    corrected = editor.post(
        base,
        data=round_form(
            etoken,
            MARCH | {"受益居民户数": ("750", "600")},
            period="2023-03",
            as_of="2023-03-31",
            executed="300000.00",
            受益居民户数=EXPLAINED,
        ),
    )
    assert corrected.status_code == 302, text(corrected)
    assert "已报送" in text(editor.get(base))

    assert finance.post(base + "/confirm", data={"csrf_token": ftoken}).status_code == 302
    html = text(finance.get(base))
    assert "已确认" in html and 'data-testid="confirm-round"' not in html
    again = finance.post(base + "/confirm", data={"csrf_token": ftoken})
    assert again.status_code == 409 and "已确认" in text(again)

    # a 约谈: every problem named, then issued
    empty = finance.post(
        base + "/corrections", data={"csrf_token": ftoken, "kind": "约谈", "text": "", "deadline": ""}
    )
    assert empty.status_code == 422
    assert 'data-testid="error-text"' in text(empty) and 'data-testid="error-deadline"' in text(empty)
    issued = finance.post(
        base + "/corrections",
        data={"csrf_token": ftoken, "kind": "约谈", "text": "开工率滞后，请说明原因", "deadline": LATER},
    )
    assert issued.status_code == 302 and "#correction-" in issued.headers["Location"]
    cid = int(issued.headers["Location"].rsplit("-", 1)[1])

    inbox = text(editor.get("/corrections"))
    assert f'data-testid="inbox-row-{cid}"' in inbox and "待答复" in inbox
    html = text(editor.get(base))
    assert 'data-testid="reply-form"' in html and f"/evidence/projects/{pid}#ev-h-monitoring" in html
    no_text = editor.post(base + f"/corrections/{cid}/reply", data={"csrf_token": etoken, "text": ""})
    assert no_text.status_code == 422 and "请填写答复内容" in text(no_text)
    replied = editor.post(
        base + f"/corrections/{cid}/reply", data={"csrf_token": etoken, "text": "已约谈施工单位，增派人员"}
    )
    assert replied.status_code == 302
    # finance's inbox: the answered one awaits its follow-up; the filters narrow it (htmx fragment)
    assert f'data-testid="inbox-row-{cid}"' in text(finance.get("/corrections"))
    fragment = finance.get(
        "/corrections?status=closed", headers={"HX-Request": "true", "HX-Target": "jx-corrections"}
    )
    assert fragment.status_code == 200 and f'inbox-row-{cid}"' not in text(fragment)
    assert "<html" not in text(fragment) and fragment.headers["HX-Push-Url"] == "/corrections?status=closed"
    assert finance.post(base + f"/corrections/{cid}/close", data={"csrf_token": ftoken}).status_code == 302
    late = editor.post(base + f"/corrections/{cid}/reply", data={"csrf_token": etoken, "text": "补充"})
    assert late.status_code == 409 and "已关闭" in text(late)
    listed = editor.get(f"/projects/{pid}/monitoring/corrections")
    assert listed.status_code == 200 and f'correction-row-{cid}"' in text(listed) and "已关闭" in text(listed)


def test_the_walls_of_every_page_and_action(app, api, program_id, unique):
    pid, ids = approved_project(api, program_id, unique)
    assert post_round(api, pid, march_body(ids)).status_code == 201
    finance, ftoken = _page(app, "xq.admin")
    issued = finance.post(
        f"/projects/{pid}/monitoring/2023-03/corrections",
        data={"csrf_token": ftoken, "kind": "发函", "text": "请报送整改计划", "deadline": LATER},
    )
    cid = int(issued.headers["Location"].rsplit("-", 1)[1])
    base = f"/projects/{pid}/monitoring"
    pages = [
        base,
        base + "/2023-03",
        base + "/2023-03/print",
        base + "/corrections",
        base + "/new?period=2023-09",
    ]
    september = round_form(
        "", SEPTEMBER, period="2023-09", as_of="2023-09-30", executed="850000.00", 受益居民户数=EXPLAINED
    )
    actions = {
        base: september,
        base + "/2023-03": september | {"period": "2023-03"},
        base + "/2023-03/confirm": {},
        base + "/2023-03/return": {"opinion": "退回"},
        base + "/2023-03/corrections": {"kind": "纠偏", "text": "请整改", "deadline": LATER},
        base + f"/2023-03/corrections/{cid}/reply": {"text": "答复"},
        base + f"/2023-03/corrections/{cid}/again": {"text": "再次", "deadline": LATER},
        base + f"/2023-03/corrections/{cid}/close": {},
        base + f"/2023-03/corrections/{cid}/adjustment": {
            "reason": "其他",
            "explanation": "监控发现需要调整目标值",
        },
    }

    sibling, stoken = _page(app, "xx.admin")
    for url in pages:
        assert sibling.get(url).status_code == 404, url
    for url, data in actions.items():
        assert sibling.post(url, data={**data, "csrf_token": stoken}).status_code == 404, url
    assert f"inbox-row-{cid}" not in text(sibling.get("/corrections"))

    city, ctoken = _page(app, "yc.admin")
    for url in pages[:4]:
        resp = city.get(url)
        assert resp.status_code == 200, url
        html = text(resp)
        for button in ("round-form", "confirm-round", "issue-form", "reply-form", "close-correction"):
            assert f'data-testid="{button}"' not in html, (url, button)
    assert f"inbox-row-{cid}" in text(city.get("/corrections"))
    for url, data in actions.items():
        if url == base + "/2023-03":
            continue  # correcting needs a returned round: 409 before the wall's 403 (below)
        assert city.post(url, data={**data, "csrf_token": ctoken}).status_code == 403, url
    # nothing was written
    found = api.as_user("xq.editor").get(f"/api/v1/projects/{pid}/monitoring-rounds").get_json()
    assert [(r["period"], r["status"]) for r in found] == [("2023-03", "reported")]
    thread = api.as_user("xq.editor").get(f"/api/v1/projects/{pid}/corrections").get_json()
    assert [len(c["entries"]) for c in thread] == [1]
