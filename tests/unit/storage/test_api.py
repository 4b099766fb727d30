"""The read API over a real store, through httpx's in-process ASGI transport."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest

from services.storage.api import create_api
from services.storage.repository import ArticleStore
from services.storage.settings import API_PREFIX
from tests.unit.storage.factories import T0, article, failure


@pytest.fixture
async def client(store: ArticleStore) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_api(store))
    async with httpx.AsyncClient(transport=transport, base_url="http://storage") as client:
        yield client


async def test_articles_filtered_and_paged(store: ArticleStore, client: httpx.AsyncClient) -> None:
    for n in range(5):
        store.save_articles([article(f"https://a.example/{n}", topic="sport" if n % 2 else None)])

    first = (await client.get("/articles", params={"limit": 2})).json()
    second = (
        await client.get("/articles", params={"limit": 2, "cursor": first["next_cursor"]})
    ).json()
    sport = (await client.get("/articles", params={"topic": "sport"})).json()

    assert [a["url"] for a in first["items"]] == ["https://a.example/4", "https://a.example/3"]
    assert [a["url"] for a in second["items"]] == ["https://a.example/2", "https://a.example/1"]
    assert [a["url"] for a in sport["items"]] == ["https://a.example/3", "https://a.example/1"]
    assert sport["next_cursor"] is None
    item = first["items"][0]
    assert item["fetched_at"] == "2024-05-01T12:00:02Z"
    assert {"id", "title", "text", "language", "topic", "published_at", "story_id"} <= item.keys()


async def test_search_dates_and_story_parameters(
    store: ArticleStore, client: httpx.AsyncClient
) -> None:
    store.save_articles(
        [
            article("https://a.example/old", text="harbour news", published_at=T0),
            article(
                "https://a.example/new", text="harbour news", published_at=T0 + timedelta(days=3)
            ),
        ]
    )
    [new, old] = store.list_articles()

    found = await client.get(
        "/articles", params={"q": "harbour", "published_from": "2024-05-02T00:00:00Z"}
    )
    by_story = await client.get("/articles", params={"story": old.story_id})

    assert [a["url"] for a in found.json()["items"]] == ["https://a.example/new"]
    assert [a["id"] for a in by_story.json()["items"]] == [old.id]
    assert new.id != old.id


async def test_one_article_and_its_revisions(
    store: ArticleStore, client: httpx.AsyncClient
) -> None:
    url = "https://a.example/one"
    store.save_articles([article(url, text="v1")])
    store.save_articles([article(url, text="v2", fetched_at=T0 + timedelta(hours=1))])
    [stored] = store.list_articles()

    one = await client.get(f"/articles/{stored.id}")
    revisions = await client.get(f"/articles/{stored.id}/revisions")

    assert (one.status_code, one.json()["text"], one.json()["revision"]) == (200, "v2", 2)
    assert [r["text"] for r in revisions.json()["items"]] == ["v1", "v2"]
    assert (await client.get(f"/articles/{stored.id + 1}")).status_code == 404
    assert (await client.get(f"/articles/{stored.id + 1}/revisions")).status_code == 404


async def test_failures(store: ArticleStore, client: httpx.AsyncClient) -> None:
    store.save_failures(
        [
            failure("https://a.example/gone"),
            failure("https://a.example/late", T0 + timedelta(minutes=1)),
        ]
    )

    listed = (await client.get("/failures", params={"limit": 1})).json()
    by_stage = (await client.get("/failures", params={"stage": "cleaner"})).json()

    assert [(f["url"], f["stage"], f["reason"]) for f in listed["items"]] == [
        ("https://a.example/late", "fetcher", "HTTP 404")
    ]
    assert by_stage["items"] == []


@pytest.mark.parametrize(
    "params",
    [{"cursor": "not-a-cursor"}, {"limit": 0}, {"limit": 1000}, {"published_from": "yesterday"}],
)
async def test_bad_parameters_are_client_errors(
    client: httpx.AsyncClient, params: dict[str, str | int]
) -> None:
    response = await client.get("/articles", params=params)

    assert response.status_code in (400, 422)
    assert response.json()["detail"]


async def test_openapi_is_served_and_works_under_a_prefix(store: ArticleStore) -> None:
    store.save_articles([article("https://a.example/mounted")])
    # What a mount under API_PREFIX hands the app: the full path and the prefix as root_path.
    transport = httpx.ASGITransport(app=create_api(store), root_path=API_PREFIX)
    async with httpx.AsyncClient(transport=transport, base_url="http://storage") as client:
        schema = await client.get(f"{API_PREFIX}/openapi.json")
        docs = await client.get(f"{API_PREFIX}/docs")
        listed = await client.get(f"{API_PREFIX}/articles")

    assert schema.status_code == 200
    assert {"/articles", "/articles/{article_id}", "/failures"} <= schema.json()["paths"].keys()
    assert f"{API_PREFIX}/openapi.json" in docs.text
    assert [a["url"] for a in listed.json()["items"]] == ["https://a.example/mounted"]
