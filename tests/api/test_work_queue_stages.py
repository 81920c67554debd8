"""A stage plugin's work-queue items are of its own stage: the notifications of a state change ask
only that stage's plugin for the item (`kinds.find(…, stage)`), so an item another plugin answered
would never be announced. Checked over the demo and a project at its first stage."""

from __future__ import annotations

from collections import Counter

from jixiao.services.projects.stages import plugins
from jixiao.services.tasks import kinds
from tests.support.seeding import add_projects, program_with


def test_every_plugin_answers_items_of_its_own_stage_only(api, runtime, unique):
    # projects at their first stage (事前评估 to fill) beside the showcase's pilot reports
    add_projects(runtime, program_with(api, runtime, unique, ["640104"]), ["640104"], unique)
    scope = kinds.Scope(everyone=True)
    today = kinds.local_today()
    seen: Counter[str] = Counter()
    with runtime.db.system_session("test: the work queue's items by plugin") as s:
        for plugin in plugins():
            for query in plugin.tasks:
                for task in query(s, scope, today):
                    assert task.stage == plugin.stage, (plugin.stage, task.kind, task.stage)
                    seen[plugin.stage] += 1
        # narrowed by stage, `find` answers what the unnarrowed one does for that stage
        everything = kinds.find(s, scope, today)
        for stage in seen:
            assert len(kinds.find(s, scope, today, stage=stage)) == seen[stage]
        assert len(everything) == sum(seen.values())
    # open items of more than one stage: the check above is not vacuous
    assert len(seen) >= 2, seen
