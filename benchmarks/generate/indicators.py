"""A province-scale indicator library (issue 17 item 2): N indicators (100,000 for the search
benchmark) over the demo province's own 28 tenants — 宁夏 (the shared library), its 5 cities and 22
counties (DEMO.md) — the way a province's libraries grow: each tenant keeps thousands, named the
way finance bureaus name them, `{year}{subject}{phase}{metric}`, e.g.
`2025年乡村教师培训（二期）参训人员合格率` — a subject of one of the starter library's groups
(`services/indicators/data/starter_library.json`: 培训, 会议, 信息化建设 …), then one of that
group's starter indicators (whose level-2 node, unit, direction, standard value and explanation it
takes) or a generic metric (完成率, 合格率, 满意度 …).

Bulk Core inserts in one system session per tenant; pinyin keys as the app computes them (per
name part, cached: a full name's `lazy_pinyin` costs a millisecond here); codes continue each
owner's numbering (`{owner}-{CC|IN}-{seq}`); about 6 % retired. Deterministic and incremental:
the tenants are topped up to their share of N, each drawing from its own seeded sequence and
skipping the names it already has, so a top-up gives the same library as one run. No version
snapshots or audit events (the search reads neither).

    .venv/bin/python -m benchmarks.generate --tenants 0 --indicators 100000 \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/jixiao_bench_search
"""

from __future__ import annotations

import json
import random
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from pypinyin import Style, lazy_pinyin
from sqlalchemy import create_engine, func, insert, select, text
from sqlalchemy.pool import NullPool

from jixiao.platform.core.db import Database, utcnow
from jixiao.services.indicators.demo import STARTER_LIBRARY
from jixiao.services.indicators.models import FrameworkNode, Indicator
from jixiao.tenants.divisions import NINGXIA
from jixiao.tenants.models import Tenant

SYSTEM = "benchmark: indicator library generator"
WEIGHTS = {"province": 60, "city": 40, "county": 34}  # 100k: ~5,950 shared, ~3,970 a city, ~3,370 a county
RETIRED_SHARE = 0.06
YEARS = ("", "", "2023年", "2024年", "2025年", "2026年")
PHASES = ("", "", "（一期）", "（二期）", "（三期）")

# What a tenant's indicators are about, by starter-library group (common_class, or category for
# the individual ones; "部门整体" for the department-scope ones that have neither).
SUBJECTS: dict[str, tuple[str, ...]] = {
    "会议": ("全县经济工作会议", "党风廉政建设工作会议", "安全生产工作会议", "乡村振兴推进会", "招商引资推介会",
           "农业农村工作会议", "教育工作会议", "卫生健康工作会议", "财政工作会议", "民营企业家座谈会",
           "人大代表座谈会", "文化旅游发展大会"),
    "培训": ("基层农技人员培训", "乡村教师培训", "村医业务培训", "退役军人技能培训", "家政服务员培训",
           "高素质农民培训", "创业能力培训", "财会人员继续教育培训", "党员干部教育培训", "特种作业人员培训",
           "应急管理培训", "预算绩效管理培训"),
    "设备购置": ("医疗设备", "教学仪器设备", "办公设备", "农机具", "环境监测设备", "应急救援装备",
             "消防车辆及器材", "实验室设备", "信息化终端设备", "执法记录仪", "体育器材", "图书及阅览设备"),
    "信息化建设": ("智慧政务服务平台", "基层医疗卫生信息系统", "预算管理一体化系统", "智慧校园", "数字乡村平台",
              "社会救助信息系统", "视频监控联网平台", "电子证照系统", "政务服务热线系统",
              "不动产登记信息平台", "农产品质量追溯系统", "智慧水务平台"),
    "工程基建": ("社区养老服务中心", "乡镇卫生院业务用房", "城区雨污分流管网", "中小学教学楼", "公共租赁住房",
             "体育公园", "污水处理厂提标改造", "垃圾中转站", "城市供热管网", "农贸市场", "便民服务中心",
             "消防站"),
    "大型修缮": ("机关办公楼", "中小学校舍", "乡镇卫生院", "敬老院", "文化馆", "图书馆", "老旧小区",
             "村级活动场所", "儿童福利院", "全民健身中心", "档案馆", "人民医院门诊楼"),
    "政府购买服务": ("居家养老上门服务", "社区矫正辅助服务", "公共法律服务", "物业管理服务", "环卫保洁服务",
               "心理健康服务", "残疾人康复服务", "就业创业指导服务", "公共文化服务", "第三方绩效评价服务",
               "审计服务", "安保服务"),
    "专项补助": ("农业生产救灾补助", "耕地地力保护补贴", "城乡困难群众临时救助", "残疾人两项补贴", "高龄津贴",
             "农机购置补贴", "住房租赁补贴", "创业担保贷款贴息", "孤儿基本生活保障", "特困人员供养",
             "产粮大县奖励", "畜牧良种补贴"),
    "教育": ("义务教育薄弱环节改善", "学生营养改善计划", "学前教育发展", "普通高中改造", "职业教育质量提升",
           "家庭经济困难学生资助", "乡村教师支持计划", "中小学校舍安全", "特殊教育", "民族教育", "校园安全",
           "教育信息化"),
    "卫生健康": ("基本公共卫生服务", "重大传染病防控", "妇幼健康服务", "家庭医生签约服务", "基层医疗机构能力提升",
             "中医药传承发展", "老年健康服务", "计划生育扶助", "疾病预防控制", "村卫生室建设", "医疗救助",
             "健康乡村建设"),
    "农业农村": ("高标准农田建设", "农村人居环境整治", "设施农业发展", "肉牛滩羊产业发展", "枸杞产业提质增效",
             "农村饮水安全巩固提升", "农业社会化服务", "现代农业产业园", "农产品产地冷藏保鲜设施", "盐碱地改良",
             "村集体经济发展", "乡村振兴示范村"),
    "交通运输": ("农村公路提级改造", "城乡客运一体化", "国省干线养护", "农村公路危桥改造", "乡镇客运站",
             "县乡道安全生命防护工程", "农村物流服务体系", "城市公交", "公路灾害防治", "旅游公路",
             "资源路产业路", "村组道路硬化"),
    "生态环境": ("黄河支流水污染综合防治", "大气污染防治", "土壤污染防治", "水土保持综合治理", "天然林保护",
             "湿地保护与修复", "国土绿化", "防沙治沙", "农村生活污水治理", "饮用水水源地保护",
             "重点流域水环境治理", "生态环境监测能力建设"),
    "社会保障和就业": ("就业创业补贴", "城乡居民基本养老保险", "城乡低保", "公益性岗位开发", "职业技能提升行动",
                "农民工返乡创业", "高校毕业生就业", "退役军人安置", "工伤保险", "失业保险稳岗返还", "残疾人就业",
                "零就业家庭帮扶"),
    "部门整体": ("部门整体支出", "机关运行", "预算管理", "资产管理", "财务管理", "政府采购管理", "内部控制建设",
             "绩效管理", "政务信息公开", "重点工作推进", "公用经费管理", "专项资金管理"),
}  # fmt: skip

# Metrics any subject takes: (metric, level-2 node, unit, direction, standard value, how it is counted).
GENERIC: tuple[tuple[str, str, str, str, str, str], ...] = (
    ("完成率", "数量", "%", ">=", "95", "实际完成的工作量占计划工作量的比例"),
    ("合格率", "质量", "%", ">=", "95", "验收或考核合格的数量占总数的比例"),
    ("按期完成率", "时效", "%", ">=", "95", "按计划时限完成的任务数占任务总数的比例"),
    ("资金到位率", "时效", "%", ">=", "100", "实际到位资金占计划安排资金的比例"),
    ("成本节约率", "经济成本", "%", ">=", "3", "实际成本较预算成本节约的比例"),
    ("受益对象满意度", "服务对象满意度", "%", ">=", "90", "抽样调查受益对象中表示满意的比例"),
)  # fmt: skip


@dataclass
class Generated:
    before: int
    after: int
    seconds: float


@dataclass(frozen=True)
class _Metric:
    name: str
    group: str
    fields: dict[str, Any]  # the indicator's columns besides name, code, owner and pinyin


def _metrics(level2_ids: dict[str, int]) -> dict[str, list[_Metric]]:
    """The starter library's indicators, and the generic metrics, by group."""
    data = json.loads(STARTER_LIBRARY.read_text(encoding="utf-8"))
    found: dict[str, list[_Metric]] = defaultdict(list)
    for row in data["indicators"]:
        group = row["common_class"] or row["category"] or "部门整体"
        fields = {k: row[k] for k in ("category", "common_class", "kind", "scope", "explanation", "source",
                                      "value_type", "direction", "unit", "standard_value", "value_basis",
                                      "historical_values")}  # fmt: skip
        fields["level2_id"] = level2_ids[row["level2"]]
        found[group].append(_Metric(row["name"], group, fields))
    for group, metrics in list(found.items()):
        first = metrics[0].fields
        for name, level2, unit, direction, value, how in GENERIC:
            fields = {
                **first,
                "level2_id": level2_ids[level2],
                "value_type": "quantitative",
                "direction": direction,
                "unit": unit,
                "standard_value": value,
                "value_basis": "计划标准",
                "explanation": f"{how}。",
                "source": "项目实施方案及验收、考核资料",
                "historical_values": {},
            }
            found[group].append(_Metric(name, group, fields))
    return dict(found)


class _Pinyin:
    """Pinyin keys of a name from those of its parts (cached): what `pinyin_keys` gives, but for
    the rare polyphone read differently across a part's edge."""

    def __init__(self) -> None:
        self.parts: dict[str, tuple[str, str]] = {}

    def part(self, text_: str) -> tuple[str, str]:
        keys = self.parts.get(text_)
        if keys is None:
            keys = (
                "".join(lazy_pinyin(text_)).lower(),
                "".join(lazy_pinyin(text_, style=Style.FIRST_LETTER)).lower(),
            )
            self.parts[text_] = keys
        return keys

    def __call__(self, *parts: str) -> tuple[str, str]:
        keys = [self.part(p) for p in parts if p]
        return "".join(k[0] for k in keys), "".join(k[1] for k in keys)


def _quotas(tenants: list[tuple[int, str, str]], total: int) -> dict[int, int]:
    """Each tenant's share of `total` (province > city > county), summing to `total`."""
    weights = {ident: WEIGHTS[level] for ident, _, level in tenants}
    whole = sum(weights.values())
    quotas = {ident: total * w // whole for ident, w in weights.items()}
    for ident, _, _ in tenants[: total - sum(quotas.values())]:
        quotas[ident] += 1
    return quotas


def _next_seq(codes: list[str]) -> int:
    return max((int(c.rsplit("-", 1)[1]) for c in codes), default=0) + 1


def _rows_for(
    tenant: tuple[int, str, str],
    need: int,
    existing: set[str],
    codes: dict[str, list[str]],
    metrics: dict[str, list[_Metric]],
    pinyin: _Pinyin,
    seed: int,
) -> list[dict[str, Any]]:
    ident, code, level = tenant
    rng = random.Random(f"{seed}-{code}")
    groups = sorted(SUBJECTS)
    seq = {kind: _next_seq(codes.get(kind, [])) for kind in ("CC", "IN")}
    now = utcnow()
    rows: list[dict[str, Any]] = []
    tries = 0
    while len(rows) < need:
        tries += 1
        if tries > 50 * need + 10_000:
            raise RuntimeError(f"{code}: not enough distinct names for {need} more indicators")
        group = rng.choice(groups)
        subject, year, phase = rng.choice(SUBJECTS[group]), rng.choice(YEARS), rng.choice(PHASES)
        metric = rng.choice(metrics[group])
        retired, days_ago = rng.random() < RETIRED_SHARE, rng.randint(1, 700)  # drawn for every name
        name = f"{year}{subject}{phase}{metric.name}"
        if name in existing:
            continue
        existing.add(name)
        full, initials = pinyin(year, subject, phase, metric.name)
        kind = "CC" if metric.fields["kind"] == "common" else "IN"
        fields = dict(metric.fields)
        fields["explanation"] = f"{subject}{phase}：{fields['explanation']}"
        rows.append(
            {
                **fields,
                "tenant_id": ident,
                "code": f"{code}-{kind}-{seq[kind]:04d}",
                "name": name,
                "name_pinyin": full,
                "name_initials": initials,
                "shared": level == "province",
                "status": "retired" if retired else "active",
                "retired_reason": "指标口径调整，已由新指标替代" if retired else None,
                "retired_at": now - timedelta(days=days_ago) if retired else None,
                "derived_from_id": None,
                "origin_id": None,
                "version": 1,
                "created_at": now,
                "updated_at": now,
            }
        )
        seq[kind] += 1
    return rows


def generate_indicators(db: Database, total: int, *, seed: int = 2026, batch: int = 2000) -> Generated:
    """Top the library of the demo province's 28 tenants up to `total` indicators in all (the
    starter library and any other indicator count); prints progress."""
    codes = [code for code, _, _, _ in NINGXIA]
    with db.transaction(system=SYSTEM) as s:
        before = s.execute(select(func.count()).select_from(Indicator)).scalar_one()
        tenants = [
            (ident, code, level)
            for ident, code, level in s.execute(
                select(Tenant.id, Tenant.code, Tenant.level)
                .where(Tenant.code.in_(codes))
                .order_by(Tenant.code)
            ).all()
        ]
        level2_ids = dict(
            s.execute(select(FrameworkNode.name, FrameworkNode.id).where(FrameworkNode.level == 2)).all()
        )
        counts = dict(
            s.execute(select(Indicator.tenant_id, func.count()).group_by(Indicator.tenant_id)).all()
        )
    if len(tenants) != len(codes):
        raise RuntimeError("the demo province is not loaded (jixiao demo load)")
    if before >= total:
        return Generated(before, before, 0.0)
    quotas = _quotas(tenants, total - (before - sum(counts.get(t[0], 0) for t in tenants)))
    metrics, pinyin = _metrics(level2_ids), _Pinyin()
    started, written = time.perf_counter(), 0
    for tenant in tenants:
        need = quotas[tenant[0]] - counts.get(tenant[0], 0)
        if need <= 0:
            continue
        with db.transaction(system=SYSTEM) as s:
            existing = set(
                s.execute(select(Indicator.name).where(Indicator.tenant_id == tenant[0])).scalars()
            )
            by_kind: dict[str, list[str]] = defaultdict(list)
            for code in s.execute(select(Indicator.code).where(Indicator.tenant_id == tenant[0])).scalars():
                parts = code.rsplit("-", 2)
                if len(parts) == 3 and parts[0] == tenant[1] and parts[2].isdigit():
                    by_kind[parts[1]].append(code)
            rows = _rows_for(tenant, need, existing, by_kind, metrics, pinyin, seed)
            for first in range(0, len(rows), batch):
                s.execute(insert(Indicator.__table__), rows[first : first + batch])
        written += len(rows)
        print(
            f"  indicators: {tenant[1]} +{len(rows):5} ({before + written:6}/{total}) "
            f"in {time.perf_counter() - started:6.1f} s",
            flush=True,
        )
    analyze(db.url)
    return Generated(before, before + written, time.perf_counter() - started)


def analyze(url: str) -> None:
    """Fresh statistics and visibility maps, as autovacuum would have by now (the library and the
    search index the database keeps of it, migration 0018) — as the connecting user: the app's
    role, which the runtime's connections take, may vacuum nothing."""
    engine = create_engine(url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text("VACUUM ANALYZE" if conn.dialect.name == "postgresql" else "ANALYZE"))
    finally:
        engine.dispose()
