"""Real administrative division codes (行政区划代码) of 宁夏回族自治区 used by the demo province.

("county" is the level name for every county-level division: 区/县/县级市 alike.)"""

from __future__ import annotations

NINGXIA: list[tuple[str, str, str, str | None]] = [
    ("640000", "宁夏回族自治区", "province", None),
    ("640100", "银川市", "city", "640000"),
    ("640104", "兴庆区", "county", "640100"),
    ("640105", "西夏区", "county", "640100"),
    ("640106", "金凤区", "county", "640100"),
    ("640121", "永宁县", "county", "640100"),
    ("640122", "贺兰县", "county", "640100"),
    ("640181", "灵武市", "county", "640100"),
    ("640200", "石嘴山市", "city", "640000"),
    ("640202", "大武口区", "county", "640200"),
    ("640205", "惠农区", "county", "640200"),
    ("640221", "平罗县", "county", "640200"),
    ("640300", "吴忠市", "city", "640000"),
    ("640302", "利通区", "county", "640300"),
    ("640303", "红寺堡区", "county", "640300"),
    ("640323", "盐池县", "county", "640300"),
    ("640324", "同心县", "county", "640300"),
    ("640381", "青铜峡市", "county", "640300"),
    ("640400", "固原市", "city", "640000"),
    ("640402", "原州区", "county", "640400"),
    ("640422", "西吉县", "county", "640400"),
    ("640423", "隆德县", "county", "640400"),
    ("640424", "泾源县", "county", "640400"),
    ("640425", "彭阳县", "county", "640400"),
    ("640500", "中卫市", "city", "640000"),
    ("640502", "沙坡头区", "county", "640500"),
    ("640521", "中宁县", "county", "640500"),
    ("640522", "海原县", "county", "640500"),
]

DEMO_USERS: list[tuple[str, str, str, list[str]]] = [
    ("nx.admin", "640000", "省财政厅管理员", ["province_admin"]),
    ("nx.reviewer", "640000", "省财政厅审核人", ["province_reviewer"]),
    ("yc.admin", "640100", "银川市财政局管理员", ["bureau_admin"]),
    ("xq.admin", "640104", "兴庆区财政局管理员", ["bureau_admin"]),
    ("xq.dept", "640104", "兴庆区主管部门审核人", ["dept_reviewer"]),
    ("xq.editor", "640104", "兴庆区项目单位填报人", ["project_editor"]),
    ("xx.admin", "640105", "西夏区财政局管理员", ["bureau_admin"]),
    ("xx.dept", "640105", "西夏区主管部门审核人", ["dept_reviewer"]),
    ("xx.editor", "640105", "西夏区项目单位填报人", ["project_editor"]),
]

DEMO_EVALUATOR_ORG = "宁夏绩评咨询有限公司"
DEMO_EVALUATOR_USERS: list[tuple[str, str]] = [("eval.ningping", "宁夏绩评咨询评价员")]
