"""What the report builders share: the reading context (the walled session, the actor, the day on
the province's calendar, people by display name), values as the other exports print them (money in
万元, percents, dates in the province's time zone, file sizes), the sentences a stage says when it
has not got that far, and the few figures of a project that both the pilot report's overview and
the briefing (专报) count (no Flask)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from jixiao.platform.core.actor import Actor
from jixiao.platform.core.documents.model import Paragraph
from jixiao.platform.core.runtime import current_runtime
from jixiao.platform.core.xlsx import person, wan
from jixiao.services.evaluation import service as self_evaluation
from jixiao.services.evaluation.key import service as key_service
from jixiao.services.evaluation.models import SelfEvaluation
from jixiao.services.monitoring.service import rounds_of
from jixiao.services.notifications.service import display_names
from jixiao.services.programs.models import STAGE_NAMES, STAGES
from jixiao.services.projects.models import STAGE_STATUS_NAMES, Project
from jixiao.tenants.models import Tenant

CENT = Decimal("0.01")
HUNDRED = Decimal(100)
GRADES = ("优", "良", "中", "差")
NOT_STARTED = "本阶段尚未开展。"
CLOSED = "项目已终止，本阶段未开展。"


# --- values as the exports print them ---------------------------------------------------------


def zone() -> ZoneInfo:
    return ZoneInfo(current_runtime().settings.timezone)


def local_day(moment: datetime) -> date:
    """The calendar day of `moment` in the province's time zone (naive moments are UTC)."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(zone()).date()


def day_text(moment: datetime | date | None) -> str:
    """2026 年 3 月 5 日 — a stored moment on the province's calendar."""
    if moment is None:
        return ""
    day = local_day(moment) if isinstance(moment, datetime) else moment
    return f"{day.year} 年 {day.month} 月 {day.day} 日"


def when(moment: datetime | None) -> str:
    """2026-03-05 14:30 in the province's time zone."""
    if moment is None:
        return ""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(zone()).strftime("%Y-%m-%d %H:%M")


def money(yuan: Decimal | int | str | None) -> str:
    """1,250,000 yuan → 125.00 万元 (two decimals, half-up, as the tables print it)."""
    amount = wan(yuan)
    return "" if amount is None else f"{amount:,.2f} 万元"


def two(value: Decimal | int | str | None) -> str:
    return (
        ""
        if value is None or value == ""
        else f"{Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)}"
    )


def pct(value: Decimal | int | str | None) -> str:
    """A percent already in percent (87.5 → 87.50%)."""
    return "" if value is None or value == "" else f"{two(value)}%"


def rate(part: Decimal | None, whole: Decimal | None) -> Decimal | None:
    """part / whole in percent (None without a positive whole or a part)."""
    if part is None or whole is None or whole <= 0:
        return None
    return (Decimal(part) / Decimal(whole) * HUNDRED).quantize(CENT, rounding=ROUND_HALF_UP)


def size_text(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / 1024 / 1024:.1f} MB"


def full_name(tenant: Tenant) -> str:
    """宁夏回族自治区银川市兴庆区: the names from the province down."""
    names = []
    current: Tenant | None = tenant
    while current is not None:
        names.append(current.name)
        current = current.parent
    return "".join(reversed(names))


def text_or(value: str | None, fallback: str = "（未填写）") -> str:
    return (value or "").strip() or fallback


# --- reading ----------------------------------------------------------------------------------


@dataclass
class Context:
    """What every builder reads through: the actor's walled session, the day of the report on the
    province's calendar, and the people named (display names looked up once each)."""

    session: Session
    actor: Actor
    today: date
    _names: dict[str, str] = field(default_factory=dict)

    def learn(self, usernames: Iterable[str | None]) -> None:
        wanted = [u for u in usernames if u and u not in self._names]
        if wanted:
            self._names.update(display_names(self.session, wanted))

    def person(self, username: str | None) -> str:
        """`显示名（username）`, as the exports name people."""
        if username and username not in self._names:
            self.learn([username])
        return person(username, self._names)


def stage_status(project: Project, stage: str) -> str:
    return project.stage_row(stage).status


def not_reached(project: Project, *stages: str) -> Paragraph | None:
    """The sentence a sub-report shows instead of its content when none of its stages has opened
    (None when one has)."""
    if any(stage_status(project, stage) != "locked" for stage in stages):
        return None
    return Paragraph(CLOSED if project.status == "closed" else NOT_STARTED, "note")


def reached(project: Project) -> str:
    """Where the project stands: 结果应用（已通过）, 已终止（事前评估）…"""
    if project.status == "closed":
        return f"已终止（{STAGE_NAMES.get(project.stage, project.stage)}）"
    if all(row.status == "approved" for row in project.stages):
        return "全流程已完成"
    row = project.stage_row(project.stage)
    return (
        f"{STAGE_NAMES.get(project.stage, project.stage)}（{STAGE_STATUS_NAMES.get(row.status, row.status)}）"
    )


@dataclass(frozen=True)
class Summary:
    """The headline figures of one project, as read through its stages' services."""

    project: Project
    reached: str
    self_status: str | None  # the self-evaluation's status (None: none written)
    self_score: Decimal | None
    self_grade: str | None
    key_status: str | None  # the key evaluation's status (None: none written)
    key_score: Decimal | None
    key_grade: str | None
    key_findings: str
    self_problems: str
    budget: Decimal  # the budget the execution is measured against
    executed: Decimal | None  # the self-evaluation's 预算执行数, else the latest round's

    @property
    def execution_rate(self) -> Decimal | None:
        return rate(self.executed, self.budget)

    @property
    def final_self_grade(self) -> str | None:
        return self.self_grade if self.self_status == "approved" else None

    @property
    def final_key_grade(self) -> str | None:
        return self.key_grade if self.key_status == "accepted" else None

    def stage_done(self, stage: str) -> bool:
        return stage_status(self.project, stage) == "approved"

    def stage_reached(self, stage: str) -> bool:
        return stage_status(self.project, stage) not in ("locked",)


def summarise(session: Session, project: Project) -> Summary:
    own: SelfEvaluation | None = self_evaluation.find(session, project)
    key = key_service.find(session, project)
    executed: Decimal | None = None
    budget = project.budget_amount
    if own is not None and own.budget_executed is not None:
        executed, budget = own.budget_executed, self_evaluation.budget_of(project, own)
    else:
        rounds = rounds_of(session, project)
        if rounds:
            executed = rounds[-1].budget_executed
    return Summary(
        project=project,
        reached=reached(project),
        self_status=own.status if own is not None else None,
        self_score=own.score if own is not None else None,
        self_grade=own.grade if own is not None else None,
        key_status=key.status if key is not None else None,
        key_score=key.score if key is not None and key.status != "skipped" else None,
        key_grade=key.grade if key is not None and key.status != "skipped" else None,
        key_findings=(key.findings or "").strip() if key is not None and key.status == "accepted" else "",
        self_problems=(own.problems or "").strip() if own is not None and own.status == "approved" else "",
        budget=budget,
        executed=executed,
    )


def ordered_stages() -> list[tuple[str, str]]:
    return [(stage, STAGE_NAMES[stage]) for stage in STAGES]
