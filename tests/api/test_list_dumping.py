"""Every page of the API answers the same JSON through the compiled item plans
(platform/core/dumping.py) as through marshmallow's own `Schema.dump`: for each paginated GET of
the OpenAPI document, as the first demo user who reads it, a page of up to 200 rows both ways."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from jixiao.platform.core import dumping
from tests.support.lists import IDS, PARAM, QUERY, READERS, list_routes


@pytest.fixture()
def marshmallow_only() -> Any:
    def answer(client: Any, url: str) -> Any:
        dumping.ENABLED = False
        try:
            return client.get(url)
        finally:
            dumping.ENABLED = True

    return answer


def test_every_page_answers_as_marshmallow_would(
    app: Any, api: Any, runtime: Any, marshmallow_only: Any
) -> None:
    spec = app.test_client().get("/api/v1/openapi.json").get_json()
    with runtime.db.transaction(system="test: the lists' objects") as s:
        ids = {name: s.execute(text(sql)).scalar() for name, sql in IDS.items()}
    compared, rows, differ = 0, 0, []
    for path, paginated in sorted(list_routes(spec).items()):
        if not paginated or any(ids.get(name) is None for name in PARAM.findall(path)):
            continue
        url = PARAM.sub(lambda m: str(ids[m.group(1)]), path)
        query = "&".join(q for q in (QUERY.get(path, "").format(**ids), "page_size=200") if q)
        for reader in ("anybody",) if path.startswith("/api/v1/public/") else READERS:
            client = app.test_client() if reader == "anybody" else api.as_user(reader)
            planned = client.get(f"{url}?{query}")
            if planned.status_code == 200 and planned.get_json()["items"]:
                break
        else:
            continue
        reference = marshmallow_only(client, f"{url}?{query}")
        assert reference.status_code == 200, (url, reference.get_json())
        if planned.get_json() != reference.get_json():
            differ.append(f"GET {url} as {reader}")
        compared += 1
        rows += len(planned.get_json()["items"])
    assert differ == [], f"pages that differ from marshmallow's dump: {differ}"
    assert compared >= 10 and rows >= 100, (compared, rows)
