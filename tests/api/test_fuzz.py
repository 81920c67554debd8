"""A bounded schemathesis run over the whole API spec, in both modes (issue: robustness of the first
half): no operation may answer a 5xx, and every answer must match the schema and the statuses the
spec documents for it.

Profile (a few minutes per mode on two cores; `JIXIAO_FUZZ_EXAMPLES` for a longer one): every operation of `/api/v1/openapi.json`, as
each of three roles (province admin, county bureau admin, county project editor), with
`MAX_EXAMPLES` valid and `MAX_EXAMPLES` invalid generated cases each, derandomized so a failure
reproduces. Checks: no 5xx, a documented status, a documented content type, a body matching the
documented schema. Each operation is a subtest of its role, so one run names every failing one.
(Not `schema.parametrize()`: schemathesis 4.32's pytest plugin writes `Node._nodeid`, which pytest
9.2 no longer has; `as_strategy` + `given` is its documented way for tests of one's own.)
Half of the path parameters name objects this module creates first (a program, a project whose
targets stage is open, an indicator, a template, a case, a user, an evidence item), so the cases
reach the services rather than stopping at 404.

The fuzz writes (new programs, projects, users, tenants… with generated values) and may change or
delete what it reaches. So that no other test sees any of it, the module is marked `fuzz` and
tests/conftest.py runs it after every other test of the session.
"""

from __future__ import annotations

import io
import itertools
import os
import re
import secrets
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import text

from tests.api.test_project_lifecycle import create_program, new_project, through_assessment
from tests.support.seeding import approved_targets, program_with
from tests.support.services import MODE

pytestmark = pytest.mark.fuzz

ROLES = ("nx.admin", "xq.admin", "xq.editor", "eval.ningping")
# The evaluator (holding the demo's grants on 兴庆区's showcase projects) gets the valid cases only:
# the invalid ones test the same request parsing as for the other roles.
POSITIVE_ONLY = {"eval.ningping"}
# The short profile of `make test`: every route, 10 examples each way in the embedded pass, 6 in the
# real pass (PostgreSQL, Redis, SeaweedFS), to keep `make test` within its time. The longer profile:
# JIXIAO_FUZZ_EXAMPLES=200 JIXIAO_TEST_MODE=embedded .venv/bin/python -m pytest tests/api/test_fuzz.py
MAX_EXAMPLES = int(
    os.environ.get("JIXIAO_FUZZ_EXAMPLES") or (6 if os.environ.get("JIXIAO_TEST_MODE") == "real" else 10)
)
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
CONFIG = SchemathesisConfig.from_dict(
    {
        "seed": 20261126,
        # The fuzzing phase only, sized by MAX_EXAMPLES: the coverage phase's boundary cases would
        # double the run (tried once over two roles: nothing found). The spec has no examples.
        "phases": {
            "examples": {"enabled": False},
            "coverage": {"enabled": False},
            "stateful": {"enabled": False},
        },
    }
)
PATH_PARAMETER = re.compile(r"{(\w+)}")


@pytest.fixture(scope="module")
def known(api: Any, runtime: Any) -> dict[str, list[Any]]:
    """Objects of the fuzz's own for the path parameters: what it changes or deletes is its own."""
    unique = secrets.token_hex(3)
    program_id = create_program(api, f"fz{unique}", 50)
    project = new_project(api, program_id, f"fz{unique}")
    fresh = new_project(api, program_id, f"fz2{unique}")
    through_assessment(api, project["id"])
    province, admin, editor = (api.as_user(u) for u in ("nx.admin", "xq.admin", "xq.editor"))
    indicator = admin.post(
        "/api/v1/indicators",
        json={
            "name": f"模糊测试指标{unique}",
            "level2": "数量",
            "common_class": "培训",
            "kind": "common",
            "scope": "project",
            "explanation": "模糊测试用指标",
            "source": "测试",
            "value_type": "quantitative",
            "direction": ">=",
            "unit": "人次",
            "standard_value": "120",
            "value_basis": "计划标准",
            "historical_values": {"2022": "100"},
        },
    )
    assert indicator.status_code == 201, indicator.get_json()
    iid = indicator.get_json()["id"]
    template = admin.post(
        "/api/v1/indicator-templates",
        json={"name": f"模糊测试模板{unique}", "project_class": "培训", "indicator_ids": [iid]},
    )
    assert template.status_code == 201, template.get_json()
    case = province.post(
        "/api/v1/cases",
        json={
            "title": f"模糊测试案例{unique}",
            "project_class": "培训",
            "category": "教育",
            "text": "年度目标：完成教师培训 1200 人次。",
            "indicator_ids": [],
        },
    )
    assert case.status_code == 201, case.get_json()
    user = admin.post(
        "/api/v1/tenants/640104/users",
        json={
            "username": f"xq.fz{unique}",
            "display_name": "模糊测试",
            "password": "Fuzz@2026ok",
            "roles": ["project_editor"],
        },
    )
    assert user.status_code == 201, user.get_json()
    evidence = editor.post(
        f"/api/v1/projects/{project['id']}/evidence",
        data={
            "stage": "targets",
            "purpose": "测算依据",
            "file": (io.BytesIO(b"%PDF-1.7\n" + b"0" * 1024), "测算.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert evidence.status_code == 201, evidence.get_json()
    orgs = province.get("/api/v1/evaluator-orgs").get_json()["items"]
    notes = editor.get("/api/v1/me/notifications").get_json()["items"]
    slot = editor.post(
        f"/api/v1/projects/{project['id']}/evidence/uploads",
        json={
            "filename": "直传.pdf",
            "size": 9,
            "sha256": "0" * 64,
            "stage": "targets",
            "purpose": "测算依据",
        },
    )
    assert slot.status_code == 201, slot.get_json()
    # the app's own upload route (embedded mode); with S3 the slot is a presigned URL of the store's
    upload_url = slot.get_json()["upload_url"]
    public = "/api/v1/public/evidence-uploads/"
    token = [upload_url.split(public, 1)[1]] if public in upload_url else []
    # a job of the bureau admin's: its own library, exported and imported back (nothing changes)
    exported = admin.get(f"/api/v1/indicators/export?owner=own&q={unique}")
    assert exported.status_code == 200
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    imported = admin.post(
        "/api/v1/indicators/import",
        data={"file": (io.BytesIO(exported.data), "指标.xlsx", xlsx)},
        content_type="multipart/form-data",
    )
    assert imported.status_code == 202, imported.get_json()
    # a spot check of approved targets (兴庆区's), drawn by the province's reviewer
    drawn_in = program_with(api, runtime, f"fz{unique}", ["640104"])
    approved_targets(runtime, drawn_in, unique, [("640104", "100", "个")], prefix="模糊抽查")
    check = api.as_user("nx.reviewer").post(
        f"/api/v1/programs/{drawn_in}/spot-checks", json={"count": 1, "seed": 7}
    )
    assert check.status_code == 201, check.get_json()
    proposal = admin.post(f"/api/v1/indicators/{iid}/proposals", json={"reason": "模糊测试：建议全市推广"})
    assert proposal.status_code == 201, proposal.get_json()
    return {
        "token": token,
        "job_id": [imported.get_json()["job_id"]],
        "proposal_id": [proposal.get_json()["id"]],
        "check_id": [check.get_json()["id"]],
        "fmt": FORMATS,
        "program_id": [program_id],
        "project_id": [project["id"], fresh["id"]],
        "indicator_id": [iid],
        "template_id": [template.get_json()["id"]],
        "case_id": [case.get_json()["id"]],
        "user_id": [user.get_json()["id"]],
        "evidence_id": [evidence.get_json()["id"]],
        "code": ["640104", "640000"],
        "org_id": [o["id"] for o in orgs[:1]],
        "notification_id": [n["id"] for n in notes[:1]],
    }


# Objects of the demo's showcase (兴庆区 640104, which every fuzzing role reads) for the path
# parameters that only a whole lifecycle makes: each query gives consistent tuples (a round with its
# project, a correction with its round and project …); `_in` narrows a tuple to the paths that
# contain it (`item_id` is a spot check's item or a rectification notice's). The fuzz runs after
# every other test, so what it changes of the showcase is seen by none.
SHOWCASE = {
    "round_id": "SELECT r.id AS round_id, r.project_id FROM monitoring_rounds r {xq} ORDER BY r.id",
    "correction_id": "SELECT r.id AS correction_id, r.round_id, r.project_id FROM corrections r {xq} "
    "AND r.round_id IS NOT NULL ORDER BY r.id",
    "grant_id": "SELECT r.id AS grant_id, r.project_id FROM grants r {xq} ORDER BY r.id",
    "notice_id": "SELECT r.id AS notice_id FROM rectification_notices r {xq} ORDER BY r.id",
    "item_id@/rectification-notices/": "SELECT r.id AS item_id, r.notice_id FROM rectification_items r {xq} "
    "ORDER BY r.id",
    "item_id@/spot-checks/": "SELECT r.id AS item_id, r.spot_check_id AS check_id FROM spot_check_items r {xq} "
    "ORDER BY r.id DESC",
    "report_id": "SELECT r.id AS report_id FROM pilot_reports r {xq} ORDER BY r.id",
    "number": "SELECT r.report_id, r.number FROM pilot_report_versions r {xq} ORDER BY r.id",
}
FORMATS = ["docx", "pdf"]


@pytest.fixture(scope="module")
def tuples(runtime: Any, known: dict[str, list[Any]]) -> list[dict[str, Any]]:
    """(after `known`: its spot check is among them)"""
    xq = "JOIN tenants t ON t.id = r.tenant_id WHERE t.code = '640104'"
    found: list[dict[str, Any]] = []
    with runtime.db.transaction(system="test: the fuzz's seeds from the showcase") as s:
        for key, sql in SHOWCASE.items():
            rows = [dict(row._mapping) for row in s.execute(text(sql.format(xq=xq))).all()[:2]]
            where = key.partition("@")[2]
            found += [{**row, "_in": where} for row in rows]
    return found


def _seeded_names(known: dict[str, list[Any]], tuples: list[dict[str, Any]]) -> set[str]:
    return {name for name, values in known.items() if values} | {
        k for row in tuples for k in row if k != "_in"
    }


@pytest.fixture(scope="module")
def api_schema(app: Any) -> Any:
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app, config=CONFIG)


@pytest.fixture(scope="module", params=ROLES)
def role(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def bearer(role: str, api: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {api.token(role)}"}


def _assignments(
    path: str, known: dict[str, list[Any]], tuples: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Values for the path's parameters that name real objects together (a round of that project)."""
    names = PATH_PARAMETER.findall(path)
    found: list[dict[str, Any]] = []
    if all(known.get(name) for name in names):
        found += [
            dict(zip(names, values, strict=True)) for values in itertools.product(*(known[n] for n in names))
        ]
    for row in tuples:
        missing = [name for name in names if name not in row]
        if row["_in"] not in path or len(missing) == len(names) or not all(known.get(n) for n in missing):
            continue
        own = {name: row[name] for name in names if name in row}
        found += [
            {**own, **dict(zip(missing, values, strict=True))}
            for values in itertools.product(*(known[n] for n in missing))
        ]
    unique = {tuple(sorted(a.items())): a for a in found}
    return list(unique.values())[:6]


def _cases(
    operation: Any, mode: GenerationMode, known: dict[str, list[Any]], tuples: list[dict[str, Any]]
) -> Any:
    """Generated cases of one operation, half of them on real objects when there are any."""
    generated = operation.as_strategy(generation_mode=mode)
    if not PATH_PARAMETER.findall(operation.path):
        return generated
    ours = [
        operation.as_strategy(generation_mode=mode, path_parameters=values)
        for values in _assignments(operation.path, known, tuples)
    ]
    return st.one_of(generated, st.one_of(ours)) if ours else generated


def test_every_path_parameter_is_seeded_with_real_objects(
    api_schema: Any, known: dict[str, list[Any]], tuples: list[dict[str, Any]]
) -> None:
    """A new route whose path parameter the fuzz cannot fill with a real object fails here: seed it
    in `known` or `SHOWCASE`, so that the fuzz reaches past its 404s."""
    unseeded = []
    for result in api_schema.get_all_operations():
        operation = result.ok()
        if PATH_PARAMETER.findall(operation.path) and not _assignments(operation.path, known, tuples):
            unseeded.append(operation.label)
    if not known["token"]:  # S3: slots are the store's presigned URLs, the app's route is unused
        unseeded.remove("PUT /api/v1/public/evidence-uploads/{token}")
    assert unseeded == [], "\n".join(unseeded)


def test_no_operation_answers_a_server_error_or_off_its_schema(
    api_schema: Any,
    role: str,
    bearer: dict[str, str],
    known: dict[str, list[Any]],
    tuples: list[dict[str, Any]],
    subtests: Any,
) -> None:
    modes = [GenerationMode.POSITIVE] + ([] if role in POSITIVE_ONLY else [GenerationMode.NEGATIVE])
    for result in api_schema.get_all_operations():
        operation = result.ok()
        for mode in modes:

            @settings(
                max_examples=MAX_EXAMPLES,
                deadline=None,
                derandomize=True,
                database=None,
                phases=[Phase.generate],  # no shrinking: a failing case is reported as found
                suppress_health_check=list(HealthCheck),
            )
            @given(case=_cases(operation, mode, known, tuples))
            def run(case: Any) -> None:
                case.call_and_validate(headers=bearer, checks=CHECKS)

            with subtests.test(msg=f"{operation.label} ({mode.value})"):
                try:
                    run()
                except Unsatisfiable:
                    # nothing of it can be made invalid (no parameters, or free-text ones only)
                    assert mode is GenerationMode.NEGATIVE


# The lifecycle's operations, chained by the document's OpenAPI links (platform/web/api_links.py):
# create a project → its assessment → submit → decide → targets → submit → review.
LIFECYCLE = r"^/api/v1/projects(/\{project_id\}(/assessment(/submit|/decision)?|/targets(/submit|/check|/reviews|/versions)?)?)?$"
REVIEWS = ("/assessment/decision", "/targets/reviews")  # decided by the bureau's admin, not the editor
STATEFUL_SCENARIOS = max(16, MAX_EXAMPLES * 2)
STATEFUL_CONFIG = SchemathesisConfig.from_dict({"seed": 20261126})


@pytest.mark.skipif(
    MODE != "embedded",
    reason="stateful run: hypothesis needs each scenario to meet the same server state; in the real "
    "pass the worker process and the shared services made it replay differently (FlakyStrategyDefinition)",
)
def test_stateful_sequences_follow_the_links(app: Any, api: Any, known: dict[str, list[Any]]) -> None:
    """Sequences of calls where each takes its ids from an earlier answer (the links), as the editor
    and — for the decisions — the bureau's admin: no 5xx, every answer on its schema. Each scenario
    has a program of its own, so that it meets the same state as any other (hypothesis replays)."""
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app, config=STATEFUL_CONFIG).include(
        path_regex=LIFECYCLE
    )
    editor, reviewer = api.token("xq.editor"), api.token("xq.admin")
    followed: list[tuple[str, int]] = []
    programs = itertools.count()

    class Lifecycle(schema.as_state_machine()):  # type: ignore[misc]
        def setup(self) -> None:
            self.program_id = create_program(api, f"fzs{next(programs)}{secrets.token_hex(3)}", 50)

        def before_call(self, case: Any) -> None:
            if case.method == "POST" and case.path == "/api/v1/projects" and isinstance(case.body, dict):
                case.body["program_id"] = self.program_id  # the scenario's own program: projects get made

        def after_call(self, response: Any, case: Any) -> None:
            followed.append((f"{case.method} {case.path}", response.status_code))

        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            token = reviewer if case.path.endswith(REVIEWS) else editor
            return {"headers": {"Authorization": f"Bearer {token}"}}

        def validate_response(
            self, response: Any, case: Any, additional_checks: Any = None, **kwargs: Any
        ) -> None:
            case.validate_response(response, checks=CHECKS)

    Lifecycle.run(
        settings=settings(
            max_examples=STATEFUL_SCENARIOS,
            stateful_step_count=8,
            deadline=None,
            derandomize=True,
            database=None,
            # no shrinking: a scenario's steps depend on what the server holds by then, which
            # replaying cannot reproduce (hypothesis calls it flaky); a failure is reported as found
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
    )
    # a project's operation answered 2xx or 409 (a state the project is in): its id came from an
    # earlier answer — a generated id names no project of the editor's (404)
    linked = {step for step, status in followed if "{project_id}" in step and (status < 300 or status == 409)}
    assert len(linked) >= 2, f"the links were hardly followed: {sorted(set(followed))}"
