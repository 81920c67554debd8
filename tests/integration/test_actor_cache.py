"""The actors of bearer tokens kept between requests (issue 17, platform/core/actor_cache.py): an
API request of a known token is three SQL statements, and whatever ends or changes a token's
actor — revocation, a disabled account, a changed role — is seen on the very next request, by
every worker. Each "worker" here is an app with a runtime of its own (its own cache, its own
connection pool) on the shared database and Redis, as gunicorn's processes are. Real pass only:
without Redis nothing is cached (embedded mode builds the actor on each request)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event, update

from jixiao.platform.core.actor_cache import ActorCache
from jixiao.platform.core.oauth_models import OAuthToken, token_digest
from jixiao.platform.core.runtime import Runtime
from jixiao.platform.web.app import create_app
from tests.support.api import DEMO_PASSWORD
from tests.support.services import MODE

pytestmark = [
    pytest.mark.real,
    pytest.mark.skipif(MODE != "real", reason="the actor cache needs Redis: real mode only"),
]

LIST = "/api/v1/indicators?page_size=20"


@pytest.fixture()
def other_worker(runtime: Runtime) -> Iterator[Any]:
    """A second worker process's app: the same settings, a runtime (and cache) of its own."""
    rt = Runtime.build(runtime.settings)
    application = create_app(runtime=rt)
    application.config.update(TESTING=True)
    try:
        yield application.test_client()
    finally:
        rt.db.dispose()


def _issue(client: Any, username: str, password: str = DEMO_PASSWORD) -> dict[str, Any]:
    answer = client.post(
        "/oauth/token",
        data={
            "grant_type": "password",
            "client_id": "jixiao-cli",
            "username": username,
            "password": password,
        },
        environ_base={"REMOTE_ADDR": f"10.9.{secrets.randbelow(250)}.{secrets.randbelow(250)}"},
    )
    assert answer.status_code == 200, answer.get_json()
    return dict(answer.get_json())


def _get(client: Any, token: str, path: str = LIST) -> Any:
    return client.get(path, headers={"Authorization": f"Bearer {token}"})


def _statements(runtime: Runtime, call: Any) -> list[str]:
    seen: list[str] = []

    def listener(*args: Any) -> None:
        seen.append(args[2])

    event.listen(runtime.db.engine, "before_cursor_execute", listener)
    try:
        call()
    finally:
        event.remove(runtime.db.engine, "before_cursor_execute", listener)
    return seen


def test_a_known_token_costs_three_statements_and_its_answer_is_the_same(client, runtime) -> None:
    token = _issue(client, "xq.editor")["access_token"]
    first = _get(client, token)
    assert first.status_code == 200
    answers: list[Any] = []
    seen = _statements(runtime, lambda: answers.append(_get(client, token)))
    assert answers[0].status_code == 200 and answers[0].get_json() == first.get_json()
    # the transaction's row-level-security settings and the page (which carries the list's total,
    # platform/core/pagination.py): no token, user, role or tenant look-up
    assert len(seen) <= 2, "\n".join(seen)
    assert not any("oauth_tokens" in s or "user_roles" in s for s in seen)


def test_a_revoked_token_fails_on_its_next_request_in_every_worker(client, other_worker) -> None:
    token = _issue(client, "xq.editor")["access_token"]
    assert _get(other_worker, token).status_code == 200  # the other worker now holds its actor
    assert _get(other_worker, token).status_code == 200
    revoked = client.post("/oauth/revoke", data={"token": token, "client_id": "jixiao-cli"})
    assert revoked.status_code == 200
    for worker in (other_worker, client):
        answer = _get(worker, token)
        assert answer.status_code == 401, answer.get_json()


def test_a_token_expired_behind_the_apps_back_fails_too(client, other_worker, runtime) -> None:
    token = _issue(client, "xq.editor")["access_token"]
    assert _get(other_worker, token).status_code == 200
    with runtime.db.transaction(system="test: expire a token") as s:
        s.execute(
            update(OAuthToken).where(OAuthToken.access_token_hash == token_digest(token)).values(issued_at=1)
        )
    assert _get(other_worker, token).status_code == 401


def test_a_disabled_account_and_a_changed_role_are_seen_at_once(client, other_worker, api, unique) -> None:
    admin = api.as_user("xq.admin")
    password = f"Qa!{secrets.token_hex(4)}Zz9"
    created = admin.post(
        "/api/v1/tenants/640104/users",
        json={
            "username": f"t.cache.{unique}",
            "display_name": "缓存测试",
            "roles": ["project_editor"],
            "password": password,
        },
    )
    assert created.status_code == 201, created.get_json()
    user = created.get_json()
    token = _issue(client, user["username"], password)["access_token"]
    me = _get(other_worker, token, "/api/v1/me")
    assert me.status_code == 200 and me.get_json()["roles"] == ["project_editor"], me.get_json()
    changed = admin.patch(f"/api/v1/users/{user['id']}", json={"roles": ["dept_reviewer"]})
    assert changed.status_code == 200, changed.get_json()
    assert _get(other_worker, token, "/api/v1/me").get_json()["roles"] == ["dept_reviewer"]
    off = admin.patch(f"/api/v1/users/{user['id']}", json={"is_active": False})
    assert off.status_code == 200, off.get_json()
    assert _get(other_worker, token, "/api/v1/me").status_code == 401


def test_without_redis_the_actor_is_built_from_the_database(client, runtime) -> None:
    """Redis unreadable: the request is answered from the database, not refused."""
    token = _issue(client, "xq.editor")["access_token"]
    rt = Runtime.build(runtime.settings)
    try:
        assert rt.db.actor_cache is not None
        rt.db.actor_cache = ActorCache(_BrokenRedis(), ttl=60)
        assert _get(create_app(runtime=rt).test_client(), token).status_code == 200
    finally:
        rt.db.dispose()


class _BrokenRedis:
    def get(self, _key: str) -> None:
        raise ConnectionError("redis is down")

    def incr(self, _key: str) -> None:
        raise ConnectionError("redis is down")
