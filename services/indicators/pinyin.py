"""The pinyin keys of many names at once (the Excel import, issue 17): `name_pinyin_keys` gives
what `search.pinyin_keys` gives, converting each distinct run of Chinese characters and each
distinct word once per process. No Flask."""

from __future__ import annotations

from functools import lru_cache

from .search import pinyin_keys


@lru_cache(maxsize=20000)
def _word_pinyin_keys(word: str) -> tuple[str, str]:
    return pinyin_keys(word)


@lru_cache(maxsize=20000)
def _run_pinyin_keys(run: str) -> tuple[str, str]:
    from pypinyin.seg import mmseg  # how lazy_pinyin cuts a run of Chinese characters into words

    parts = [_word_pinyin_keys(word) for word in mmseg.seg.cut(run)]
    return "".join(p[0] for p in parts), "".join(p[1] for p in parts)


def name_pinyin_keys(name: str) -> tuple[str, str]:
    """`pinyin_keys(name)`, run by run and word by word, each distinct one converted once per
    process. pypinyin cuts a text into runs of Chinese characters and runs of others (kept as they
    are), and a Chinese run into the words of its dictionary (the reading of 行 in 银行 is the
    word's): the keys of a name are its words' keys end to end. A library's 12,121 names are a few
    hundred words — the Excel import's pinyin costs a tenth of one `pinyin_keys` a name (issue 17;
    tests/integration/test_indicator_import_scale.py checks both give the same keys)."""
    from pypinyin.constants import RE_HANS
    from pypinyin.seg.simpleseg import simple_seg

    full, initials = [], []
    for run in simple_seg(name):  # a run of other characters is its own keys
        keys = _run_pinyin_keys(run) if RE_HANS.match(run) else (run.lower(), run.lower())
        full.append(keys[0])
        initials.append(keys[1])
    return "".join(full), "".join(initials)
