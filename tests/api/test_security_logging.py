"""Security events in the logs (ASVS 7.1.3, 7.2.1, 7.2.2): a refused login and a refused access each
leave a warning the operators can alert on — naming the user, the reason and (in the JSON lines) the
client's address — and never the password that was tried."""

from __future__ import annotations

import json
import logging
from typing import Any


def _run_log(runtime: Any, event: str) -> list[dict[str, Any]]:
    """The JSON lines of this event in the session's run log (tests/conftest.py), formatted as the
    request logged them — with its context."""
    text = (runtime.settings.instance_dir / "run.log").read_text(encoding="utf-8")
    return [json.loads(line) for line in text.split("\n") if f'"event": "{event}"' in line]


def test_a_refused_login_is_logged_with_the_reason_and_never_the_password(app, runtime, caplog):
    client = app.test_client()
    with caplog.at_level(logging.WARNING):
        for username, password in (("xq.editor", "Wrong@2026-guess"), ("nobody.here", "Other@2026-guess")):
            resp = client.post(
                "/oauth/token",
                data={
                    "grant_type": "password",
                    "client_id": "jixiao-cli",
                    "username": username,
                    "password": password,
                },
            )
            assert resp.status_code in (400, 401)
    refused = [r for r in caplog.records if getattr(r, "event", None) == "login_refused"]
    assert [r.getMessage() for r in refused] == [
        "login refused: xq.editor (wrong password)",
        "login refused: nobody.here (unknown user)",
    ]
    assert "guess" not in caplog.text
    line = _run_log(runtime, "login_refused")[-1]
    assert line["msg"] == "login refused: nobody.here (unknown user)"
    assert line["ip"] == "127.0.0.1" and line["route"] == "/oauth/token" and line["request_id"]


def test_a_refused_access_is_logged(api, runtime, caplog):
    with caplog.at_level(logging.WARNING):
        # the city reads its county's project list but may not create a project there (403)
        resp = api.as_user("yc.admin").post(
            "/api/v1/tenants/640104/users",
            json={
                "username": "yc.intruder",
                "display_name": "越权",
                "password": "Intrude@2026ok",
                "roles": ["project_editor"],
            },
        )
    assert resp.status_code == 403, resp.get_json()
    refused = [r for r in caplog.records if getattr(r, "event", None) == "access_refused"]
    assert refused and refused[0].levelname == "WARNING"
    line = _run_log(runtime, "access_refused")[-1]
    assert (
        line["user"] == "yc.admin"
        and line["tenant"] == "640100"
        and line["route"] == "/api/v1/tenants/<string:code>/users"
    )
