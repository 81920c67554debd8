"""Data-quality checks for the starter indicator library (指标库) and templates (模板库).

The library follows the Ministry of Finance project-expenditure performance framework
(《项目支出绩效评价管理办法》财预〔2020〕10号): 产出/成本/效益/满意度 → fixed level-2 groups.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from decimal import Decimal, InvalidOperation
from pathlib import Path

import pytest

pytestmark = pytest.mark.once  # mode-independent: runs in the embedded pass only

DATA_PATH = Path(__file__).resolve().parents[2] / "services/indicators/data/starter_library.json"

FRAMEWORK = {
    "产出": {"数量", "质量", "时效"},
    "成本": {"经济成本", "社会成本", "生态环境成本"},
    "效益": {"经济效益", "社会效益", "生态效益"},
    "满意度": {"服务对象满意度"},
}
ALL_LEVEL2 = {l2 for group in FRAMEWORK.values() for l2 in group}
CATEGORIES = {
    "教育",
    "卫生健康",
    "农业农村",
    "交通运输",
    "生态环境",
    "社会保障和就业",
    "城乡社区",
    "文化旅游体育与传媒",
    "科学技术",
}
COMMON_CLASSES = {
    "会议",
    "培训",
    "设备购置",
    "信息化建设",
    "工程基建",
    "大型修缮",
    "政府购买服务",
    "专项补助",
}
REQUIRED_COMMON_CLASSES = {"会议", "培训", "设备购置", "信息化建设", "工程基建", "大型修缮", "政府购买服务"}
REQUIRED_DOMAINS = {"教育", "卫生健康", "农业农村", "交通运输", "生态环境", "社会保障和就业"}
KINDS = {"common", "individual"}
SCOPES = {"project", "department"}
VALUE_TYPES = {"quantitative", "qualitative"}
DIRECTIONS = {">=", "<=", "=", "range"}
VALUE_BASES = {"计划标准", "行业标准", "历史标准", "预算支出标准"}
TEMPLATE_CLASSES = COMMON_CLASSES | {"大型修缮及购置"}
HIST_YEARS = ["2022", "2023", "2024"]
INDICATOR_FIELDS = {
    "key",
    "name",
    "level1",
    "level2",
    "category",
    "common_class",
    "kind",
    "scope",
    "explanation",
    "source",
    "value_type",
    "direction",
    "unit",
    "standard_value",
    "value_basis",
    "historical_values",
}
KEY_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")

MIN_INDICATORS = 66
MIN_PER_LEVEL2 = 3
MIN_PER_COMMON_CLASS = 3  # "several each"
MIN_PER_DOMAIN = 3
MIN_DEPARTMENT = 3
MIN_QUALITATIVE = 6
MIN_RANGE = 2


def _dec(text: str) -> Decimal:
    assert isinstance(text, str) and text.strip() == text and text, f"bad numeric string {text!r}"
    assert "%" not in text, f"percent sign must not appear in values: {text!r}"
    try:
        value = Decimal(text)
    except InvalidOperation:  # pragma: no cover - failure path
        pytest.fail(f"not a decimal: {text!r}")
    assert value.is_finite(), text
    return value


def _range(text: str) -> tuple[Decimal, Decimal]:
    parts = text.split(",")
    assert len(parts) == 2, f"range must be 'low,high': {text!r}"
    low, high = (_dec(p.strip()) for p in parts)
    assert low < high, f"range bounds not ordered: {text!r}"
    return low, high


@pytest.fixture(scope="module")
def raw_text() -> str:
    return DATA_PATH.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def library(raw_text: str) -> dict:
    return json.loads(raw_text)


@pytest.fixture(scope="module")
def indicators(library: dict) -> list[dict]:
    return library["indicators"]


@pytest.fixture(scope="module")
def by_key(indicators: list[dict]) -> dict[str, dict]:
    return {ind["key"]: ind for ind in indicators}


# --------------------------------------------------------------------------- shape


def test_file_is_utf8_unescaped_json(raw_text: str, library: dict) -> None:
    assert "\\u" not in raw_text, "file must be written with ensure_ascii=False"
    assert set(library) == {"source_note", "indicators", "templates"}
    assert isinstance(library["source_note"], str) and len(library["source_note"]) >= 10
    assert "财预〔2020〕10号" in library["source_note"]


def test_indicator_fields_and_types(indicators: list[dict]) -> None:
    for ind in indicators:
        assert set(ind) == INDICATOR_FIELDS, ind.get("key")
        for field in ("key", "name", "explanation", "source", "standard_value"):
            assert isinstance(ind[field], str) and ind[field].strip(), (ind["key"], field)
        assert isinstance(ind["unit"], str)
        assert ind["category"] is None or isinstance(ind["category"], str)
        assert ind["common_class"] is None or isinstance(ind["common_class"], str)


def test_indicator_count(indicators: list[dict]) -> None:
    assert len(indicators) >= MIN_INDICATORS


def test_keys_unique_ascii_slugs(indicators: list[dict]) -> None:
    keys = [ind["key"] for ind in indicators]
    dupes = [k for k, n in Counter(keys).items() if n > 1]
    assert not dupes, dupes
    bad = [k for k in keys if not KEY_RE.match(k)]
    assert not bad, bad


def test_names_unique(indicators: list[dict]) -> None:
    names = [ind["name"] for ind in indicators]
    dupes = [n for n, c in Counter(names).items() if c > 1]
    assert not dupes, dupes


# --------------------------------------------------------------------------- framework


def test_level1_level2_follow_framework(indicators: list[dict]) -> None:
    for ind in indicators:
        assert ind["level1"] in FRAMEWORK, ind["key"]
        assert ind["level2"] in FRAMEWORK[ind["level1"]], (ind["key"], ind["level1"], ind["level2"])


def test_every_level2_group_covered(indicators: list[dict]) -> None:
    counts = Counter(ind["level2"] for ind in indicators)
    missing = {l2: counts.get(l2, 0) for l2 in ALL_LEVEL2 if counts.get(l2, 0) < MIN_PER_LEVEL2}
    assert not missing, missing


# --------------------------------------------------------------------------- vocabularies


def test_vocabularies(indicators: list[dict]) -> None:
    for ind in indicators:
        k = ind["key"]
        assert ind["kind"] in KINDS, k
        assert ind["scope"] in SCOPES, k
        assert ind["value_type"] in VALUE_TYPES, k
        assert ind["direction"] in DIRECTIONS, k
        assert ind["value_basis"] in VALUE_BASES, k
        assert ind["category"] is None or ind["category"] in CATEGORIES, k
        assert ind["common_class"] is None or ind["common_class"] in COMMON_CLASSES, k


def test_kind_consistency(indicators: list[dict]) -> None:
    for ind in indicators:
        k = ind["key"]
        if ind["kind"] == "common":
            assert ind["category"] is None, k
            if ind["scope"] == "project":
                assert ind["common_class"] is not None, k
        else:
            assert ind["category"] is not None, k
            assert ind["common_class"] is None, k
        if ind["scope"] == "department":
            assert ind["common_class"] is None, k


def test_common_class_coverage(indicators: list[dict]) -> None:
    counts = Counter(i["common_class"] for i in indicators if i["kind"] == "common" and i["common_class"])
    short = {c: counts.get(c, 0) for c in REQUIRED_COMMON_CLASSES if counts.get(c, 0) < MIN_PER_COMMON_CLASS}
    assert not short, short


def test_individual_domain_coverage(indicators: list[dict]) -> None:
    counts = Counter(i["category"] for i in indicators if i["kind"] == "individual")
    short = {c: counts.get(c, 0) for c in REQUIRED_DOMAINS if counts.get(c, 0) < MIN_PER_DOMAIN}
    assert not short, short
    assert len(counts) >= 6


def test_department_scope_indicators(indicators: list[dict]) -> None:
    dept = [i for i in indicators if i["scope"] == "department"]
    assert len(dept) >= MIN_DEPARTMENT
    names = {i["name"] for i in dept}
    assert {"预算执行率", "三公经费控制率", "重点工作完成率"} <= names


# --------------------------------------------------------------------------- values


def test_qualitative_and_range_counts(indicators: list[dict]) -> None:
    assert sum(i["value_type"] == "qualitative" for i in indicators) >= MIN_QUALITATIVE
    ranges = [i for i in indicators if i["direction"] == "range"]
    assert len(ranges) >= MIN_RANGE
    assert all(i["value_type"] == "quantitative" for i in ranges)
    assert any(i["direction"] == "=" and i["value_type"] == "quantitative" for i in indicators)


def test_units(indicators: list[dict]) -> None:
    for ind in indicators:
        if ind["value_type"] == "quantitative":
            assert ind["unit"].strip(), f"{ind['key']} needs a unit"
        else:
            assert ind["unit"] == "", f"{ind['key']}: qualitative indicator must have empty unit"


def test_historical_values_shape(indicators: list[dict]) -> None:
    for ind in indicators:
        hist = ind["historical_values"]
        assert isinstance(hist, dict), ind["key"]
        assert sorted(hist) == HIST_YEARS, ind["key"]
        for year, value in hist.items():
            assert isinstance(value, str) and value.strip(), (ind["key"], year)


def test_quantitative_values_parse(indicators: list[dict]) -> None:
    for ind in indicators:
        if ind["value_type"] != "quantitative":
            continue
        if ind["direction"] == "range":
            _range(ind["standard_value"])
        else:
            _dec(ind["standard_value"])
        for value in ind["historical_values"].values():
            _dec(value)


def test_qualitative_values_are_text(indicators: list[dict]) -> None:
    for ind in indicators:
        if ind["value_type"] != "qualitative":
            continue
        assert ind["direction"] != "range", ind["key"]
        for value in [ind["standard_value"], *ind["historical_values"].values()]:
            with pytest.raises(InvalidOperation):
                Decimal(value)


def test_range_history_within_or_near_bounds(indicators: list[dict]) -> None:
    for ind in indicators:
        if ind["direction"] != "range":
            continue
        low, high = _range(ind["standard_value"])
        width = high - low
        for value in ind["historical_values"].values():
            v = _dec(value)
            assert low - width / 2 <= v <= high + width / 2, (ind["key"], value)
        latest = _dec(ind["historical_values"]["2024"])
        assert low <= latest <= high, ind["key"]


def test_percentages_are_plausible(indicators: list[dict]) -> None:
    for ind in indicators:
        if ind["value_type"] != "quantitative" or ind["unit"] != "%":
            continue
        std = _dec(ind["standard_value"])
        assert Decimal(0) <= std <= Decimal(100), ind["key"]
        for value in ind["historical_values"].values():
            # cost-control ratios (实际/预算) may overshoot 100 in a bad year
            assert Decimal(0) <= _dec(value) <= Decimal(120), (ind["key"], value)


def test_non_negative_quantities(indicators: list[dict]) -> None:
    for ind in indicators:
        if ind["value_type"] == "quantitative" and ind["direction"] != "range":
            assert _dec(ind["standard_value"]) >= 0, ind["key"]
            assert all(_dec(v) >= 0 for v in ind["historical_values"].values()), ind["key"]


def test_directions_make_sense(indicators: list[dict]) -> None:
    for ind in indicators:
        k = ind["key"]
        if ind["value_type"] == "quantitative" and ind["level1"] == "成本":
            assert ind["direction"] in {"<=", "=", "range"}, f"{k}: cost indicators must be capped"
        if ind["level1"] == "满意度" and ind["value_type"] == "quantitative":
            assert ind["direction"] == ">=", k
            assert ind["unit"] == "%", k
        if ind["value_type"] == "quantitative" and ind["direction"] == ">=" and ind["unit"] == "%":
            assert _dec(ind["standard_value"]) > 0, k


def test_latest_history_roughly_meets_target(indicators: list[dict]) -> None:
    """2024 values should be close to the target on the side the direction asks for."""
    for ind in indicators:
        if ind["value_type"] != "quantitative" or ind["direction"] == "range":
            continue
        std = _dec(ind["standard_value"])
        latest = _dec(ind["historical_values"]["2024"])
        slack = max(abs(std) * Decimal("0.1"), Decimal("1"))
        if ind["direction"] == ">=":
            assert latest >= std - slack, ind["key"]
        elif ind["direction"] == "<=":
            assert latest <= std + slack, ind["key"]
        else:
            assert abs(latest - std) <= slack, ind["key"]


# --------------------------------------------------------------------------- templates


@pytest.fixture(scope="module")
def templates(library: dict) -> list[dict]:
    return library["templates"]


def test_template_shape(templates: list[dict]) -> None:
    assert len(templates) >= 4
    keys = [t["key"] for t in templates]
    assert len(keys) == len(set(keys))
    assert len({t["name"] for t in templates}) == len(templates)
    for t in templates:
        assert set(t) == {"key", "name", "project_class", "indicator_keys"}, t
        assert KEY_RE.match(t["key"]), t["key"]
        assert t["project_class"] in TEMPLATE_CLASSES, t["key"]


def test_required_templates_present(templates: list[dict]) -> None:
    by_name = {t["name"]: t["project_class"] for t in templates}
    expected = {
        "工程基建类": "工程基建",
        "培训类": "培训",
        "信息化建设类": "信息化建设",
        "大型修缮及购置类": "大型修缮及购置",
    }
    for name, cls in expected.items():
        assert by_name.get(name) == cls, name


def test_template_indicator_keys(templates: list[dict], by_key: dict[str, dict]) -> None:
    for t in templates:
        ids = t["indicator_keys"]
        assert 6 <= len(ids) <= 10, t["key"]
        assert len(ids) == len(set(ids)), t["key"]
        missing = [k for k in ids if k not in by_key]
        assert not missing, (t["key"], missing)
        level1s = {by_key[k]["level1"] for k in ids}
        assert {"产出", "效益", "满意度"} <= level1s, (t["key"], level1s)
        if t["project_class"] in {"工程基建", "大型修缮及购置"}:
            assert "成本" in level1s, t["key"]
        for k in ids:
            assert by_key[k]["scope"] == "project", (t["key"], k)
