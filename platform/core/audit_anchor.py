"""Anchors of the audit chain (DESIGN.md §4.5): what proves the chain was not rewritten by someone
who can write to the database — its superuser too.

The chain (`audit.py`) shows an event changed *alone*; whoever rewrites an event and recomputes
every hash after it leaves a chain that verifies. An anchor is kept outside the database: on a
schedule (`jixiao audit anchor`, the chart's CronJob) the events appended since the last anchor —
their ids and hashes, up to the head — are signed with an Ed25519 key that the database never holds
(`JIXIAO_AUDIT_ANCHOR_KEY`) and written to the object store (`audit-anchors/<last id>.json`) and to
stdout (the job's log, a second copy). `jixiao audit verify --anchors` checks each anchor's
signature with the public key, that the anchors follow one another from event 1, and every anchored
hash against the database: the first event whose hash differs (or that is gone) is named.

An anchor is written only over a chain that verifies from the previous anchor on; nothing new since
the last one writes nothing.
"""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from .audit import GENESIS, AuditEvent, AuditHead, event_batches, event_hash
from .storage import ObjectNotFound, ObjectStore

PREFIX = "audit-anchors/"
VERSION = 1


class AnchorKeyError(ValueError):
    """The anchor key is missing or not a key."""


# --- keys -----------------------------------------------------------------------------------------


def new_key() -> str:
    """A new signing key, as `JIXIAO_AUDIT_ANCHOR_KEY` takes it (base64 of the 32-byte seed)."""
    seed = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    return base64.b64encode(seed).decode()


def signing_key(text: str) -> Ed25519PrivateKey:
    try:
        seed = base64.b64decode(text.strip(), validate=True)
        return Ed25519PrivateKey.from_private_bytes(seed)
    except ValueError as exc:
        raise AnchorKeyError("JIXIAO_AUDIT_ANCHOR_KEY 须为 base64 编码的 32 字节 Ed25519 私钥") from exc


def public_text(key: Ed25519PublicKey) -> str:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def verifying_key(text: str) -> Ed25519PublicKey:
    try:
        return Ed25519PublicKey.from_public_bytes(base64.b64decode(text.strip(), validate=True))
    except ValueError as exc:
        raise AnchorKeyError(
            "JIXIAO_AUDIT_ANCHOR_PUBLIC_KEY 须为 base64 编码的 32 字节 Ed25519 公钥"
        ) from exc


# --- anchors --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Anchor:
    first: int  # the first event it covers (the previous anchor's last + 1)
    last: int  # the chain's head when it was written
    head: str  # the head's hash
    hashes: tuple[str, ...]  # every covered event's hash, in id order
    at: str  # when (ISO 8601, UTC)
    signature: str = ""

    def body(self) -> bytes:
        """What is signed: every field but the signature, canonical JSON."""
        fields = {
            "version": VERSION,
            "first": self.first,
            "last": self.last,
            "head": self.head,
            "hashes": list(self.hashes),
            "at": self.at,
        }
        return json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()

    def to_json(self) -> str:
        return json.dumps({**json.loads(self.body()), "signature": self.signature}, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> Anchor:
        raw: dict[str, Any] = json.loads(text)
        return cls(
            first=int(raw["first"]),
            last=int(raw["last"]),
            head=str(raw["head"]),
            hashes=tuple(str(h) for h in raw["hashes"]),
            at=str(raw["at"]),
            signature=str(raw.get("signature", "")),
        )


def anchor_key(last: int) -> str:
    return f"{PREFIX}{last:012d}.json"


def _anchor_keys(store: ObjectStore) -> list[str]:
    return sorted(k for k in store.list_keys(PREFIX) if k.endswith(".json"))


def _read(store: ObjectStore, key: str) -> str:
    with store.open_stream(key) as chunks:
        return b"".join(chunks).decode()


def _events(session: Session, first: int, last: int) -> Iterator[AuditEvent]:
    """The events first..last in id order (a batch at a time)."""
    for rows in event_batches(session, after=first - 1, last=last):
        yield from rows


@dataclass(frozen=True)
class AnchorResult:
    written: Anchor | None  # None: no event since the last anchor
    key: str | None = None


class ChainBroken(RuntimeError):
    """The chain does not verify since the last anchor: no anchor is written over it."""


def anchor(session: Session, store: ObjectStore, key: Ed25519PrivateKey, now: datetime) -> AnchorResult:
    """Sign the events since the last anchor and write the anchor to the store."""
    keys = _anchor_keys(store)
    previous = Anchor.from_json(_read(store, keys[-1])) if keys else None
    first = previous.last + 1 if previous else 1
    prev_hash = previous.head if previous else GENESIS
    head = session.execute(
        select(AuditHead.last_id, AuditHead.last_hash).where(AuditHead.id == 1)
    ).one_or_none()
    if head is None:
        return AnchorResult(None)
    last = head.last_id
    if last < first:
        return AnchorResult(None)
    hashes: list[str] = []
    expected = first
    for ev in _events(session, first, last):
        if ev.id != expected:
            raise ChainBroken(f"事件 {expected} 缺失，不写锚点")
        if ev.prev_hash != prev_hash or event_hash(prev_hash, ev) != ev.hash:
            raise ChainBroken(f"事件 {ev.id} 与哈希链不符（自上一锚点以来），不写锚点")
        hashes.append(ev.hash)
        prev_hash = ev.hash
        expected += 1
    if expected != last + 1 or prev_hash != head.last_hash:
        raise ChainBroken(f"事件 {expected} 缺失或链头不符，不写锚点")
    unsigned = Anchor(first, last, prev_hash, tuple(hashes), now.isoformat(timespec="seconds"))
    signature = base64.b64encode(key.sign(unsigned.body())).decode()
    written = Anchor(first, last, prev_hash, tuple(hashes), unsigned.at, signature)
    data = written.to_json().encode()
    store.put_stream(anchor_key(last), io.BytesIO(data), content_type="application/json", length=len(data))
    return AnchorResult(written, anchor_key(last))


@dataclass(frozen=True)
class AnchorCheck:
    ok: bool
    anchors: int  # anchors checked
    events: int  # anchored events checked
    broken_id: int | None = None  # the first event rewritten or gone since it was anchored
    reason: str = ""


def check(session: Session, store: ObjectStore, public: Ed25519PublicKey) -> AnchorCheck:
    """Every anchor against its signature, its predecessor and the database."""
    expected_first = 1
    events = 0
    keys = _anchor_keys(store)
    for n, key in enumerate(keys):
        try:
            found = Anchor.from_json(_read(store, key))
        except (ObjectNotFound, ValueError, KeyError) as exc:
            return AnchorCheck(False, n, events, None, f"锚点 {key} 无法读取：{exc}")
        try:
            public.verify(base64.b64decode(found.signature), found.body())
        except (InvalidSignature, ValueError):
            return AnchorCheck(False, n, events, None, f"锚点 {key} 的签名无效")
        if found.first != expected_first or len(found.hashes) != found.last - found.first + 1:
            return AnchorCheck(False, n, events, None, f"锚点 {key} 与上一锚点不衔接")
        ids = iter(range(found.first, found.last + 1))
        for ev, anchored in zip(_events(session, found.first, found.last), found.hashes, strict=False):
            want = next(ids)
            if ev.id != want:
                return AnchorCheck(False, n, events, want, f"已锚定的事件 {want} 不见了")
            if ev.hash != anchored:
                return AnchorCheck(False, n, events, ev.id, f"已锚定的事件 {ev.id} 被改写（哈希与锚点不符）")
            events += 1
        missing = next(ids, None)
        if missing is not None:
            return AnchorCheck(False, n, events, missing, f"已锚定的事件 {missing} 不见了")
        expected_first = found.last + 1
    return AnchorCheck(True, len(keys), events)
