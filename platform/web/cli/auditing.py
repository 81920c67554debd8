"""The audit chain: verify it, anchor it."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import click
from flask.cli import with_appcontext

from . import _rt, main

if TYPE_CHECKING:
    from jixiao.platform.core.runtime import Runtime

# --- audit -------------------------------------------------------------------------------------


@main.group("audit")
def audit_group() -> None:
    """The audit trail."""


@audit_group.command("verify")
@click.option(
    "--anchors", is_flag=True, help="also check the chain against its signed anchors in the object store"
)
@with_appcontext
def audit_verify(anchors: bool) -> None:
    """Walk the hash chain; exit 1 naming the first broken event. With --anchors, also every anchor
    (its signature, its predecessor, every event it covers): a chain rewritten consistently inside
    the database verifies on its own, not against its anchors."""
    from jixiao.platform.core import audit, audit_anchor

    rt = _rt()
    public = None
    if anchors:
        public = _anchor_public_key(rt)
    s = rt.db.system_session("audit verify")
    try:
        result = audit.verify(s)
        checked = audit_anchor.check(s, rt.store, public) if public is not None else None
    finally:
        s.close()
    if not result.ok:
        click.echo(
            f"审计链被破坏：第一个异常事件 id={result.broken_id}（{result.reason}）；此前 {result.checked} 条完好",
            err=True,
        )
        sys.exit(1)
    click.echo(f"审计链完整：共校验 {result.checked} 条事件")
    if checked is None:
        return
    if not checked.ok:
        where = f"第一个被改写的事件 id={checked.broken_id}" if checked.broken_id is not None else "锚点异常"
        click.echo(
            f"审计锚点校验失败：{where}（{checked.reason}）；此前 {checked.events} 条已锚定事件完好", err=True
        )
        sys.exit(1)
    click.echo(f"审计锚点一致：{checked.anchors} 个锚点、{checked.events} 条已锚定事件")


@audit_group.command("anchor")
@click.option("--new-key", is_flag=True, help="print a new signing key and its public key, anchor nothing")
@with_appcontext
def audit_anchor_command(new_key: bool) -> None:
    """Sign the events since the last anchor with JIXIAO_AUDIT_ANCHOR_KEY and write the anchor to
    the object store (audit-anchors/) and to stdout — on a schedule (the chart's CronJob)."""
    from jixiao.platform.core import audit_anchor
    from jixiao.platform.core.db import utcnow

    if new_key:
        key = audit_anchor.new_key()
        click.echo(f"JIXIAO_AUDIT_ANCHOR_KEY={key}")
        public = audit_anchor.public_text(audit_anchor.signing_key(key).public_key())
        click.echo(f"JIXIAO_AUDIT_ANCHOR_PUBLIC_KEY={public}")
        return
    rt = _rt()
    if not rt.settings.audit_anchor_key:
        raise click.ClickException(
            "未设置 JIXIAO_AUDIT_ANCHOR_KEY（jixiao audit anchor --new-key 生成一对密钥）"
        )
    try:
        key = audit_anchor.signing_key(rt.settings.audit_anchor_key)
    except audit_anchor.AnchorKeyError as exc:
        raise click.ClickException(str(exc)) from exc
    s = rt.db.system_session("audit anchor")
    try:
        done = audit_anchor.anchor(s, rt.store, key, utcnow())
    except audit_anchor.ChainBroken as exc:
        click.echo(f"审计链被破坏：{exc}", err=True)
        sys.exit(1)
    finally:
        s.close()
    if done.written is None:
        click.echo("自上一锚点以来没有新的审计事件：未写锚点")
        return
    click.echo(f"已写锚点 {done.key}：事件 {done.written.first}–{done.written.last}")
    click.echo(done.written.to_json())


def _anchor_public_key(rt: Runtime) -> Any:
    from jixiao.platform.core import audit_anchor

    settings = rt.settings
    try:
        if settings.audit_anchor_public_key:
            return audit_anchor.verifying_key(settings.audit_anchor_public_key)
        if settings.audit_anchor_key:
            return audit_anchor.signing_key(settings.audit_anchor_key).public_key()
    except audit_anchor.AnchorKeyError as exc:
        raise click.ClickException(str(exc)) from exc
    raise click.ClickException("校验锚点须设置 JIXIAO_AUDIT_ANCHOR_PUBLIC_KEY（或 JIXIAO_AUDIT_ANCHOR_KEY）")
