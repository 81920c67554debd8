"""Step 2 of an Excel import: judging every parsed row against the library (`Judge`, `plan_import`).

The importer's own indicators are prefetched by code and by name, other tenants' ones looked up by
code a batch of rows at a time: each row becomes a create, an update or "unchanged", or errors.
EVERY error is collected (`{"row", "column", "rule"}`, sorted by row, then column order). Rows of
other tenants' indicators are accepted when unchanged and refused when changed. Writes nothing:
the import (`importing.run_import`) judges batches as they are read and writes the plan's new
creates and updates while no error has been seen; `plan_import` judges a file read whole. No Flask.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from sqlalchemy import select
from sqlalchemy.orm import Session

from jixiao.platform.core.actor import Actor
from jixiao.platform.core.authz import authorize
from jixiao.platform.core.errors import Forbidden
from jixiao.tenants.models import Tenant

from ..models import AUDITED, FRAMEWORK, LEVEL1_OF, FrameworkNode, Indicator
from ..rules import validate_fields
from ..service import EDITABLE
from .layout import COLUMNS, KEY_HEADERS, TRAILING, YEAR_HEADER, year_header
from .parse import ParsedFile, Progress, Row, error


def _clean(value: Any) -> Any:
    """What an xlsx cell can hold of a stored text (no control characters), compared stripped."""
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub("", value).strip()
    return value


def _comparable(data: dict[str, Any]) -> dict[str, Any]:
    out = {k: _clean(data.get(k)) for k in EDITABLE if k != "historical_values"}
    for k in ("category", "common_class"):
        out[k] = out[k] or None
    for k in ("explanation", "source", "unit", "standard_value"):
        out[k] = out[k] or ""
    out["historical_values"] = {
        str(y): _clean(str(v)) for y, v in (data.get("historical_values") or {}).items() if _clean(str(v))
    }
    return out


# what the import reads of a stored indicator: its fields as `service.fields_of` gives them (level2
# by name), and what its update, version snapshot and audit event need
STORED = (
    *(getattr(Indicator, k) for k in EDITABLE if k != "level2"),
    FrameworkNode.name.label("level2"),
    Indicator.id,
    Indicator.code,
    Indicator.status,
    Indicator.version,
    Indicator.tenant_id,
    Indicator.shared,
    Indicator.retired_reason,
    Indicator.name_pinyin,
    Indicator.name_initials,
    Tenant.name.label("owner_name"),
)


@dataclass(slots=True)
class Stored:
    """A stored indicator as the import reads it: its columns, not an ORM object (reading a
    library of 12,121 as objects cost more than judging it). Attribute names as `Indicator`'s."""

    name: str
    category: str | None
    common_class: str | None
    kind: str
    scope: str
    explanation: str
    source: str
    value_type: str
    direction: str
    unit: str
    standard_value: str
    value_basis: str
    historical_values: dict[str, str]
    level2: str
    id: int
    code: str
    status: str
    version: int
    tenant_id: int
    shared: bool
    retired_reason: str | None
    name_pinyin: str
    name_initials: str
    owner_name: str

    @property
    def level1_name(self) -> str:
        return LEVEL1_OF[self.level2]

    def fields(self) -> dict[str, Any]:
        """`service.fields_of` of the indicator."""
        out = {k: getattr(self, k) for k in EDITABLE}
        out["historical_values"] = dict(self.historical_values or {})
        return out

    def to_audit(self) -> dict[str, Any]:
        """`Indicator.to_audit()` of the indicator."""
        return {f: getattr(self, f) for f in AUDITED}


def read_stored(session: Session, *criteria: Any) -> list[Stored]:
    """The indicators meeting `criteria` that the session may read (the walls apply)."""
    stmt = (
        select(*STORED)
        .join(FrameworkNode, FrameworkNode.id == Indicator.level2_id)
        .join(Tenant, Tenant.id == Indicator.tenant_id)
        .where(*criteria)
    )
    return [Stored(**row._asdict()) for row in session.execute(stmt)]


@dataclass
class Plan:
    owner: Tenant
    creates: list[Row] = field(default_factory=list)
    updates: list[tuple[Row, Stored, dict[str, Any]]] = field(default_factory=list)
    unchanged: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def _merged(row: Row, indicator: Stored | None, years: Sequence[str]) -> dict[str, Any]:
    """The row's fields; historical years without a column in the file keep their stored value."""
    data = dict(row.data)
    if indicator is not None:
        kept = {y: v for y, v in (indicator.historical_values or {}).items() if str(y) not in years}
        data["historical_values"] = {**kept, **row.data["historical_values"]}
    return data


def _differences(row: Row, indicator: Stored, merged: dict[str, Any]) -> list[str]:
    """The headers whose value differs from the stored indicator, in column order."""
    before = _comparable(indicator.fields())
    after = _comparable(merged)
    changed = []
    for column in COLUMNS:
        key = column.key
        if key == "level1":
            if row.level1 and row.level1 != indicator.level1_name:
                changed.append(column.header)
        elif key in before and key != "historical_values" and before[key] != after[key]:
            changed.append(column.header)
    old, new = before["historical_values"], after["historical_values"]
    for year in sorted(set(old) | set(new)):
        if old.get(year) != new.get(year):
            changed.append(year_header(year))
    if row.status is not None and row.status != indicator.status:
        changed.append(KEY_HEADERS["status"])
    return changed


def _column_of(field_key: str, message: str, years: Iterable[str]) -> str:
    if field_key == "historical_values":
        for year in years:
            if message.startswith(f"{year} 年") or f"「{year}」" in message:
                return year_header(year)
        return "历史值"
    return KEY_HEADERS.get(field_key, field_key)


def _field_errors(row: Row, merged: dict[str, Any]) -> list[dict[str, Any]]:
    out = [error(row.number, KEY_HEADERS[k], m) for k, m in row.label_errors.items() if k != "status"]
    for key, messages in validate_fields(merged).items():
        if key in row.label_errors:
            continue  # already said in the spreadsheet's own words
        for message in messages:
            out.append(error(row.number, _column_of(key, message, merged["historical_values"]), message))
    if row.level1:
        level2 = merged.get("level2")
        if row.level1 not in FRAMEWORK:
            out.append(error(row.number, "一级指标", f"一级指标须为：{'、'.join(FRAMEWORK)}"))
        elif level2 in LEVEL1_OF and LEVEL1_OF[level2] != row.level1:
            out.append(
                error(
                    row.number,
                    "一级指标",
                    f"二级指标「{level2}」属于一级指标「{LEVEL1_OF[level2]}」，与「{row.level1}」不符",
                )
            )
    return out


_POSITIONS = {c.header: float(n) for n, c in enumerate(COLUMNS)} | {
    c.header: float(len(COLUMNS) + 1 + n) for n, c in enumerate(TRAILING)
}


def _column_position(header: str | None) -> float:
    """Errors of one row are listed in the layout's column order (years between 标准值依据 and 状态)."""
    if header is None:
        return -1.0
    year = YEAR_HEADER.match(header)
    if year:
        return len(COLUMNS) + int(year.group(1)) / 10_000
    return _POSITIONS.get(header, len(COLUMNS) + len(TRAILING) + 1.0)


def batched(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class Judge:
    """Judges rows as they come (the import reads, judges and writes at once): the importer's own
    indicators prefetched by code and by name once, other tenants' ones looked up by code a batch
    at a time; duplicate codes, names and targets are told against every row judged before. The
    `plan` grows with each batch; `finish` sorts its errors."""

    def __init__(self, session: Session, actor: Actor) -> None:
        authorize(actor, "indicators.write")
        owner = session.get(Tenant, actor.tenant_id) if actor.tenant_id is not None else None
        if owner is None:
            raise Forbidden("只有地区用户可以维护指标库")
        self.session = session
        self.plan = Plan(owner=owner)
        self.own_by_code: dict[str, Stored] | None = None  # read with the first batch
        self.own_by_name: dict[str, Stored] = {}
        self.code_rows: dict[str, int] = {}
        self.target_rows: dict[int, int] = {}  # indicator id → the row that edits it
        self.name_rows: dict[str, int] = {}  # final names in the owner's library → row

    def _own(self) -> dict[str, Stored]:
        if self.own_by_code is None:
            own = read_stored(self.session, Indicator.tenant_id == self.plan.owner.id)
            self.own_by_code = {i.code: i for i in own}
            self.own_by_name = {i.name: i for i in own}
        return self.own_by_code

    def _others(self, rows: Sequence[Row]) -> dict[str, Stored]:
        own = self._own()
        wanted = sorted({r.code for r in rows if r.code and r.code not in own})
        others: dict[str, Stored] = {}
        for chunk in batched(wanted, 500):
            # (not the owner's: its own were all read first — any other is one this import wrote)
            criteria = (Indicator.code.in_(chunk), Indicator.tenant_id != self.plan.owner.id)
            for indicator in read_stored(self.session, *criteria):
                others[indicator.code] = indicator
        return others

    def judge(self, rows: Sequence[Row], years: Sequence[str]) -> None:
        """Each row becomes a create, an update or "unchanged", or errors (in `plan`)."""
        others = self._others(rows)
        for row in rows:
            self._row(row, years, others)

    def _row(self, row: Row, years: Sequence[str], others: dict[str, Stored]) -> None:
        plan, errors = self.plan, self.plan.errors
        target: Stored | None = None
        if row.code:
            if row.code in self.code_rows:
                errors.append(
                    error(
                        row.number,
                        "指标编码",
                        f"指标编码「{row.code}」与第 {self.code_rows[row.code]} 行重复",
                    )
                )
                return
            self.code_rows[row.code] = row.number
            target = self._own().get(row.code)
            if target is None:
                other = others.get(row.code)
                if other is None:
                    rule = (
                        "这是导入模板的示例行，请删除本行或清空指标编码后再导入"
                        if row.code.startswith("示例")
                        else f"未知的指标编码「{row.code}」（新增指标请将编码留空）"
                    )
                    errors.append(error(row.number, "指标编码", rule))
                    return
                changed = _differences(row, other, _merged(row, other, years))
                if changed:
                    errors.append(
                        error(
                            row.number,
                            changed[0],
                            f"指标 {other.code} 属于{other.owner_name}，不能修改"
                            f"（修改了：{'、'.join(changed)}）；如需调整，请在页面上从它派生本单位指标",
                        )
                    )
                else:
                    plan.unchanged += 1
                return
        else:
            target = self.own_by_name.get(row.data["name"])

        if target is not None:
            if target.id in self.target_rows:
                errors.append(
                    error(
                        row.number,
                        "指标编码" if row.code else "指标名称",
                        f"与第 {self.target_rows[target.id]} 行是同一个指标（{target.code}）",
                    )
                )
                return
            self.target_rows[target.id] = row.number
        merged = _merged(row, target, years)
        name = str(merged.get("name") or "").strip()
        if name:
            if name in self.name_rows:
                errors.append(
                    error(row.number, "指标名称", f"指标名称「{name}」与第 {self.name_rows[name]} 行重复")
                )
            else:
                self.name_rows[name] = row.number
        if target is None:
            if "status" in row.label_errors:
                errors.append(error(row.number, "状态", row.label_errors["status"]))
            elif row.status == "retired":
                errors.append(error(row.number, "状态", "新增指标的状态须为“在用”；退出请在页面上操作"))
            problems = _field_errors(row, merged)
            errors.extend(problems)
            if not problems:
                plan.creates.append(row)
            return

        changed = _differences(row, target, merged)
        if not changed:
            plan.unchanged += 1
            return
        if "状态" in changed:
            errors.append(
                error(
                    row.number,
                    "状态",
                    row.label_errors.get("status") or "状态请在页面上通过退出/恢复操作修改",
                )
            )
            changed.remove("状态")
            if not changed:
                return
        if target.status != "active":
            errors.append(
                error(row.number, changed[0], f"指标 {target.code} 已退出，不能修改；请先在页面上恢复")
            )
            return
        problems = _field_errors(row, merged)
        clash = self.own_by_name.get(name)
        if clash is not None and clash.id != target.id:
            problems.append(error(row.number, "指标名称", f"本单位已有名为「{name}」的指标（{clash.code}）"))
        errors.extend(problems)
        if not problems:
            plan.updates.append((row, target, merged))

    def finish(self) -> Plan:
        """The plan, its errors sorted by row, then column order."""
        self.plan.errors.sort(key=lambda e: (e["row"] or 0, _column_position(e["column"])))
        return self.plan


def plan_import(
    session: Session, actor: Actor, parsed: ParsedFile, *, progress: Progress | None = None
) -> Plan:
    """Judge every row of a file read whole; collect every error. Writes nothing."""
    judge = Judge(session, actor)
    if parsed.errors:
        judge.plan.errors.extend(parsed.errors)
        return judge.plan
    if progress is not None:
        progress(52, "核对指标库")
    judge.judge(parsed.rows, parsed.years)
    plan = judge.finish()
    if progress is not None:
        progress(60, f"检查完成：{len(plan.errors)} 个错误" if plan.errors else "检查通过，开始写入")
    return plan
