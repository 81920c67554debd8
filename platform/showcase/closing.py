"""The second half of a finished project: the third-party key evaluation (a grant to the demo
evaluator organisation, its scores on the program's framework and its report file, the bureau's
acceptance), the result application (a rectification notice answered and closed, the budget
recommendation, the disclosure), then each tenant's pilot report, the province's acceptance and
the published case (规范管理蓝本)."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_DOWN, Decimal
from typing import Any

from sqlalchemy import select

from jixiao.platform.core.runtime import current_runtime
from jixiao.services.evaluation.key import decision as key_decision
from jixiao.services.evaluation.key import service as key_evaluation
from jixiao.services.evaluation.key.schemas import KeyEvaluationSubmitSchema
from jixiao.services.evidence import service as evidence
from jixiao.services.grants import service as grants
from jixiao.services.grants.schemas import GrantCreateSchema
from jixiao.services.indicators import library
from jixiao.services.notifications import service as notifications
from jixiao.services.reports import jobs as report_jobs
from jixiao.services.reports import service as reports
from jixiao.services.reports.schemas import AcceptanceSchema
from jixiao.services.results import notices
from jixiao.services.results import service as results
from jixiao.services.results.schemas import (
    RectificationCloseSchema,
    RectificationNoticeIssueSchema,
    RectificationReplySchema,
    ResultApplicationWriteSchema,
)
from jixiao.tenants.divisions import DEMO_EVALUATOR_ORG
from jixiao.tenants.models import EvaluatorOrg

from .actors import Cast, docx_file, loaded
from .data import Showcase

EVALUATOR = "eval.ningping"
CENT = Decimal("0.01")


def key_evaluate(cast: Cast, show: Showcase, pid: int, grant_until: date) -> None:
    admin = f"{show.prefix}.admin"
    with cast.db.transaction(system="demo showcase: the evaluator organisation") as s:
        org_id = s.execute(
            select(EvaluatorOrg.id).where(EvaluatorOrg.name == DEMO_EVALUATOR_ORG)
        ).scalar_one()
    with cast.acting(admin) as (s, actor):
        data = {
            "evaluator_org_id": org_id,
            "actions": ["read", "key_evaluation", "evidence_read", "evidence_write"],
            "expires_at": grant_until.isoformat(),
        }
        grants.grant(s, actor, pid, loaded(GrantCreateSchema, data), current_runtime().settings.timezone)
    evaluator = cast.actor(EVALUATOR, fresh=True)  # now with its grant
    with cast.db.transaction(evaluator) as s:
        report = docx_file(
            f"{show.project['name']}重点绩效评价报告",
            "评价机构：宁夏绩评咨询有限公司",
            f"评价发现：{show.key_texts['findings']}",
            f"评价建议：{show.key_texts['recommendations']}",
        )
        report_id = evidence.upload(
            s,
            evaluator,
            pid,
            stage="evaluation",
            purpose="评价报告",
            filename="重点绩效评价报告.docx",
            stream=report,
        ).id
    with cast.db.transaction(evaluator) as s:
        rows = key_evaluation.get(s, evaluator, pid)["scores"]
        scores = [
            {
                **row,
                "score": str((Decimal(row["weight"]) * show.key_rate).quantize(CENT, rounding=ROUND_DOWN)),
                "basis": "查阅项目资料、实地核查并抽样访谈",
            }
            for row in rows
        ]
        body = {"scores": scores, **show.key_texts, "report_evidence_id": report_id}
        given = {k: v for k, v in loaded(KeyEvaluationSubmitSchema, body).items() if v is not None}
        key_evaluation.submit(s, evaluator, pid, given)
    with cast.acting(admin) as (s, actor):
        key_decision.decide(s, actor, pid, "accept", "评价程序规范、结论客观，同意评价结果")


def apply_results(cast: Cast, show: Showcase, pid: int, year: int) -> None:
    admin, editor = f"{show.prefix}.admin", f"{show.prefix}.editor"
    issued_on, answered_on = date(year, 12, 1), date(year, 12, 15)
    items = [
        {"text": text, "deadline": date(year, 12, 20).isoformat()} for text, _reply in show.rectification
    ]
    with cast.acting(admin) as (s, actor):
        body = {"text": "根据重点评价发现的问题，请于期限内整改并报送整改情况", "items": items}
        notice = notices.issue(s, actor, pid, loaded(RectificationNoticeIssueSchema, body), issued_on)
        notice_id, item_ids = notice.id, [item.id for item in notice.items]
    with cast.acting(editor) as (s, actor):
        proof = evidence.upload(
            s,
            actor,
            pid,
            stage="result_application",
            purpose="整改报告",
            filename="整改情况报告.docx",
            stream=docx_file("整改情况报告", *(reply for _text, reply in show.rectification)),
        ).id
    for item_id, (_text, reply) in zip(item_ids, show.rectification, strict=True):
        with cast.acting(editor) as (s, actor):
            data = loaded(RectificationReplySchema, {"text": reply, "evidence_ids": [proof]})
            notices.reply(s, actor, notice_id, item_id, data, answered_on)
        with cast.acting(admin) as (s, actor):
            opinion = loaded(RectificationCloseSchema, {"opinion": "整改到位，同意销号"})["opinion"]
            notices.close(s, actor, notice_id, item_id, opinion, answered_on)
    with cast.acting(admin) as (s, actor):
        suggested = results.get(s, actor, pid)["suggested_recommendation"]
        decided = {"budget_recommendation": suggested, "disclose": show.disclose}
        results.decide(s, actor, pid, loaded(ResultApplicationWriteSchema, decided))


def _no_progress(_percent: int, _message: str) -> None:
    return None


def pilot_report(cast: Cast, show: Showcase, program_id: int) -> int:
    """The tenant's report generated (Word + PDF, as the job does) and submitted to the province."""
    admin = f"{show.prefix}.admin"
    with cast.acting(admin) as (s, actor):
        report, _job_id = reports.start_generation(s, actor, program_id)
        report_id = report.id
    report_jobs.generate(cast.actor(admin), report_id, progress=_no_progress)
    with cast.acting(admin) as (s, actor):
        reports.submit(s, actor, report_id)
    return report_id


def accept_report(cast: Cast, report_id: int, share: Decimal) -> None:
    """The city's preliminary opinion, then the province's acceptance on the program's checklist."""
    with cast.acting("yc.admin") as (s, actor):
        reports.give_opinion(s, actor, report_id, "报告内容完整，各阶段资料齐全，同意报送省级验收")
    with cast.acting("nx.admin") as (s, actor):
        program = reports.get_report(s, actor, report_id).program
        checklist: list[dict[str, Any]] = [
            {"item": i["item"], "score": str((i["max"] * share).quantize(CENT)), "comment": "符合要求"}
            for i in reports.checklist_of(program).items
        ]
        data = {"checklist": checklist, "outcome": "pass", "opinion": "试点工作扎实，资料完整，同意通过验收"}
        reports.accept(s, actor, report_id, loaded(AcceptanceSchema, data))


def publish_case(cast: Cast, show: Showcase, pid: int) -> None:
    with cast.acting("nx.admin") as (s, actor):
        library.create_case(s, actor, {"project_id": pid, "title": f"{show.project['name']}（规范管理蓝本）"})


def read_last_years_messages(cast: Cast, usernames: list[str]) -> None:
    """Last year's notifications were read last year: each user marks them read (as 全部已读 does),
    so a newcomer's unread count starts from what happens now."""
    for username in usernames:
        with cast.acting(username) as (s, actor):
            newest = notifications.newest_id(s, actor)
            if newest is not None:
                notifications.mark_all_read(s, actor, up_to=newest)
