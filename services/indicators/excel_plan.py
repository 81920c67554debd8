"""Step 2 of an Excel import: judging every parsed row against the library (`plan_import`).

One pass over the rows, with the importer's own indicators prefetched by code and by name and the
other tenants' ones by code: each row becomes a create, an update or "unchanged", or errors.
EVERY error is collected (`{"row", "column", "rule"}`, sorted by row, then column order). Rows of
other tenants' indicators are accepted when unchanged and refused when changed. Writes nothing:
a `Plan` without errors is written by `excel_import.apply_plan`. No Flask.
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

from .excel_layout import COLUMNS, KEY_HEADERS, TRAILING, YEAR_HEADER, year_header
from .excel_parse import ParsedFile, Progress, Row, error
from .models import FRAMEWORK, LEVEL1_OF, Indicator
from .rules import validate_fields
from .service import EDITABLE, fields_of


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


@dataclass
class Plan:
    owner: Tenant
    creates: list[Row] = field(default_factory=list)
    updates: list[tuple[Row, Indicator, dict[str, Any]]] = field(default_factory=list)
    unchanged: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def _merged(row: Row, indicator: Indicator | None, years: Sequence[str]) -> dict[str, Any]:
    """The row's fields; historical years without a column in the file keep their stored value."""
    data = dict(row.data)
    if indicator is not None:
        kept = {y: v for y, v in (indicator.historical_values or {}).items() if str(y) not in years}
        data["historical_values"] = {**kept, **row.data["historical_values"]}
    return data


def _differences(row: Row, indicator: Indicator, merged: dict[str, Any]) -> list[str]:
    """The headers whose value differs from the stored indicator, in column order."""
    before = _comparable(fields_of(indicator))
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


def plan_import(
    session: Session, actor: Actor, parsed: ParsedFile, *, progress: Progress | None = None
) -> Plan:
    """Judge every row; collect every error. Writes nothing."""
    authorize(actor, "indicators.write")
    owner = session.get(Tenant, actor.tenant_id) if actor.tenant_id is not None else None
    if owner is None:
        raise Forbidden("只有地区用户可以维护指标库")
    plan = Plan(owner=owner, errors=list(parsed.errors))
    if parsed.errors:
        return plan
    own = list(session.execute(select(Indicator).where(Indicator.tenant_id == owner.id)).scalars())
    own_by_code = {i.code: i for i in own}
    own_by_name = {i.name: i for i in own}
    wanted = sorted({r.code for r in parsed.rows if r.code and r.code not in own_by_code})
    others: dict[str, Indicator] = {}
    for chunk in batched(wanted, 500):
        for indicator in session.execute(select(Indicator).where(Indicator.code.in_(chunk))).scalars():
            others[indicator.code] = indicator
    if progress is not None:
        progress(52, "核对指标库")

    years = parsed.years
    code_rows: dict[str, int] = {}
    target_rows: dict[int, int] = {}  # indicator id → the row that edits it
    name_rows: dict[str, int] = {}  # final names in the owner's library → row
    errors = plan.errors
    for row in parsed.rows:
        target: Indicator | None = None
        if row.code:
            if row.code in code_rows:
                errors.append(
                    error(row.number, "指标编码", f"指标编码「{row.code}」与第 {code_rows[row.code]} 行重复")
                )
                continue
            code_rows[row.code] = row.number
            target = own_by_code.get(row.code)
            if target is None:
                other = others.get(row.code)
                if other is None:
                    rule = (
                        "这是导入模板的示例行，请删除本行或清空指标编码后再导入"
                        if row.code.startswith("示例")
                        else f"未知的指标编码「{row.code}」（新增指标请将编码留空）"
                    )
                    errors.append(error(row.number, "指标编码", rule))
                    continue
                changed = _differences(row, other, _merged(row, other, years))
                if changed:
                    errors.append(
                        error(
                            row.number,
                            changed[0],
                            f"指标 {other.code} 属于{other.owner.name}，不能修改"
                            f"（修改了：{'、'.join(changed)}）；如需调整，请在页面上从它派生本单位指标",
                        )
                    )
                else:
                    plan.unchanged += 1
                continue
        else:
            target = own_by_name.get(row.data["name"])

        if target is not None:
            if target.id in target_rows:
                errors.append(
                    error(
                        row.number,
                        "指标编码" if row.code else "指标名称",
                        f"与第 {target_rows[target.id]} 行是同一个指标（{target.code}）",
                    )
                )
                continue
            target_rows[target.id] = row.number
        merged = _merged(row, target, years)
        name = str(merged.get("name") or "").strip()
        if name:
            if name in name_rows:
                errors.append(
                    error(row.number, "指标名称", f"指标名称「{name}」与第 {name_rows[name]} 行重复")
                )
            else:
                name_rows[name] = row.number
        if target is None:
            if "status" in row.label_errors:
                errors.append(error(row.number, "状态", row.label_errors["status"]))
            elif row.status == "retired":
                errors.append(error(row.number, "状态", "新增指标的状态须为“在用”；退出请在页面上操作"))
            problems = _field_errors(row, merged)
            errors.extend(problems)
            if not problems:
                plan.creates.append(row)
            continue

        changed = _differences(row, target, merged)
        if not changed:
            plan.unchanged += 1
            continue
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
                continue
        if target.status != "active":
            errors.append(
                error(row.number, changed[0], f"指标 {target.code} 已退出，不能修改；请先在页面上恢复")
            )
            continue
        problems = _field_errors(row, merged)
        clash = own_by_name.get(name)
        if clash is not None and clash.id != target.id:
            problems.append(error(row.number, "指标名称", f"本单位已有名为「{name}」的指标（{clash.code}）"))
        errors.extend(problems)
        if not problems:
            plan.updates.append((row, target, merged))
    errors.sort(key=lambda e: (e["row"] or 0, _column_position(e["column"])))
    if progress is not None:
        progress(60, f"检查完成：{len(errors)} 个错误" if errors else "检查通过，开始写入")
    return plan
