"""The content of the pilot report (试点报告, issue 14) and of the briefing (专报), built from a project
taken through the lifecycle over HTTP: the cover, the overview, a chapter per project with its five
sub-reports (the approved indicators, the worked example's 90.83 优, the correction and its answer,
the rectification item), the evidence list with the file's SHA-256, the two charts; a project still
at its targets says which stages have not started; the walls decide whose projects a reader sees;
the province's briefing counts the project's grade."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from jixiao.platform.core.actor import Actor
from jixiao.platform.core.documents.model import Chart, Document, Facts, Paragraph, Section, Table
from jixiao.services.indicators.models import Case
from jixiao.services.programs.models import Program
from jixiao.services.reports.content import STAGE_TITLES, build_briefing, build_pilot_report
from jixiao.tenants.models import Tenant, User
from jixiao.tenants.service import build_actor, tenant_by_code
from tests.api.test_key_evaluation import EVALUATOR, FOUR, grant, through_self_evaluation
from tests.api.test_project_lifecycle import create_program, new_project, through_assessment
from tests.api.test_results import PDF, issue, upload
from tests.api.test_self_evaluation import WORKED

GENERATED = datetime(2026, 3, 4, 17, 30, tzinfo=UTC)  # 2026-03-05 01:30 in Asia/Shanghai


def actor_of(runtime: Any, username: str) -> Actor:
    with runtime.db.system_session("test: build actor") as s:
        user = s.execute(select(User).where(User.username == username)).scalar_one()
        return build_actor(s, user)


def publish_case(runtime: Any, pid: int, title: str) -> None:
    """A case (规范管理蓝本) published from the project, written directly: publishing goes through
    an accepted pilot report, whose own flow is tested beside it."""
    with runtime.db.transaction(system="test: a case published from a project") as s:
        province = tenant_by_code(s, "640000")
        assert province is not None
        s.add(Case(tenant_id=province.id, title=title, shared=True, source_project_id=pid))


@pytest.fixture(scope="module")
def lifecycle(api: Any, runtime: Any) -> dict[str, Any]:
    """One 兴庆区 project at the result application — the self-evaluation the worked example (90.83
    优), the key evaluation accepted (86.00 良) — with a correction answered, a piece of evidence and
    a rectification notice, published to the case library; a second one still at its targets."""
    token = secrets.token_hex(3)
    program_id = create_program(api, token, 10)
    pid = through_self_evaluation(api, program_id, token)
    grant(api, pid, ["read", "key_evaluation"])
    key = f"/api/v1/projects/{pid}/evaluation"
    submitted = api.as_user(EVALUATOR).post(
        f"{key}/submit",
        json={"scores": FOUR, "findings": f"资金拨付滞后{token}", "recommendations": "加强调度"},
    )
    assert submitted.status_code == 200, submitted.get_json()
    accepted = api.as_user("xq.admin").post(f"{key}/decision", json={"decision": "accept", "opinion": "同意"})
    assert accepted.status_code == 200, accepted.get_json()
    evidence_id = upload(api, pid)
    rounds = api.as_user("xq.editor").get(f"/api/v1/projects/{pid}/monitoring-rounds").get_json()
    round_id = (rounds["items"] if isinstance(rounds, dict) else rounds)[0]["id"]
    corrections = f"/api/v1/projects/{pid}/monitoring-rounds/{round_id}/corrections"
    later = (date.today() + timedelta(days=20)).isoformat()
    issued = api.as_user("xq.admin").post(
        corrections, json={"kind": "约谈", "text": f"请说明进度滞后原因{token}", "deadline": later}
    )
    assert issued.status_code == 201, issued.get_json()
    replied = api.as_user("xq.editor").post(
        f"{corrections}/{issued.get_json()['id']}/reply",
        json={"text": f"已增派施工人员{token}", "evidence_ids": [evidence_id]},
    )
    assert replied.status_code == 200, replied.get_json()
    notice = issue(api, pid, n=1)
    assert notice.status_code == 201, notice.get_json()
    publish_case(runtime, pid, f"老旧小区改造范例{token}")
    second = new_project(api, program_id, f"{token}二")
    through_assessment(api, second["id"])
    return {
        "program_id": program_id,
        "token": token,
        "name": f"老旧小区改造{token}",
        "second": second["name"],
        "item": notice.get_json()["items"][0]["text"],
    }


# --- reading a document as a reader does --------------------------------------------------------


def blocks_of(section: Section) -> Iterator[Any]:
    yield from section.blocks
    for child in section.children:
        yield from blocks_of(child)


def text_of(section: Section) -> str:
    """Everything a reader sees in the section and its sub-sections, one line per paragraph, fact,
    table row and chart title."""
    parts = [section.title]
    for block in section.blocks:
        if isinstance(block, Paragraph):
            parts.append(block.text)
        elif isinstance(block, Facts):
            parts.extend(f"{label}：{value}" for label, value in block.items)
        elif isinstance(block, Table):
            parts.append(block.caption)
            parts.extend(" | ".join(row) for row in block.rows)
            if not block.rows:
                parts.append(block.empty)
        elif isinstance(block, Chart):
            parts.append(block.title)
    parts.extend(text_of(child) for child in section.children)
    return "\n".join(parts)


def chapter(document: Document, start: str) -> Section:
    found = [s for s in document.sections if s.title.startswith(start)]
    assert len(found) == 1, [s.title for s in document.sections]
    return found[0]


def child(section: Section, title: str) -> Section:
    return next(c for c in section.children if c.title == title)


def charts(section: Section) -> dict[str, Chart]:
    return {block.title: block for block in blocks_of(section) if isinstance(block, Chart)}


def facts(section: Section) -> dict[str, str]:
    return {
        label: value
        for block in blocks_of(section)
        if isinstance(block, Facts)
        for label, value in block.items
    }


def build(runtime: Any, username: str, program_id: int, code: str, **kw: Any) -> Any:
    actor = actor_of(runtime, username)
    with runtime.db.transaction(actor) as session:
        program = session.get(Program, program_id)
        tenant = tenant_by_code(session, code)
        assert program is not None and tenant is not None
        return build_pilot_report(session, actor, program, tenant, version=2, generated_at=GENERATED, **kw)


# --- the pilot report ------------------------------------------------------------------------------


def test_the_pilot_report_shows_each_stage_as_far_as_it_got(runtime, lifecycle):
    seen: list[tuple[int, str]] = []
    built = build(
        runtime, "xq.admin", lifecycle["program_id"], "640104", progress=lambda p, m: seen.append((p, m))
    )
    document = built.document
    name, second = lifecycle["name"], lifecycle["second"]

    assert dict(document.cover)["地区"] == "兴庆区（640104）"
    assert dict(document.cover)["版本"] == "第 2 版"
    assert dict(document.cover)["生成日期"] == "2026 年 3 月 5 日"  # the province's calendar, not UTC's
    assert built.project_names == [name, second]
    assert [p for p, _ in seen] == sorted(p for p, _ in seen) and all(10 <= p <= 70 for p, _ in seen)
    assert seen[-1][0] == 70

    overview = text_of(chapter(document, "一、总体情况"))
    assert name in overview and second in overview
    assert "125.00 万元" in overview and "90.83 分，优" in overview and "86.00 分，良" in overview

    first = chapter(document, f"二、项目一：{name}")
    assert [c.title for c in first.children] == list(STAGE_TITLES)
    assert list(STAGE_TITLES) == ["事前评估", "目标管理", "跟踪监控", "绩效评价", "结果应用"]
    assert "立项必要性 | 85.00 | 符合要求" in text_of(child(first, "事前评估"))
    targets = text_of(child(first, "目标管理"))
    for line in WORKED:
        assert line[0] in targets
    assert "产出 | 数量 | 改造小区数量 | ≥ | 100 | 个 | 30.00" in targets
    assert "初审 | 通过" in targets and "复核 | 通过" in targets
    monitoring = text_of(child(first, "跟踪监控"))
    assert "绿色" in monitoring
    assert f"请说明进度滞后原因{lifecycle['token']}" in monitoring
    assert f"已增派施工人员{lifecycle['token']}" in monitoring
    evaluation = child(first, "绩效评价")
    assert facts(evaluation)["自评总分"] == "90.83" and facts(evaluation)["自评等级"] == "优"
    assert "受益居民比例" in text_of(evaluation)
    key = text_of(evaluation)
    assert (
        "（二）重点评价" in key
        and "评价状态：已审定" in key
        and "重点评价总分：86.00" in key
        and "重点评价等级：良" in key
    )
    assert "过程 | 资金管理 | 预算执行率 | 15.00 | 13.00" not in key  # the evaluator adapted the items
    assert "过程 |  | 预算执行率 | 15.00 | 13.00 | 依据" in key and "合计 | 100.00 | 86.00" in key
    assert f"资金拨付滞后{lifecycle['token']}" in key
    results = text_of(child(first, "结果应用"))
    assert "评价等级：良（重点评价）" in results and "建议的预算安排：督促改进" in results
    assert f"{lifecycle['item']} | " in results and "| 待整改 |" in results

    progress_chart = charts(child(first, "跟踪监控"))["指标完成率（各监控轮次）"]
    assert "改造小区数量" in progress_chart.categories and progress_chart.unit == "%"
    points = charts(evaluation)["各一级指标得分"]
    earned = dict(zip(points.categories, points.series[0].values, strict=True))
    assert earned["预算执行"] == pytest.approx(9.2) and earned["效益"] == pytest.approx(30)

    at_targets = chapter(document, f"三、项目二：{second}")
    assert [c.title for c in at_targets.children] == list(STAGE_TITLES)
    assert "尚未填报绩效目标" in text_of(child(at_targets, "目标管理"))
    for title in ("跟踪监控", "绩效评价", "结果应用"):
        assert "本阶段尚未开展" in text_of(child(at_targets, title))
    assert not charts(at_targets)

    evidence = text_of(chapter(document, "四、佐证材料清单"))
    assert hashlib.sha256(PDF).hexdigest() in evidence
    assert "整改报告.pdf" in evidence and "结果应用" in evidence
    assert built.evidence_count == 1
    figures = built.figures
    assert figures["projects"] == 2 and figures["budget_total"] == "2500000.00"
    assert figures["grades"]["self_evaluation"]["优"] == 1
    assert figures["grades"]["key_evaluation"]["良"] == 1
    assert figures["per_project"][0]["self_evaluation"] == {
        "status": "approved",
        "score": "90.83",
        "grade": "优",
    }
    assert figures["per_project"][0]["key_evaluation"] == {
        "status": "accepted",
        "score": "86.00",
        "grade": "良",
    }


def test_the_walls_decide_whose_projects_a_reader_sees(runtime, lifecycle):
    above = build(runtime, "nx.admin", lifecycle["program_id"], "640104")
    assert above.project_names == [lifecycle["name"], lifecycle["second"]]
    assert above.evidence_count == 1
    sideways = build(runtime, "xx.admin", lifecycle["program_id"], "640104")
    assert sideways.project_names == [] and sideways.evidence_count == 0
    assert "尚未申报试点项目" in text_of(chapter(sideways.document, "一、总体情况"))


# --- the briefing ----------------------------------------------------------------------------------


def test_the_province_briefing_counts_the_projects_grade(runtime, lifecycle):
    actor = actor_of(runtime, "nx.admin")
    with runtime.db.transaction(actor) as session:
        program = session.get(Program, lifecycle["program_id"])
        root = tenant_by_code(session, "640000")
        assert program is not None and isinstance(root, Tenant)
        document = build_briefing(session, actor, program, root, generated_at=GENERATED)

    participation = text_of(chapter(document, "一、参与情况"))
    assert "参与试点的地区 3 个，其中已申报试点项目的 1 个；试点项目 2 个" in participation
    stages = chapter(document, "二、各阶段完成情况")
    table = next(b for b in stages.blocks if isinstance(b, Table))
    assert ["事前评估", "2", "2"] in [list(r) for r in table.rows]
    assert ["自评", "1", "1"] in [list(r) for r in table.rows]
    grades = chapter(document, "三、绩效评价等级分布")
    grade_chart = charts(grades)["绩效评价等级分布"]
    assert list(grade_chart.categories) == ["优", "良", "中", "差"]
    assert [s.name for s in grade_chart.series] == ["自评", "重点评价"]
    assert list(grade_chart.series[0].values) == [1.0, 0.0, 0.0, 0.0]
    assert list(grade_chart.series[1].values) == [0.0, 1.0, 0.0, 0.0]
    assert "平均得分 90.83 分" in text_of(grades)
    findings = text_of(chapter(document, "五、主要发现"))
    assert f"兴庆区「{lifecycle['name']}」（重点评价）：资金拨付滞后{lifecycle['token']}" in findings
    cases = text_of(chapter(document, "六、典型案例"))
    assert f"「{lifecycle['name']}」：重点评价 86.00 分（良）" in cases
    assert f"「老旧小区改造范例{lifecycle['token']}」（来源项目：{lifecycle['name']}）" in cases


def test_a_briefing_covers_the_branch_under_its_root(runtime, lifecycle):
    for username, code, said in (
        ("yc.admin", "640100", "参与试点的地区 3 个，其中已申报试点项目的 1 个；试点项目 2 个"),
        ("xx.admin", "640105", "参与试点的地区 1 个，其中已申报试点项目的 0 个；试点项目 0 个"),
    ):
        actor = actor_of(runtime, username)
        with runtime.db.transaction(actor) as session:
            program = session.get(Program, lifecycle["program_id"])
            root = tenant_by_code(session, code)
            assert program is not None and root is not None
            document = build_briefing(session, actor, program, root, generated_at=GENERATED)
        assert said in text_of(chapter(document, "一、参与情况")), username
