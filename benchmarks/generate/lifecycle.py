"""One generated county's rows: its tenant, three users, and two projects of the running program
carried as far as the county's pace has gone — the rows the services would have written on the way
(stage rows, the assessment, approved target versions with their reviews, monitoring rounds with
every colour of warning and the year-end forecast, corrections with their threads, the
self-evaluation with its lines and grade, the key evaluation accepted or skipped, the result
application with its rectification notice, and the county's pilot report with its versions and
acceptance); and a twentieth of the projects with approved targets in the province's spot check
(抽查, one check of the program: `Context.spot_check_id`) — pending review, passed, or with a
finding to rectify (a 抽查 correction, open, answered or closed). The check's items are the
generator's own draw (each county's, from its own generator), not a replay of the service's
seeded sampling. No audit events, notifications or files: only what the screens, the dashboard and
the work queues read.

Every row is a plain dict keyed by column, with explicit ids (`Ids`), so whole batches go in with
one Core `insert()` per table. Each county draws from its own `random.Random(seed, index)`: the
same county comes out the same whether it is generated alone or among 3,000."""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from jixiao.services.evaluation.scoring import grade as grade_of
from jixiao.services.programs.models import DEFAULT_SETTINGS, STAGES

from .names import FUND_SOURCES, KINDS, weighted

CENT = Decimal("0.01")
# how far a county has gone: the index of its projects' current stage (6: every stage approved)
PACE = ((0, 6), (1, 10), (2, 24), (3, 20), (4, 15), (5, 12), (6, 13))
CRITERIA = ("necessity", "economy", "target_reasonableness", "plan_effectiveness", "funding_compliance",
            "fiscal_affordability")  # fmt: skip
APPROVE: dict[str, str] = {}
REPORT_STATES = (("draft", 25), ("submitted", 30), ("returned", 10), ("accepted", 35))
SKIP_REASON = "未列入本年度重点评价范围"
SPOT_CHECK_SHARE = 0.05  # of the projects with approved targets
SPOT_CHECK_RESULTS = (("pending", 55), ("pass", 30), ("rectify", 15))
SPOT_CHECK_REVIEWER = "nx.reviewer"  # the demo's province reviewer
SPOT_CHECK_KIND = "抽查"  # services/monitoring/models.py


@dataclass
class Ids:
    """The next free id of each table (read from the database before a run)."""

    next: dict[str, int]

    def take(self, table: str) -> int:
        ident = self.next[table]
        self.next[table] = ident + 1
        return ident


@dataclass
class Indicator:
    id: int
    name: str
    level2: str
    value_type: str
    direction: str
    unit: str
    standard_value: str
    value_basis: str


@dataclass
class Context:
    """What every county shares: the program, its city parents, the starter library by group."""

    program_id: int
    start: date
    budget_year: int
    cities: list[tuple[int, str]]  # (id, path) of the five cities, in code order
    library: dict[str, list[Indicator]]  # library group → indicators
    satisfaction: list[Indicator]  # the 服务对象满意度 indicators (a line every public project has)
    evaluator_org_id: int | None
    password_hash: str
    province_id: int
    spot_check_id: int  # the province's check of the program, which the drawn items belong to
    rows: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))


def _at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def _money(value: Decimal) -> Decimal:
    return value.quantize(CENT, ROUND_HALF_UP)


def _colour(completion: Decimal) -> str:
    conf = DEFAULT_SETTINGS["monitoring"]
    if completion >= conf["completion_green"]:
        return "green"
    return "yellow" if completion >= conf["completion_yellow"] else "red"


class County:
    """The rows of one county (`index` within the generated ones) under `city`."""

    def __init__(self, ctx: Context, ids: Ids, seed: int, index: int, code: str, name: str) -> None:
        self.ctx, self.ids, self.code, self.name = ctx, ids, code, name
        self.rng = random.Random(seed * 1_000_003 + index)
        self.spot_rng = random.Random(f"{seed}:{index}:spot-check")  # the rest draws as before
        self.city_id, self.city_path = ctx.cities[index % len(ctx.cities)]
        self.tenant_id = ids.take("tenants")
        self.editor, self.dept, self.admin = (f"g{code}.editor", f"g{code}.dept", f"g{code}.admin")

    def add(self, table: str, **row: Any) -> int:
        ident = self.ids.take(table)
        self.ctx.rows[table].append({"id": ident, **row})
        return ident

    def owned(self, table: str, **row: Any) -> int:
        return self.add(table, tenant_id=self.tenant_id, **row)

    # --- the county, its users, its report ------------------------------------------------------

    def build(self) -> None:
        ctx = self.ctx
        ctx.rows["tenants"].append(
            {"id": self.tenant_id, "code": self.code, "name": self.name, "level": "county",
             "parent_id": self.city_id, "path": f"{self.city_path}/{self.code}", "is_active": True,
             "created_at": _at(ctx.start - timedelta(days=30))}
        )  # fmt: skip
        self.add("program_tenants", program_id=ctx.program_id, tenant_id=self.tenant_id)
        for username, role, title in (
            (self.editor, "project_editor", "项目单位填报人"),
            (self.dept, "dept_reviewer", "主管部门审核人"),
            (self.admin, "bureau_admin", "财政局管理员"),
        ):
            user = self.add(
                "users", username=username, display_name=f"{self.name}{title}",
                password_hash=ctx.password_hash, tenant_id=self.tenant_id, evaluator_org_id=None,
                is_active=True, created_at=_at(ctx.start - timedelta(days=30)), email=None,
            )  # fmt: skip
            self.add("user_roles", user_id=user, role=role)
        pace = int(weighted(self.rng, tuple((str(p), w) for p, w in PACE)))
        kinds = self.rng.sample(KINDS, 2)
        reached = []
        for n, kind in enumerate(kinds):
            at = max(0, min(6, pace + self.rng.choice((-1, 0, 0, 0, 1)))) if n else pace
            project = Project(self, kind, at)
            reached.append(project.build())
            if project.reached >= 2 and not project.closed and self.spot_rng.random() < SPOT_CHECK_SHARE:
                self.spot_check(project)
        if all(r == 6 for r in reached):
            self.report(kinds)

    def spot_check(self, project: Project) -> None:
        """The project drawn in the province's check: pending, passed, or a finding to rectify."""
        rng, ctx = self.spot_rng, self.ctx
        status = weighted(rng, SPOT_CHECK_RESULTS)
        drawn = ctx.start + timedelta(days=120 + rng.randrange(20))
        reviewed = drawn + timedelta(days=7 + rng.randrange(10))
        aspects = ("completeness", "relevance", "appropriateness", "feasibility")
        item = self.owned(
            "spot_check_items", spot_check_id=ctx.spot_check_id, project_id=project.id,
            target_set_id=project.target_set, checked_by_tenant_id=ctx.province_id, status=status,
            comments={} if status == "pending" else {a: "符合要求" for a in aspects},
            findings="部分指标值缺少测算依据" if status == "rectify" else None,
            reviewed_by=None if status == "pending" else SPOT_CHECK_REVIEWER,
            reviewed_at=None if status == "pending" else _at(reviewed),
            lock_version=1 if status == "pending" else 2,
        )  # fmt: skip
        if status != "rectify":
            return
        state = rng.choice(("open", "answered", "closed"))
        finding = self.owned(
            "corrections", project_id=project.id, round_id=None, spot_check_item_id=item,
            kind=SPOT_CHECK_KIND, text="部分指标值缺少测算依据", deadline=reviewed + timedelta(days=15),
            status=state, issued_by=SPOT_CHECK_REVIEWER, issued_at=_at(reviewed),
            closed_by=SPOT_CHECK_REVIEWER if state == "closed" else None,
            closed_at=_at(reviewed + timedelta(days=12)) if state == "closed" else None,
            adjustment_target_set_id=None, lock_version={"open": 1, "answered": 2, "closed": 3}[state],
        )  # fmt: skip
        thread = [("request", SPOT_CHECK_REVIEWER, "部分指标值缺少测算依据")]
        if state != "open":
            thread.append(("reply", self.editor, "已补充指标值测算依据"))
        if state == "closed":
            thread.append(("close", SPOT_CHECK_REVIEWER, "整改到位"))
        for n, (action, author, text) in enumerate(thread):
            self.owned(
                "correction_entries", correction_id=finding, action=action, text=text, evidence_ids=[],
                deadline=None, author=author, written_at=_at(reviewed + timedelta(days=6 * n)),
            )  # fmt: skip

    def report(self, kinds: list[tuple[str, str, str, str, str]]) -> None:
        """Both projects through every stage: the pilot report, generated and maybe sent and judged."""
        state = weighted(self.rng, REPORT_STATES)
        day = date(self.ctx.budget_year + 1, 7, 1) + timedelta(days=self.rng.randrange(30))
        versions = 1 if state in ("draft", "submitted", "accepted") else 2
        report = self.owned(
            "pilot_reports", program_id=self.ctx.program_id, status=state,
            submitted_version=None if state == "draft" else versions,
            submitted_by=None if state == "draft" else self.admin,
            submitted_at=None if state == "draft" else _at(day + timedelta(days=2)),
            accepted_at=_at(day + timedelta(days=20)) if state == "accepted" else None,
            last_job_id=None, last_error=None, created_by=self.admin, created_at=_at(day),
        )  # fmt: skip
        names = [f"{self.name}{kind[0]}" for kind in kinds]
        for number in range(1, versions + 1):
            key = f"reports/{self.code}/bench-{report}-{number}"  # files: not generated
            self.owned(
                "pilot_report_versions", report_id=report, number=number, job_id=f"bench-{report}-{number}",
                generated_by=self.admin, generated_at=_at(day + timedelta(days=number)),
                docx_key=f"{key}.docx", docx_size=0, docx_sha256="0" * 64, pdf_key=f"{key}.pdf",
                pdf_size=0, pdf_sha256="0" * 64, project_names=names, figures={},
            )  # fmt: skip
        checklist = DEFAULT_SETTINGS["acceptance"]["checklist"]
        judged = (
            [("return", 1)] if state == "returned" else [("pass", versions)] if state == "accepted" else []
        )
        for outcome, version in judged:
            share = Decimal("0.5") if outcome == "return" else Decimal("0.85")
            items = [{"item": c["item"], "max": c["max"], "score": str(_money(c["max"] * share)),
                      "comment": "材料齐全" if outcome == "pass" else "佐证材料不足"} for c in checklist]  # fmt: skip
            self.owned(
                "pilot_report_reviews", report_id=report, version=version, kind="acceptance", round=version,
                checklist=items, total=sum(Decimal(i["score"]) for i in items),
                pass_mark=Decimal(DEFAULT_SETTINGS["acceptance"]["pass_mark"]), outcome=outcome,
                opinion="同意通过验收" if outcome == "pass" else "请补充佐证材料后重新报送",
                author="nx.admin", author_tenant_id=self.ctx.province_id,
                written_at=_at(day + timedelta(days=10 * version)),
            )  # fmt: skip


class Project:
    """One project carried to stage `reached` (6: all approved) by the rules the services keep."""

    def __init__(self, county: County, kind: tuple[str, str, str, str, str], reached: int) -> None:
        self.c, self.rng, self.reached = county, county.rng, reached
        self.title, self.project_class, self.group, self.department, self.unit = kind
        self.year = county.ctx.budget_year
        self.budget = Decimal(self.rng.randrange(20, 2000) * 10000)
        self.closed = reached == 0 and self.rng.random() < 0.15  # 事前评估不予支持
        # the current stage's status: being filled in, under review, or returned
        self.status = weighted(self.rng, (("draft", 40), ("submitted", 40), ("returned", 20)))

    def build(self) -> int:
        c = self.c
        start = c.ctx.start + timedelta(days=self.rng.randrange(20))
        stage = STAGES[min(self.reached, 5)]
        self.id = c.owned(
            "projects", program_id=c.ctx.program_id, name=f"{c.name}{self.title}",
            department=f"{c.name}{self.department}", implementing_unit=f"{c.name}{self.unit}",
            budget_amount=self.budget, fund_source=weighted(self.rng, FUND_SOURCES),
            project_class=self.project_class, start_year=self.year, end_year=self.year, serves_public=True,
            stage=stage, status="closed" if self.closed else "active",
            closed_reason="事前评估结论为不予支持" if self.closed else None,
            created_by=c.editor, created_at=_at(start), version=1 + 2 * self.reached,
        )  # fmt: skip
        for n, name in enumerate(STAGES):
            status = (
                "approved" if n < self.reached else
                "closed" if n == self.reached and self.closed else
                self.status if n == self.reached else "locked"
            )  # fmt: skip
            c.owned(
                "project_stages", project_id=self.id, stage=name, position=n, status=status,
                opened_at=None if status == "locked" else _at(start + timedelta(days=40 * n)),
                approved_at=_at(start + timedelta(days=40 * n + 30)) if status == "approved" else None,
            )  # fmt: skip
        self.assessment(start)
        if self.reached >= 1:
            lines = self.targets(start)
            if self.reached >= 2:
                self.monitoring(lines)
            if self.reached >= 3:
                score = self.self_evaluation(lines)
                if self.reached >= 4:
                    key = self.key_evaluation(score)
                    if self.reached >= 5:
                        self.results(score, key)
        return self.reached

    def here(self, stage: int) -> str:
        """This stage's status: approved before the current one, else the current one's."""
        return "approved" if self.reached > stage else self.status

    def assessment(self, start: date) -> None:
        c = self.c
        status = {"approved": "decided", "draft": "draft", "returned": "draft"}.get(self.here(0), "submitted")
        decided = status == "decided" or self.closed
        c.owned(
            "assessments", project_id=self.id,
            criteria={k: {"score": str(self.rng.randrange(75, 96)), "opinion": "符合要求"} for k in CRITERIA},
            summary="项目立项必要、投入经济、目标合理", status="decided" if decided else status,
            conclusion="reject" if self.closed else "support" if decided else None,
            opinion="不予支持：立项依据不足" if self.closed else "同意立项" if decided else None,
            submitted_by=None if status == "draft" else c.editor,
            submitted_at=None if status == "draft" else _at(start + timedelta(days=10)),
            decided_by=c.admin if decided else None,
            decided_at=_at(start + timedelta(days=25)) if decided else None,
            updated_at=_at(start + timedelta(days=25)), version=3 if decided else 1,
        )  # fmt: skip

    def targets(self, start: date) -> list[tuple[int, Indicator, Decimal]]:
        """Version 1 of the targets (approved once past the stage): library lines, weights of 100."""
        c = self.c
        group = c.ctx.library[self.group]
        picked = self.rng.sample(group, min(len(group), self.rng.randrange(5, 8)))
        if not any(i.level2 == "服务对象满意度" for i in picked):
            picked[-1] = self.rng.choice(c.ctx.satisfaction)
        weights = [Decimal(100 // len(picked))] * len(picked)
        weights[0] += 100 - sum(weights)
        status = self.here(1)
        approved = status == "approved"
        day = start + timedelta(days=45)
        target_set = c.owned(
            "target_sets", project_id=self.id, number=1, status=status,
            review_level="first" if status == "submitted" else None,
            overall_goal=f"按期完成{self.title}，资金使用规范，服务对象满意度不低于 90%", midterm_goal="",
            adjustment_reason=None, adjustment_explanation=None,
            submitted_by=None if status == "draft" else c.editor,
            submitted_at=None if status == "draft" else _at(day),
            approved_at=_at(day + timedelta(days=10)) if approved else None,
            created_at=_at(day - timedelta(days=5)), lock_version=4 if approved else 1,
        )  # fmt: skip
        lines = []
        for n, (ind, weight) in enumerate(zip(picked, weights, strict=True)):
            line = c.owned(
                "target_lines", target_set_id=target_set, position=n, indicator_id=ind.id, name=ind.name,
                level2=ind.level2, value_type=ind.value_type, direction=ind.direction,
                target_value=ind.standard_value, unit=ind.unit, weight=weight, value_basis=ind.value_basis,
                note="",
            )  # fmt: skip
            lines.append((line, ind, weight))
        reviews = [("first", c.dept), ("finance", c.admin)] if approved else []
        if status == "returned":
            reviews = [("first", c.dept)]
        for n, (level, reviewer) in enumerate(reviews):
            returned = status == "returned"
            c.owned(
                "target_reviews", target_set_id=target_set, level=level,
                decision="return" if returned else "approve",
                comments={"feasibility": "请补充指标值测算依据"} if returned else APPROVE,
                reviewer=reviewer, reviewed_at=_at(day + timedelta(days=3 + 4 * n)), snapshot=None,
            )  # fmt: skip
        self.target_set = target_set
        return lines

    def _value(self, ind: Indicator, share: Decimal) -> str:
        try:
            target = Decimal(ind.standard_value.split(",")[0])
        except ArithmeticError:
            return ""
        return str(_money(target * share))

    def monitoring(self, lines: list[tuple[int, Indicator, Decimal]]) -> None:
        """March (and September once the stage is past: its report completes the stage), finance's
        confirmation, and a correction on a red round."""
        c = self.c
        rounds = (
            [3, 9] if self.reached > 2 else ([3] if self.status != "draft" or self.rng.random() < 0.5 else [])
        )
        for month in rounds:
            last = month == rounds[-1]
            progress = Decimal(month * 100) / 12
            as_of = date(self.year, month, 30 if month == 9 else 31)
            lag = Decimal(self.rng.choice((0, 2, 5, 8, 12, 15, 25, 30)))
            rate = max(Decimal(0), progress - lag)
            executed = _money(self.budget * rate / 100)
            budget_warning = "green" if lag <= 10 else "yellow" if lag <= 20 else "red"
            forecast_rate = _money(executed / self.budget * 100 * 100 / progress)
            # a past stage's rounds are confirmed; the open stage's March round is as its status says
            state = "confirmed" if self.reached > 2 or self.status == "submitted" else "reported"
            state = "returned" if state == "reported" and self.status == "returned" else state
            confirmed, returned = state == "confirmed", state == "returned"
            round_id = c.owned(
                "monitoring_rounds", project_id=self.id, target_set_id=self.target_set,
                period=f"{self.year}-{month:02d}", as_of=as_of,
                status=state,
                budget_executed=executed, budget_explanation="",
                budget_reason="" if budget_warning == "green" else "项目招标采购环节耗时较长，资金拨付滞后",
                budget_measure="" if budget_warning == "green" else "加快合同签订和资金拨付进度",
                execution_rate=_money(executed / self.budget * 100), time_progress=_money(progress),
                budget_warning=budget_warning, forecast_executed=_money(self.budget * forecast_rate / 100),
                forecast_rate=forecast_rate, forecast_warning=_colour(min(forecast_rate, Decimal(100))),
                return_opinion="请核实预算执行数" if returned else None, reported_by=c.editor,
                reported_at=_at(as_of + timedelta(days=5)), returned_by=c.admin if returned else None,
                returned_at=_at(as_of + timedelta(days=9)) if returned else None,
                confirmed_by=c.admin if confirmed else None,
                confirmed_at=_at(as_of + timedelta(days=12)) if confirmed else None,
                lock_version=2 if confirmed else 1,
            )  # fmt: skip
            red = False
            for n, (line, ind, _weight) in enumerate(lines):
                completion = Decimal(self.rng.choice((100, 100, 100, 96, 92, 85, 78, 72, 65, 50)))
                warning = _colour(completion)
                red = red or warning == "red"
                forecast = min(Decimal(100), completion + Decimal(self.rng.choice((0, 5, 10, 20))))
                planned = self._value(ind, progress / 100) if ind.value_type == "quantitative" else ""
                late = warning != "green"
                c.owned(
                    "monitoring_lines", round_id=round_id, target_line_id=line, position=n,
                    planned_value=planned,
                    actual_value=self._value(ind, progress * completion / 10000) if planned else "",
                    achievement=None if planned else ("achieved" if not late else "partly"),
                    text="" if planned else "按计划推进", reason="部分工作进度滞后于计划" if late else "",
                    measure="加强调度，倒排工期" if late else "", reason_category="其他" if late else None,
                    likelihood=("有可能" if warning == "red" else "确定能") if late else None,
                    completion=completion if planned else None, warning=warning,
                    forecast_value=None, forecast_completion=forecast if planned else None,
                    forecast_warning=_colour(forecast) if planned else None,
                )  # fmt: skip
            if red or budget_warning == "red":
                self.correction(round_id, as_of, closed=self.reached > 2 or not last)

    def correction(self, round_id: int, as_of: date, closed: bool) -> None:
        c = self.c
        status = "closed" if closed else self.rng.choice(("open", "open", "answered"))
        issued = as_of + timedelta(days=14)
        correction = c.owned(
            "corrections", project_id=self.id, round_id=round_id, spot_check_item_id=None,
            kind=self.rng.choice(("纠偏", "纠偏", "约谈", "发函")),
            text="本轮监控出现红色预警，请分析原因、制定纠偏措施并按期答复", deadline=issued + timedelta(days=15),
            status=status, issued_by=c.admin, issued_at=_at(issued),
            closed_by=c.admin if closed else None, closed_at=_at(issued + timedelta(days=12)) if closed else None,
            adjustment_target_set_id=None, lock_version={"open": 1, "answered": 2, "closed": 3}[status],
        )  # fmt: skip
        thread = [("request", c.admin, "请分析预警原因并制定纠偏措施")]
        if status != "open":
            thread.append(("reply", c.editor, "已制定赶工计划，增加施工力量，确保按期完成"))
        if status == "closed":
            thread.append(("close", c.admin, "纠偏措施已落实，同意关闭"))
        for n, (action, author, text) in enumerate(thread):
            c.owned(
                "correction_entries", correction_id=correction, action=action, text=text, evidence_ids=[],
                deadline=None, author=author, written_at=_at(issued + timedelta(days=6 * n)),
            )  # fmt: skip

    def self_evaluation(self, lines: list[tuple[int, Indicator, Decimal]]) -> Decimal:
        c = self.c
        status = self.here(3)
        day = date(self.year + 1, 1, 20) + timedelta(days=self.rng.randrange(25))
        rate = Decimal(self.rng.choice((82, 88, 91, 94, 96, 98, 100, 100)))
        executed = _money(self.budget * rate / 100)
        earned_total = Decimal(10) * min(rate, Decimal(100)) / 100
        rows = []
        for n, (line, ind, weight) in enumerate(lines):
            completion = Decimal(self.rng.choice((100, 100, 98, 95, 90, 85, 70, 55)))
            available = _money(Decimal(90) * weight / 100)
            earned = _money(available * min(completion, Decimal(100)) / 100)
            earned_total += earned
            quantitative = ind.value_type == "quantitative"
            rows.append(
                {"target_line_id": line, "position": n,
                 "actual_value": self._value(ind, completion / 100) if quantitative else None,
                 "achievement": None if quantitative else ("achieved" if completion >= 90 else "partly"),
                 "rate": None, "shortfall_reason": "" if completion >= 100 else "受施工条件影响，部分任务延后",
                 "completion": completion, "available": available, "earned": earned}
            )  # fmt: skip
        score = _money(earned_total)
        graded = status != "draft"
        evaluation = c.owned(
            "self_evaluations", project_id=self.id, target_set_id=self.target_set, status=status,
            review_level="first" if status == "submitted" else None, budget_executed=executed,
            adjusted_budget=None, budget_reason="" if rate >= 90 else "部分合同尾款未到支付节点",
            summary=f"{self.title}年度目标基本完成", conclusion="项目绩效目标基本实现",
            problems="个别指标完成进度滞后", measures="加强项目过程管理",
            score=score if graded else None, grade=grade_of(score) if graded else None,
            submitted_by=c.editor if graded else None, submitted_at=_at(day) if graded else None,
            approved_at=_at(day + timedelta(days=12)) if status == "approved" else None,
            created_at=_at(day - timedelta(days=10)), updated_at=_at(day + timedelta(days=12)),
            lock_version=4 if status == "approved" else 2,
        )  # fmt: skip
        for row in rows:
            c.owned("self_evaluation_lines", evaluation_id=evaluation, **row)
        return score

    def key_evaluation(self, self_score: Decimal) -> tuple[Decimal, str] | None:
        """Some projects are chosen for 重点评价 (accepted with a grade); the others are skipped."""
        c = self.c
        status = self.here(4)
        chosen = self.rng.random() < 0.4 or (status != "approved" and self.rng.random() < 0.7)
        day = date(self.year + 1, 3, 20) + timedelta(days=self.rng.randrange(30))
        if not chosen:
            if status == "approved":
                c.owned(
                    "key_evaluations", project_id=self.id, status="skipped", evaluator_org_id=None,
                    findings="", recommendations="", report_evidence_id=None, score=None, grade=None,
                    skip_reason=SKIP_REASON, saved_by=None, submitted_by=None, submitted_at=None,
                    decided_by="nx.admin", decided_at=_at(day), created_at=_at(day), updated_at=_at(day),
                    lock_version=1,
                )  # fmt: skip
            return None
        share = min(Decimal("0.99"), self_score / 100 + Decimal(self.rng.choice((-8, -4, -2, 0, 2))) / 100)
        framework = DEFAULT_SETTINGS["key_evaluation"]["framework"]
        scores = [_money(Decimal(item["weight"]) * share) for item in framework]
        score = sum(scores, Decimal(0))
        state = {"approved": "accepted"}.get(status, status)
        written = state != "draft"
        evaluation = c.owned(
            "key_evaluations", project_id=self.id, status=state, evaluator_org_id=c.ctx.evaluator_org_id,
            findings="项目管理总体规范，个别产出指标完成滞后", recommendations="细化绩效目标，加强过程监控",
            report_evidence_id=None, score=score if written else None,
            grade=grade_of(score) if written else None, skip_reason="", saved_by="eval.ningping",
            submitted_by="eval.ningping" if written else None, submitted_at=_at(day) if written else None,
            decided_by="nx.admin" if state in ("accepted", "returned") else None,
            decided_at=_at(day + timedelta(days=10)) if state in ("accepted", "returned") else None,
            created_at=_at(day - timedelta(days=20)), updated_at=_at(day), lock_version=3,
        )  # fmt: skip
        for n, (item, value) in enumerate(zip(framework, scores, strict=True)):
            c.owned(
                "key_evaluation_items", evaluation_id=evaluation, project_id=self.id, position=n,
                dimension=item["dimension"], group=item["group"], item=item["item"],
                weight=Decimal(item["weight"]), score=value if written else None, basis="查阅资料、现场核查",
            )  # fmt: skip
        if state in ("accepted", "returned"):
            c.owned(
                "key_evaluation_decisions", evaluation_id=evaluation, project_id=self.id,
                decision="accept" if state == "accepted" else "return",
                opinion="同意评价结论" if state == "accepted" else "请补充现场核查记录",
                decided_by="nx.admin", decided_at=_at(day + timedelta(days=10)), snapshot=None,
            )  # fmt: skip
        return (score, grade_of(score)) if state == "accepted" else None

    def results(self, self_score: Decimal, key: tuple[Decimal, str] | None) -> None:
        """结果应用: the budget recommendation from the grade, a rectification notice (its items
        closed once the stage is approved), and disclosure of the finished ones."""
        c = self.c
        done = self.reached == 6
        decided = done or self.status != "draft" or self.rng.random() < 0.5
        grade, source = (key[1], "key_evaluation") if key else (grade_of(self_score), "self_evaluation")
        day = date(self.year + 1, 5, 10) + timedelta(days=self.rng.randrange(30))
        if decided:
            recommendation = DEFAULT_SETTINGS["result_application"]["recommendations"][grade]
            disclosed = done and self.rng.random() < 0.8
            c.owned(
                "result_applications", project_id=self.id, budget_recommendation=recommendation,
                suggested_recommendation=recommendation, recommendation_reason="", grade=grade,
                grade_source=source, disclosed=disclosed, disclosed_by=c.admin if disclosed else None,
                disclosed_at=_at(day + timedelta(days=30)) if disclosed else None,
                public_self_score=self_score if disclosed else None,
                public_self_grade=grade_of(self_score) if disclosed else None,
                public_key_grade=key[1] if disclosed and key else None,
                public_findings="项目管理总体规范" if disclosed else "", decided_by=c.admin,
                decided_at=_at(day), lock_version=2 if disclosed else 1,
            )  # fmt: skip
        if not decided or self.rng.random() < 0.3:
            return
        notice = c.owned(
            "rectification_notices", project_id=self.id, text="根据评价结果，请对以下问题限期整改",
            issued_by=c.admin, issued_at=_at(day + timedelta(days=1)),
        )  # fmt: skip
        for n in range(self.rng.randrange(1, 4)):
            status = "closed" if done else self.rng.choice(("open", "open", "answered", "closed"))
            item = c.owned(
                "rectification_items", notice_id=notice, project_id=self.id, position=n,
                text=("完善项目管理制度", "加快预算执行进度", "细化绩效指标", "补充佐证材料")[n],
                deadline=day + timedelta(days=30), status=status,
                closed_by=c.admin if status == "closed" else None,
                closed_at=_at(day + timedelta(days=25)) if status == "closed" else None,
                lock_version={"open": 1, "answered": 2, "closed": 3}[status],
            )  # fmt: skip
            thread = [] if status == "open" else [("reply", c.editor, "已按要求完成整改")]
            if status == "closed":
                thread.append(("close", c.admin, "整改到位，同意销号"))
            for m, (action, author, text) in enumerate(thread):
                c.owned(
                    "rectification_entries", item_id=item, action=action, text=text, evidence_ids=[],
                    author=author, written_at=_at(day + timedelta(days=10 + 10 * m)),
                )  # fmt: skip
