"""What the finished program's two projects say: realistic figures for a year of work (DEMO.md,
"one finished program of last year"). Lines name starter-library indicators (`library`) or are the
project's own (`custom`); each line carries its target and its values in March, September and at
the year's end, so monitoring, self-evaluation and the key evaluation tell one story."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any


def program_name(year: int) -> str:
    return f"{year}年度预算绩效一体化管理试点示范"


@dataclass(frozen=True)
class Line:
    """A target line: a library indicator by name, or a custom one (`custom` carries its fields).
    `march`/`september` are (planned, actual) stage values; a qualitative line's actuals are an
    achievement (achieved / partly / not_achieved)."""

    name: str
    target: str
    weight: int
    march: tuple[str, str]
    september: tuple[str, str]
    final: str
    custom: dict[str, str] | None = None
    note: str = ""
    # a yellow or red line in a round: why, and what is done about it (FORMS.md)
    march_reason: tuple[str, str, str, str] | None = None  # reason, measure, category, likelihood
    september_reason: tuple[str, str, str, str] | None = None
    shortfall: str = ""  # the self-evaluation's reason where the year's end falls short


@dataclass(frozen=True)
class Showcase:
    tenant: str  # the tenant's code; its users are `<prefix>.editor`, `.dept`, `.admin`
    prefix: str
    project: dict[str, Any]
    overall_goal: str
    lines: list[Line]
    budget_executed: tuple[str, str, str]  # March, September, year's end
    correction: dict[str, str]  # kind, text, reply, close opinion
    self_texts: dict[str, str]
    key_rate: Decimal  # the evaluator's scores: this share of each item's weight
    key_texts: dict[str, str]
    rectification: list[tuple[str, str]] = field(default_factory=list)  # (item, reply)
    disclose: bool = True


XINGQING = Showcase(
    tenant="640104",
    prefix="xq",
    project={
        "name": "兴庆区社区养老服务中心建设工程",
        "department": "兴庆区民政局",
        "implementing_unit": "兴庆区社会福利服务中心",
        "budget_amount": "12800000.00",
        "fund_source": "一般公共预算",
        "project_class": "工程基建",
        "serves_public": True,
    },
    overall_goal=(
        "年内建成社区养老服务中心 1 处（建筑面积 3200 平方米），新增养老床位 120 张，"
        "工程一次验收合格、按期交付，受益群众满意度不低于 90%。"
    ),
    lines=[
        Line(
            "新建建筑面积",
            "3200",
            20,
            ("800", "400"),
            ("2400", "2500"),
            "3260",
            note="按施工合同约定的建筑面积",
            march_reason=(
                "一季度持续低温，主体结构施工推迟约一个月",
                "4 月起增加两个施工班组，实行双班作业，6 月底前追回进度",
                "其他",
                "确定能",
            ),
        ),
        Line("项目竣工验收合格率", "100", 10, ("100", "100"), ("100", "100"), "100"),
        Line(
            "工程按期完工率",
            "100",
            10,
            ("100", "100"),
            ("100", "100"),
            "95",
            shortfall="室外附属工程延期半个月",
        ),
        Line("项目总成本控制率", "100", 10, ("100", "98"), ("100", "99"), "97.5"),
        Line("安全生产事故发生次数", "0", 10, ("0", "0"), ("0", "0"), "0"),
        Line(
            "新增养老床位数",
            "120",
            20,
            ("30", "30"),
            ("90", "95"),
            "120",
            custom={
                "level2": "社会效益",
                "value_type": "quantitative",
                "direction": ">=",
                "unit": "张",
                "value_basis": "计划标准",
            },
            note="民政部门核定的床位数",
        ),
        Line("受益群众满意度", "90", 20, ("90", "91"), ("90", "93"), "94"),
    ],
    budget_executed=("3000000.00", "9800000.00", "12350000.00"),
    correction={
        "kind": "纠偏",
        "text": "新建建筑面积完成率不足 70%，请制定赶工计划，说明追赶进度的具体措施并按期答复",
        "reply": "已与施工单位签订赶工协议，增加两个施工班组双班作业，预计 6 月底前追回进度",
        "close": "赶工措施已落实，进度恢复正常，同意关闭",
    },
    self_texts={
        "summary": "社区养老服务中心按期建成并通过竣工验收，新增养老床位 120 张，受益群众满意度 94%",
        "conclusion": "项目绩效目标全面完成，资金使用规范，总体评价为优",
        "problems": "室外附属工程较计划延期半个月",
        "measures": "后续工程项目在编制施工计划时充分考虑冬季施工条件",
    },
    key_rate=Decimal("0.93"),
    key_texts={
        "findings": "项目立项依据充分，资金管理规范，产出与效益目标全面实现；个别附属工程存在延期。",
        "recommendations": "建立冬季施工预案，进一步细化工程进度计划的考核。",
    },
    rectification=[
        (
            "完善工程进度计划管理制度，明确冬季施工预案",
            "已印发《工程项目进度计划管理办法》，增加冬季施工预案章节",
        ),
    ],
)

XIXIA = Showcase(
    tenant="640105",
    prefix="xx",
    project={
        "name": "西夏区基层农技人员能力提升培训项目",
        "department": "西夏区农业农村局",
        "implementing_unit": "西夏区农业技术推广服务中心",
        "budget_amount": "360000.00",
        "fund_source": "一般公共预算",
        "project_class": "培训",
        "serves_public": True,
    },
    overall_goal="全年举办农技人员业务培训 8 期、培训 600 人次，参训人员合格率不低于 95%，基层农技服务能力明显提升。",
    lines=[
        Line(
            "参训人数",
            "600",
            25,
            ("150", "90"),
            ("450", "400"),
            "480",
            march_reason=(
                "春耕备耕期间基层农技人员下乡指导任务重，一期培训延期",
                "调整培训时间至农闲时段，增加线上培训班次",
                "人员保障",
                "有可能",
            ),
            september_reason=(
                "夏季田间管理任务重，部分乡镇参训人数不足",
                "10 月农闲时段集中加开两期培训",
                "人员保障",
                "有可能",
            ),
            shortfall="基层农技人员田间任务重，部分期次参训人数不足",
        ),
        Line("培训期数", "8", 10, ("2", "2"), ("6", "6"), "7", shortfall="一期培训因疫情防控要求取消"),
        Line(
            "参训人员合格率", "95", 15, ("95", "96"), ("95", "94"), "90", shortfall="新入职人员考核合格率偏低"
        ),
        Line("人均培训成本", "380", 10, ("380", "375"), ("380", "395"), "410", shortfall="外聘专家课酬上涨"),
        Line(
            "参训人员业务能力提升",
            "明显提升",
            20,
            ("", "achieved"),
            ("", "partly"),
            "partly",
            september_reason=(
                "实操类课程课时不足，部分学员田间技术应用能力提升不明显",
                "增加田间实操课程，组织专家下乡跟踪指导",
                "其他",
                "有可能",
            ),
        ),
        Line(
            "参训人员满意度",
            "90",
            20,
            ("90", "92"),
            ("90", "88"),
            "86",
            shortfall="部分课程内容与生产实际结合不够",
        ),
    ],
    budget_executed=("60000.00", "250000.00", "300000.00"),
    correction={
        "kind": "约谈",
        "text": "参训人数完成率仅 60%，请项目单位负责人说明原因，并提交调整后的培训计划",
        "reply": "已约谈项目单位负责人，培训时间调整至农闲时段，并增开线上培训班",
        "close": "培训计划已调整，同意关闭",
    },
    self_texts={
        "summary": "全年举办培训 7 期、培训 480 人次，参训人员合格率 90%，满意度 86%",
        "conclusion": "项目绩效目标基本完成，参训规模和满意度未达预期，总体评价为良",
        "problems": "参训人数不足，人均培训成本偏高，部分课程与生产实际结合不够",
        "measures": "优化培训时间安排，控制外聘专家费用，按需设置课程",
    },
    key_rate=Decimal("0.82"),
    key_texts={
        "findings": "培训组织较规范，但参训人数、期数未完成年度目标，人均培训成本超出标准。",
        "recommendations": "按农时合理安排培训，严格执行培训费管理办法，加强培训需求调研。",
    },
    rectification=[
        ("严格执行培训费管理办法，控制人均培训成本", "已修订培训经费管理细则，外聘专家课酬按标准执行"),
        ("开展培训需求调研，优化课程设置", "已完成全区农技人员培训需求问卷调查，调整课程 6 门"),
    ],
)

SHOWCASES = (XINGQING, XIXIA)
