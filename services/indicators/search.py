"""Searching the indicator library (no Flask): one query `q` over the same fields whether it is
typed in Chinese, in pinyin or in pinyin initials (DESIGN.md §9).

Chinese: a substring of the name, the explanation, the 共性类别 or the 行业领域. Pinyin
(`peixun`, `pei xun`) and initials (`px`): the pinyin keys of the name, and — so that the
pinyin finds what the Chinese finds — the Chinese words the pinyin spells in the library's own
words (the names it matches, the 共性类别 and 行业领域 values) are searched in the same four fields:
`peixun` finds 培训 in a name, and also an indicator whose explanation or 共性类别 says 培训.
Initials are ambiguous by nature: `hy` spells 会议 but also 活影 (生活影响), and finds both. A
code fragment (`IN-0042`, any case) finds its code. Each kind of term is looked for only where it
can occur (`_match`): a Chinese term never in the pinyin keys nor in a code.

SQLite matches with LIKE. PostgreSQL asks the search index of migration 0018 (CJK bigrams,
trigrams), through functions that answer only with what row-level security lets the session
read, for the ids of the matches, then reads those ids by primary key behind both walls: under
row-level security no index could serve LIKE on `indicators` itself (issue 17).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Integer,
    Select,
    Text,
    any_,
    bindparam,
    cast,
    func,
    or_,
    select,
    text,
    union,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session
from sqlalchemy.types import NullType

from jixiao.platform.core import rls
from jixiao.platform.core.actor import Actor
from jixiao.platform.core.authz import authorize
from jixiao.platform.core.pagination import Page, paginate
from jixiao.tenants.models import Tenant

from .models import FRAMEWORK, FrameworkNode, Indicator

PINYIN_QUERY = re.compile(r"^[a-z]{2,60}$")
# Han characters (CJK unified ideographs, extension A and beyond, compatibility ideographs): what
# the pinyin keys never hold and a code never has
HAN = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")
MAX_NAMES = 500  # names scanned for the words a pinyin spells
MAX_WORDS = 40  # words searched for one pinyin query


def pinyin_keys(name: str) -> tuple[str, str]:
    """Full pinyin and initials of a name, so `peixun` and `px` find 培训 (DESIGN.md §9)."""
    from pypinyin import Style, lazy_pinyin  # its dictionaries take ~0.3 s to load: not at start-up

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
    from pypinyin import Style, lazy_pinyin

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


def pinyin_words(typed: str, texts: Iterable[str]) -> list[str]:
    """The Chinese words `typed` spells in `texts`: the visible library's names whose pinyin keys
    contain it (at most MAX_NAMES) and its 共性类别 and 行业领域 values."""
    found: set[str] = set()
    for words_in in texts:
        found |= spelled_words(words_in, typed)
    # A word inside another (培 in 培训) already finds all the longer one does: keep the shorter.
    kept: list[str] = []
    for word in sorted(found, key=lambda w: (len(w), w)):
        if not any(k in word for k in kept):
            kept.append(word)
    return kept[:MAX_WORDS]


def library_tags(session: Session) -> list[str]:
    """The 共性类别 and 行业领域 values of the visible library (the walls apply)."""
    found: set[str] = set()
    for column in (Indicator.common_class, Indicator.category):
        found.update(v for v in session.execute(select(column).distinct()).scalars() if v)
    return sorted(found)


def _contains(term: str) -> ColumnElement[bool]:
    return or_(
        Indicator.name.contains(term, autoescape=True),
        Indicator.explanation.contains(term, autoescape=True),
        Indicator.common_class.contains(term, autoescape=True),
        Indicator.category.contains(term, autoescape=True),
    )


def _spelled(typed: str) -> ColumnElement[bool]:
    return or_(
        Indicator.name_pinyin.contains(typed, autoescape=True),
        Indicator.name_initials.contains(typed, autoescape=True),
    )


def _coded(fragment: str) -> ColumnElement[bool]:
    escaped = fragment.replace("/", "//").replace("%", "/%").replace("_", "/_")
    return Indicator.code.ilike(f"%{escaped}%", escape="/")


# PostgreSQL: the same three predicates, answered by the search index behind the walls (migration
# 0018) as the ids the session may read — row-level security lets no index serve LIKE on
# `indicators` itself. Each is a set-returning function; their ids travel as one text, `1,5,9`
# (a Python list of thousands of ints costs more to load and to send back than the query).
_GATES = {
    _contains: func.jixiao_indicators_containing,
    _spelled: func.jixiao_indicators_spelled,
    _coded: func.jixiao_indicators_coded,
}
Predicate = Callable[[str], ColumnElement[bool]]
_SPELLED_WORDS = text("SELECT ids, texts FROM jixiao_indicators_spelled_words(:typed, :most)")


def _ids(session: Session, wanted: Sequence[tuple[Predicate, str]]) -> str:
    """The ids of the readable indicators that meet any of `wanted`, comma-separated (PostgreSQL)."""
    parts = [select(_GATES[predicate](value).label("id")) for predicate, value in wanted]
    found = (union(*parts) if len(parts) > 1 else parts[0]).subquery()
    listed = select(func.string_agg(cast(found.c.id, Text), ","))
    return _gated(session).execute(listed).scalar_one() or ""


def _gated(session: Session) -> Connection:
    """The session's connection, for the gates: they read no table the ORM walls (they apply the
    walls themselves, from the settings the session's transaction began with), so their
    statements go straight to it, without the ORM's per-statement work."""
    return session.connection()


def _among(ids: str) -> ColumnElement[bool]:
    """`indicators.id = ANY('{1,5,9}'::integer[])`: the text goes untyped (no bind cast), so the
    server reads it as an integer[] once, a constant the planner sees whole (a text cast to
    integer[] would be parsed again for every row, and could not be hashed)."""
    return Indicator.id == any_(cast(bindparam(None, f"{{{ids}}}", type_=NullType()), ARRAY(Integer)))


def _match(session: Session, term: str) -> ColumnElement[bool]:
    """Where `term` occurs in an indicator, each kind of term looked for where it can occur:

    * Chinese (a Han character): the four Chinese fields — never the pinyin keys, never the code;
    * pinyin or initials (latin letters, maybe spaced): the four fields as typed, the pinyin keys,
      and the Chinese words it spells in the library (`pinyin_words`) in the four fields;
    * anything else (digits, a code fragment, latin with digits): the four fields, the pinyin keys
      (a name's latin letters and digits are there, lower-cased) and the code, in any case."""
    # the index answers under the second wall, from its settings (a PostgreSQL without it — no
    # JIXIAO_DB_ROLE, never in production — matches with LIKE, as SQLite)
    postgres = session.get_bind().dialect.name == "postgresql" and rls.enabled(session)
    typed = term.lower().replace(" ", "")
    wanted: list[tuple[Predicate, str]] = [(_contains, term)]
    spelled = ""  # PostgreSQL: the ids `typed` spells, read with the texts its words are read in
    if HAN.search(term):
        pass
    elif PINYIN_QUERY.match(typed):
        if postgres:
            found = _gated(session).execute(_SPELLED_WORDS, {"typed": typed, "most": MAX_NAMES}).one()
            spelled, texts = found.ids or "", list(found.texts or [])
        else:
            wanted.append((_spelled, typed))
            names = select(Indicator.name).where(_spelled(typed)).distinct().limit(MAX_NAMES)
            texts = [*session.execute(names).scalars(), *library_tags(session)]
        wanted += [(_contains, word) for word in pinyin_words(typed, texts)]
    else:
        wanted += [(_spelled, typed), (_coded, term)]
    if not postgres:
        return or_(*(predicate(value) for predicate, value in wanted))
    return _among(",".join(ids for ids in (spelled, _ids(session, wanted)) if ids))


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
        stmt = stmt.where(_match(session, q.strip()))
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
