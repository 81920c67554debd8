"""The logs of the whole run (issue 16 item 8): after every other test of the pass — logins, token
grants, uploads, the fuzz — no log line carries the demo password or a bearer token.

`tests/conftest.py` (`app`) writes every log line of the session, in the JSON format of production,
to `run.log` in the session's instance folder; in the real pass the `jixiao worker` process writes
`worker.log` beside it. This test runs last (marker `last`).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from jixiao.platform.core.runtime import Runtime
from tests.support.api import DEMO_PASSWORD, ApiClient
from tests.support.services import MODE

pytestmark = pytest.mark.last


def test_no_password_or_token_in_the_logs_of_the_whole_run(runtime: Runtime, api: ApiClient) -> None:
    folder = runtime.settings.instance_dir
    run_log = folder / "run.log"
    logs: list[Path] = [run_log] + ([folder / "worker.log"] if MODE == "real" else [])
    tokens = [token for token in api._tokens.values() if token]
    assert tokens, "the run logged users in"
    # one record per "\n" (json.dumps escapes it); not splitlines(), which also breaks at the U+2028
    # or U+0085 that a fuzzed path may carry, unescaped by ensure_ascii=False
    lines = run_log.read_text(encoding="utf-8").split("\n")
    access = [json.loads(line) for line in lines if '"logger": "jixiao.access"' in line]
    assert len(access) > 100 and all(a.get("request_id") and a.get("route") is not None for a in access[:50])
    found = []
    for log in logs:
        text = log.read_text(encoding="utf-8", errors="replace")
        if DEMO_PASSWORD in text:
            found.append(f"{log.name}: the demo password")
        found += [f"{log.name}: a bearer token ({t[:6]}…)" for t in tokens if t in text]
    assert found == []
