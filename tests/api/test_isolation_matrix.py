"""The isolation matrix (issue 16 item 2): generated from the OpenAPI document, every API route that
takes an object id in its path, as every role of DEMO.md (and evaluators: the demo one with a live
grant on the object's project or none, and one whose grants expired or were revoked), against
objects of the own, parent, child and sibling tenant, answers what DESIGN.md §4 says:

* a sibling's or an unrelated tenant's object is **404**, reads and writes alike, with the same body
  as an unknown id's (up to the id: never confirm it exists). A refusal that does not depend on the
  object (a role or token scope checked before any lookup) passes only when an unknown id gets the
  very same status. A sibling's id behind one's own project in the path (`crossed`) is 404 too;
* a tenant above reads (200) and never writes: **403** (API.md: 403 "not allowed" for what the
  caller may see, 404 for what it may not; tests/api/test_walls.py: upper levels are read-only, 403
  with 只读) — except where DESIGN.md gives the level above a write of its own (the province runs
  users and accepts pilot reports; the city comments on them, decides proposals, reviews what it
  drew): those are not sent (`ABOVE_MAY`). `STATE` lists the few visible objects a state refuses
  first;
* pilot data does not flow down: a parent's project and everything of it is 404 to the tenant below;
  the library, the tenant records and the programs flow down (`FLOWS_DOWN`): read 200, written 403;
* an evaluator reads the projects its live grant names (and the shared library), is refused (403)
  what its grant does not list, and sees nothing else (404); a dead grant is 403 with its reason
  (DESIGN.md §6) or 404, never 2xx;
* jobs and notifications belong to the user who started or received them: anyone else gets 404.

Writes are sent with a body built from the route's request schema (`BODIES` where the schema alone
does not make one valid), so that they pass validation and reach the wall; nothing is sent for the
own tenant (the matrix is about other tenants), nor what a role may legitimately do, so no write
lands on the shared demo data. The objects and the relations are built in tests/support/isolation.py;
`ID_ROUTES` says which kind of object each route's path names, and a test compares it with the spec:
a new route the matrix does not cover fails the suite (a new method of a known route is checked
without any change). One test per route loops over its cases and names every mismatch.

The lists: every list or search route of the spec (or a reason in `LIST_EXEMPT`), as every role,
returns only rows of tenants that role reads.
"""

from __future__ import annotations

import io
import re
import uuid
from typing import Any

import pytest
from sqlalchemy import select

from jixiao.platform.core.db import utcnow
from jixiao.services.grants.models import Grant
from jixiao.services.indicators.models import Case, IndicatorTemplate
from jixiao.services.programs.models import Program
from jixiao.services.projects.models import Project
from jixiao.services.targets.models import TargetLine, TargetSet
from jixiao.tenants.models import Tenant, User
from tests.support.isolation import EVALUATOR, PROVINCE, Obj, World, build_world, json_body, relation

pytestmark = pytest.mark.once  # the walls are the same in both modes

PARAM = re.compile(r"{(\w+)}")
WRITES = ("POST", "PUT", "PATCH", "DELETE")
# routes with a path parameter that names no tenant's object
NOT_AN_OBJECT = {
    "/api/v1/public/evidence-uploads/{token}": "a signed one-time upload URL of the app itself (no "
    "caller, no tenant: the token is the authorization; tests/api/test_evidence_direct.py)",
}

# route -> the kind of object its path names (tests/support/isolation.py builds one per tenant)
ID_ROUTES: dict[str, str] = {
    "/api/v1/cases/{case_id}": "case",
    "/api/v1/evaluator-orgs/{org_id}/users": "org",
    "/api/v1/evidence/{evidence_id}": "evidence",
    "/api/v1/evidence/{evidence_id}/complete": "evidence",
    "/api/v1/evidence/{evidence_id}/download": "evidence",
    "/api/v1/evidence/{evidence_id}/history": "evidence",
    "/api/v1/indicator-proposals/{proposal_id}/decision": "proposal",
    "/api/v1/indicator-templates/{template_id}": "template",
    "/api/v1/indicators/{indicator_id}": "indicator",
    "/api/v1/indicators/{indicator_id}/proposals": "indicator",
    "/api/v1/indicators/{indicator_id}/restore": "indicator",
    "/api/v1/indicators/{indicator_id}/retire": "indicator",
    "/api/v1/indicators/{indicator_id}/target-statistics": "indicator",
    "/api/v1/indicators/{indicator_id}/versions": "indicator",
    "/api/v1/jobs/{job_id}": "job",
    "/api/v1/me/notifications/{notification_id}/read": "notification",
    "/api/v1/pilot-reports/{report_id}": "report",
    "/api/v1/pilot-reports/{report_id}/acceptance": "report",
    "/api/v1/pilot-reports/{report_id}/opinions": "report",
    "/api/v1/pilot-reports/{report_id}/submit": "report",
    "/api/v1/pilot-reports/{report_id}/versions/{number}/files/{fmt}": "report_file",
    "/api/v1/programs/{program_id}": "program",
    "/api/v1/programs/{program_id}/briefings": "program",
    "/api/v1/programs/{program_id}/briefings/{job_id}/files/{fmt}": "briefing",
    "/api/v1/programs/{program_id}/spot-checks": "program",
    "/api/v1/projects/{project_id}": "project",
    "/api/v1/projects/{project_id}/assessment": "project",
    "/api/v1/projects/{project_id}/assessment/decision": "project",
    "/api/v1/projects/{project_id}/assessment/submit": "project",
    "/api/v1/projects/{project_id}/corrections": "project",
    "/api/v1/projects/{project_id}/evaluation": "project",
    "/api/v1/projects/{project_id}/evaluation/decision": "project",
    "/api/v1/projects/{project_id}/evaluation/skip": "project",
    "/api/v1/projects/{project_id}/evaluation/submit": "project",
    "/api/v1/projects/{project_id}/evidence": "project",
    "/api/v1/projects/{project_id}/evidence/uploads": "project",
    "/api/v1/projects/{project_id}/grants": "project",
    "/api/v1/projects/{project_id}/grants/{grant_id}": "grant",
    "/api/v1/projects/{project_id}/monitoring-rounds": "project",
    "/api/v1/projects/{project_id}/monitoring-rounds/{round_id}": "round",
    "/api/v1/projects/{project_id}/monitoring-rounds/{round_id}/confirm": "round",
    "/api/v1/projects/{project_id}/monitoring-rounds/{round_id}/corrections": "round",
    "/api/v1/projects/{project_id}/monitoring-rounds/{round_id}/corrections/{correction_id}": "correction",
    "/api/v1/projects/{project_id}/monitoring-rounds/{round_id}/corrections/{correction_id}/adjustment": (
        "correction"
    ),
    "/api/v1/projects/{project_id}/monitoring-rounds/{round_id}/corrections/{correction_id}/again": "correction",
    "/api/v1/projects/{project_id}/monitoring-rounds/{round_id}/corrections/{correction_id}/close": "correction",
    "/api/v1/projects/{project_id}/monitoring-rounds/{round_id}/corrections/{correction_id}/reply": "correction",
    "/api/v1/projects/{project_id}/monitoring-rounds/{round_id}/export": "round",
    "/api/v1/projects/{project_id}/monitoring-rounds/{round_id}/export/{job_id}": "round_export",
    "/api/v1/projects/{project_id}/monitoring-rounds/{round_id}/return": "round",
    "/api/v1/projects/{project_id}/rectification-notices": "project",
    "/api/v1/projects/{project_id}/result-application": "project",
    "/api/v1/projects/{project_id}/self-evaluation": "project",
    "/api/v1/projects/{project_id}/self-evaluation/export": "project",
    "/api/v1/projects/{project_id}/self-evaluation/export/{job_id}": "self_export",
    "/api/v1/projects/{project_id}/self-evaluation/preview": "project",
    "/api/v1/projects/{project_id}/self-evaluation/reviews": "project",
    "/api/v1/projects/{project_id}/self-evaluation/submit": "project",
    "/api/v1/projects/{project_id}/spot-checks": "project",
    "/api/v1/projects/{project_id}/target-suggestions": "project",
    "/api/v1/projects/{project_id}/targets": "project",
    "/api/v1/projects/{project_id}/targets/adjustments": "project",
    "/api/v1/projects/{project_id}/targets/apply-template": "project",
    "/api/v1/projects/{project_id}/targets/check": "project",
    "/api/v1/projects/{project_id}/targets/export": "project",
    "/api/v1/projects/{project_id}/targets/export/{job_id}": "targets_export",
    "/api/v1/projects/{project_id}/targets/resubmission": "project",
    "/api/v1/projects/{project_id}/targets/reviews": "project",
    "/api/v1/projects/{project_id}/targets/submit": "project",
    "/api/v1/projects/{project_id}/targets/versions": "project",
    "/api/v1/province/dashboard/export/{job_id}": "dashboard_export",
    "/api/v1/rectification-notices/{notice_id}": "notice",
    "/api/v1/rectification-notices/{notice_id}/items/{item_id}/close": "notice_item",
    "/api/v1/rectification-notices/{notice_id}/items/{item_id}/reply": "notice_item",
    "/api/v1/rectification-notices/{notice_id}/items/{item_id}/return": "notice_item",
    "/api/v1/spot-checks/{check_id}": "spot_check",
    "/api/v1/spot-checks/{check_id}/items/{item_id}": "spot_item",
    "/api/v1/spot-checks/{check_id}/items/{item_id}/again": "spot_item",
    "/api/v1/spot-checks/{check_id}/items/{item_id}/close": "spot_item",
    "/api/v1/spot-checks/{check_id}/items/{item_id}/reply": "spot_item",
    "/api/v1/spot-checks/{check_id}/items/{item_id}/review": "spot_item",
    "/api/v1/tenants/{code}": "tenant",
    "/api/v1/tenants/{code}/users": "tenant_users",
    "/api/v1/users/{user_id}": "user",
}

# what flows down: a tenant below reads the parent's (the library, the tenant records, the programs)
FLOWS_DOWN = {"indicator", "template", "case", "tenant", "program", "org"}
LIBRARY = {"indicator", "template", "case"}
# what belongs to one user (a job's starter, a notification's addressee): 404 to anyone else
PRIVATE = {
    "job",
    "notification",
    "targets_export",
    "self_export",
    "round_export",
    "briefing",
    "dashboard_export",
}

# POSTs that only read (an export of what the caller may read, a dry-run check): expected like a GET
READS = {
    ("/api/v1/projects/{project_id}/targets/check", "POST"),
    ("/api/v1/projects/{project_id}/targets/export", "POST"),
    ("/api/v1/projects/{project_id}/self-evaluation/export", "POST"),
    ("/api/v1/projects/{project_id}/self-evaluation/preview", "POST"),
    ("/api/v1/projects/{project_id}/monitoring-rounds/{round_id}/export", "POST"),
}
# writes DESIGN.md gives to someone other than the owner: not sent for these roles (they may succeed)
ABOVE_MAY: dict[tuple[str, str], set[str]] = {
    ("/api/v1/users/{user_id}", "PATCH"): {"nx.admin"},  # §1: the province admin runs users
    ("/api/v1/tenants/{code}/users", "POST"): {"nx.admin"},
    ("/api/v1/pilot-reports/{report_id}/acceptance", "POST"): {"nx.admin", "nx.reviewer"},  # 验收
    ("/api/v1/pilot-reports/{report_id}/opinions", "POST"): {"nx.admin", "nx.reviewer", "yc.admin"},
    ("/api/v1/indicator-proposals/{proposal_id}/decision", "POST"): {"nx.admin", "yc.admin"},  # 共建共享
    ("/api/v1/spot-checks/{check_id}/items/{item_id}/review", "POST"): {"yc.admin"},  # whoever drew it
    ("/api/v1/spot-checks/{check_id}/items/{item_id}/again", "POST"): {"yc.admin"},
    ("/api/v1/spot-checks/{check_id}/items/{item_id}/close", "POST"): {"yc.admin"},
    ("/api/v1/programs/{program_id}/briefings", "POST"): {"yc.admin"},  # a city's own briefing
    ("/api/v1/programs/{program_id}/spot-checks", "POST"): {"yc.admin", "nx.reviewer"},  # its own draw
}
# what the evaluator's grant lists (read, key_evaluation, evidence_read, evidence_write): not sent
GRANT_MAY = {
    ("/api/v1/projects/{project_id}/evidence", "POST"),
    ("/api/v1/projects/{project_id}/evidence/uploads", "POST"),
    ("/api/v1/evidence/{evidence_id}", "DELETE"),
    ("/api/v1/evidence/{evidence_id}/complete", "POST"),
    ("/api/v1/projects/{project_id}/evaluation", "PUT"),
    ("/api/v1/projects/{project_id}/evaluation/submit", "POST"),
}
# a visible object refused by state rather than by the wall (documented where it is decided)
STATE: dict[tuple[str, str], tuple[set[int], set[str]]] = {
    # a reply is the county's; with no finding to answer the state refuses the levels above first
    # (they see the item: the city drew it, `owner_and_above`)
    ("/api/v1/spot-checks/{check_id}/items/{item_id}/reply", "POST"): (
        {409},
        {"yc.admin", "nx.admin", "nx.reviewer"},
    ),
    # a joint review (联审) is asked of the evaluator's grant only when a submission waits: with
    # none the state answers first (the evaluator sees the project through its grant)
    ("/api/v1/projects/{project_id}/targets/reviews", "POST"): ({409}, {EVALUATOR}),
    ("/api/v1/projects/{project_id}/self-evaluation/reviews", "POST"): ({409}, {EVALUATOR}),
    # completing an upload looks for a pending one: a finished upload is 404 to every reader above
    ("/api/v1/evidence/{evidence_id}/complete", "POST"): ({404}, {"nx.admin", "nx.reviewer", "yc.admin"}),
}
# the admins hold every read scope: what they see in their own tenant or below they read
ADMINS = {"nx.admin", "yc.admin", "xq.admin", "xx.admin"}
# bodies the request schema alone does not make valid (a date as a string, one of two ids, a file)
BODIES: dict[tuple[str, str], Any] = {
    ("/api/v1/projects/{project_id}/grants", "POST"): lambda w: {
        "evaluator_org_id": w.objects["org"][0].params["org_id"],
        "actions": ["read"],
        "expires_at": "2099-06-30",
    },
    ("/api/v1/projects/{project_id}/targets/apply-template", "POST"): lambda w: {
        "template_id": w.one("template", PROVINCE).params["template_id"]
    },
    ("/api/v1/projects/{project_id}/self-evaluation/preview", "POST"): lambda w: {
        "budget_executed": "100.00",
        "lines": [],
    },
    ("/api/v1/projects/{project_id}/targets/export", "POST"): lambda w: {},  # the current version
}
MULTIPART = {("/api/v1/projects/{project_id}/evidence", "POST")}
QUERY = {"/api/v1/indicators/{indicator_id}/target-statistics": "?project_class=工程基建"}
# a project with no targets yet (the bare ones) has nothing to export: 404 names the missing version
BARE_STATE: dict[tuple[str, str], set[int]] = {
    ("/api/v1/projects/{project_id}/targets/export", "POST"): {404},
}
# found by the matrix and not fixed yet: (route, method, role, object tenant) -> the bug. Each is left
# out of test_walls_of and checked alone by test_known_wall_bug, xfail(strict=True)
KNOWN_BUGS: dict[tuple[str, str, str, str], str] = {}

UNKNOWN = {"code": "999999", "fmt": None, "number": None}


@pytest.fixture(scope="module")
def spec(app: Any) -> dict[str, Any]:
    resp = app.test_client().get("/api/v1/openapi.json")
    assert resp.status_code == 200
    body: dict[str, Any] = resp.get_json()
    return body


@pytest.fixture(scope="module")
def world(api: Any, runtime: Any) -> World:
    return build_world(api, runtime)


def _id_paths(spec: dict[str, Any]) -> set[str]:
    return {path for path in spec["paths"] if PARAM.search(path)}


def _methods(spec: dict[str, Any], path: str) -> list[str]:
    return sorted(m.upper() for m in spec["paths"][path] if m.upper() in ("GET",) + WRITES)


def rel_of(world: World, role: str, obj: Obj) -> str:
    code = world.roles[role]
    if code is None:
        if obj.granted:
            return "grant" if role == EVALUATOR else "lapsed"
        return "shared" if obj.kind in LIBRARY and obj.tenant == PROVINCE else "no_grant"
    return relation(world.paths[code], world.paths[obj.tenant])


def sees(kind: str, role: str, rel: str, obj: Obj) -> bool:
    if kind in PRIVATE:
        return role == obj.user
    if rel in ("own", "child", "grant", "shared"):
        return True
    return rel == "parent" and kind in FLOWS_DOWN


def expected(path: str, method: str, kind: str, role: str, rel: str, obj: Obj) -> set[int] | None:
    """The statuses DESIGN.md §4 allows, or None when the case is not sent."""
    read = method == "GET" or (path, method) in READS
    if not read and (rel == "own" or role in ABOVE_MAY.get((path, method), set())):
        return None
    if not read and rel == "grant" and (path, method) in GRANT_MAY:
        return None
    if rel == "lapsed":
        # DESIGN.md §6: acting after a grant expired answers 403 with a message that says why (the
        # project was the evaluator's to see); what lies below it may answer 404. Never 2xx.
        return {403, 404}
    if not sees(kind, role, rel, obj):
        if kind == "tenant_users" and rel == "parent":
            return {403, 404}  # the tenant above is visible (its record flows down), its users are not
        return {404}
    if read:
        # 409: a stage not open yet; 403: a role's rule on a thing it sees (not an admin's own or below)
        allowed = {200, 202, 409} if role in ADMINS and rel in ("own", "child") else {200, 202, 403, 409}
        return allowed | (BARE_STATE.get((path, method), set()) if obj.label == "bare" else set())
    statuses, roles = STATE.get((path, method), (set(), set()))
    return {403} | (statuses if role in roles else set())


def _unknown(obj: Obj) -> dict[str, Any]:
    out = {}
    for name, value in obj.params.items():
        if obj.label == "crossed" and name in ("project_id", "notice_id"):
            out[name] = value  # the caller's own: only the sibling's id after it is made unknown
        elif name in UNKNOWN:
            out[name] = UNKNOWN[name] or value
        elif isinstance(value, int):
            out[name] = 987654321
        else:
            out[name] = str(uuid.uuid4())
    return out


def _same_404(resp: Any, control: Any, params: dict[str, Any], unknown: dict[str, Any]) -> bool:
    """Another tenant's object answers as an unknown one does (DESIGN.md §4.3), up to the id."""
    if control.status_code != 404:
        return False
    body, other = resp.get_json(silent=True) or {}, control.get_json(silent=True) or {}
    if set(body) != set(other) or body.get("status") != other.get("status"):
        return False
    message = str(body.get("message", ""))
    for name, value in params.items():
        if unknown[name] != value:
            message = re.sub(rf"(?<![\w-]){re.escape(str(value))}(?![\w-])", str(unknown[name]), message)
    return message == other.get("message")


def _send(
    api: Any, role: str, method: str, url: str, body: dict[str, Any] | None, multipart: bool = False
) -> Any:
    if multipart:  # a small PDF, as an upload form sends it
        form = {
            "stage": "targets",
            "purpose": "测算依据",
            "file": (io.BytesIO(b"%PDF-1.7\n" + b"0" * 64), "矩阵.pdf"),
        }
        return api.as_user(role)._call(method, url, data=form, content_type="multipart/form-data")
    return api.as_user(role)._call(method, url, **({"json": body} if body is not None else {}))


def _check_route(
    api: Any, spec: dict[str, Any], world: World, path: str, only: tuple[str, str, str] | None = None
) -> tuple[list[str], int]:
    """Every case of one route (or `only` its (method, role, object tenant) one), and what broke."""
    kind = ID_ROUTES[path]
    wrong: list[str] = []
    sent = 0
    compared: set[tuple[Any, ...]] = set()
    for method in _methods(spec, path):
        multipart = (path, method) in MULTIPART
        for obj in world.objects[kind]:
            body = (
                BODIES[(path, method)](world) if (path, method) in BODIES else json_body(spec, path, method)
            )
            url = path.format(**obj.params) + QUERY.get(path, "")
            for role in world.roles if obj.roles is None else sorted(obj.roles):
                rel = rel_of(world, role, obj)
                want = expected(path, method, kind, role, rel, obj)
                if only is not None:
                    if (method, role, obj.tenant) != only:
                        continue
                elif want is None or (path, method, role, obj.tenant) in KNOWN_BUGS:
                    continue
                if want is None:
                    continue
                resp = _send(api, role, method, url, body, multipart)
                sent += 1
                got = resp.status_code
                unknown = _unknown(obj)
                if got in want:
                    shape = (path, method, id(obj), world.roles[role])
                    if want == {404} and shape not in compared:  # once per object and caller tenant
                        compared.add(shape)
                        control = _send(
                            api, role, method, path.format(**unknown) + QUERY.get(path, ""), body, multipart
                        )
                        if not _same_404(resp, control, obj.params, unknown):
                            wrong.append(
                                f"{method} {url} as {role} [{rel}]: its 404 differs from an unknown id's: "
                                f"{resp.get_json(silent=True)} vs {control.get_json(silent=True)}"
                            )
                    continue
                if want == {404} and got == 403:
                    # refused before any lookup (role, token scope)? then an unknown id gets the same
                    control = _send(
                        api, role, method, path.format(**unknown) + QUERY.get(path, ""), body, multipart
                    )
                    if control.status_code == got:
                        continue
                message = (resp.get_json(silent=True) or {}).get("message", "")
                wrong.append(
                    f"{method} {url} ({obj.kind} of {obj.tenant}{' ' + obj.label if obj.label else ''}) "
                    f"as {role} [{rel}]: expected {sorted(want)}, got {got} {message[:80]}"
                )
    return wrong, sent


# --- the table covers the spec ----------------------------------------------------------------


def test_every_id_route_of_the_spec_is_in_the_matrix(spec):
    """A route with an id in its path that the matrix does not know fails here: add it to
    `ID_ROUTES` (and, for a new kind of object, a finder in tests/support/isolation.py)."""
    routes = _id_paths(spec)
    missing = sorted(routes - set(ID_ROUTES) - set(NOT_AN_OBJECT))
    stale = sorted(set(ID_ROUTES) - routes)
    assert missing == [], f"id routes the isolation matrix does not cover: {missing}"
    assert stale == [], f"routes of the matrix the spec no longer has: {stale}"


def test_the_world_has_every_kind_and_relation(world):
    kinds = set(ID_ROUTES.values())
    assert kinds <= set(world.objects), sorted(kinds - set(world.objects))
    relations = {
        rel_of(world, role, obj) for objs in world.objects.values() for obj in objs for role in world.roles
    }
    assert relations == {"own", "child", "parent", "sibling", "grant", "lapsed", "no_grant", "shared"}
    for kind in ("project", "evidence", "round", "indicator", "tenant", "user"):
        assert {"640104", "640105"} <= {o.tenant for o in world.objects[kind]}, kind


# --- the matrix -------------------------------------------------------------------------------


@pytest.mark.parametrize("path", sorted(ID_ROUTES), ids=lambda p: p.removeprefix("/api/v1/"))
def test_walls_of(path, api, spec, world):
    if path not in spec["paths"]:
        pytest.skip("not in the spec (test_every_id_route_of_the_spec_is_in_the_matrix says so)")
    wrong, sent = _check_route(api, spec, world, path)
    assert sent > 0
    assert wrong == [], f"{len(wrong)} of {sent} cases break the walls:\n" + "\n".join(wrong)


if KNOWN_BUGS:  # one xfail per known case, strict: fixing the bug makes it fail until removed here

    @pytest.mark.parametrize(
        "case",
        [
            pytest.param(case, id=" ".join(case), marks=pytest.mark.xfail(strict=True, reason=why))
            for case, why in KNOWN_BUGS.items()
        ],
    )
    def test_known_wall_bug(case, api, spec, world):
        path, method, role, tenant = case
        wrong, sent = _check_route(api, spec, world, path, only=(method, role, tenant))
        assert sent > 0 and wrong == [], "\n".join(wrong)


# --- the lists --------------------------------------------------------------------------------

# list and search routes: the query that makes them answer, and the kind of rows they return
LIST_ROUTES: dict[str, tuple[str, str]] = {
    "/api/v1/audit-events": ("?page_size=100", "audit"),
    "/api/v1/cases": ("?page_size=100", "case"),
    "/api/v1/corrections": ("?page_size=100", "project_row"),
    "/api/v1/grants": ("", "grant"),
    "/api/v1/indicator-proposals": ("?page_size=100", "proposal"),
    "/api/v1/indicator-templates": ("?page_size=100", "template"),
    "/api/v1/indicators": ("?page_size=100&q=隔离矩阵", "indicator"),
    "/api/v1/me/notifications": ("?page_size=100", "notification"),
    "/api/v1/me/tasks": ("", "project_row"),
    "/api/v1/pilot-reports": ("", "tenant_row"),
    "/api/v1/programs": ("?page_size=100", "program"),
    "/api/v1/projects": ("?page_size=100", "project"),
    "/api/v1/province/dashboard": ("?program_id={finished}", "dashboard"),
    "/api/v1/province/indicator-comparison": ("?indicator_id={compared}", "project_row"),
    "/api/v1/tenants": ("?page_size=100", "tenant"),
}
LIST_EXEMPT = {
    "/api/v1/evaluator-orgs": "the province's register of evaluator organisations: no tenant's rows",
    "/api/v1/indicator-framework": "the Ministry's fixed framework (level 1 × level 2): no tenant's rows",
    "/api/v1/target-rules": "the quality rules' settings: no tenant's rows",
    "/api/v1/indicators/export": "an .xlsx of what /indicators selects (the same query)",
    "/api/v1/indicators/import-template": "an empty .xlsx",
    "/api/v1/me": "the caller itself",
    "/api/v1/public/disclosures": "public by design: what tenants chose to disclose (公开)",
}


def _list_paths(spec: dict[str, Any]) -> set[str]:
    return {p for p, ops in spec["paths"].items() if "get" in ops and not PARAM.search(p)}


def test_every_list_route_of_the_spec_is_checked(spec):
    missing = sorted(_list_paths(spec) - set(LIST_ROUTES) - set(LIST_EXEMPT))
    stale = sorted((set(LIST_ROUTES) | set(LIST_EXEMPT)) - _list_paths(spec))
    assert missing == [], f"list routes the isolation matrix does not check: {missing}"
    assert stale == [], f"list routes of the matrix the spec no longer has: {stale}"


@pytest.fixture(scope="module")
def owners(runtime: Any, world: World) -> dict[str, dict[Any, str]]:
    """Who owns what a list may name: tenant, project, case, template and program ids -> tenant code."""
    with runtime.db.transaction(system="test: isolation matrix, owners of listed rows") as s:
        codes = dict(s.execute(select(Tenant.id, Tenant.code)).all())
        out: dict[str, dict[Any, str]] = {"tenant_id": codes}
        for name, model in (("project", Project), ("case", Case), ("template", IndicatorTemplate)):
            rows = s.execute(select(model.id, model.tenant_id)).all()
            out[name] = {ident: codes[tid] for ident, tid in rows}
        out["program"] = {i: codes[t] for i, t in s.execute(select(Program.id, Program.tenant_id)).all()}
        line = (
            s.execute(
                select(TargetLine.indicator_id)
                .join(TargetSet, TargetSet.id == TargetLine.target_set_id)
                .where(
                    TargetSet.project_id == world.one("project", "640104").params["project_id"],
                    TargetLine.indicator_id.is_not(None),
                )
            )
            .scalars()
            .first()
        )
        out["compared"] = {"id": line}
        # the evaluator's grants as the database has them now (other tests give and revoke some
        # too): live ones open their projects and programs; any of its organisation's, live or
        # dead, may be listed (its grants, its notifications about them)
        org = s.execute(select(User.evaluator_org_id).where(User.username == EVALUATOR)).scalar_one()
        grants = s.execute(
            select(Grant.project_id, Grant.revoked_at, Grant.expires_at).where(Grant.evaluator_org_id == org)
        ).all()
        now = utcnow()
        live = {pid for pid, revoked, expires in grants if revoked is None and expires > now}
        out["granted"] = {pid: "" for pid in live}
        out["org_grants"] = {pid: "" for pid, _, _ in grants}
        programs = s.execute(select(Project.program_id).where(Project.id.in_(live))).scalars()
        out["granted_programs"] = {pid: "" for pid in programs}
    return out


def _rows(kind: str, body: dict[str, Any], owners: dict[str, dict[Any, str]]) -> list[tuple[str, str, Any]]:
    """(what, tenant code or "", project id or None) for each row of a list answer."""
    out = []
    if kind == "dashboard":
        return [("tenant", t["code"], None) for t in body.get("tenants", [])]
    for item in body.get("items", []):
        pid = item["id"] if kind == "project" else item.get("project_id")
        if kind == "audit":
            tid = item.get("tenant_id")
            out.append(("audit", owners["tenant_id"][tid] if tid is not None else "", None))
        elif kind in ("case", "template"):
            out.append((kind, owners[kind][item["id"]], None))
        elif kind == "program":
            out.append((kind, owners[kind][item["id"]], item["id"]))
        elif kind == "indicator":
            out.append(("indicator", item["owner_code"], None))
        elif kind == "proposal":
            out.append(("proposal", item["from_code"], item["to_code"]))
        elif kind == "tenant":
            out.append(("tenant", item["code"], None))
        elif kind == "grant":  # an evaluator lists its organisation's grants, dead ones included
            out.append((f"grant:{item['status']}", item["tenant_code"], pid))
        elif kind == "tenant_row":
            out.append(("report", item["tenant_code"], None))
        else:  # rows of a project (a notification: about one)
            code = item.get("tenant_code") or (owners["project"].get(pid, "") if pid else "")
            out.append(("notification" if kind == "notification" else "project", code, pid))
    return out


def _readable(world: World, role: str, what: str, code: str, pid: Any, owners: dict[str, Any]) -> bool:
    mine = world.roles[role]
    if what == "proposal":  # outgoing (the proposer's, readable) or incoming (to the caller)
        return _readable(world, role, "project", code, None, owners) or pid == mine
    if not code:
        return what == "audit" or (
            what in ("project", "notification") and pid is None
        )  # the system's, the caller's
    if mine is None:  # an evaluator: the shared library, and the demo one its granted projects
        if what in LIBRARY:
            return code == PROVINCE
        if role != EVALUATOR:  # the lapsed evaluator: its dead grants themselves, nothing they gave
            return what in ("grant:expired", "grant:revoked")
        if what == "program":
            return pid in owners["granted_programs"]
        if what.startswith("grant:") or what == "notification":
            return pid in owners["org_grants"]
        return pid in owners["granted"]
    if what.startswith("grant:"):
        return _readable(world, role, "project", code, pid, owners)
    rel = relation(world.paths[mine], world.paths[code])
    return rel in ("own", "child") or (rel == "parent" and what in FLOWS_DOWN)


def test_no_list_shows_another_tenants_rows(api, spec, world, owners):
    finished = next(o for o in world.objects["program"] if o.granted).params["program_id"]
    wrong, seen = [], 0
    for path, (query, kind) in sorted(LIST_ROUTES.items()):
        url = path + query.format(finished=finished, compared=owners["compared"]["id"])
        for role in world.roles:
            resp = api.as_user(role).get(url)
            if resp.status_code in (403, 404):
                continue  # a role that may not list this at all
            if resp.status_code != 200:
                wrong.append(f"GET {url} as {role}: {resp.status_code}")
                continue
            for what, code, pid in _rows(kind, resp.get_json(), owners):
                seen += 1
                if not _readable(world, role, what, code, pid, owners):
                    wrong.append(f"GET {url} as {role}: a row of {code or '?'} ({what}, project {pid})")
    assert seen > 100, seen
    assert wrong == [], f"{len(wrong)} rows of tenants the role may not read:\n" + "\n".join(
        sorted(set(wrong))
    )
