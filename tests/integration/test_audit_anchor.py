"""The audit chain's signed anchors (issue 16 item 7), as an operator and the CronJob run them.

A chain rewritten *consistently* inside the database — an event edited, every hash after it and the
head recomputed, as someone with superuser rights could — verifies on its own (`jixiao audit
verify`); against its anchors in the object store (`--anchors`) it does not, and the first
rewritten event is named. Each test works on its own copy of a migrated demo database
(`tests/integration/test_audit_chain.py`), and, in real mode, on its own bucket of the session's
SeaweedFS.
"""

from __future__ import annotations

import json
import secrets
import subprocess
from collections.abc import Iterator

import pytest
from sqlalchemy import select, text

from jixiao.platform.core import audit
from jixiao.platform.core.audit import AuditEvent
from tests.integration.test_audit_chain import (  # noqa: F401 - the fixtures
    Chain,
    chain,
    disable_append_only,
    template_url,
)
from tests.support.services import MODE


@pytest.fixture()
def anchored(request: pytest.FixtureRequest) -> Iterator[tuple[Chain, dict[str, str]]]:
    """The chain, and the settings of its anchors: a fresh key pair and a store of their own."""
    ch: Chain = request.getfixturevalue("chain")
    made = ch.cli("audit", "anchor", "--new-key")
    assert made.returncode == 0, made.stderr
    keys = dict(line.split("=", 1) for line in made.stdout.split())
    env = {"JIXIAO_AUDIT_ANCHOR_KEY": keys["JIXIAO_AUDIT_ANCHOR_KEY"]}
    if MODE == "real":
        seaweed = request.getfixturevalue("seaweed")
        env.update(seaweed.env(), S3_BUCKET=f"anchors-{secrets.token_hex(4)}")
    yield ch, {**env, "public": keys["JIXIAO_AUDIT_ANCHOR_PUBLIC_KEY"]}


def cli(ch: Chain, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    settings = {k: v for k, v in env.items() if k != "public"}
    return ch.cli(*args, env=settings)


def record_events(ch: Chain, n: int) -> None:
    with ch.db.transaction(system="test: more audited work") as s:
        for i in range(n):
            audit.record(s, "test.work", object_type="test", object_id=i, after={"n": i})


def rewrite_consistently(ch: Chain, event_id: int) -> None:
    """Edit one event, then recompute its hash and every later one and move the head: a ch that
    verifies on its own."""
    with ch.db.engine.begin() as conn:
        disable_append_only(conn)
        if conn.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE audit_head DISABLE TRIGGER USER"))
        else:
            for trigger in ("audit_head_no_delete", "audit_head_no_rewind"):
                conn.execute(text(f"DROP TRIGGER IF EXISTS {trigger}"))
        conn.execute(
            text('UPDATE audit_events SET "after" = :after WHERE id = :id'),
            {"after": '{"amount": "1"}', "id": event_id},
        )
    session = ch.db.system_session("test: the forger")
    try:
        events = (
            session.execute(
                select(AuditEvent)
                .where(AuditEvent.id >= event_id - 1)
                .order_by(AuditEvent.id)
                .execution_options(all_tenants=True)
            )
            .scalars()
            .all()
        )
        prev = events[0].hash
        forged: list[tuple[int, str, str]] = []
        for ev in events[1:]:
            ev.prev_hash = prev
            prev = audit.event_hash(prev, ev)
            forged.append((ev.id, ev.prev_hash, prev))
        session.expunge_all()
    finally:
        session.close()
    with ch.db.engine.begin() as conn:
        for ev_id, prev_hash, hash_ in forged:
            conn.execute(
                text("UPDATE audit_events SET prev_hash = :p, hash = :h WHERE id = :id"),
                {"p": prev_hash, "h": hash_, "id": ev_id},
            )
        conn.execute(text("UPDATE audit_head SET last_hash = :h WHERE id = 1"), {"h": forged[-1][2]})


def test_anchors_are_written_checked_and_name_the_first_rewritten_event(anchored) -> None:
    ch, env = anchored
    # no key: a clear refusal, nothing written
    refused = ch.cli("audit", "anchor", env={"JIXIAO_AUDIT_ANCHOR_KEY": ""})
    assert refused.returncode != 0 and "JIXIAO_AUDIT_ANCHOR_KEY" in refused.stderr

    total = len(ch.ids())
    first = cli(ch, env, "audit", "anchor")
    assert first.returncode == 0, first.stderr
    assert f"事件 1–{total}" in first.stdout
    printed = json.loads(first.stdout.splitlines()[-1])  # the job's log holds a copy
    assert printed["first"] == 1 and printed["last"] == total and printed["signature"]
    nothing = cli(ch, env, "audit", "anchor")
    assert nothing.returncode == 0 and "没有新的审计事件" in nothing.stdout

    record_events(ch, 4)
    second = cli(ch, env, "audit", "anchor")
    assert second.returncode == 0 and f"事件 {total + 1}–{total + 4}" in second.stdout

    verified = cli(ch, env, "audit", "verify", "--anchors")
    assert verified.returncode == 0, verified.stderr
    assert f"2 个锚点、{total + 4} 条已锚定事件" in verified.stdout
    # the public key alone checks them (the verifier need not hold the signing key)
    public_only = {"JIXIAO_AUDIT_ANCHOR_PUBLIC_KEY": env["public"]} | {
        k: v for k, v in env.items() if k.startswith("S3_")
    }
    assert cli(ch, public_only, "audit", "verify", "--anchors").returncode == 0

    # the forger rewrites event total - 2 and everything after it: the ch alone verifies …
    target = total - 2
    rewrite_consistently(ch, target)
    alone = ch.cli("audit", "verify")
    assert alone.returncode == 0, alone.stderr
    # … its anchors name the rewritten event
    caught = cli(ch, env, "audit", "verify", "--anchors")
    assert caught.returncode == 1
    assert f"第一个被改写的事件 id={target}" in caught.stderr
    # and no anchor is written over a ch that no longer follows the last anchor
    record_events(ch, 1)
    refused = cli(ch, env, "audit", "anchor")
    assert refused.returncode == 1 and "不写锚点" in refused.stderr, refused.stdout + refused.stderr


def test_a_key_that_did_not_sign_the_anchors_fails_them(anchored) -> None:
    ch, env = anchored
    assert cli(ch, env, "audit", "anchor").returncode == 0
    other = ch.cli("audit", "anchor", "--new-key")
    stranger = {**env, "JIXIAO_AUDIT_ANCHOR_KEY": other.stdout.split()[0].split("=", 1)[1]}
    refused = cli(ch, stranger, "audit", "verify", "--anchors")
    assert refused.returncode == 1 and "签名无效" in refused.stderr
