"""The indicator library's Excel import at scale (issue 17 target 3), as its user sees it — through
HTTP and the job (in real mode the `jixiao worker` process, PostgreSQL, S3), in both modes.

The import reads, judges and writes a batch at a time and commits only a file without errors:
2,000 rows are all written, each with its version and its audit event, and the summary event; a bad
row at 1,999 writes nothing and names its row, column and rule; an unchanged export imported again
writes nothing; an edited one updates each row (version, event). What a batch write does not see
of the ORM is kept by hand: the walls (`bulk._guard`), the optimistic lock (a concurrent edit fails
the import), the audit chain (it verifies), the pinyin keys (the same as a single create's)."""

from __future__ import annotations

import io
import json
import random
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from jixiao.platform.core.audit import AuditEvent, verify
from jixiao.platform.core.errors import StaleVersion, WallViolation
from jixiao.services.indicators import bulk
from jixiao.services.indicators.excel import layout, parse
from jixiao.services.indicators.excel.importing import Writer
from jixiao.services.indicators.excel.plan import Judge
from jixiao.services.indicators.models import LEVEL1_OF, Indicator, IndicatorVersion
from jixiao.services.indicators.pinyin import name_pinyin_keys
from jixiao.services.indicators.service import lock_owner, pinyin_keys, version_row
from jixiao.tenants.models import Tenant, User
from jixiao.tenants.service import build_actor
from tests.api.test_indicator_excel import _export, _import, _sheet

ROWS = 2000
YEARS = ("2022", "2023", "2024")
LIBRARY = Path(__file__).resolve().parents[2] / "services" / "indicators" / "data" / "starter_library.json"


def workbook(
    tag: str, rows: int = ROWS, *, bad_row: int | None = None, twin: tuple[int, int] | None = None
) -> bytes:
    """`rows` new indicators named `规模{tag}…`; with `bad_row`, the 标准值 of that Excel row is not a
    number although the indicator is quantitative; with `twin` (first, second), the second Excel
    row has the first one's name."""
    level2 = list(LEVEL1_OF)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(layout.SHEET_TITLE)
    ws.append([c.header for c in layout.COLUMNS] + [layout.year_header(y) for y in YEARS])
    for n in range(rows):
        number = n + 2  # the Excel row
        quantitative = n % 5 != 0 or number == bad_row
        name = f"规模{tag}培训合格率{(twin[0] - 2 if twin and number == twin[1] else n):05d}"
        value = "九十" if number == bad_row else ("95" if quantitative else "达成")
        ws.append(
            [
                "",
                name,
                "",
                level2[n % len(level2)],
                "教育",
                "培训" if n % 2 else "",
                "共性" if n % 2 else "个性",
                "项目",
                f"按台账统计的{name}。",
                "培训台账",
                "定量" if quantitative else "定性",
                "≥" if quantitative else "=",
                "%" if quantitative else "",
                value,
                "计划标准",
                *([str(80 + n % 20) for _ in YEARS] if quantitative else ["达成"] * len(YEARS)),
            ]
        )
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


@contextmanager
def system(runtime: Any) -> Iterator[Any]:
    with runtime.db.transaction(system="test: an import at scale, the rows afterwards") as s:
        yield s


def library(runtime: Any, tag: str) -> list[Indicator]:
    with system(runtime) as s:
        return list(
            s.execute(select(Indicator).where(Indicator.name.startswith(f"规模{tag}")).order_by(Indicator.id))
            .unique()
            .scalars()
        )


def versions_of(runtime: Any, ids: list[int]) -> list[IndicatorVersion]:
    with system(runtime) as s:
        return list(
            s.execute(
                select(IndicatorVersion)
                .where(IndicatorVersion.indicator_id.in_(ids))
                .order_by(IndicatorVersion.indicator_id, IndicatorVersion.version)
            ).scalars()
        )


def events_of(runtime: Any, ids: list[int]) -> list[AuditEvent]:
    with system(runtime) as s:
        return list(
            s.execute(
                select(AuditEvent)
                .where(AuditEvent.object_type == "indicator", AuditEvent.object_id.in_([str(i) for i in ids]))
                .order_by(AuditEvent.id)
            ).scalars()
        )


def import_events(runtime: Any, job_id: str) -> int:
    with system(runtime) as s:
        return int(
            s.execute(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action == "indicator.import", AuditEvent.object_id == job_id)
            ).scalar_one()
        )


def actor_of(runtime: Any, username: str) -> Any:
    with system(runtime) as s:
        return build_actor(s, s.execute(select(User).where(User.username == username)).scalar_one())


def monotonic_to_100(seen: list[int]) -> bool:
    return seen == sorted(seen) and seen[-1] == 100


def test_a_large_import_writes_every_row_with_its_version_and_audit_event(api, runtime, unique):
    admin = api.as_user("xq.admin")
    done = _import(admin, workbook(unique), filename="规模.xlsx")
    assert done["result"] == {"ok": True, "created": ROWS, "updated": 0, "unchanged": 0, "rows": ROWS}
    assert monotonic_to_100(done["progress_seen"]), done["progress_seen"]

    found = library(runtime, unique)
    assert len(found) == ROWS and len({i.code for i in found}) == ROWS
    assert {i.owner.code for i in found} == {"640104"} and not any(i.shared for i in found)
    assert all(i.code.startswith(("640104-CC-", "640104-IN-")) and i.version == 1 for i in found)
    # the keys a single create computes; the years as typed
    assert all((i.name_pinyin, i.name_initials) == pinyin_keys(i.name) for i in found)
    assert found[1].historical_values == {"2022": "81", "2023": "81", "2024": "81"}

    # each indicator: its first version, as a single create writes it …
    versions = versions_of(runtime, [i.id for i in found])
    assert [(v.indicator_id, v.version, v.action) for v in versions] == [(i.id, 1, "create") for i in found]
    for indicator, version in zip(found, versions, strict=True):
        assert version.data == version_row(indicator, "create", None).data
        assert version.changed_by == "xq.admin" and version.tenant_id == indicator.tenant_id
    # … and its audit event, as a single create records it; then the import's summary
    events = events_of(runtime, [i.id for i in found])
    assert [(e.action, int(e.object_id)) for e in events] == [("indicator.create", i.id) for i in found]
    for indicator, event in zip(found, events, strict=True):
        assert event.after == {**indicator.to_audit(), "derived_from": None, "origin": None, "via": "excel"}
        assert event.username == "xq.admin" and event.tenant_id == indicator.tenant_id
    assert import_events(runtime, done["job_id"]) == 1
    with system(runtime) as s:
        chain = verify(s)
    assert chain.ok, chain


def test_a_bad_row_near_the_end_writes_nothing(api, runtime, unique):
    admin = api.as_user("xq.admin")
    done = _import(admin, workbook(unique, bad_row=1999))
    assert done["result"] == {
        "ok": False,
        "errors": [{"row": 1999, "column": "标准值", "rule": "定量指标的标准值须为数字，「九十」不是数字"}],
        "error_count": 1,
        "rows": ROWS,
    }
    assert monotonic_to_100(done["progress_seen"]), done["progress_seen"]
    assert library(runtime, unique) == []  # the 1,997 good rows read before it were rolled back
    assert import_events(runtime, done["job_id"]) == 0

    # a name taken by a row read (and written) a batch earlier: the same, nothing is written
    twins = _import(admin, workbook(unique, twin=(11, 1501)))["result"]
    assert twins["ok"] is False and twins["error_count"] == 1, twins
    assert twins["errors"] == [
        {"row": 1501, "column": "指标名称", "rule": f"指标名称「规模{unique}培训合格率00009」与第 11 行重复"}
    ]
    assert library(runtime, unique) == []


def test_an_unchanged_export_writes_nothing_and_an_edited_one_updates_each_row(api, runtime, unique):
    rows = 1200  # a full batch and a part of one
    admin = api.as_user("xq.admin")
    assert _import(admin, workbook(unique, rows))["result"]["created"] == rows
    found = library(runtime, unique)
    ids = [i.id for i in found]
    exported = _export(admin, f"owner=own&status=all&q={unique}")
    assert len(_sheet(exported)[1]) == rows

    again = _import(admin, exported)
    assert again["result"] == {"ok": True, "created": 0, "updated": 0, "unchanged": rows, "rows": rows}
    assert len(versions_of(runtime, ids)) == rows and len(events_of(runtime, ids)) == rows
    assert import_events(runtime, again["job_id"]) == 1

    wb = load_workbook(io.BytesIO(exported))
    ws = wb.worksheets[0]
    headers = [c.value for c in ws[1]]
    value, kind = headers.index("标准值"), headers.index("值类型")
    for row in ws.iter_rows(min_row=2):
        row[value].value = "96" if row[kind].value == "定量" else "基本达成"
    edited = io.BytesIO()
    wb.save(edited)
    done = _import(admin, edited.getvalue())
    assert done["result"] == {"ok": True, "created": 0, "updated": rows, "unchanged": 0, "rows": rows}

    now = {i.id: i for i in library(runtime, unique)}
    assert all(i.version == 2 and i.standard_value in ("96", "基本达成") for i in now.values())
    versions = [v for v in versions_of(runtime, ids) if v.version == 2]
    assert len(versions) == rows and all(v.action == "update" for v in versions)
    for version in versions:
        assert version.data == version_row(now[version.indicator_id], "update", None).data
    updates = [e for e in events_of(runtime, ids) if e.action == "indicator.update"]
    assert len(updates) == rows
    before = {i.id: i for i in found}
    for event in updates:
        indicator = now[int(event.object_id)]
        assert event.before == before[indicator.id].to_audit()
        assert event.after == indicator.to_audit() and event.username == "xq.admin"


def test_an_edit_after_the_rows_were_judged_fails_the_import(api, runtime, unique, tmp_path):
    """The optimistic lock of a single edit holds for a batch: an update whose indicator changed
    since the import read it (here: its version moved on) refuses the batch; nothing is written."""
    admin = api.as_user("xq.admin")
    assert _import(admin, workbook(unique, 3))["result"]["created"] == 3
    stored = {i.id: (i.version, i.standard_value) for i in library(runtime, unique)}
    exported = _export(admin, f"owner=own&q={unique}")
    wb = load_workbook(io.BytesIO(exported))
    for row in wb.worksheets[0].iter_rows(min_row=2):
        row[13].value = "97"  # 标准值
    path = tmp_path / "edited.xlsx"
    wb.save(path)
    parsed = parse.parse_workbook(path)

    actor = actor_of(runtime, "xq.admin")
    session = runtime.db.session(actor)
    try:
        owner = session.get(Tenant, actor.tenant_id)
        lock_owner(session, owner)
        judge = Judge(session, actor)
        judge.judge(parsed.rows, parsed.years)
        plan = judge.finish()
        assert plan.ok and len(plan.updates) == 3
        plan.updates[1][1].version -= 1  # as if it had been read before someone's edit
        with pytest.raises(StaleVersion):
            Writer(session, actor, plan).write(final=True)
    finally:
        session.rollback()
        session.close()
    assert {i.id: (i.version, i.standard_value) for i in library(runtime, unique)} == stored


def test_batch_writes_keep_the_walls(runtime):
    """What a flush would refuse, a batch refuses: rows of another tenant, or a system session."""
    actor = actor_of(runtime, "xq.admin")
    session = runtime.db.session(actor)
    try:
        other = session.execute(select(Tenant).where(Tenant.code == "640105")).scalar_one()
        row = {"tenant_id": other.id, "code": f"640105-CC-{uuid.uuid4().hex[:8]}", "name": "越墙"}
        with pytest.raises(WallViolation):
            bulk.insert_rows(session, Indicator, bulk.with_defaults(Indicator, [row]))
        with pytest.raises(WallViolation):
            bulk.update_versioned(
                session, Indicator, [{"id": 1, "version": 1, "name": "越墙"}], ["name"], other.id
            )
    finally:
        session.rollback()
        session.close()
    system_session = runtime.db.system_session("test: a batch refuses a system session")
    try:
        with pytest.raises(WallViolation):
            bulk.insert_rows(system_session, Indicator, [{"tenant_id": actor.tenant_id}])
    finally:
        system_session.close()


@pytest.mark.once
def test_name_pinyin_keys_are_pinyin_keys():
    """The import's pinyin (word by word, each word once) is exactly a single create's."""
    entries = json.loads(LIBRARY.read_text(encoding="utf-8"))["indicators"]
    texts = [e["name"] for e in entries] + [e.get("explanation") or "" for e in entries]
    rng = random.Random(17)
    alphabet = "".join(sorted(set("".join(texts)))) + "abcXYZ 0123-_.%（）Ⅲ〇"
    texts += ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 24))) for _ in range(3000)]
    texts += ["", "银行行长", "重庆重量", "2024年度PM2.5浓度", "行行出状元", "嗯", "绿化覆盖率", "長度"]
    assert [name_pinyin_keys(t) for t in texts] == [pinyin_keys(t) for t in texts]
