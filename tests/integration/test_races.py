"""Races (issue 16 item 5): real threads on PostgreSQL, each with its own test client (the app's
sessions are per request), released together by a barrier. In each race exactly one writer wins and
the others get 409 (or the documented refusal); afterwards the database rows and the audit events
show nothing lost and nothing doubled.

* two reviewers (and the same reviewer twice) decide one submission at once, at 初审 and 复核 — the
  targets and the self-evaluation (one review chain);
* concurrent saves of one draft with the same `lock_version`, and concurrent first saves;
* concurrent Excel imports into one library — through the API (the worker) and as parallel workers;
* the bureau revokes a grant while the evaluator uses it (the use completes before the revocation
  or is refused, never acts on a grant whose revocation committed) — raced, and interleaved on purpose;
* the province accepts one pilot report several times at once.

Every race works on objects it creates (a program, projects, reports), so the shared demo database
is left as the other tests expect it. PostgreSQL only: SQLite serialises every writer anyway.
"""

from __future__ import annotations

import io
import os
import re
import secrets
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from jixiao.platform.core.actor import ACTOR_EXTENSIONS
from jixiao.platform.core.audit import AuditEvent
from jixiao.platform.core.db import utcnow
from jixiao.services.evaluation.models import SelfEvaluation, SelfEvaluationReview
from jixiao.services.evidence.models import Evidence
from jixiao.services.grants.models import Grant
from jixiao.services.indicators.excel import importing
from jixiao.services.indicators.models import Indicator
from jixiao.services.programs.models import Program
from jixiao.services.reports.models import PilotReport, PilotReportReview, PilotReportVersion
from jixiao.services.reports.service import checklist_of
from jixiao.services.targets.models import TargetLine, TargetReview, TargetSet
from jixiao.tenants.models import EvaluatorOrg, Tenant, User
from jixiao.tenants.service import build_actor
from tests.api.test_indicator_excel import _append, _export
from tests.api.test_project_lifecycle import lines, new_project, through_assessment
from tests.api.test_self_evaluation import approved_targets, finish_monitoring
from tests.api.test_self_evaluation import body as self_evaluation_body
from tests.support.services import MODE

pytestmark = [
    pytest.mark.real,
    pytest.mark.skipif(MODE != "real", reason="races on PostgreSQL: real mode only"),
]

PROJECTS = "/api/v1/projects"
PASSWORD = "Race@2026-jixiao"
PDF = b"%PDF-1.7\n" + b"0" * 512
ROUNDS = int(os.environ.get("JIXIAO_RACE_ROUNDS", "3"))  # more for a longer hunt
CHINESE = re.compile(r"[\u4e00-\u9fff]")


# --- the harness ------------------------------------------------------------------------------


Call = Callable[[Any], Any]


def parallel(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run every call in its own thread, released at once by a barrier; their results in order (an
    exception raised by a call is its result)."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(n: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout=30)
            results[n] = call()
        except Exception as exc:  # noqa: BLE001 - the caller asserts on it
            results[n] = exc

    threads = [threading.Thread(target=run, args=(n, c), name=f"race-{n}") for n, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a racer hangs"
    return results


def race(app: Any, calls: list[Call]) -> list[Any]:
    """Each call with its own test client, in parallel; the responses in the order of `calls`."""
    results = parallel([lambda call=call: call(app.test_client()) for call in calls])
    failures = [r for r in results if isinstance(r, BaseException)]
    if failures:
        raise failures[0]
    return results


def request(token: str, method: str, path: str, **kw: Any) -> Call:
    def call(client: Any) -> Any:
        return client.open(path, method=method, headers={"Authorization": f"Bearer {token}"}, **kw)

    return call


def statuses(responses: list[Any]) -> list[int]:
    return [r.status_code for r in responses]


def one_winner(responses: list[Any], won: int = 200) -> int:
    """Exactly one `won`, every other a 409 with a Chinese message; the winner's index."""
    codes = statuses(responses)
    assert Counter(codes) == Counter({won: 1, 409: len(codes) - 1}), [
        (r.status_code, (r.get_json() or {}).get("message")) for r in responses
    ]
    for r in responses:
        if r.status_code == 409:
            assert r.get_json()["code"] == 409 and CHINESE.search(r.get_json()["message"]), r.get_json()
    return codes.index(won)


@contextmanager
def system(runtime: Any) -> Iterator[Any]:
    with runtime.db.transaction(system="test: races, the rows afterwards") as s:
        yield s


def events(runtime: Any, object_type: str, object_id: Any, prefix: str = "") -> list[AuditEvent]:
    with system(runtime) as s:
        found = s.execute(
            select(AuditEvent)
            .where(AuditEvent.object_type == object_type, AuditEvent.object_id == str(object_id))
            .order_by(AuditEvent.id)
        ).scalars()
        return [e for e in found if e.action.startswith(prefix)]


def actions(runtime: Any, object_type: str, object_id: Any, prefix: str = "") -> Counter[str]:
    return Counter(e.action for e in events(runtime, object_type, object_id, prefix))


@pytest.fixture(scope="module")
def program(api: Any) -> int:
    """The module's own program: 兴庆区, 西夏区 and 金凤区 take part, room for every project here."""
    made = api.as_user("nx.admin").post(
        "/api/v1/programs",
        json={
            "name": f"并发试点{secrets.token_hex(3)}",
            "start": "2022-08-01",
            "end": "2099-12-31",
            "tenant_codes": ["640104", "640105", "640106"],
            "max_projects_per_tenant": 100,
        },
    )
    assert made.status_code == 201, made.get_json()
    program_id: int = made.get_json()["id"]
    return program_id


def user(api: Any, username: str, roles: list[str]) -> str:
    """A second holder of a role in 兴庆区 (made by its admin); its token."""
    made = api.as_user("xq.admin").post(
        "/api/v1/tenants/640104/users",
        json={
            "username": username,
            "display_name": f"并发{username[-4:]}",
            "password": PASSWORD,
            "roles": roles,
        },
    )
    assert made.status_code == 201, made.get_json()
    return api.token(username, password=PASSWORD)


def at_targets(api: Any, program_id: int) -> int:
    """A fresh 兴庆区 project whose assessment is approved: the targets stage is open."""
    pid: int = new_project(api, program_id, secrets.token_hex(4))["id"]
    through_assessment(api, pid)
    return pid


def submitted(api: Any, program_id: int) -> int:
    pid = at_targets(api, program_id)
    editor = api.as_user("xq.editor")
    saved = editor.put(f"{PROJECTS}/{pid}/targets", json={"overall_goal": "完成改造", "indicators": lines()})
    assert saved.status_code == 200, saved.get_json()
    done = editor.post(f"{PROJECTS}/{pid}/targets/submit")
    assert done.status_code == 200, done.get_json()
    return pid


def target_rows(runtime: Any, pid: int) -> tuple[list[TargetSet], list[TargetReview], list[TargetLine]]:
    with system(runtime) as s:
        sets = list(s.execute(select(TargetSet).where(TargetSet.project_id == pid)).scalars())
        ids = [t.id for t in sets]
        reviews = list(s.execute(select(TargetReview).where(TargetReview.target_set_id.in_(ids))).scalars())
        rows = list(
            s.execute(
                select(TargetLine).where(TargetLine.target_set_id.in_(ids)).order_by(TargetLine.position)
            ).scalars()
        )
        return sets, reviews, rows


# --- 1. two reviewers decide one submission at once -------------------------------------------


APPROVE: dict[str, Any] = {"decision": "approve", "comments": {}}
RETURN: dict[str, Any] = {"decision": "return", "comments": {"completeness": "并发退回：内容不完整"}}


def submitted_self_evaluation(api: Any, program_id: int) -> int:
    """A fresh 兴庆区 project through targets and monitoring, its self-evaluation submitted."""
    pid: int = new_project(api, program_id, secrets.token_hex(4))["id"]
    through_assessment(api, pid)
    ids = approved_targets(api, pid)
    finish_monitoring(api, pid)
    editor = api.as_user("xq.editor")
    saved = editor.put(f"{PROJECTS}/{pid}/self-evaluation", json=self_evaluation_body(ids))
    assert saved.status_code == 200, saved.get_json()
    done = editor.post(f"{PROJECTS}/{pid}/self-evaluation/submit")
    assert done.status_code == 200, done.get_json()
    return pid


# the two kinds of submission the review chain decides: how one is made, where it is reviewed, its
# rows (the submission, its reviews), its audit action and the stage it belongs to
CHAINS = {
    "targets": (
        submitted,
        "targets/reviews",
        TargetSet,
        TargetReview,
        "target_set_id",
        "targets",
        "monitoring",
    ),
    "self_evaluation": (
        submitted_self_evaluation,
        "self-evaluation/reviews",
        SelfEvaluation,
        SelfEvaluationReview,
        "evaluation_id",
        "self_evaluation",
        "evaluation",
    ),
}


def chain_rows(runtime: Any, kind: str, pid: int) -> tuple[Any, list[tuple[str, str]]]:
    _make, _path, subject_model, review_model, key, _action, _next = CHAINS[kind]
    with system(runtime) as s:
        (subject,) = s.execute(select(subject_model).where(subject_model.project_id == pid)).scalars()
        reviews = s.execute(
            select(review_model).where(getattr(review_model, key) == subject.id).order_by(review_model.id)
        ).scalars()
        return subject, [(r.level, r.decision) for r in reviews]


@pytest.mark.parametrize("kind", sorted(CHAINS))
def test_concurrent_reviews_of_one_submission_one_wins(app, api, runtime, program, kind):
    """Each round: 4 at 初审 (xq.dept twice, a second department reviewer twice, one of them
    returning), then — when 初审 approved — 4 at 复核 (xq.admin twice, a second bureau admin twice,
    one returning). Exactly one decision per level is kept, once, and audited once; the stage
    moves once."""
    make, tail, _subject, _review, _key, stage, following = CHAINS[kind]
    action = f"{stage}.review"
    suffix = secrets.token_hex(3)
    dept, dept2 = api.token("xq.dept"), user(api, f"xq.dept.r{suffix}", ["dept_reviewer"])
    admin, admin2 = api.token("xq.admin"), user(api, f"xq.admin.r{suffix}", ["bureau_admin"])
    bodies = [APPROVE, APPROVE, APPROVE, RETURN]
    for _round in range(ROUNDS if kind == "targets" else max(2, ROUNDS - 1)):
        pid = make(api, program)
        path = f"{PROJECTS}/{pid}/{tail}"
        before = actions(runtime, "project", pid)[action]
        reviewers = (dept, dept, dept2, dept2)
        first = race(app, [request(t, "POST", path, json=b) for t, b in zip(reviewers, bodies, strict=True)])
        won_first = bodies[one_winner(first)]["decision"]
        subject, reviews = chain_rows(runtime, kind, pid)
        assert reviews == [("first", won_first)]
        assert actions(runtime, "project", pid)[action] == before + 1
        if won_first == "return":
            assert (subject.status, subject.review_level) == ("returned", None)
            continue
        assert (subject.status, subject.review_level) == ("submitted", "finance")
        reviewers = (admin, admin, admin2, admin2)
        second = race(app, [request(t, "POST", path, json=b) for t, b in zip(reviewers, bodies, strict=True)])
        won_finance = bodies[one_winner(second)]["decision"]
        subject, reviews = chain_rows(runtime, kind, pid)
        assert reviews == [("first", "approve"), ("finance", won_finance)]
        assert subject.status == ("approved" if won_finance == "approve" else "returned")
        assert (subject.approved_at is not None) == (won_finance == "approve")
        assert actions(runtime, "project", pid)[action] == before + 2
        shown = api.as_user("xq.editor").get(f"{PROJECTS}/{pid}").get_json()
        stages = {s["stage"]: s["status"] for s in shown["stages"]}
        if won_finance == "approve":
            assert stages[stage] == "approved" and shown["stage"] == following, shown
        else:
            assert stages[stage] == "returned" and shown["stage"] == stage, shown


# --- 2. concurrent saves of one draft ----------------------------------------------------------


def _variant(n: int) -> list[dict[str, Any]]:
    """Four valid lines, told apart by the first line's value (and a fifth line for odd writers)."""
    found = lines()
    found[0]["target_value"] = str(100 + n)
    if n % 2:
        found[1]["weight"] = "10"
        found.append({**found[1], "name": f"并发附加指标{n}", "weight": "10"})
    return found


def test_concurrent_saves_of_one_draft_with_the_same_lock_version(app, api, runtime, program):
    """5 writers save the draft with the lock_version they all read, ROUNDS times in a row: one wins,
    4 get 409; the draft is exactly the winner's (goal, lines — none lost, none doubled), its
    lock_version the winner's, one `targets.save` per winner."""
    pid = at_targets(api, program)
    editor = api.as_user("xq.editor")
    first = editor.put(f"{PROJECTS}/{pid}/targets", json={"overall_goal": "初稿", "indicators": lines()})
    assert first.status_code == 200, first.get_json()
    version = first.get_json()["lock_version"]
    token = api.token("xq.editor")
    for round_ in range(ROUNDS):
        bodies = [
            {
                "overall_goal": f"第{round_}轮写者{n}",
                "indicators": _variant(10 * round_ + n),
                "lock_version": version,
            }
            for n in range(5)
        ]
        got = race(app, [request(token, "PUT", f"{PROJECTS}/{pid}/targets", json=b) for b in bodies])
        winner = one_winner(got)
        won = bodies[winner]
        (target_set,), _, rows = target_rows(runtime, pid)
        assert target_set.overall_goal == won["overall_goal"]
        assert [(r.position, r.name, r.target_value) for r in rows] == [
            (n, line["name"], line["target_value"]) for n, line in enumerate(won["indicators"], start=1)
        ]
        assert target_set.lock_version == got[winner].get_json()["lock_version"] > version
        version = target_set.lock_version
        saves = events(runtime, "project", pid, "targets.save")
        assert len(saves) == 2 + round_
        assert saves[-1].after["overall_goal"] == won["overall_goal"]
    shown = editor.get(f"{PROJECTS}/{pid}/targets").get_json()
    assert (shown["overall_goal"], shown["lock_version"]) == (won["overall_goal"], version)


def test_concurrent_first_saves_make_one_draft(app, api, runtime, program):
    """5 editors save a project's very first draft at once (no lock_version to send yet): never a
    500; one target set (version 1), holding exactly the lines of the save that committed last —
    one `targets.save` per save that succeeded, the others 409."""
    token = api.token("xq.editor")
    for round_ in range(ROUNDS):
        pid = at_targets(api, program)
        bodies = [{"overall_goal": f"首稿{round_}-{n}", "indicators": _variant(n)} for n in range(5)]
        got = race(app, [request(token, "PUT", f"{PROJECTS}/{pid}/targets", json=b) for b in bodies])
        codes = statuses(got)
        assert set(codes) <= {200, 409} and 200 in codes, [(r.status_code, r.get_json()) for r in got]
        (target_set,), _, rows = target_rows(runtime, pid)
        saves = events(runtime, "project", pid, "targets.save")
        assert len(saves) == codes.count(200)
        last = next(b for b in bodies if b["overall_goal"] == saves[-1].after["overall_goal"])
        assert target_set.number == 1 and target_set.overall_goal == last["overall_goal"]
        assert [(r.name, r.target_value) for r in rows] == [
            (line["name"], line["target_value"]) for line in last["indicators"]
        ]


# --- 3. concurrent Excel imports into one library ----------------------------------------------


def _rows(tag: str, count: int) -> list[dict[str, Any]]:
    return [
        {
            "指标名称": f"并发导入指标{tag}{n}",
            "二级指标": "质量",
            "共性类别": "培训",
            "指标类型": "individual",
            "适用范围": "项目",
            "值类型": "定量",
            "指标方向": ">=",
            "计量单位": "%",
            "标准值": 90 + n,
            "标准值依据": "计划标准",
        }
        for n in range(count)
    ]


def _workbook(api: Any, rows: list[dict[str, Any]]) -> bytes:
    content = _export(api.as_user("xq.admin"), f"owner=own&q=无此指标{secrets.token_hex(4)}")
    for row in rows:
        content, _ = _append(content, row)
    return content


def _library(runtime: Any, prefix: str) -> list[Indicator]:
    with system(runtime) as s:
        return list(
            s.execute(
                select(Indicator).where(Indicator.name.startswith(prefix)).order_by(Indicator.code)
            ).scalars()
        )


def _created_events(runtime: Any, found: list[Indicator]) -> Counter[int]:
    with system(runtime) as s:
        ids = [str(i.id) for i in found]
        return Counter(
            int(e.object_id)
            for e in s.execute(
                select(AuditEvent).where(
                    AuditEvent.action == "indicator.create",
                    AuditEvent.object_type == "indicator",
                    AuditEvent.object_id.in_(ids),
                )
            ).scalars()
        )


def test_concurrent_imports_through_the_api(app, api, runtime):
    """3 uploads of one workbook (4 new rows) at once, each a job of the worker: every job
    finishes; the 4 indicators exist once each, each created (and audited) once; 3 import events."""
    tag = secrets.token_hex(3)
    content = _workbook(api, _rows(tag, 4))
    token = api.token("xq.admin")

    def upload(client: Any) -> Any:
        return client.post(
            "/api/v1/indicators/import",
            data={"file": (io.BytesIO(content), "并发.xlsx")},
            content_type="multipart/form-data",
            headers={"Authorization": f"Bearer {token}"},
        )

    got = race(app, [upload] * 3)
    assert statuses(got) == [202] * 3, [r.get_json() for r in got]
    admin = api.as_user("xq.admin")
    results = [admin.wait_job(r.get_json()["job_id"]) for r in got]
    assert [r["status"] for r in results] == ["finished"] * 3, results
    assert all(r["result"]["ok"] for r in results), results
    assert sum(r["result"]["created"] for r in results) == 4
    found = _library(runtime, f"并发导入指标{tag}")
    assert len(found) == 4 and len({i.code for i in found}) == 4
    assert _created_events(runtime, found) == Counter({i.id: 1 for i in found})
    for r in got:
        assert actions(runtime, "indicator_import", r.get_json()["job_id"]) == Counter(
            {"indicator.import": 1}
        )


def test_concurrent_imports_as_parallel_workers(runtime, api):
    """Several workers (as a deployment with more than one `jixiao worker` has) import into one
    library at once — ROUNDS rounds of 4: two of one workbook, two of another (3 new rows each).
    Every import succeeds; each new row becomes one indicator with its own code, created and
    audited once; the same workbook twice creates nothing the second time."""
    with system(runtime) as s:
        xq = s.execute(select(User).where(User.username == "xq.admin")).scalar_one()
        actor = build_actor(s, xq)
    for _round in range(ROUNDS):
        tag_a, tag_b = secrets.token_hex(3), secrets.token_hex(3)
        with tempfile.TemporaryDirectory(prefix="jixiao-race-") as folder:
            files = []
            for tag in (tag_a, tag_b):
                path = Path(folder) / f"{tag}.xlsx"
                path.write_bytes(_workbook(api, _rows(tag, 3)))
                files.append(path)
            results = parallel(
                [
                    lambda path=path: importing.run_import(
                        runtime.db, actor, path, filename=path.name, reference=f"race-{uuid.uuid4().hex}"
                    )
                    for path in (files[0], files[1], files[0], files[1])
                ]
            )
        assert all(isinstance(r, dict) and r["ok"] for r in results), results
        for tag, mine in ((tag_a, results[0::2]), (tag_b, results[1::2])):
            assert sorted(r["created"] for r in mine) == [0, 3], results
            found = _library(runtime, f"并发导入指标{tag}")
            assert len(found) == 3, [(i.code, i.name) for i in found]
            assert _created_events(runtime, found) == Counter({i.id: 1 for i in found})
        codes = [
            i.code
            for i in _library(runtime, f"并发导入指标{tag_a}") + _library(runtime, f"并发导入指标{tag_b}")
        ]
        assert len(set(codes)) == 6 and all(c.startswith("640104-IN-") for c in codes), codes


# --- 4. the bureau revokes a grant while the evaluator uses it --------------------------------


@pytest.fixture(scope="module")
def org_id(runtime: Any) -> int:
    with system(runtime) as s:
        found: int = s.execute(
            select(EvaluatorOrg.id).where(EvaluatorOrg.name == "宁夏绩评咨询有限公司")
        ).scalar_one()
        return found


def _granted(api: Any, program_id: int, org_id: int) -> tuple[int, int]:
    pid = at_targets(api, program_id)
    made = api.as_user("xq.admin").post(
        f"{PROJECTS}/{pid}/grants",
        json={
            "evaluator_org_id": org_id,
            "actions": ["read", "evidence_read", "evidence_write"],
            "expires_at": (utcnow() + timedelta(days=30)).date().isoformat(),
        },
    )
    assert made.status_code == 201, made.get_json()
    return pid, made.get_json()["id"]


def _upload(token: str, pid: int, name: str) -> Call:
    def call(client: Any) -> Any:
        return client.post(
            f"{PROJECTS}/{pid}/evidence",
            data={"file": (io.BytesIO(PDF), name), "stage": "targets", "purpose": "评价底稿"},
            content_type="multipart/form-data",
            headers={"Authorization": f"Bearer {token}"},
        )

    return call


def _revoke(token: str, pid: int, gid: int) -> Call:
    return request(token, "DELETE", f"{PROJECTS}/{pid}/grants/{gid}", json={"reason": "并发撤销"})


def _evidence_of(runtime: Any, pid: int) -> list[Evidence]:
    with system(runtime) as s:
        return list(s.execute(select(Evidence).where(Evidence.project_id == pid)).scalars())


def _use_and_revocation_in_order(runtime: Any, pid: int, gid: int, upload: Any) -> None:
    """The revocation is in force; the upload either committed before it or was refused."""
    with system(runtime) as s:
        grant = s.get(Grant, gid)
        assert grant is not None and grant.revoked_at is not None and grant.revoked_by == "xq.admin"
    revoked = events(runtime, "project", pid, "grants.revoke")
    assert len(revoked) == 1
    items = _evidence_of(runtime, pid)
    objects = list(runtime.store.list_keys(f"tenants/640104/projects/{pid}/"))
    if upload.status_code == 201:
        (item,) = items
        assert item.uploaded_by == "eval.ningping" and item.id == upload.get_json()["id"]
        (uploaded,) = events(runtime, "evidence", item.id, "evidence.upload")
        # the audit chain is written in commit order: the use committed before the revocation
        assert uploaded.id < revoked[0].id, (uploaded.id, revoked[0].id)
        assert objects == [item.object_key]
    else:
        assert upload.status_code == 403, (upload.status_code, upload.get_json())
        assert "撤销" in upload.get_json()["message"] or "授权" in upload.get_json()["message"]
        assert items == [] and objects == []


def _later(seconds: float, call: Call) -> Call:
    def delayed(client: Any) -> Any:
        time.sleep(seconds)
        return call(client)

    return delayed


def test_a_grant_revoked_while_the_evaluator_uses_it(app, api, runtime, program, org_id):
    """8 rounds: the evaluator uploads under its `evidence_write` grant while the bureau admin
    revokes it — the upload sent at once or a little later (0–120 ms: the two requests overlap
    differently each round). The revocation always succeeds, once; the upload is either in before
    it (its audit event earlier in the chain) or refused 403 with nothing stored."""
    evaluator, admin = api.token("eval.ningping"), api.token("xq.admin")
    seen: Counter[int] = Counter()
    for delay in (0, 0, 0.01, 0.02, 0.04, 0.06, 0.08, 0.12):
        pid, gid = _granted(api, program, org_id)
        upload, revoke = race(
            app, [_later(delay, _upload(evaluator, pid, "底稿.pdf")), _revoke(admin, pid, gid)]
        )
        assert revoke.status_code == 200, revoke.get_json()
        _use_and_revocation_in_order(runtime, pid, gid, upload)
        seen[upload.status_code] += 1
        # afterwards the grant is gone for good
        again = _upload(evaluator, pid, "再次.pdf")(app.test_client())
        assert again.status_code == 403, again.get_json()
        assert len(_evidence_of(runtime, pid)) == (1 if upload.status_code == 201 else 0)
    assert set(seen) <= {201, 403}, seen
    print(f"grant race outcomes: {dict(seen)}")


@contextmanager
def paused_after_the_grants_are_read(thread_name: str) -> Iterator[tuple[threading.Event, threading.Event]]:
    """The evaluator's request (in the thread named `thread_name`) stops right after its live grants
    were read for its actor — until `go` is set: the revocation happens in that gap."""
    from jixiao.services.grants.models import with_grants

    read, go = threading.Event(), threading.Event()

    def pausing(session: Any, actor: Any) -> Any:
        extended = with_grants(session, actor)
        if threading.current_thread().name == thread_name and actor.is_evaluator:
            read.set()
            assert go.wait(30), "never resumed"
        return extended

    position = ACTOR_EXTENSIONS.index(with_grants)
    ACTOR_EXTENSIONS[position] = pausing
    try:
        yield read, go
    finally:
        ACTOR_EXTENSIONS[position] = with_grants
        go.set()


def test_a_use_that_read_its_grant_before_the_revocation_committed_is_refused(
    app, api, runtime, program, org_id
):
    """Interleaved on purpose: the evaluator's request reads its live grant, the bureau's revocation
    commits, then the request goes on to write — it must be refused (403), nothing stored."""
    evaluator = api.token("eval.ningping")
    pid, gid = _granted(api, program, org_id)
    result: dict[str, Any] = {}
    with paused_after_the_grants_are_read("evaluator-paused") as (read, go):
        thread = threading.Thread(
            target=lambda: result.update(resp=_upload(evaluator, pid, "迟到.pdf")(app.test_client())),
            name="evaluator-paused",
        )
        thread.start()
        assert read.wait(30), "the evaluator's request never read its grants"
        revoked = api.as_user("xq.admin").delete(f"{PROJECTS}/{pid}/grants/{gid}", json={"reason": "撤销"})
        assert revoked.status_code == 200, revoked.get_json()
        go.set()
        thread.join(60)
    assert not thread.is_alive()
    upload = result["resp"]
    assert upload.status_code == 403, (upload.status_code, upload.get_json())
    _use_and_revocation_in_order(runtime, pid, gid, upload)


def test_a_use_in_progress_holds_off_the_revocation(app, api, runtime, program, org_id):
    """The other order: the evaluator's write is under way (its rows flushed, not committed) when
    the bureau revokes: the revocation waits for it and commits after it — both succeed, in order."""
    from jixiao.services.evidence import service as evidence_service

    evaluator = api.token("eval.ningping")
    pid, gid = _granted(api, program, org_id)
    flushed, go = threading.Event(), threading.Event()
    original = evidence_service.record

    def slow_record(session: Any, action: str, **kw: Any) -> None:
        original(session, action, **kw)
        if action == "evidence.upload" and threading.current_thread().name == "evaluator-writing":
            flushed.set()
            go.wait(30)

    result: dict[str, Any] = {}
    evidence_service.record = slow_record  # type: ignore[assignment]
    try:
        thread = threading.Thread(
            target=lambda: result.update(resp=_upload(evaluator, pid, "进行中.pdf")(app.test_client())),
            name="evaluator-writing",
        )
        thread.start()
        assert flushed.wait(30), "the evaluator's upload never got to its write"
        revoker = threading.Thread(
            target=lambda: result.update(revoke=_revoke(api.token("xq.admin"), pid, gid)(app.test_client()))
        )
        revoker.start()
        time.sleep(1.0)  # the revocation is now waiting, or (wrongly) done
        waited = "revoke" not in result
        go.set()
        thread.join(60)
        revoker.join(60)
    finally:
        evidence_service.record = original  # type: ignore[assignment]
        go.set()
    assert result["resp"].status_code == 201, result["resp"].get_json()
    assert result["revoke"].status_code == 200, result["revoke"].get_json()
    assert waited, "the revocation committed while a use of the grant was under way"
    _use_and_revocation_in_order(runtime, pid, gid, result["resp"])


# --- 5. the province accepts one pilot report several times at once ---------------------------


def _submitted_reports(runtime: Any, program_id: int) -> list[int]:
    """A submitted report (version 1) of each tenant of the program, as generation and submission
    leave it (rows: the DOCX/PDF are not needed to accept it)."""
    made = []
    with runtime.db.transaction(system="test: submitted pilot reports") as s:
        for code, admin in (("640104", "xq.admin"), ("640105", "xx.admin"), ("640106", "jf.admin")):
            tenant = s.execute(select(Tenant).where(Tenant.code == code)).scalar_one()
            report = PilotReport(
                tenant_id=tenant.id,
                program_id=program_id,
                status="submitted",
                submitted_version=1,
                submitted_by=admin,
                submitted_at=utcnow(),
                created_by=admin,
            )
            s.add(report)
            s.flush()
            key = f"reports/{code}/{report.id}/v1"
            s.add(
                PilotReportVersion(
                    tenant_id=tenant.id,
                    report_id=report.id,
                    number=1,
                    job_id=uuid.uuid4().hex,
                    generated_by=admin,
                    docx_key=f"{key}.docx",
                    docx_size=0,
                    docx_sha256="",
                    pdf_key=f"{key}.pdf",
                    pdf_size=0,
                    pdf_sha256="",
                    project_names=[],
                    figures={},
                )
            )
            made.append(report.id)
    return made


def test_concurrent_acceptance_of_one_pilot_report(app, api, runtime, program):
    """For 3 submitted reports: 4 province users at once (nx.admin twice passing, nx.reviewer passing,
    nx.reviewer returning): one verdict, kept once (one acceptance round), audited once; the report
    accepted or returned as the winner said."""
    with system(runtime) as s:
        checklist = checklist_of(s.get(Program, program)).items  # type: ignore[arg-type]
    scores = [{"item": i["item"], "score": str(i["max"]), "comment": "并发验收"} for i in checklist]
    passing = {"checklist": scores, "outcome": "pass", "opinion": ""}
    returning = {"checklist": scores, "outcome": "return", "opinion": "并发退回"}
    nx, reviewer = api.token("nx.admin"), api.token("nx.reviewer")
    for rid in _submitted_reports(runtime, program):
        path = f"/api/v1/pilot-reports/{rid}/acceptance"
        bodies = [passing, passing, passing, returning]
        got = race(
            app,
            [
                request(t, "POST", path, json=b)
                for t, b in zip((nx, nx, reviewer, reviewer), bodies, strict=True)
            ],
        )
        won = bodies[one_winner(got)]["outcome"]
        with system(runtime) as s:
            report = s.get(PilotReport, rid)
            assert report is not None
            rounds = list(
                s.execute(select(PilotReportReview).where(PilotReportReview.report_id == rid)).scalars()
            )
            assert report.status == ("accepted" if won == "pass" else "returned")
            assert (report.accepted_at is not None) == (won == "pass")
            assert [(r.kind, r.round, r.outcome) for r in rounds] == [("acceptance", 1, won)]
        assert actions(runtime, "pilot_report", rid) == Counter(
            {"pilot_report.accept" if won == "pass" else "pilot_report.return": 1}
        )
