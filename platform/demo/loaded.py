"""Is the demo of DEMO.md all there? `jixiao demo load` asks before it builds the app, so that a
warm `make run` restarts in < 3 s (issue 17): a few read-only SELECTs (`platform/core/peek.py`)
find every row the loaders would look for — the tenants, users, evaluator organisation and CLI
client (`tenants/demo.py`), the starter library's indicators and templates (`services/indicators/
demo.py`), the running program (`services/programs/service.py`) and last year's finished one
(`platform/showcase`) — by the same keys the loaders look them up by, the province being the
first tenant of level province. When every one is found a load would create nothing (each loader
leaves what exists as it is); when one is missing, or the look can't tell, the loaders run.

The names below are the loaders' own, repeated so that this stays light to import (no
SQLAlchemy, no models); `tests/integration/test_startup.py` checks they agree."""

from __future__ import annotations

import json
from pathlib import Path

import jixiao.services.indicators
from jixiao.platform.core import peek
from jixiao.tenants.divisions import DEMO_EVALUATOR_ORG, DEMO_EVALUATOR_USERS, DEMO_USERS, NINGXIA

CLI_CLIENT_ID = "jixiao-cli"  # tenants/demo.py
DEMO_PROGRAM = "市县预算绩效一体化管理试点"  # services/programs/service.py
SHOWCASE_SUFFIX = "预算绩效一体化管理试点示范"  # platform/showcase (its program's name ends so)
STARTER_LIBRARY = Path(jixiao.services.indicators.__file__).resolve().parent / "data" / "starter_library.json"
_PROVINCE = "(SELECT id FROM tenants WHERE level = 'province' ORDER BY id LIMIT 1)"


def _in(values: list[str]) -> str:
    return "(" + ", ".join("?" for _ in values) + ")"


def missing(database_url: str) -> list[str] | None:
    """What a load would create, in words (empty: nothing); None when the look can't tell."""
    library = json.loads(STARTER_LIBRARY.read_text(encoding="utf-8"))
    codes = [code for code, *_ in NINGXIA]
    usernames = [name.strip().lower() for name, *_ in DEMO_USERS] + [
        name.strip().lower() for name, _ in DEMO_EVALUATOR_USERS
    ]
    found = peek.rows(
        database_url,
        [
            (f"SELECT code FROM tenants WHERE code IN {_in(codes)}", codes),
            (f"SELECT username FROM users WHERE username IN {_in(usernames)}", usernames),
            ("SELECT name FROM evaluator_orgs WHERE name = ?", [DEMO_EVALUATOR_ORG]),
            ("SELECT client_id FROM oauth_clients WHERE client_id = ?", [CLI_CLIENT_ID]),
            (f"SELECT name FROM indicators WHERE tenant_id = {_PROVINCE}", []),
            (f"SELECT name FROM indicator_templates WHERE tenant_id = {_PROVINCE}", []),
            (f"SELECT name FROM programs WHERE tenant_id = {_PROVINCE} AND name = ?", [DEMO_PROGRAM]),
            (f"SELECT name FROM programs WHERE tenant_id = {_PROVINCE} AND name LIKE ?", [f"%{SHOWCASE_SUFFIX}"]),
        ],
    )  # fmt: skip
    if found is None:
        return None
    tenants, users, orgs, clients, indicators, templates, program, showcase = (
        {row[0] for row in rows} for rows in found
    )
    wanted = {
        "tenants": set(codes) - tenants,
        "users": set(usernames) - users,
        "evaluator_orgs": {DEMO_EVALUATOR_ORG} - orgs,
        "clients": {CLI_CLIENT_ID} - clients,
        "indicators": {row["name"] for row in library["indicators"]} - indicators,
        "templates": {row["name"] for row in library["templates"]} - templates,
        "programs": {DEMO_PROGRAM} - program,
        "showcase_programs": set() if showcase else {f"…{SHOWCASE_SUFFIX}"},
    }
    return [f"{kind}: {', '.join(sorted(names))}" for kind, names in wanted.items() if names]


def is_loaded(database_url: str) -> bool:
    """True when the whole demo is there (a load would create nothing)."""
    return missing(database_url) == []
