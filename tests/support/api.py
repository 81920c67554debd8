"""A thin HTTP client for the API tests: bearer tokens for demo users via the password grant."""

from __future__ import annotations

import time
from typing import Any

DEMO_PASSWORD = "Demo@2026"


class ApiClient:
    def __init__(self, app: Any) -> None:
        self.app = app
        self._tokens: dict[tuple[str, str], str] = {}

    def token(self, username: str, scope: str = "", password: str = DEMO_PASSWORD) -> str:
        key = (username, scope)
        if key not in self._tokens:
            data = {
                "grant_type": "password",
                "client_id": "jixiao-cli",
                "username": username,
                "password": password,
            }
            if scope:
                data["scope"] = scope
            resp = self.app.test_client().post("/oauth/token", data=data)
            assert resp.status_code == 200, resp.get_json()
            self._tokens[key] = resp.get_json()["access_token"]
        return self._tokens[key]

    def as_user(self, username: str, scope: str = "") -> UserClient:
        return UserClient(self.app, self.token(username, scope))


class UserClient:
    def __init__(self, app: Any, token: str) -> None:
        self.app = app
        self.token = token
        self.client = app.test_client()

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.token}", **kwargs.pop("headers", {})}
        return self.client.open(path, method=method, headers=headers, **kwargs)

    def get(self, path: str, **kw: Any) -> Any:
        return self._call("GET", path, **kw)

    def post(self, path: str, **kw: Any) -> Any:
        return self._call("POST", path, **kw)

    def put(self, path: str, **kw: Any) -> Any:
        return self._call("PUT", path, **kw)

    def patch(self, path: str, **kw: Any) -> Any:
        return self._call("PATCH", path, **kw)

    def delete(self, path: str, **kw: Any) -> Any:
        return self._call("DELETE", path, **kw)

    def wait_job(self, job_id: str, timeout: float = 60.0) -> dict[str, Any]:
        """Poll /api/v1/jobs/{id} until finished or failed, as a page would."""
        deadline = time.monotonic() + timeout
        seen: list[int] = []
        while True:
            resp = self.get(f"/api/v1/jobs/{job_id}")
            assert resp.status_code == 200, resp.get_json()
            body: dict[str, Any] = resp.get_json()
            seen.append(body["progress"])
            if body["status"] in ("finished", "failed"):
                body["progress_seen"] = seen
                return body
            if time.monotonic() > deadline:
                raise AssertionError(f"job {job_id} still {body['status']} after {timeout}s: {body}")
            time.sleep(0.1)
