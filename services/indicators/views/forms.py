"""The indicator form of the library (指标库): 新建指标, 派生本单位指标 from an upper level's indicator
(`/new?derive=<id>`) and 修改 (edit, with the version for optimistic locking).

Thin like every handler: parse the form, call the service, re-render with the service's own
Chinese messages on 422 (every field at once, the historical-value rows flagged one by one) and
on 409 (stale version).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_login import login_required

from jixiao.platform.core.authz import authorize
from jixiao.platform.core.errors import Conflict, ValidationFailed
from jixiao.platform.web.context import actor, db

from .. import service
from ..models import (
    DIRECTIONS,
    FRAMEWORK,
    KINDS,
    LEVEL1_OF,
    SCOPES,
    VALUE_BASES,
    VALUE_TYPES,
    Indicator,
)
from ..rules import DIRECTION_LABELS, FIELD_LABELS, KIND_LABELS, SCOPE_LABELS, VALUE_TYPE_LABELS
from .common import bp, vocabulary, writable

TEXT_FIELDS = tuple(f for f in service.EDITABLE if f != "historical_values")


def _recent_years() -> list[str]:
    this_year = date.today().year
    return [str(y) for y in range(this_year - 3, this_year)]


def _history_rows(
    values: dict[str, str] | list[tuple[str, str]] | None, *, fill_years: bool
) -> list[tuple[str, str]]:
    """Year/value rows of the form: what there is, the last three years when it is new, empty
    rows up to three, and one spare empty row when every row is filled."""
    rows = sorted(values.items()) if isinstance(values, dict) else list(values or [])
    if fill_years:
        used = {y for y, _ in rows}
        rows += [(y, "") for y in _recent_years() if y not in used][: max(3 - len(rows), 0)]
        rows.sort()
    while len(rows) < 3:
        rows.append(("", ""))
    if all(v for _, v in rows):
        rows.append(("", ""))
    return rows


def _posted() -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """The indicator fields of the posted form, and its history rows as typed."""
    form = request.form
    data: dict[str, Any] = {key: form.get(key, "") for key in TEXT_FIELDS}
    rows = list(zip(form.getlist("hist_year"), form.getlist("hist_value"), strict=False))
    rows = [(y.strip(), v.strip()) for y, v in rows]
    # A year without a value is an unused row; a value without a year is the service's to refuse.
    data["historical_values"] = {y: v for y, v in rows if v}
    return data, [(y, v) for y, v in rows if y or v]


SELECTS = {
    "level2": LEVEL1_OF,
    "kind": KINDS,
    "scope": SCOPES,
    "value_type": VALUE_TYPES,
    "direction": DIRECTIONS,
    "value_basis": VALUE_BASES,
}


def _page_errors(errors: dict[str, Any], form: dict[str, Any]) -> dict[str, Any]:
    """The service's messages as the form shows them: a select left empty (or sent with a value it
    does not offer) says 请选择… in Chinese instead of listing the API's codes."""
    shown = dict(errors)
    for field, allowed in SELECTS.items():
        if field in shown and form.get(field) not in allowed:
            rest = [m for m in shown[field] if "须为：" not in m and not m.startswith("未知的二级指标")]
            shown[field] = [f"请选择{FIELD_LABELS[field]}", *rest]
    return shown


def _render_form(
    mode: str,
    form: dict[str, Any],
    rows: list[tuple[str, str]],
    *,
    errors: dict[str, Any] | None = None,
    conflict: str | None = None,
    indicator: Indicator | None = None,
    base: Indicator | None = None,
    status: int = 200,
) -> Any:
    errors = _page_errors(errors or {}, form)
    problems = errors.get("historical_values", [])
    flagged = [
        (
            bool(year or value) and any(f"年份「{year}」" in m for m in problems),
            bool(year) and any(m.startswith(f"{year} 年的历史值") for m in problems),
        )
        for year, value in rows
    ]
    return render_template(
        "indicators/form.html",
        mode=mode,
        form=form,
        rows=[(year, value, *bad) for (year, value), bad in zip(rows, flagged, strict=True)],
        errors=errors,
        conflict=conflict,
        i=indicator,
        base=base,
        framework=FRAMEWORK,
        kinds=[(k, KIND_LABELS[k]) for k in KINDS],
        scopes=[(k, SCOPE_LABELS[k]) for k in SCOPES],
        value_types=[(k, VALUE_TYPE_LABELS[k]) for k in VALUE_TYPES],
        directions=[(k, DIRECTION_LABELS[k]) for k in DIRECTIONS],
        value_bases=VALUE_BASES,
        categories=vocabulary(Indicator.category),
        common_classes=vocabulary(Indicator.common_class),
    ), status


EMPTY_FORM = {
    "name": "",
    "level2": "",
    "category": "",
    "common_class": "",
    "kind": "individual",
    "scope": "project",
    "explanation": "",
    "source": "",
    "value_type": "quantitative",
    "direction": ">=",
    "unit": "",
    "standard_value": "",
    "value_basis": "计划标准",
}


def _as_form(indicator: Indicator) -> dict[str, Any]:
    fields = service.fields_of(indicator)
    return {k: ("" if fields[k] is None else fields[k]) for k in TEXT_FIELDS}


@bp.route("/new", methods=["GET", "POST"])
@login_required
def create() -> Any:
    """新建指标; with `?derive=<id>` 派生本单位指标 from an upper level's indicator."""
    writable()
    who = actor()
    s = db()
    authorize(who, "indicators.write")
    derive_id = request.values.get("derive", type=int)
    base = service.get_indicator(s, who, derive_id) if derive_id else None
    mode = "derive" if base is not None else "create"
    if request.method == "GET":
        if base is not None:
            return _render_form(
                mode, _as_form(base), _history_rows(base.historical_values, fill_years=True), base=base
            )
        return _render_form(mode, dict(EMPTY_FORM), _history_rows(None, fill_years=True))
    data, rows = _posted()
    if base is not None:
        data["derived_from"] = base.id
    try:
        indicator = service.create_indicator(s, who, data)
        s.commit()
    except ValidationFailed as exc:
        s.rollback()
        return _render_form(
            mode, data, _history_rows(rows, fill_years=False), errors=exc.errors, base=base, status=422
        )
    verb = "派生" if base is not None else "新建"
    flash(f"已{verb}指标 {indicator.code}「{indicator.name}」", "success")
    return redirect(url_for(".detail", indicator_id=indicator.id))


@bp.route("/<int:indicator_id>/edit", methods=["GET", "POST"])
@login_required
def edit(indicator_id: int) -> Any:
    writable()
    who = actor()
    s = db()
    indicator = service.get_indicator(s, who, indicator_id)
    authorize(who, "indicators.write", indicator=indicator)
    if request.method == "GET":
        if indicator.status != "active":
            raise Conflict("已退出的指标不能修改，请先恢复")
        form = {**_as_form(indicator), "version": indicator.version}
        return _render_form(
            "edit", form, _history_rows(indicator.historical_values, fill_years=True), indicator=indicator
        )
    data, rows = _posted()
    version = request.form.get("version", type=int) or 0
    form = {**data, "version": version}
    try:
        updated = service.update_indicator(s, who, indicator_id, version, data)
        s.commit()
    except ValidationFailed as exc:
        s.rollback()
        return _render_form(
            "edit",
            form,
            _history_rows(rows, fill_years=False),
            errors=exc.errors,
            indicator=indicator,
            status=422,
        )
    except Conflict as exc:  # a stale version (someone saved in between) or a retired indicator
        s.rollback()
        return _render_form(
            "edit",
            form,
            _history_rows(rows, fill_years=False),
            conflict=exc.message,
            indicator=indicator,
            status=409,
        )
    flash(f"已保存指标 {updated.code}「{updated.name}」（版本 {updated.version}）", "success")
    return redirect(url_for(".detail", indicator_id=indicator_id))
