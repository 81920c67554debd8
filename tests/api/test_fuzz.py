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

from tests.api.test_project_lifecycle import create_program, new_project, through_assessment

pytestmark = pytest.mark.fuzz

ROLES = ("nx.admin", "xq.admin", "xq.editor")
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
def known(api: Any) -> dict[str, list[Any]]:
    """Objects of the fuzz's own for the path parameters: what it changes or deletes is its own."""
    unique = secrets.token_hex(3)
    program_id = create_program(api, f"fz{unique}", 50)
    project = new_project(api, program_id, f"fz{unique}")
    fresh = new_project(api, program_id, f"fz2{unique}")
    through_assessment(api, project["id"])
    province, admin, editor = (api.as_user(u) for u in ROLES)
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
    return {
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


@pytest.fixture(scope="module")
def api_schema(app: Any) -> Any:
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app, config=CONFIG)


@pytest.fixture(scope="module", params=ROLES)
def bearer(request: pytest.FixtureRequest, api: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {api.token(request.param)}"}


def _cases(operation: Any, mode: GenerationMode, known: dict[str, list[Any]]) -> Any:
    """Generated cases of one operation, half of them on the fuzz's own objects when it has them."""
    generated = operation.as_strategy(generation_mode=mode)
    names = PATH_PARAMETER.findall(operation.path)
    if not names or not all(known.get(name) for name in names):
        return generated
    ours = [
        operation.as_strategy(generation_mode=mode, path_parameters=dict(zip(names, values, strict=True)))
        for values in itertools.product(*(known[name] for name in names))
    ]
    return st.one_of(generated, st.one_of(ours))


def test_no_operation_answers_a_server_error_or_off_its_schema(
    api_schema: Any, bearer: dict[str, str], known: dict[str, list[Any]], subtests: Any
) -> None:
    for result in api_schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @settings(
                max_examples=MAX_EXAMPLES,
                deadline=None,
                derandomize=True,
                database=None,
                phases=[Phase.generate],  # no shrinking: a failing case is reported as found
                suppress_health_check=list(HealthCheck),
            )
            @given(case=_cases(operation, mode, known))
            def run(case: Any) -> None:
                case.call_and_validate(headers=bearer, checks=CHECKS)

            with subtests.test(msg=f"{operation.label} ({mode.value})"):
                try:
                    run()
                except Unsatisfiable:
                    # nothing of it can be made invalid (no parameters, or free-text ones only)
                    assert mode is GenerationMode.NEGATIVE
