"""The self-evaluation pages through HTTP (issue 12 item 8): the form shows the worked example's
score and every point; the live preview scores what is typed and saves nothing; a refused form comes
back as typed naming the line (422); before monitoring completes each page says why (409); the
review page takes 初审 and 复核, shows a return's reasons to the editors and the resubmission's diff
to the reviewer; the printable 自评表; the walls (a sibling 404 everywhere, the city above reads
without buttons and is refused on every write, the submitter never reviews their own)."""

from __future__ import annotations

import html
import re
import secrets

import pytest

from tests.api.test_project_lifecycle import create_program, new_project, through_assessment
from tests.api.test_security import _login, _meta_csrf
from tests.api.test_self_evaluation import WORKED, approved_targets, body, finish_monitoring


@pytest.fixture()
def targets(api, unique) -> tuple[int, list[int]]:
    """A 兴庆区 project with the worked example's targets approved (monitoring not yet complete)."""
    pid = new_project(api, create_program(api, unique, 10), unique)["id"]
    through_assessment(api, pid)
    return pid, approved_targets(api, pid)


@pytest.fixture()
def opened(api, targets) -> tuple[int, list[int]]:
    finish_monitoring(api, targets[0])
    return targets


def browser(app, username: str):
    """A signed-in page client and its CSRF token."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = f"10.77.{secrets.randbelow(250)}.{secrets.randbelow(250) + 1}"
    assert _login(client, username, "Demo@2026").status_code == 302
    return client, _meta_csrf(client)


def form(token: str, ids: list[int], **changes: str) -> dict[str, str]:
    """The worked example as the page posts it."""
    data = {
        "csrf_token": token,
        "budget_executed": "1150000",
        "summary": "完成 80 个小区改造，居民满意度 85%",
        "conclusion": "总体达到预期",
        "problems": "进度滞后",
        "measures": "加强调度",
    }
    for line_id, row in zip(ids, WORKED, strict=True):
        data[f"l{line_id}_actual"] = row[6]
        data[f"l{line_id}_reason"] = ""
    data.update(changes)
    return data


def text(resp) -> str:
    return html.unescape(resp.get_data(as_text=True))


def test_the_form_saves_the_worked_example_and_shows_every_point(app, api, opened):
    pid, ids = opened
    client, token = browser(app, "xq.editor")
    page = client.get(f"/projects/{pid}/self-evaluation")
    assert page.status_code == 200
    shown = text(page)
    assert (
        'data-testid="evaluation-form"' in shown
        and 'hx-trigger="input changed delay:300ms from:.jx-scored"' in shown
    )
    assert "1,250,000.00" in shown  # 年初预算数
    assert all(row[0] in shown for row in WORKED)
    saved = client.post(f"/projects/{pid}/self-evaluation", data=form(token, ids, action="save"))
    assert saved.status_code == 302
    shown = text(client.get(f"/projects/{pid}/self-evaluation"))
    assert re.search(r'data-testid="score-total">90\.83<', shown)
    assert re.search(r'data-testid="score-grade">优<', shown)
    earned = re.findall(r'data-testid="earned"[^>]*>([^<]*)<', shown)
    assert earned == ["24.00", "18.18", "30.00", "9.44"]
    assert re.findall(r'data-testid="available"[^>]*>([^<]*)<', shown) == ["30.00", "20.00", "30.00", "10.00"]
    assert re.findall(r'data-testid="completion"[^>]*>([^<]*)<', shown) == [
        "80.00%",
        "90.91%",
        "100.00%",
        "94.44%",
    ]
    assert re.search(r'data-testid="budget-earned"[^>]*>9\.20<', shown)
    # the lines below their points ask for the reason (not the one fully met)
    assert shown.count("得分低于分值，请分析未完成原因") == 3
    assert (
        api.as_user("xq.editor").get(f"/api/v1/projects/{pid}/self-evaluation").get_json()["score"] == "90.83"
    )


def test_the_preview_scores_what_is_typed_and_saves_nothing(app, api, opened):
    pid, ids = opened
    client, token = browser(app, "xq.editor")
    preview = client.post(f"/projects/{pid}/self-evaluation/preview", data=form(token, ids))
    assert preview.status_code == 200
    shown = text(preview)
    assert 'id="jx-eval-score"' in shown and re.search(r'data-testid="score-total">90\.83<', shown)
    assert 'id="jx-l1-earned"' in shown and 'hx-swap-oob="true"' in shown
    changed = text(
        client.post(
            f"/projects/{pid}/self-evaluation/preview", data=form(token, ids, **{f"l{ids[0]}_actual": "100"})
        )
    )
    assert re.search(r'data-testid="score-total">96\.83<', changed)  # 30 points instead of 24
    assert (
        api.as_user("xq.editor").get(f"/api/v1/projects/{pid}/self-evaluation").get_json()["budget_executed"]
        is None
    )
    # a value that cannot be scored is named, beside its line and in the panel
    bad = text(
        client.post(
            f"/projects/{pid}/self-evaluation/preview", data=form(token, ids, **{f"l{ids[0]}_actual": "八十"})
        )
    )
    assert 'data-testid="score-errors"' in bad and "第 1 行「改造小区数量」" in bad


def test_a_refused_form_comes_back_as_typed_naming_the_line(app, api, opened):
    pid, ids = opened
    client, token = browser(app, "xq.editor")
    refused = client.post(
        f"/projects/{pid}/self-evaluation",
        data=form(token, ids, action="save", budget_executed="-5", **{f"l{ids[0]}_actual": "八十"}),
    )
    assert refused.status_code == 422
    shown = text(refused)
    assert "第 1 行「改造小区数量」" in shown and "预算执行数" in shown
    assert 'value="八十"' in shown and 'value="-5"' in shown  # as typed
    assert (
        api.as_user("xq.editor").get(f"/api/v1/projects/{pid}/self-evaluation").get_json()["budget_executed"]
        is None
    )
    # 提交 with a line not filled in: the draft is kept, the gap named
    gaps = client.post(
        f"/projects/{pid}/self-evaluation",
        data=form(token, ids, action="submit", **{f"l{ids[3]}_actual": ""}),
    )
    assert gaps.status_code == 422
    shown = text(gaps)
    assert "第 4 行「居民满意度」：请填写实际完成值" in shown and "草稿已保存" in shown
    saved = api.as_user("xq.editor").get(f"/api/v1/projects/{pid}/self-evaluation").get_json()
    assert (saved["status"], saved["missing"]) == ("draft", ["居民满意度"])


def test_before_monitoring_completes_each_page_says_why(app, targets):
    pid, ids = targets
    client, token = browser(app, "xq.editor")
    for resp in (
        client.get(f"/projects/{pid}/self-evaluation"),
        client.post(f"/projects/{pid}/self-evaluation", data=form(token, ids, action="save")),
        client.get(f"/projects/{pid}/self-evaluation/review"),
        client.get(f"/projects/{pid}/self-evaluation/print"),
    ):
        assert resp.status_code == 409
        assert "跟踪监控尚未完成，不能填报自评" in text(resp)


def test_the_walls(app, api, opened):
    pid, ids = opened
    editor = api.as_user("xq.editor")
    assert editor.put(f"/api/v1/projects/{pid}/self-evaluation", json=body(ids)).status_code == 200
    sibling, token = browser(app, "xx.admin")
    for resp in (
        sibling.get(f"/projects/{pid}/self-evaluation"),
        sibling.post(f"/projects/{pid}/self-evaluation", data=form(token, ids, action="save")),
        sibling.post(f"/projects/{pid}/self-evaluation/preview", data=form(token, ids)),
        sibling.get(f"/projects/{pid}/self-evaluation/review"),
        sibling.post(
            f"/projects/{pid}/self-evaluation/review", data={"csrf_token": token, "decision": "approve"}
        ),
        sibling.get(f"/projects/{pid}/self-evaluation/print"),
    ):
        assert resp.status_code == 404
    city, token = browser(app, "yc.admin")
    shown = city.get(f"/projects/{pid}/self-evaluation")
    assert shown.status_code == 200
    page = text(shown)
    assert re.search(r'data-testid="score-total">90\.83<', page)
    assert 'data-testid="evaluation-form"' not in page and 'data-testid="submit"' not in page
    refused = city.post(f"/projects/{pid}/self-evaluation", data=form(token, ids, action="save"))
    assert refused.status_code == 403 and 'data-testid="problem"' in text(refused)
    assert (
        city.post(f"/projects/{pid}/self-evaluation", data=form(token, ids, action="submit")).status_code
        == 403
    )
    assert editor.post(f"/api/v1/projects/{pid}/self-evaluation/submit").status_code == 200
    review = text(city.get(f"/projects/{pid}/self-evaluation/review"))
    assert 'data-testid="review-form"' not in review
    decided = city.post(
        f"/projects/{pid}/self-evaluation/review", data={"csrf_token": token, "decision": "approve"}
    )
    assert decided.status_code == 403
    assert city.get(f"/projects/{pid}/self-evaluation/print").status_code == 200


def test_the_submitter_never_reviews_their_own(app, api, opened):
    pid, ids = opened
    admin, token = browser(app, "xq.admin")  # a bureau admin may fill it in, then not 复核 it
    submitted = admin.post(f"/projects/{pid}/self-evaluation", data=form(token, ids, action="submit"))
    assert submitted.status_code == 302
    dept, dept_token = browser(app, "xq.dept")
    assert 'data-testid="review-form"' in text(dept.get(f"/projects/{pid}/self-evaluation/review"))
    passed = dept.post(
        f"/projects/{pid}/self-evaluation/review", data={"csrf_token": dept_token, "decision": "approve"}
    )
    assert passed.status_code == 302
    page = text(admin.get(f"/projects/{pid}/self-evaluation/review"))
    assert 'data-testid="review-form"' not in page and "不能审核自己提交的自评" in page
    own = admin.post(
        f"/projects/{pid}/self-evaluation/review", data={"csrf_token": token, "decision": "approve"}
    )
    assert own.status_code == 403 and "不能审核自己提交的自评" in text(own)


def test_a_return_reaches_the_editors_and_the_resubmission_shows_what_changed(app, api, opened):
    pid, ids = opened
    editor, token = browser(app, "xq.editor")
    assert (
        editor.post(f"/projects/{pid}/self-evaluation", data=form(token, ids, action="submit")).status_code
        == 302
    )
    assert 'data-testid="evaluation-form"' not in text(
        editor.get(f"/projects/{pid}/self-evaluation")
    )  # read-only
    dept, dept_token = browser(app, "xq.dept")
    silent = dept.post(
        f"/projects/{pid}/self-evaluation/review", data={"csrf_token": dept_token, "decision": "return"}
    )
    assert silent.status_code == 422 and "至少一项写明意见" in text(silent)
    returned = dept.post(
        f"/projects/{pid}/self-evaluation/review",
        data={"csrf_token": dept_token, "decision": "return", "feasibility": "满意度调查样本不足"},
    )
    assert returned.status_code == 302
    page = text(editor.get(f"/projects/{pid}/self-evaluation"))
    assert 'data-testid="return-comments"' in page and "满意度调查样本不足" in page
    assert 'data-testid="evaluation-form"' in page  # editable again
    again = editor.post(
        f"/projects/{pid}/self-evaluation",
        data=form(token, ids, action="submit", **{f"l{ids[3]}_actual": "88"}),
    )
    assert again.status_code == 302
    review = text(dept.get(f"/projects/{pid}/self-evaluation/review"))
    assert 'data-testid="resubmission"' in review and "满意度调查样本不足" in review
    changed = re.search(r'data-testid="diff-changed">(.*?)</tr>', review, re.S)
    assert (
        changed and "居民满意度" in changed.group(1) and "85" in changed.group(1) and "88" in changed.group(1)
    )
    assert 'data-testid="reviews"' in review  # the reviews so far


def test_the_printable_table(app, api, opened):
    pid, ids = opened
    assert (
        api.as_user("xq.editor").put(f"/api/v1/projects/{pid}/self-evaluation", json=body(ids)).status_code
        == 200
    )
    client, _ = browser(app, "xq.editor")
    sheet = client.get(f"/projects/{pid}/self-evaluation/print")
    assert sheet.status_code == 200
    shown = text(sheet)
    assert "项目支出绩效自评表" in shown and "项目负责人" in shown and "财务负责人" in shown
    assert re.search(r'data-testid="sheet-total">90\.83<', shown) and re.search(
        r'data-testid="sheet-grade">优<', shown
    )
    assert "125.00" in shown and "115.00" in shown  # 万元
    assert re.findall(r'data-testid="sheet-earned">([^<]*)<', shown) == ["24.00", "18.18", "30.00", "9.44"]
    css = client.get("/static/css/evaluation.css")
    assert css.status_code == 200 and b"@media print" in css.data
