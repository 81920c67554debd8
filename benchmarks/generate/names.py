"""The words the province-scale generator draws on: county names that read like real ones, and the
kinds of project a county finance bureau runs — each with the departments that run it and the
starter-library group (`common_class` or `category` in the library's JSON) its target lines come
from, so every line names a real starter indicator with its unit, direction and standard value."""

from __future__ import annotations

import random
from dataclasses import dataclass

# Two-character county names: a first character of place (方位, 山水, 吉祥) and a second one of
# land and water, then 县 / 区 / 市 (a 县级市) — e.g. 清河县, 永宁区, 安源市.
FIRST = (
    "东西南北中上下新永安长清平宁兴和泰丰庆云凤龙石青白黄金玉华德盛广昌宜富顺兰红涌"
    "康阳高明福嘉太乐武崇定靖镇临海松桂柳桃梅杏沙泉溪"
)
SECOND = "安宁平和川原山河城阳泉水州沟湖峰岭源林谷坪湾江台池桥滩口塘田庄堡关渠营"
SUFFIXES = (("县", 60), ("区", 25), ("市", 15))

# What a county's project is about, where its money comes from and who runs it: (title, class,
# library group, department, implementing unit). A title is prefixed with the county's name.
KINDS: tuple[tuple[str, str, str, str, str], ...] = (
    ("社区养老服务中心建设工程", "工程基建", "工程基建", "民政局", "社会福利服务中心"),
    ("城区雨污分流改造工程", "工程基建", "工程基建", "住房和城乡建设局", "市政工程管理所"),
    ("乡镇卫生院业务用房建设工程", "工程基建", "工程基建", "卫生健康局", "基层卫生建设服务中心"),
    ("农村公路提级改造项目", "工程基建", "交通运输", "交通运输局", "公路养护管理段"),
    ("城乡客运一体化建设项目", "工程基建", "交通运输", "交通运输局", "道路运输服务中心"),
    ("智慧政务服务平台建设项目", "信息化建设", "信息化建设", "政务服务管理局", "政务服务中心"),
    ("基层医疗卫生信息系统升级项目", "信息化建设", "信息化建设", "卫生健康局", "卫生健康信息中心"),
    ("中小学校舍维修改造项目", "大型修缮及购置", "大型修缮", "教育局", "教育基建服务中心"),
    ("机关办公用房维修改造项目", "大型修缮及购置", "大型修缮", "机关事务服务中心", "机关后勤服务中心"),
    ("高标准农田建设项目", "专项补助", "农业农村", "农业农村局", "农业技术推广服务中心"),
    ("农村人居环境整治提升项目", "专项补助", "农业农村", "农业农村局", "乡村振兴服务中心"),
    ("黄河支流水污染综合防治项目", "政府购买服务", "生态环境", "生态环境分局", "生态环境监测站"),
    ("城乡困难群众临时救助项目", "专项补助", "社会保障和就业", "民政局", "社会救助服务中心"),
    ("就业创业补贴项目", "专项补助", "社会保障和就业", "人力资源和社会保障局", "就业服务中心"),
    ("基层农技人员能力提升培训项目", "培训", "培训", "农业农村局", "农业技术推广服务中心"),
    ("乡村教师素质提升培训项目", "培训", "培训", "教育局", "教师发展中心"),
    ("县人民医院医疗设备购置项目", "设备购置", "设备购置", "卫生健康局", "人民医院"),
    ("义务教育薄弱环节改善项目", "专项补助", "教育", "教育局", "教育基建服务中心"),
    ("学生营养改善计划项目", "专项补助", "教育", "教育局", "学生资助管理中心"),
    ("基本公共卫生服务项目", "政府购买服务", "卫生健康", "卫生健康局", "疾病预防控制中心"),
    ("全县经济工作会议", "会议", "会议", "发展和改革局", "发展和改革局办公室"),
    ("居家养老上门服务购买项目", "政府购买服务", "政府购买服务", "民政局", "养老服务指导中心"),
    ("农业生产救灾补助项目", "专项补助", "专项补助", "农业农村局", "农业综合执法大队"),
)
FUND_SOURCES = (
    ("一般公共预算", 60),
    ("上级转移支付", 20),
    ("政府性基金", 8),
    ("直达资金", 7),
    ("本级专项", 5),
)


@dataclass(frozen=True)
class County:
    code: str
    name: str


def county_names(count: int, seed: int) -> list[str]:
    """`count` distinct names (no two counties of the generated province share one)."""
    rng = random.Random(seed)
    suffixes = [s for s, weight in SUFFIXES for _ in range(weight)]
    possible = len(FIRST) * len(SECOND) * len(SUFFIXES)
    if count > possible // 2:
        raise ValueError(f"at most {possible // 2} generated counties")
    seen: set[str] = set()
    found: list[str] = []
    while len(found) < count:
        name = rng.choice(FIRST) + rng.choice(SECOND) + rng.choice(suffixes)
        if name[0] != name[1] and name not in seen:
            seen.add(name)
            found.append(name)
    return found


def weighted(rng: random.Random, choices: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([c for c, _ in choices], weights=[w for _, w in choices])[0]
