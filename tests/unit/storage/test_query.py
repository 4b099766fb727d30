"""Filters, full-text search (Arabic included) and cursor paging over the store."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.storage.query import ArticleQuery, InvalidCursor, decode_cursor, encode_cursor
from services.storage.repository import ArticleStore
from tests.paths import SEED
from tests.unit.storage.factories import T0, article


def urls(store: ArticleStore, **filters: object) -> list[str]:
    page = store.find_articles(ArticleQuery(**filters))  # type: ignore[arg-type]
    return [a.url for a in page.articles]


@pytest.fixture
def seed_text() -> str:
    if not SEED.exists():
        pytest.skip(f"seed article not found at {SEED} (set NEWSFLOW_SHARED_DIR)")
    return SEED.read_text(encoding="utf-8")


def test_filters_combine(store: ArticleStore) -> None:
    day = timedelta(days=1)
    for sent in [
        article("https://a.example/1", language="en", topic="science", published_at=T0),
        article("https://www.b.example/2", language="de", published_at=T0 + day),
        article("https://a.example/3", language="en", topic="sport", published_at=T0 + 2 * day),
        article("https://a.example/4", language="fr", topic=None, published_at=None),
    ]:
        store.save_articles([sent])

    assert urls(store) == [
        "https://a.example/4",
        "https://a.example/3",
        "https://www.b.example/2",
        "https://a.example/1",
    ]
    assert urls(store, language="en", topic="science") == ["https://a.example/1"]
    assert urls(store, site="B.example") == ["https://www.b.example/2"]
    assert urls(store, site="www.b.example") == ["https://www.b.example/2"]
    assert urls(store, published_from=T0 + day) == [
        "https://a.example/3",
        "https://www.b.example/2",
    ]
    assert urls(store, published_to=T0 + day) == ["https://a.example/1"]
    assert urls(store, published_from=T0, published_to=T0 + 2 * day, language="en") == [
        "https://a.example/1"
    ]
    assert urls(store, story_id=-1) == []


def test_search_needs_every_word_in_title_or_text(store: ArticleStore) -> None:
    store.save_articles(
        [
            article("https://a.example/harbour", title="Harbour report", text="Ships came in."),
            article("https://a.example/ships", title="Fleet", text="Ships left the harbour."),
            article("https://a.example/rates", title="Rates", text="The bank held rates."),
        ]
    )

    assert urls(store, q="ships") == ["https://a.example/ships", "https://a.example/harbour"]
    assert urls(store, q="SHIPS harbour") == [
        "https://a.example/ships",
        "https://a.example/harbour",
    ]
    assert urls(store, q="harbour report") == ["https://a.example/harbour"]
    assert urls(store, q="bank rates", language="en") == ["https://a.example/rates"]
    assert urls(store, q="submarine") == []
    assert urls(store, q='" OR * NEAR(') == []  # operators in input are only text
    assert len(urls(store, q="  ")) == 3  # a blank query filters nothing


def test_search_finds_an_arabic_word_from_the_seed(store: ArticleStore, seed_text: str) -> None:
    title, _, body = seed_text.partition("\n")
    store.save_articles(
        [
            article("https://ar.example/seed", title=title, text=body, language="ar"),
            article("https://a.example/en"),
        ]
    )

    assert "الهدنة" in body
    assert urls(store, q="الهدنة") == ["https://ar.example/seed"]
    assert urls(store, q="لافروف سوريا") == ["https://ar.example/seed"]
    assert urls(store, q="الهدنة Body") == []


def test_search_follows_changed_content(store: ArticleStore) -> None:
    url = "https://a.example/edit"
    store.save_articles([article(url, text="The old wording.")])
    store.save_articles([article(url, text="A fresh text.", fetched_at=T0 + timedelta(hours=1))])

    assert urls(store, q="fresh") == [url]
    assert urls(store, q="wording") == []


def test_cursor_pages_are_stable_while_articles_arrive(store: ArticleStore) -> None:
    store.save_articles([article(f"https://a.example/{n:02}") for n in range(7)])
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        page = store.find_articles(ArticleQuery(limit=3, cursor=cursor))
        seen += [a.url for a in page.articles]
        pages += 1
        # Newer articles and changes to seen ones do not shift the pages still to come.
        store.save_articles([article(f"https://new.example/{pages}")])
        store.save_articles([article(seen[0], text="changed", fetched_at=T0 + timedelta(days=1))])
        if page.next_cursor is None:
            break
        cursor = page.next_cursor

    assert seen == [f"https://a.example/{n:02}" for n in reversed(range(7))]
    assert pages == 3


def test_last_full_page_has_no_cursor(store: ArticleStore) -> None:
    store.save_articles([article(f"https://a.example/{n}") for n in range(4)])

    first = store.find_articles(ArticleQuery(limit=2))
    second = store.find_articles(ArticleQuery(limit=2, cursor=first.next_cursor))

    assert first.next_cursor is not None
    assert (len(second.articles), second.next_cursor) == (2, None)
    assert store.find_articles(ArticleQuery(limit=0)).articles == []


@pytest.mark.parametrize("cursor", ["", "nonsense!", encode_cursor(5)[:-2], "eyJ2IjoyfQ"])
def test_foreign_cursors_are_refused(cursor: str) -> None:
    with pytest.raises(InvalidCursor):
        decode_cursor(cursor)


def test_cursor_round_trips() -> None:
    assert decode_cursor(encode_cursor(12345)) == 12345
