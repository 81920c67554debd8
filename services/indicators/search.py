"""Searching the indicator library (no Flask): one query `q` over the same fields whether it is
typed in Chinese, in pinyin or in pinyin initials (DESIGN.md §9).

Chinese: a substring of the name, the explanation, the 共性类别 or the 行业领域. Pinyin
(`peixun`, `pei xun`) and initials (`px`): the pinyin keys of the name, and — so that the
pinyin finds what the Chinese finds — the Chinese words the pinyin spells in the library's own
words (the names it matches, the 共性类别 and 行业领域 values) are searched in the same four fields:
`peixun` finds 培训 in a name, and also an indicator whose explanation or 共性类别 says 培训.
Initials are ambiguous by nature: `hy` spells 会议 but also 活影 (生活影响), and finds both.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from pypinyin import Style, lazy_pinyin
from sqlalchemy import ColumnElement, Select, or_, select
from sqlalchemy.orm import Session

from jixiao.platform.core.actor import Actor
from jixiao.platform.core.authz import authorize
from jixiao.platform.core.pagination import Page, paginate
from jixiao.tenants.models import Tenant

from .models import FRAMEWORK, FrameworkNode, Indicator

PINYIN_QUERY = re.compile(r"^[a-z]{2,60}$")
MAX_NAMES = 500  # names scanned for the words a pinyin spells
MAX_WORDS = 40  # words searched for one pinyin query


def pinyin_keys(name: str) -> tuple[str, str]:
    """Full pinyin and initials of a name, so `peixun` and `px` find 培训 (DESIGN.md §9)."""
    full = "".join(lazy_pinyin(name)).lower()
    initials = "".join(lazy_pinyin(name, style=Style.FIRST_LETTER)).lower()
    return full, initials


def _one_by_one(chars: str) -> Any:
    """Characters without pinyin (latin letters, digits) stay themselves, one item each."""
    return list(chars)


@lru_cache(maxsize=20000)
def _syllables(text: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """One full-pinyin syllable and one initial per character (other characters as themselves),
    read in context like the stored keys (`lazy_pinyin` of the whole text)."""
    full = tuple(s.lower() for s in lazy_pinyin(text, errors=_one_by_one))
    initials = tuple(s.lower() for s in lazy_pinyin(text, style=Style.FIRST_LETTER, errors=_one_by_one))
    if len(full) != len(text) or len(initials) != len(text):  # never expected; then no words
        return (), ()
    return full, initials


def spelled_words(text: str, typed: str) -> set[str]:
    """The substrings of `text` that `typed` spells, starting on a character: in full pinyin (the
    last syllable may be cut short, as when typing) or in initials (one letter per character)."""
    full, initials = _syllables(text)
    words: set[str] = set()
    for start in range(len(full)):
        if "".join(initials[start : start + len(typed)]) == typed:
            words.add(text[start : start + len(typed)])
        rest, end = typed, start
        while rest and end < len(full) and full[end]:
            syllable = full[end]
            if rest.startswith(syllable):
                rest, end = rest[len(syllable) :], end + 1
            elif syllable.startswith(rest):
                rest, end = "", end + 1
            else:
                break
        if not rest and end > start:
            words.add(text[start:end])
    return {w for w in words if w.strip()}


def pinyin_words(session: Session, typed: str) -> list[str]:
    """The Chinese words a pinyin query spells in the visible library's names, 共性类别 and 行业领域
    (the walls apply: only the caller's library is read)."""
    names = session.execute(
        select(Indicator.name)
        .where(
            or_(
                Indicator.name_pinyin.contains(typed, autoescape=True),
                Indicator.name_initials.contains(typed, autoescape=True),
            )
        )
        .distinct()
        .limit(MAX_NAMES)
    ).scalars()
    tags: list[str | None] = []
    for column in (Indicator.common_class, Indicator.category):
        tags += session.execute(select(column).distinct()).scalars()
    found: set[str] = set()
    for text in [*names, *(t for t in tags if t)]:
        found |= spelled_words(text, typed)
    # A word inside another (培 in 培训) already finds all the longer one does: keep the shorter.
    kept: list[str] = []
    for word in sorted(found, key=lambda w: (len(w), w)):
        if not any(k in word for k in kept):
            kept.append(word)
    return kept[:MAX_WORDS]


def _contains(term: str) -> ColumnElement[bool]:
    return or_(
        Indicator.name.contains(term, autoescape=True),
        Indicator.explanation.contains(term, autoescape=True),
        Indicator.common_class.contains(term, autoescape=True),
        Indicator.category.contains(term, autoescape=True),
    )


def matches(term: str, words: Sequence[str] = ()) -> ColumnElement[bool]:
    """Where `term` (and the Chinese `words` its pinyin spells) occur in an indicator."""
    lowered = term.lower().replace(" ", "")
    return or_(
        _contains(term),
        Indicator.name_pinyin.contains(lowered, autoescape=True),
        Indicator.name_initials.contains(lowered, autoescape=True),
        *(_contains(w) for w in words),
    )


def search_stmt(
    session: Session,
    actor: Actor,
    *,
    q: str | None = None,
    level1: str | None = None,
    level2: str | None = None,
    category: str | None = None,
    common_class: str | None = None,
    kind: str | None = None,
    scope: str | None = None,
    status: str | None = "active",
    owner: str | None = None,
) -> Select[Any]:
    """The filtered library, in a stable order (shared first, then by code).

    `q`: see the module. `status`: active (default), retired or all. `owner`: `shared` (the
    province's), `own`, or a tenant code."""
    stmt = select(Indicator).join(Indicator.level2)
    if q and q.strip():
        term = q.strip()
        typed = term.lower().replace(" ", "")
        words = pinyin_words(session, typed) if PINYIN_QUERY.match(typed) else []
        stmt = stmt.where(matches(term, words))
    if level2:
        stmt = stmt.where(FrameworkNode.name == level2)
    if level1:
        stmt = stmt.where(FrameworkNode.name.in_(FRAMEWORK.get(level1, [])))
    for column, value in (
        (Indicator.category, category),
        (Indicator.common_class, common_class),
        (Indicator.kind, kind),
        (Indicator.scope, scope),
    ):
        if value:
            stmt = stmt.where(column == value)
    if status and status != "all":
        stmt = stmt.where(Indicator.status == status)
    if owner == "shared":
        stmt = stmt.where(Indicator.shared.is_(True))
    elif owner == "own":
        stmt = stmt.where(Indicator.tenant_id == actor.tenant_id)
    elif owner:
        stmt = stmt.where(Indicator.tenant_id.in_(select(Tenant.id).where(Tenant.code == owner)))
    return stmt.order_by(Indicator.shared.desc(), Indicator.code)


def search(
    session: Session, actor: Actor, *, page: int = 1, page_size: int = 50, **filters: Any
) -> Page[Indicator]:
    authorize(actor, "indicators.read")
    return paginate(session, search_stmt(session, actor, **filters), page, page_size)
