"""Pages of the work queue (待办 / 已办, DESIGN.md §1, §9): the first thing every role sees.

The queue IS the home page: `/` (platform/web/views/home.py) renders `queue_context()` through
`tasks/_queue.html`, and answers an htmx request for the queue alone with `queue_fragment()`.
`/tasks` is a bookmarkable alias that redirects there with its parameters.

Filters are GET parameters — `kind` (fill/revise/review/decide), `stage`, `overdue=yes|no`,
`tab=done` (已办) with `page` — swapped in place by htmx with the URL pushed (`HX-Push-Url`), so a
filtered view can be bookmarked, shared and reloaded. An unknown value is ignored, never an error
page on the home page.

The counts per kind are over the whole queue (what awaits the user), the table over the filters.
One `tasks_for` per view: the filters are applied to its (already sorted) result, with the
service's own meaning (kind, stage, overdue), so the kinds' queries don't run twice.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import login_required

from jixiao.platform.web.context import actor, db
from jixiao.services.projects.stages import stage_names

from . import service
from .kinds import KIND_NAMES, Task, local_today

bp = Blueprint("tasks_pages", __name__, url_prefix="/tasks", template_folder="templates")

QUEUE_TARGET = "jx-queue"  # the element htmx swaps (tasks/_queue.html)
DONE_PAGE_SIZE = 20
OVERDUE_CHOICES = {"yes": "已逾期", "no": "未逾期"}
# Bootstrap colour of each kind's badge (a returned submission stands out).
KIND_BADGES = {
    "fill": "text-bg-primary",
    "revise": "text-bg-warning",
    "review": "text-bg-info",
    "decide": "text-bg-success",
}


def _choice(name: str, allowed: Any) -> str:
    value = (request.args.get(name) or "").strip()
    return value if value in allowed else ""


def countdown(task: Task, today: date) -> dict[str, Any] | None:
    """剩余 N 天 / 今天截止 / 已逾期 N 天 (None without a deadline)."""
    if task.deadline is None:
        return None
    days = (task.deadline - today).days
    if task.overdue:
        return {"overdue": True, "days": -days, "text": f"已逾期 {-days} 天"}
    return {"overdue": False, "days": days, "text": "今天截止" if days == 0 else f"剩余 {days} 天"}


def page_numbers(current: int, pages: int, around: int = 2) -> list[int | None]:
    """1 … 4 5 [6] 7 8 … 20: the first, the last and a few around the current page (None: a gap)."""
    shown = sorted({1, pages, *range(max(current - around, 1), min(current + around, pages) + 1)})
    numbers: list[int | None] = []
    for n in shown:
        if numbers and n - (numbers[-1] or 0) > 1:
            numbers.append(None)
        numbers.append(n)
    return numbers


def queue_context() -> dict[str, Any]:
    """Everything `tasks/_queue.html` shows, from the request's GET parameters."""
    who = actor()
    s = db()
    tab = "done" if request.args.get("tab") == "done" else "todo"
    kind = _choice("kind", KIND_NAMES)
    stage = _choice("stage", stage_names())
    overdue = _choice("overdue", OVERDUE_CHOICES)
    today = local_today()
    everything = service.tasks_for(s, who, today=today)
    counts = dict.fromkeys(KIND_NAMES, 0)
    for task in everything:
        counts[task.kind] = counts.get(task.kind, 0) + 1
    shown = service.matching(
        everything, kind=kind or None, stage=stage or None, overdue=(overdue == "yes") if overdue else None
    )
    filters: dict[str, Any] = {
        k: v for k, v in {"kind": kind, "stage": stage, "overdue": overdue}.items() if v
    }
    context: dict[str, Any] = {
        "tab": tab,
        "kind": kind,
        "stage": stage,
        "overdue": overdue,
        "filters": filters,
        "counts": counts,
        "total": len(everything),
        "overdue_total": sum(1 for t in everything if t.overdue),
        "rows": [{"task": t, "countdown": countdown(t, today)} for t in shown],
        "kind_names": KIND_NAMES,
        "kind_badges": KIND_BADGES,
        "stage_names": stage_names(),
        # the stages the queue holds items of (and the one filtered on), in lifecycle order
        "queue_stages": [st for st in stage_names() if st == stage or any(t.stage == st for t in everything)],
        "overdue_choices": OVERDUE_CHOICES,
        "evaluator": who.tenant_id is None,
        "done": None,
        "done_pages": 1,
        "done_page_numbers": [1],
    }
    others: dict[str, Any] = {k: v for k, v in filters.items() if k != "kind"}
    context["kind_links"] = {
        code: url_for("home.index", **{**others, **({"kind": code} if code else {})})
        for code in ("", *KIND_NAMES)
    }
    if tab == "done":
        page_no = max(request.args.get("page", 1, type=int) or 1, 1)
        done = service.done_for(s, who, page=page_no, page_size=DONE_PAGE_SIZE)
        if done.page > done.pages:  # past the end (an old link): the last page
            done = service.done_for(s, who, page=done.pages, page_size=DONE_PAGE_SIZE)
        context["done"] = done
        context["done_pages"] = done.pages
        context["done_page_numbers"] = page_numbers(done.page, done.pages)
    return context


def queue_url(context: dict[str, Any]) -> str:
    """The bookmarkable address of what the queue shows now."""
    if context["tab"] == "done":
        page_no = context["done"].page if context["done"] is not None else 1
        done: dict[str, Any] = {"tab": "done", **({"page": page_no} if page_no > 1 else {})}
        return url_for("home.index", **done)
    return url_for("home.index", **context["filters"])


def queue_fragment(context: dict[str, Any]) -> Any:
    """The queue alone (an htmx swap), with the address pushed into the history."""
    return (
        render_template("tasks/_queue.html", **context),
        200,
        {"HX-Push-Url": queue_url(context), "Vary": "HX-Request"},
    )


@bp.get("")
@login_required
def index() -> Any:
    """`/tasks?…` → the home page with the same filters (the queue lives there)."""
    allowed = ("kind", "stage", "overdue", "tab", "page")
    kept: dict[str, Any] = {k: v for k, v in request.args.items() if k in allowed and v}
    return redirect(url_for("home.index", **kept))
