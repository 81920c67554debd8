"""OpenAPI links (OpenAPI 3 "Link objects"): which answer feeds which next operation of a project's
lifecycle — create the project, fill in its ex-ante assessment, submit it, decide on it, save the
performance targets, submit them, review them. They tell an integrator how the operations chain,
and they drive schemathesis's stateful run (tests/api/test_fuzz.py) through whole sequences rather
than single requests.

Written once onto the generated document (`add_links`, called by `create_app` after the blueprints
are registered): flask-smorest has no parameter for links, and one table reads better than a
decorator on each of a dozen views."""

from __future__ import annotations

from typing import Any

PROJECT = "/api/v1/projects/{project_id}"
# the project of a request on one of its sub-resources, or of the answer that created it
FROM_PATH = {"project_id": "$request.path.project_id"}
FROM_BODY = {"project_id": "$response.body#/id"}

# (path, method, status) → {link name: (target path, target method, parameters, description)}
LINKS: dict[tuple[str, str, str], dict[str, tuple[str, str, dict[str, str], str]]] = {
    ("/api/v1/projects", "post", "201"): {
        "GetProject": (PROJECT, "get", FROM_BODY, "新建的项目"),
        "FillAssessment": (f"{PROJECT}/assessment", "put", FROM_BODY, "填报事前评估"),
    },
    (f"{PROJECT}/assessment", "put", "200"): {
        "SubmitAssessment": (f"{PROJECT}/assessment/submit", "post", FROM_PATH, "提交事前评估"),
    },
    (f"{PROJECT}/assessment/submit", "post", "200"): {
        "DecideAssessment": (f"{PROJECT}/assessment/decision", "post", FROM_PATH, "审核事前评估"),
    },
    (f"{PROJECT}/assessment/decision", "post", "200"): {
        "SaveTargets": (f"{PROJECT}/targets", "put", FROM_PATH, "填报绩效目标"),
        "GetProjectAfterDecision": (PROJECT, "get", FROM_PATH, "项目（进入绩效目标阶段）"),
    },
    (f"{PROJECT}/targets", "put", "200"): {
        "CheckTargets": (f"{PROJECT}/targets/check", "post", FROM_PATH, "规则校验"),
        "SubmitTargets": (f"{PROJECT}/targets/submit", "post", FROM_PATH, "提交绩效目标"),
    },
    (f"{PROJECT}/targets/submit", "post", "200"): {
        "ReviewTargets": (f"{PROJECT}/targets/reviews", "post", FROM_PATH, "审核绩效目标"),
    },
    (f"{PROJECT}/targets/reviews", "post", "200"): {
        "TargetVersions": (f"{PROJECT}/targets/versions", "get", FROM_PATH, "绩效目标的版本"),
    },
}


def _ref(path: str, method: str) -> str:
    """A JSON pointer to the operation (`operationRef`): the document names no operation ids."""
    return "#/paths/" + path.replace("~", "~0").replace("/", "~1") + "/" + method


def add_links(paths: dict[str, dict[str, Any]]) -> None:
    """Put `LINKS` on the document's operations (`paths`: the spec's path items, changed in place).
    A link whose operation is not in the document is an error: the table names real routes."""
    for (path, method, status), links in LINKS.items():
        response = paths[path][method]["responses"][status]
        for name, (target, target_method, parameters, description) in links.items():
            if target_method not in paths.get(target, {}):
                raise KeyError(f"OpenAPI link {name}: no operation {target_method.upper()} {target}")
            response.setdefault("links", {})[name] = {
                "operationRef": _ref(target, target_method),
                "parameters": parameters,
                "description": description,
            }
