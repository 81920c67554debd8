"""The self-evaluation's scoring (DESIGN.md §6), table-driven over hand-computed cases: the worked
example first (90.83, 优), then each rule on its own."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from jixiao.services.evaluation.scoring import Line, ScoringError, completion, grade, score


def q(key, level1, weight, direction, target, actual):
    return Line(key, level1, D(weight), "quantitative", direction, target, D(actual))


def test_the_worked_example_of_the_design():
    lines = [
        q("数量", "产出", 30, ">=", "100", "80"),
        q("经济成本", "成本", 20, "<=", "1000000", "1100000"),
        q("社会效益", "效益", 30, ">=", "90", "95"),
        q("满意度", "满意度", 20, ">=", "90", "85"),
    ]
    result = score(lines, budget=D("1250000"), executed=D("1150000"))
    assert result.budget_points == D("9.2")
    earned = {s.key: s.earned for s in result.lines}
    assert earned["数量"] == D(24)
    assert earned["经济成本"].quantize(D("0.0001")) == D("18.1818")
    assert earned["社会效益"] == D(30)
    assert earned["满意度"].quantize(D("0.0001")) == D("9.4444")
    assert (result.total, result.grade) == (D("90.83"), "优")
    assert {s.key: s.available for s in result.lines} == {
        "数量": 30,
        "经济成本": 20,
        "社会效益": 30,
        "满意度": 10,
    }


@pytest.mark.parametrize(
    ("direction", "target", "actual", "expected"),
    [
        (">=", "100", "80", "0.8"),
        (">=", "100", "120", "1.2"),  # uncapped here; the score caps it
        (">=", "0", "0", "1"),  # a target of 0 is met by any actual ≥ 0
        (">=", "0", "5", "1"),
        (">=", "100", "-5", "0"),  # never below 0
        ("<=", "1000", "900", "1"),  # under target
        ("<=", "1000", "1250", "0.8"),  # over target: target / actual
        ("<=", "0", "0", "1"),
        ("<=", "0", "3", "0"),
        ("=", "100", "100", "1"),
        ("=", "100", "90", "0.9"),
        ("=", "100", "250", "0"),  # not below 0
        ("=", "0", "0", "1"),
        ("range", "80,90", "85", "1"),  # inside
        ("range", "80,90", "80", "1"),  # on a bound
        ("range", "80,90", "100", "0.9"),  # above: the nearer bound / actual
        ("range", "80,90", "60", "0.75"),  # below: actual / the nearer bound
        ("range", "90,80", "85", "1"),  # bounds in either order
    ],
)
def test_completion_by_direction(direction, target, actual, expected):
    assert completion(direction, target, D(actual)) == D(expected)


def test_a_line_over_target_is_capped_at_its_points():
    result = score([q("a", "产出", 50, ">=", "10", "30")], budget=D(100), executed=D(100))
    assert result.lines[0].earned == D(90)  # the only group: all 90 points, capped at 100 %
    assert result.total == D("100.00")


def test_an_empty_group_gives_its_points_to_the_others():
    """No 满意度 line: its 10 points go to 产出 and 效益 in the proportion 50 : 30."""
    lines = [q("产出", "产出", 50, ">=", "10", "10"), q("效益", "效益", 50, ">=", "10", "10")]
    result = score(lines, budget=D(100), executed=D(100))
    assert result.groups == {"产出": D("56.25"), "效益": D("33.75")}
    assert sum(result.groups.values()) == D(90)
    assert result.total == D("100.00")


def test_weights_share_a_group_and_zero_weights_share_it_equally():
    lines = [q("a", "效益", 0, ">=", "10", "10"), q("b", "效益", 0, ">=", "10", "5")]
    result = score(lines, budget=None, executed=None)
    assert [s.available for s in result.lines] == [D(45), D(45)]
    assert result.total == D("67.50") and result.budget_points == 0


@pytest.mark.parametrize(
    ("achievement", "rate", "earned"),
    [
        ("achieved", None, "81"),  # the band's midpoint 90 %
        ("partly", None, "63"),
        ("not_achieved", None, "27"),
        ("achieved", "100", "90"),
        ("partly", "65", "58.5"),
        ("not_achieved", "0", "0"),
    ],
)
def test_a_qualitative_line_earns_a_rate_inside_its_band(achievement, rate, earned):
    line = Line(
        "质量", "产出", D(10), "qualitative", "=", "合格", None, achievement, D(rate) if rate else None
    )
    result = score([line], budget=None, executed=None)
    assert result.lines[0].earned == D(earned)


@pytest.mark.parametrize(("achievement", "rate"), [("achieved", "70"), ("partly", "85"), ("maybe", None)])
def test_a_rate_outside_its_band_is_refused(achievement, rate):
    line = Line(
        "质量", "产出", D(10), "qualitative", "=", "合格", None, achievement, D(rate) if rate else None
    )
    with pytest.raises(ScoringError):
        score([line], budget=None, executed=None)


def test_budget_over_execution_is_capped_at_its_points():
    result = score([q("a", "产出", 10, ">=", "1", "1")], budget=D(1000), executed=D(1500))
    assert result.budget_rate == D("1.5") and result.budget_points == D(10)


def test_rounding_half_up_only_at_the_end():
    """Three lines of a third each: 30 × (1/3 + 1/3 + 1/3) stays 30, not 29.99."""
    lines = [q(k, "效益", 1, ">=", "3", "1") for k in "abc"]
    result = score(lines, budget=None, executed=None, settings={"indicator_points": {"效益": 30}})
    assert result.total == D("10.00")  # 3 × (10 × 1/3) = 10, rounded once
    half = score(
        [q("a", "效益", 1, ">=", "8", "1")],
        budget=None,
        executed=None,
        settings={"indicator_points": {"效益": 1}},
    )
    assert half.total == D("0.13")  # 0.125 → 0.13 (half up)


@pytest.mark.parametrize(
    ("total", "expected"),
    [("90.00", "优"), ("89.99", "良"), ("80", "良"), ("79.99", "中"), ("60", "中"), ("59.99", "差")],
)
def test_grades(total, expected):
    assert grade(D(total)) == expected


def test_a_quantitative_line_needs_an_actual_and_a_range_two_bounds():
    with pytest.raises(ScoringError):
        score([Line("a", "产出", D(1), "quantitative", ">=", "10", None)], budget=None, executed=None)
    with pytest.raises(ScoringError):
        completion("range", "80", D(85))
