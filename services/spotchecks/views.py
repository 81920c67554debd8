"""The spot-check workbench (抽查工作台): the province's or a city's checks of a program with the
draw form (a share or a count, a seed, a new round), a check's drawn projects with their results,
and an item's page — the approved targets drawn, the review on the four aspects, and the finding's
thread (the tenant's reply, the drawer's ask-again or close). A county reads its items from the
card on its project's overview (`aside_context`). A refused form (422) comes back as typed with
each problem beside its field; an illegal move (409) says why."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import login_required

from jixiao.platform.core.authz import authorize
from jixiao.platform.core.errors import Conflict, ValidationFailed
from jixiao.platform.web.context import actor, db
from jixiao.platform.web.pages import may
from jixiao.services.programs import service as program_service
from jixiao.services.programs.views import province_today
from jixiao.services.projects.models import Project

from . import service
from .models import ASPECTS, RESULT_NAMES, SpotCheckItem

bp = Blueprint("spotchecks_pages", __name__, template_folder="templates")

RESULT_BADGES = {
    "pending": "text-bg-light border",
    "pass": "text-bg-success",
    "rectify": "text-bg-warning",
    "rectified": "text-bg-info",
}


@bp.context_processor
def _vocabulary() -> dict[str, Any]:
    return {"aspects": ASPECTS, "result_names": RESULT_NAMES, "result_badges": RESULT_BADGES}


def aside_context(project: Project) -> dict[str, Any] | None:
    """The overview's 抽查 card: the checks the project was drawn in (None: never drawn)."""
    items = service.of_project(db(), actor(), project.id)
    return {"drawn": items} if items else None


def _program_id(programs: list[Any]) -> int | None:
    raw = (request.args.get("program_id") or request.form.get("program_id") or "").strip()
    if raw.isdigit() and len(raw) < 10:
        return int(raw)
    return programs[0].id if programs else None


def _index(
    form: dict[str, Any] | None = None, errors: dict[str, list[str]] | None = None, status: int = 200
) -> Any:
    authorize(actor(), "spot_checks.read")
    programs = list(program_service.list_programs(db(), actor(), page_size=200).items)
    program_id = _program_id(programs)
    checks = service.list_checks(db(), actor(), program_id) if program_id else []
    available = len(service.population(db(), actor(), program_id)) if program_id else 0
    page = render_template(
        "spotchecks/index.html",
        programs=programs,
        program_id=program_id,
        checks=checks,
        available=available,
        own_rounds=[c for c in checks if c.tenant_id == actor().tenant_id],
        may_draw=may("spot_checks.draw"),
        form=form or {"mode": "share", "share": "50", "count": "", "seed": ""},
        errors=errors or {},
    )
    return page, status


@bp.get("/spot-checks", endpoint="index")
@login_required
def index() -> Any:
    return _index()


@bp.post("/spot-checks")
@login_required
def draw() -> Any:
    form: dict[str, Any] = {
        "mode": request.form.get("mode", "share"),
        "share": request.form.get("share", "").strip(),
        "count": request.form.get("count", "").strip(),
        "seed": request.form.get("seed", "").strip(),
        "new_round": request.form.get("new_round") == "1",
    }
    errors: dict[str, list[str]] = {}
    data: dict[str, Any] = {"new_round": form["new_round"]}
    try:
        if form["mode"] == "count":
            data["count"] = int(form["count"])
        else:
            data["share"] = float(form["share"]) / 100
    except ValueError:
        field = "count" if form["mode"] == "count" else "share"
        errors[field] = ["请填写抽查数量（整数）" if field == "count" else "请填写抽查比例（百分数，如 50）"]
    if form["seed"]:
        if form["seed"].isdigit() and len(form["seed"]) < 11:
            data["seed"] = int(form["seed"])
        else:
            errors["seed"] = ["随机种子须为非负整数"]
    programs = list(program_service.list_programs(db(), actor(), page_size=200).items)
    program_id = _program_id(programs)
    s = db()
    try:
        if errors:
            raise ValidationFailed(next(iter(errors.values()))[0], errors=errors)
        if program_id is None:
            raise ValidationFailed("请选择试点", errors={"program_id": ["请选择试点"]})
        check = service.draw(s, actor(), program_id, data)
        s.commit()
    except ValidationFailed as exc:
        s.rollback()
        found = dict(exc.errors or {})
        if "share" in found and form["mode"] == "share":
            found["share"] = [m.replace("0.5 即 50%", "50 即 50%") for m in found["share"]]
        return _index(form, found, 422)
    except Conflict as exc:
        s.rollback()
        return _index(form, {"new_round": [exc.message]}, 409)
    flash(f"已抽取第 {check.round} 轮：{len(check.items)} 个项目（随机种子 {check.seed}）", "success")
    return redirect(url_for(".check", check_id=check.id))


@bp.get("/spot-checks/<int:check_id>", endpoint="check")
@login_required
def check_page(check_id: int) -> Any:
    check = service.get_check(db(), actor(), check_id)
    counts = {code: sum(1 for i in check.items if i.result == code) for code in RESULT_NAMES}
    return render_template("spotchecks/check.html", check=check, counts=counts)


def _item_page(
    item: SpotCheckItem,
    *,
    form: dict[str, Any] | None = None,
    errors: dict[str, list[str]] | None = None,
    problem: str | None = None,
    status: int = 200,
) -> Any:
    check = None
    if item.checked_by_tenant_id in actor().readable_tenant_ids:
        check = service.get_check(db(), actor(), item.spot_check_id) if may("spot_checks.read") else None
    may_review = may("spot_checks.review", item=item)
    finding = item.finding
    page = render_template(
        "spotchecks/item.html",
        item=item,
        check=check,
        project=item.project,
        target_set=item.target_set,
        finding=finding,
        today=province_today(),
        may_review=may_review and item.status == "pending",
        may_follow=may_review and finding is not None and finding.status == "answered",
        may_reply=finding is not None
        and finding.status == "open"
        and may("projects.write", project=item.project)
        and actor().has_role("project_editor"),
        form=form or {},
        errors=errors or {},
        problem=problem,
    )
    return page, status


@bp.get("/spot-checks/<int:check_id>/items/<int:item_id>", endpoint="item")
@login_required
def item_page(check_id: int, item_id: int) -> Any:
    return _item_page(service.get_item(db(), actor(), check_id, item_id))


def _act(check_id: int, item_id: int, form: dict[str, Any], call: Any, done: str) -> Any:
    s = db()
    try:
        call(s)
        s.commit()
    except ValidationFailed as exc:
        s.rollback()
        item = service.get_item(db(), actor(), check_id, item_id)
        return _item_page(item, form=form, errors=exc.errors or {"_": [exc.message]}, status=422)
    except Conflict as exc:
        s.rollback()
        item = service.get_item(db(), actor(), check_id, item_id)
        return _item_page(item, form=form, problem=exc.message, status=exc.status)
    flash(done, "success")
    return redirect(url_for(".item", check_id=check_id, item_id=item_id))


def _date(raw: str, field: str, errors: dict[str, list[str]]) -> date | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        errors[field] = ["日期格式应为 YYYY-MM-DD"]
        return None


@bp.post("/spot-checks/<int:check_id>/items/<int:item_id>/review")
@login_required
def review(check_id: int, item_id: int) -> Any:
    form = {key: request.form.get(key, "").strip() for key in ("result", "findings", "deadline", *ASPECTS)}
    errors: dict[str, list[str]] = {}
    data = {
        "result": form["result"],
        "comments": {key: form[key] for key in ASPECTS},
        "findings": form["findings"],
        "deadline": _date(form["deadline"], "deadline", errors),
    }

    def call(s: Any) -> None:
        if errors:
            raise ValidationFailed(next(iter(errors.values()))[0], errors=errors)
        service.review(s, actor(), check_id, item_id, data, province_today())

    done = (
        "已作出抽查结论：通过" if form["result"] == "pass" else "已作出抽查结论：须整改，问题已发给项目单位"
    )
    return _act(check_id, item_id, form, call, done)


@bp.post("/spot-checks/<int:check_id>/items/<int:item_id>/reply")
@login_required
def reply(check_id: int, item_id: int) -> Any:
    form = {"reply_text": request.form.get("text", "").strip()}
    ids = [int(i) for i in request.form.getlist("evidence_ids") if i.isdigit() and len(i) < 10]

    def call(s: Any) -> None:
        service.reply(s, actor(), check_id, item_id, {"text": form["reply_text"], "evidence_ids": ids})

    return _act(check_id, item_id, form, call, "已答复抽查问题")


@bp.post("/spot-checks/<int:check_id>/items/<int:item_id>/again")
@login_required
def again(check_id: int, item_id: int) -> Any:
    form = {
        "again_text": request.form.get("text", "").strip(),
        "again_deadline": request.form.get("deadline", ""),
    }
    errors: dict[str, list[str]] = {}
    deadline = _date(form["again_deadline"], "deadline", errors)

    def call(s: Any) -> None:
        if errors:
            raise ValidationFailed(next(iter(errors.values()))[0], errors=errors)
        service.ask_again(
            s,
            actor(),
            check_id,
            item_id,
            {"text": form["again_text"], "deadline": deadline},
            province_today(),
        )

    return _act(check_id, item_id, form, call, "已要求项目单位再次答复")


@bp.post("/spot-checks/<int:check_id>/items/<int:item_id>/close")
@login_required
def close(check_id: int, item_id: int) -> Any:
    opinion = request.form.get("opinion", "").strip()

    def call(s: Any) -> None:
        service.close(s, actor(), check_id, item_id, opinion)

    return _act(check_id, item_id, {"opinion": opinion}, call, "抽查问题已整改完成")
