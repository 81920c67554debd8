"""The API's list routes as the list tests read them from the OpenAPI document, and the demo
objects that fill their path parameters (tests/api/test_list_statements.py, test_list_dumping.py)."""

from __future__ import annotations

import re
from typing import Any

PARAM = re.compile(r"\{(\w+)\}")
READERS = ("xq.admin", "xq.editor", "nx.admin", "nx.reviewer", "xq.dept", "yc.admin")
# query strings a list needs to answer at all
QUERY = {
    "/api/v1/province/indicator-comparison": "indicator_id={indicator_id}",
}
# the objects of the showcase whose lists are read (640104's, the richest of each kind)
IDS = {
    "project_id": "SELECT p.id FROM projects p JOIN tenants t ON t.id = p.tenant_id WHERE t.code = '640104' "
    "ORDER BY (SELECT count(*) FROM evidence e WHERE e.project_id = p.id) DESC, p.id LIMIT 1",
    "evidence_id": "SELECT e.id FROM evidence e JOIN tenants t ON t.id = e.tenant_id WHERE t.code = '640104' "
    "ORDER BY e.id LIMIT 1",
    "indicator_id": "SELECT i.indicator_id FROM indicator_versions i GROUP BY i.indicator_id "
    "ORDER BY count(*) DESC, i.indicator_id LIMIT 1",
    "program_id": "SELECT s.program_id FROM spot_checks s ORDER BY s.id LIMIT 1",
    "notice_id": "SELECT n.id FROM rectification_notices n ORDER BY n.id LIMIT 1",
    "check_id": "SELECT s.id FROM spot_checks s ORDER BY s.id LIMIT 1",
    "code": "SELECT '640104'",
}


def _schema(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = spec["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    return node


def list_routes(spec: dict[str, Any]) -> dict[str, bool]:
    """GET paths answering a list -> paginated or not."""
    found = {}
    for path, ops in spec["paths"].items():
        get = ops.get("get")
        schema = (
            (get or {}).get("responses", {}).get("200", {}).get("content", {}).get("application/json", {})
        )
        if not schema:
            continue
        body = _schema(spec, schema["schema"])
        if body.get("type") == "array" or "items" in body.get("properties", {}):
            found[path] = any(p["name"] == "page_size" for p in get.get("parameters", []))
    return found
