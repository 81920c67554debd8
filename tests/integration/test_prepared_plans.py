"""The generic-plan trap (issue 17, search): psycopg prepares a statement on the server after its
5th run on one connection, and PostgreSQL may then switch to one generic plan for every value — a
county's search ran 12× slower that way. The app's connections prepare nothing: each run is planned
for its own values. Real pass only (SQLite has no such thing)."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from jixiao.platform.core.runtime import Runtime
from jixiao.services.indicators.search import search
from jixiao.tenants.models import User
from jixiao.tenants.service import build_actor
from tests.support.services import MODE

pytestmark = [
    pytest.mark.real,
    pytest.mark.skipif(MODE != "real", reason="PostgreSQL's prepared statements: real mode only"),
]


def test_a_search_run_ten_times_on_one_connection_is_never_prepared(runtime: Runtime) -> None:
    with runtime.db.transaction(system="test: the searcher") as s:
        actor = build_actor(s, s.execute(select(User).where(User.username == "xq.editor")).scalar_one())
    with runtime.db.transaction(actor) as s:
        for term in ("培训", "会议", "peixun", "px", "设备", "培训", "信息化", "工程", "培训", "满意度"):
            page = search(s, actor, q=term, page=1, page_size=20)
            assert page.total >= 0
        prepared = s.execute(text("SELECT count(*) FROM pg_prepared_statements")).scalar_one()
    assert prepared == 0
