"""`?page=&page_size=` lists (API.md conventions)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

T = TypeVar("T")

MAX_PAGE_SIZE = 200
MAX_PAGE = 1_000_000  # beyond any list; also keeps the offset inside a database integer


def clamp(page: int, page_size: int) -> tuple[int, int]:
    return min(max(page, 1), MAX_PAGE), min(max(page_size, 1), MAX_PAGE_SIZE)


@dataclass
class Page(Generic[T]):
    items: list[T]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        """How many pages the list has (at least one, an empty list included)."""
        return max((self.total + self.page_size - 1) // self.page_size, 1)


def paginate(session: Session, stmt: Select[Any], page: int = 1, page_size: int = 50) -> Page[Any]:
    """One page of `stmt` and the list's total.

    One statement where it can be: the page carries the total as `count(*) OVER ()` (the window is
    computed over the filtered rows before LIMIT, so every row of the page holds the list's total).
    A separate count where the window cannot count the list (DISTINCT: the window would count the
    rows before they are made distinct) and where the page comes back empty (no row to carry the
    total: a page past the end)."""
    page, page_size = clamp(page, page_size)
    window = stmt.limit(page_size).offset((page - 1) * page_size)
    if stmt._distinct or stmt._distinct_on:
        return Page(_items(session, window), _count(session, stmt), page, page_size)
    rows = session.execute(window.add_columns(func.count().over().label("page_total"))).unique().all()
    if not rows:
        return Page([], 0 if page == 1 else _count(session, stmt), page, page_size)
    return Page([row[0] for row in rows], int(rows[0][-1]), page, page_size)


def _items(session: Session, stmt: Select[Any]) -> list[Any]:
    return list(session.execute(stmt).scalars().unique())


def _count(session: Session, stmt: Select[Any]) -> int:
    return int(session.execute(select(func.count()).select_from(stmt.order_by(None).subquery())).scalar_one())
