"""Searching the library in pinyin finds what the Chinese finds (DESIGN.md §9): `peixun` and
`px` match the same fields as 培训 — name, explanation, 共性类别, 行业领域 — in the API and in the
pages that use the same service search (the library's search-as-you-type, the pickers).

Compared on the demo's starter library (DEMO.md): other tests add their own indicators to the
session database, whose names may collide with a word's initials."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.api.test_indicators import _create, _indicator, _list

STARTER = Path(__file__).resolve().parents[2] / "services" / "indicators" / "data" / "starter_library.json"
DEMO_NAMES = {row["name"] for row in json.loads(STARTER.read_text(encoding="utf-8"))["indicators"]}


def _demo_names(client: Any, q: str) -> set[str]:
    return {i["name"] for i in _list(client, f"q={q}&owner=shared")} & DEMO_NAMES


@pytest.mark.parametrize(
    ("word", "spellings"),
    [
        ("培训", ("peixun", "PeiXun", "pei xun", "px")),
        ("会议", ("huiyi", "hui yi")),
        ("设备购置", ("shebeigouzhi", "sbgz", "SBGZ")),
    ],
)
def test_pinyin_and_initials_find_exactly_what_the_chinese_finds(api, word, spellings):
    editor = api.as_user("xq.editor")
    chinese = _demo_names(editor, word)
    assert len(chinese) >= 6, chinese
    for typed in spellings:
        assert _demo_names(editor, typed) == chinese, typed


def test_peixun_finds_the_training_indicators_tagged_by_their_common_class(api):
    editor = api.as_user("xq.editor")
    # named without 培训, tagged 培训 as their 共性类别 (and explained with it)
    tagged = {"参训人数", "参训人员合格率", "参训人员满意度"}
    for typed in ("培训", "peixun", "px"):
        assert tagged <= _demo_names(editor, typed), typed


def test_initials_that_spell_another_word_too_find_both(api):
    """Initials are ambiguous: `hy` spells 会议 and also 活影 in 生活影响; it finds every 会议
    indicator and nothing that does not spell hy."""
    editor = api.as_user("xq.editor")
    meetings = _demo_names(editor, "会议")
    found = _demo_names(editor, "hy")
    assert meetings <= found
    assert found - meetings == {"征地拆迁对居民生活影响"}


def test_pinyin_finds_a_word_of_an_explanation_it_spells_in_the_library(api, unique):
    """An indicator of the unit's own whose name says nothing of 培训 but whose explanation does
    is found by peixun, like by 培训; the page's search-as-you-type (same service) too."""
    xq = api.as_user("xq.admin")
    name = f"岗前实操考核人数{unique}"
    _create(
        xq,
        _indicator(name, common_class=None, explanation="参加岗前培训并通过实操考核的人数"),
    )
    for typed in ("培训", "peixun", "px"):
        assert name in {i["name"] for i in _list(xq, f"q={typed}&owner=own")}, typed
