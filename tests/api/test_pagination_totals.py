"""Every page of the API carries the list's total, whichever page it is (platform/core/pagination.py
counts in the page's own statement, `count(*) OVER ()`, and apart only when it must): for each
paginated GET of the OpenAPI document, as the first demo user who reads a non-empty list, the total
of the first page is the number of its rows (a page of 200 holds them all), and a later page and a
page past the end answer the same total."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from tests.support.lists import IDS, PARAM, QUERY, READERS, list_routes


def test_every_page_of_every_list_carries_the_lists_total(app: Any, api: Any, runtime: Any) -> None:
    spec = app.test_client().get("/api/v1/openapi.json").get_json()
    with runtime.db.transaction(system="test: the lists' objects") as s:
        ids = {name: s.execute(text(sql)).scalar() for name, sql in IDS.items()}
    checked, wrong = 0, []
    for path, paginated in sorted(list_routes(spec).items()):
        if not paginated or any(ids.get(name) is None for name in PARAM.findall(path)):
            continue
        url = PARAM.sub(lambda m: str(ids[m.group(1)]), path)
        query = QUERY.get(path, "").format(**ids)

        def get(client: Any, params: str, url: str = url, query: str = query) -> Any:
            answer = client.get(f"{url}?{'&'.join(q for q in (query, params) if q)}")
            assert answer.status_code == 200, (url, params, answer.get_json())
            return answer.get_json()

        for reader in ("anybody",) if path.startswith("/api/v1/public/") else READERS:
            client = app.test_client() if reader == "anybody" else api.as_user(reader)
            if client.get(f"{url}?{query}").status_code == 200 and get(client, "page_size=200")["items"]:
                break
        else:
            continue
        first = get(client, "page_size=200")
        total = first["total"]
        if total <= 200 and len(first["items"]) != total:
            wrong.append(f"{url}: page 1 of 200 holds {len(first['items'])} rows, total {total}")
        if total >= 2 and (second := get(client, "page=2&page_size=1"))["total"] != total:
            wrong.append(f"{url}: page 2 says {second['total']}, page 1 {total}")
        past = get(client, f"page={total + 2}&page_size=1")
        if past["items"] or past["total"] != total:
            wrong.append(
                f"{url}: the page past the end holds {len(past['items'])} rows, total {past['total']}"
            )
        checked += 1
    assert wrong == [], wrong
    assert checked >= 10, checked
