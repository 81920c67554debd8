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
    page, page_size = clamp(page, page_size)
    total = session.execute(select(func.count()).select_from(stmt.order_by(None).subquery())).scalar_one()
    items = list(session.execute(stmt.limit(page_size).offset((page - 1) * page_size)).scalars().unique())
    return Page(items, total, page, page_size)
