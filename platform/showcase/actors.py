"""The demo users acting in the showcase: each step is one unit of work in a user's own walled
session (joined to the loader's transaction), loaded through the same input schema as the API's."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from docx import Document
from marshmallow import Schema
from sqlalchemy import select
from sqlalchemy.orm import Session

from jixiao.platform.core.actor import Actor
from jixiao.tenants.models import User
from jixiao.tenants.service import build_actor

from .joined import JoinedDatabase


class Cast:
    """Who does what: an actor per demo user (an evaluator's is built afresh, with its grants)."""

    def __init__(self, db: JoinedDatabase) -> None:
        self.db = db
        self._actors: dict[str, Actor] = {}

    def actor(self, username: str, *, fresh: bool = False) -> Actor:
        if fresh or username not in self._actors:
            with self.db.transaction(system="demo showcase: who acts") as s:
                user = s.execute(select(User).where(User.username == username)).scalar_one()
                self._actors[username] = build_actor(s, user)
        return self._actors[username]

    @contextmanager
    def acting(self, username: str) -> Iterator[tuple[Session, Actor]]:
        actor = self.actor(username)
        with self.db.transaction(actor) as session:
            yield session, actor


def loaded(schema: type[Schema], payload: dict[str, Any]) -> dict[str, Any]:
    """The payload as the API's handler would receive it (the schema's types and defaults)."""
    result: dict[str, Any] = schema().load(payload)
    return result


def docx_file(title: str, *paragraphs: str) -> io.BytesIO:
    """A small Word document in Chinese (an evidence file: an evaluation report, a rectification
    report)."""
    document = Document()
    document.add_heading(title, level=1)
    for text in paragraphs:
        document.add_paragraph(text)
    out = io.BytesIO()
    document.save(out)
    out.seek(0)
    return out
