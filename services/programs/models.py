"""Pilot program models (DESIGN.md §5 "Pilot program")."""

from __future__ import annotations

import copy
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    ColumnElement,
    Date,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
    column,
    false,
    or_,
    select,
    table,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from jixiao.platform.core.actor import Actor
from jixiao.platform.core.db import Base, utcnow
from jixiao.platform.core.tenancy import TenantOwned, in_reach
from jixiao.tenants.models import Tenant

STAGES = ("assessment", "targets", "monitoring", "self_evaluation", "evaluation", "result_application")
STAGE_NAMES = {
    "assessment": "事前评估",
    "targets": "绩效目标",
    "monitoring": "跟踪监控",
    "self_evaluation": "自评",
    "evaluation": "重点评价",
    "result_application": "结果应用",
}

# The configurable numbers of DESIGN.md §6 (*default*), per program.
DEFAULT_SETTINGS: dict[str, Any] = {
    "max_projects_per_tenant": 2,
    "target_weights_total": 100,
    "max_target_lines": 100,  # lines of one target set (422 beyond)
    "monitoring": {
        "periods": [3, 9],  # the months of the monitoring rounds (a round per period: 2027-03, 2027-09)
        "completion_green": 90,  # ≥ 90 % green
        "completion_yellow": 70,  # 70–90 % yellow, below red
        "budget_lag_yellow": 10,  # execution below time progress by more than 10 points: yellow
        "budget_lag_red": 20,  # … more than 20 points: red
    },
    "self_evaluation": {
        "budget_points": 10,
        "indicator_points": {"产出": 50, "效益": 30, "满意度": 10},
        "cost_counts_in": "产出",
        "qualitative_midpoints": {"achieved": 90, "partly": 70, "not_achieved": 30},
    },
    # 联审: the chains (of the targets, of the self-evaluation) that a granted third-party evaluator
    # reviews after 复核 — *default* none
    "joint_review": {"stages": []},
    # deadline reminders: days before a stage deadline (one reminder per threshold), and once overdue
    "reminders": {"days_before": [3]},
    "evidence": {
        "max_size_mib": 200,
        "allowed_types": ["pdf", "doc", "docx", "xls", "xlsx", "jpg", "png", "zip"],
        "required_purposes": {},
    },
    # 重点评价: the framework the key evaluation's form starts from (the Ministry's 决策 15, 过程 15,
    # 产出 35, 效益 35 with its second-level items; the evaluator may adapt it) and the gap (points)
    # between the key and the self-evaluation that the comparison flags (services/evaluation/key)
    "key_evaluation": {
        "framework": [
            {"dimension": "决策", "group": "项目立项", "item": "立项依据充分性", "weight": 3},
            {"dimension": "决策", "group": "项目立项", "item": "立项程序规范性", "weight": 2},
            {"dimension": "决策", "group": "绩效目标", "item": "绩效目标合理性", "weight": 3},
            {"dimension": "决策", "group": "绩效目标", "item": "绩效指标明确性", "weight": 2},
            {"dimension": "决策", "group": "资金投入", "item": "预算编制科学性", "weight": 3},
            {"dimension": "决策", "group": "资金投入", "item": "资金分配合理性", "weight": 2},
            {"dimension": "过程", "group": "资金管理", "item": "资金到位率", "weight": 3},
            {"dimension": "过程", "group": "资金管理", "item": "预算执行率", "weight": 3},
            {"dimension": "过程", "group": "资金管理", "item": "资金使用合规性", "weight": 3},
            {"dimension": "过程", "group": "组织实施", "item": "管理制度健全性", "weight": 3},
            {"dimension": "过程", "group": "组织实施", "item": "制度执行有效性", "weight": 3},
            {"dimension": "产出", "group": "", "item": "产出数量", "weight": 10},
            {"dimension": "产出", "group": "", "item": "产出质量", "weight": 10},
            {"dimension": "产出", "group": "", "item": "产出时效", "weight": 8},
            {"dimension": "产出", "group": "", "item": "产出成本", "weight": 7},
            {"dimension": "效益", "group": "项目效益", "item": "经济效益", "weight": 7},
            {"dimension": "效益", "group": "项目效益", "item": "社会效益", "weight": 7},
            {"dimension": "效益", "group": "项目效益", "item": "生态效益", "weight": 7},
            {"dimension": "效益", "group": "项目效益", "item": "可持续影响", "weight": 7},
            {"dimension": "效益", "group": "满意度", "item": "服务对象满意度", "weight": 7},
        ],
        "gap_warning": 10,
    },
    # 结果应用: the budget recommendation suggested for each grade (prioritise 优先保障, improve 督促改进,
    # reduce 削减, cancel 取消); finance may choose another one with a reason (services/results)
    "result_application": {
        "recommendations": {"优": "prioritise", "良": "improve", "中": "reduce", "差": "cancel"},
    },
    # 验收: the checklist the province scores a pilot report on (items and maximum points) and the
    # pass mark (services/reports)
    "acceptance": {
        "checklist": [
            {"item": "事前绩效评估", "max": 15},
            {"item": "绩效目标管理", "max": 20},
            {"item": "绩效跟踪监控", "max": 20},
            {"item": "绩效评价", "max": 20},
            {"item": "结果应用", "max": 15},
            {"item": "资料完整性", "max": 10},
        ],
        "pass_mark": 60,
    },
    # 目标值参考 (services/targets/suggestions): a distribution of other tenants' approved targets, or
    # a starting set of indicators, is shown only when at least this many tenants make it up (≥ 2)
    "suggestions": {"min_tenants": 5},
}
# A program's deadlines: one per stage, and the pilot report's (试点报告; else the program's end).
DEADLINE_NAMES = {**STAGE_NAMES, "pilot_report": "试点报告"}


def merged_settings(overrides: dict[str, Any] | None) -> dict[str, Any]:
    """The defaults with a program's overrides laid over them (dicts merge, values replace)."""
    result = copy.deepcopy(DEFAULT_SETTINGS)

    def merge(into: dict[str, Any], src: dict[str, Any]) -> None:
        for key, value in src.items():
            if isinstance(value, dict) and isinstance(into.get(key), dict):
                merge(into[key], value)
            else:
                into[key] = copy.deepcopy(value)

    merge(result, overrides or {})
    return result


class ProgramTenant(Base):
    """A tenant taking part in a program."""

    __tablename__ = "program_tenants"
    __table_args__ = (UniqueConstraint("program_id", "tenant_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id", ondelete="CASCADE"), index=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="RESTRICT"), index=True)

    tenant: Mapped[Tenant] = relationship(lazy="joined", viewonly=True)


class Program(TenantOwned, Base):
    """A pilot program owned by the province; readable by the province's subtree and by every
    participating tenant."""

    __tablename__ = "programs"
    __wall_project__ = None  # an evaluator's programs: `wall_granted_criteria` below
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)
    __wall_abstract__ = False

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    start: Mapped[date] = mapped_column(Date)
    end: Mapped[date] = mapped_column(Date)
    max_projects_per_tenant: Mapped[int] = mapped_column(Integer, default=2)
    deadlines: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)  # stage → ISO date
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # overrides of DEFAULT_SETTINGS
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    # loaded when read (a big province's program has thousands): every query that loads a project or
    # a report brings its program, which reads its participants only on the programs' own pages;
    # lists that show them load them (`selectinload`)
    participants: Mapped[list[ProgramTenant]] = relationship(cascade="all, delete-orphan")

    __mapper_args__ = {"version_id_col": version}

    @property
    def effective_settings(self) -> dict[str, Any]:
        return merged_settings(self.settings)

    @classmethod
    def wall_granted_criteria(cls, project_ids: list[int]) -> ColumnElement[bool]:
        """An evaluator reads the programs of the projects it holds a grant on (the projects depend
        on the programs, so their table is named here rather than imported)."""
        if not project_ids:
            return false()
        projects = table("projects", column("id"), column("program_id"))
        return cls.id.in_(select(projects.c.program_id).where(projects.c.id.in_(project_ids)))

    @classmethod
    def wall_read_criteria(cls, actor: Actor) -> ColumnElement[bool]:
        if actor.is_evaluator:
            return cls.wall_granted_criteria(sorted(actor.granted_project_ids))
        own = in_reach(cls.tenant_id, actor)
        if actor.tenant_id is None:
            return own
        taking_part = select(ProgramTenant.program_id).where(in_reach(ProgramTenant.tenant_id, actor))
        return or_(own, cls.id.in_(taking_part))
