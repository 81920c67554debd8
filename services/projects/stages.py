"""The stage registry: what each stage capability contributes to the shared mechanisms.

A stage capability (事前评估, 绩效目标, 跟踪监控, 自评 …) says in its own `stage.py`, in one
`StagePlugin`, what the project page, the work queue and the notifications need of it: its stepper
link, its tabs and print links, the card the overview shows while the project is at that stage, its
work-queue queries, and its announce() handlers. The project page, the work queue and announce()
read the registry and import no stage capability themselves, so a new stage is added here (one line
in `STAGE_MODULES`) and in its own package only.

The registry is loaded lazily on first use (the stage modules import the services that import the
notifications that read the registry — loading at import time would be a cycle). Nothing here
imports Flask: endpoints and templates are names, resolved by the web layer.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from datetime import date

    from sqlalchemy.orm import Session

    from jixiao.platform.core.actor import Actor
    from jixiao.services.tasks.kinds import Scope, Task

# The packages with a `stage.py`, in lifecycle order (jixiao.services.<name>.stage). The last is no
# project stage: the pilot report (试点报告) of a tenant's program, a track of its own in the work
# queue and the notifications (its items carry no project).
STAGE_MODULES = ("assessment", "targets", "monitoring", "evaluation", "results", "reports", "spotchecks")

TaskQuery = Callable[["Session", "Scope", "date"], "list[Task]"]
# (session, actor, the project — None for a track without one, such as the pilot report —, data)
EventHandler = Callable[["Session", "Actor", Any, dict[str, Any]], None]


@dataclass(frozen=True)
class Tab:
    """A tab (or a print link) of the project page, open once `stage` is no longer locked."""

    key: str
    label: str
    endpoint: str
    icon: str
    stage: str


@dataclass(frozen=True)
class StagePlugin:
    stage: str  # the lifecycle stage it drives (programs.models.STAGES), or a track of its own
    page: str  # endpoint of the stage's page (the stepper's link)
    name: str = ""  # a track's Chinese name (a lifecycle stage's is programs.models.STAGE_NAMES)
    tabs: tuple[Tab, ...] = ()
    prints: tuple[Tab, ...] = ()  # printable tables (申报表, 监控表 …), right of the tabs
    # the overview's card while the project is at this stage: a template, and "module:function"
    # giving its context (called by the page with the project)
    panel: str | None = None
    panel_context: str | None = None
    # a card on the overview whatever the stage (a spot check's result): a template, and
    # "module:function" giving its context — or None when there is nothing to show
    aside: str | None = None
    aside_context: str | None = None
    tasks: tuple[TaskQuery, ...] = ()  # the work-queue items of this stage (any kinds)
    events: Mapping[str, EventHandler] = field(default_factory=dict)  # announce(name) → handler
    done: Mapping[str, str] = field(default_factory=dict)  # audit action → 已办 text (提交绩效目标 …)
    labels: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # vocabularies its pages show


@cache
def plugins() -> tuple[StagePlugin, ...]:
    """Every registered stage, in lifecycle order."""
    found: list[StagePlugin] = []
    for name in STAGE_MODULES:
        module = importlib.import_module(f"jixiao.services.{name}.stage")
        found.extend(module.PLUGINS)
    return tuple(found)


def done_actions() -> dict[str, str]:
    """The audited actions that count as done work (已办), with their Chinese."""
    return {action: text for p in plugins() for action, text in p.done.items()}


def done_stage(action: str) -> str | None:
    """The stage whose 已办 action this is (the plugin that declared it)."""
    return next((p.stage for p in plugins() if action in p.done), None)


def stage_names() -> dict[str, str]:
    """The lifecycle stages' names and the other tracks' (试点报告): what the work queue and the
    notifications call the `stage` of an item."""
    from jixiao.services.programs.models import STAGE_NAMES

    return {**STAGE_NAMES, **{p.stage: p.name for p in plugins() if p.name}}


def labels() -> dict[str, Mapping[str, str]]:
    """Every stage's page vocabularies (the `project_labels()` of the templates)."""
    return {key: names for p in plugins() for key, names in p.labels.items()}


def plugin(stage: str) -> StagePlugin | None:
    return next((p for p in plugins() if p.stage == stage), None)


def event_handler(name: str) -> EventHandler | None:
    return next((p.events[name] for p in plugins() if name in p.events), None)


def resolve(path: str) -> Callable[..., Any]:
    """ "package.module:function" → the function (the web-layer parts of a plugin)."""
    module, _, attr = path.partition(":")
    return getattr(importlib.import_module(module), attr)
