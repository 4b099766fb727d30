"""ArticleStore against a SQLite file and, when reachable, PostgreSQL (one schema per test)."""

from __future__ import annotations

import json
import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa

from services.storage.query import ArticleQuery
from services.storage.repository import ArticleStore, StoredArticle, content_hash
from tests.unit.storage.factories import T0, Database, article, failure


def only(store: ArticleStore) -> StoredArticle:
    [stored] = store.list_articles()
    return stored


def test_insert_round_trips_every_field(store: ArticleStore) -> None:
    sent = article("https://a.example/1")

    assert store.save_articles([sent]) == 1

    stored = only(store)
    assert stored.id > 0
    assert (stored.url, stored.final_url, stored.title, stored.text) == (
        sent.url,
        sent.final_url,
        sent.title,
        sent.text,
    )
    assert stored.authors == ["Ada Lovelace", "Alan Turing"]
    assert stored.timings == {"fetcher": 0.25, "cleaner": 0.5}
    assert (stored.language, stored.topic, stored.model_version) == ("en", "science", "clf-1")
    assert stored.topic_confidence == pytest.approx(0.7)
    assert stored.published_at == sent.published_at
    assert stored.revision == 1
    assert stored.content_hash == content_hash(sent.title, sent.text)


def test_same_url_twice_is_one_row(store: ArticleStore) -> None:
    url = "https://a.example/dup"

    assert store.save_articles([article(url), article(url)]) == 1
    assert store.save_articles([article(url)]) == 0  # a redelivered message is a no-op

    assert [a.url for a in store.list_articles()] == [url]


def test_changed_content_updates_row_and_bumps_revision(store: ArticleStore) -> None:
    url = "https://a.example/edit"
    store.save_articles([article(url)])
    first = only(store)

    assert store.save_articles([article(url, text="Corrected body.")]) == 1

    second = only(store)
    assert (second.id, second.text, second.revision) == (first.id, "Corrected body.", 2)
    assert second.content_hash != first.content_hash


def test_unchanged_content_keeps_revision(store: ArticleStore) -> None:
    url = "https://a.example/same"
    store.save_articles([article(url, text="One  two\n\nthree")])

    # Whitespace reflow and a refetch are not content changes.
    refetched = article(url, text=" One two three ", fetched_at=T0 + timedelta(hours=1))
    assert store.save_articles([refetched]) == 0

    assert only(store).revision == 1


def test_new_labels_update_row_without_new_revision(store: ArticleStore) -> None:
    url = "https://a.example/relabel"
    store.save_articles([article(url)])

    assert store.save_articles([article(url, topic="politics", model_version="clf-2")]) == 1

    stored = only(store)
    assert (stored.topic, stored.model_version, stored.revision) == ("politics", "clf-2", 1)


def test_failures_saved_and_listed_newest_first(store: ArticleStore) -> None:
    assert store.save_failures([failure("u1", T0), failure("u2", T0 + timedelta(minutes=1))]) == 2

    listed = store.list_failures()
    assert [(f.url, f.stage, f.reason) for f in listed] == [
        ("u2", "fetcher", "HTTP 404"),
        ("u1", "fetcher", "HTTP 404"),
    ]
    assert listed[0].timings == {"fetcher": 1.5}
    assert store.list_failures(limit=1)[0].url == "u2"


def test_latest_failure_wins_even_out_of_order(store: ArticleStore) -> None:
    later = failure("u1", T0 + timedelta(minutes=5), reason="timeout")
    store.save_failures([later])

    assert store.save_failures([failure("u1", T0, reason="stale")]) == 0
    assert store.save_failures([failure("u1", T0 + timedelta(minutes=9), reason="new")]) == 1

    [stored] = store.list_failures()
    assert (stored.reason, stored.failed_at) == ("new", T0 + timedelta(minutes=9))


def test_outcomes(store: ArticleStore) -> None:
    store.save_articles([article("ok"), article("retried")])
    store.save_failures([failure("bad"), failure("retried")])

    assert store.outcomes(["ok", "bad", "retried", "pending"]) == {
        "ok": "stored",
        "bad": "failed",
        "retried": "stored",  # a failure never removes content already stored
    }
    assert store.outcomes([]) == {}
    assert len(store.list_articles()) == 2


def test_filters_and_limit_newest_first(store: ArticleStore) -> None:
    for url, language, topic in [
        ("en-sci", "en", "science"),
        ("de-sci", "de", "science"),
        ("en-pol", "en", "politics"),
        ("en-none", "en", None),
    ]:
        store.save_articles([article(url, language=language, topic=topic)])

    assert [a.url for a in store.list_articles()] == ["en-none", "en-pol", "de-sci", "en-sci"]
    assert [a.url for a in store.list_articles(language="en", topic="science")] == ["en-sci"]
    assert [a.url for a in store.list_articles(topic="science")] == ["de-sci", "en-sci"]
    assert [a.url for a in store.list_articles(language="en", limit=2)] == ["en-none", "en-pol"]
    assert store.list_articles(language="fr") == []
    with pytest.raises(ValueError, match="limit"):
        store.list_articles(limit=-1)


def test_to_json_shape(store: ArticleStore) -> None:
    store.save_articles([article("https://a.example/json")])
    store.save_failures([failure("https://a.example/gone")])

    data = only(store).to_json()
    failure_data = store.list_failures()[0].to_json()

    json.dumps([data, failure_data])  # JSON-ready as is
    required = {"id", "url", "title", "text", "language", "topic", "published_at", "fetched_at"}
    assert required <= data.keys()
    assert data["fetched_at"] == "2024-05-01T12:00:02+00:00"
    assert data["authors"] == ["Ada Lovelace", "Alan Turing"]
    assert set(failure_data) == {"url", "stage", "reason", "submitted_at", "failed_at", "timings"}
    assert failure_data["failed_at"] == T0.isoformat()


def test_datetimes_come_back_aware_utc(store: ArticleStore) -> None:
    plus_two = timezone(timedelta(hours=2))
    fetched = datetime(2024, 5, 1, 14, 30, 15, 123456, tzinfo=plus_two)
    naive = datetime(2024, 4, 30, 8, 0)  # producers stamp UTC, so naive means UTC
    store.save_articles([article("tz", fetched_at=fetched, published_at=naive)])
    store.save_failures([failure("tz-failed", failed_at=fetched)])

    stored = only(store)
    assert stored.fetched_at == fetched
    assert stored.fetched_at.utcoffset() == timedelta(0)
    assert stored.published_at == naive.replace(tzinfo=UTC)
    for moment in (stored.submitted_at, stored.stored_at, stored.published_at):
        assert moment is not None
        assert moment.tzinfo is not None
    assert store.list_failures()[0].failed_at == fetched


@pytest.mark.parametrize("microsecond", [0, 1])
def test_stored_times_compare_with_query_times(store: ArticleStore, microsecond: int) -> None:
    # On PostgreSQL the batch upsert sends times as JSON text, not through SQLAlchemy's
    # binds; on SQLite times compare as text. Either way a format that differs from the
    # queries' (an offset kept, microseconds dropped) would misfilter.
    published = datetime(2024, 4, 30, 8, 0, 0, microsecond, tzinfo=timezone(timedelta(hours=3)))
    store.save_articles([article("https://a.example/times", published_at=published)])

    def listed(query: ArticleQuery) -> int:
        return len(store.find_articles(query).articles)

    later = published + timedelta(microseconds=1)
    assert listed(ArticleQuery(published_from=published)) == 1
    assert listed(ArticleQuery(published_to=published)) == 0
    assert listed(ArticleQuery(published_to=later)) == 1
    assert listed(ArticleQuery(published_from=later)) == 0


def test_concurrent_writers_leave_one_row_per_url(database: Database) -> None:
    urls = [f"https://race.example/{n}" for n in range(25)]
    stores = [database.store(), database.store()]  # separate engines, like two replicas
    start = threading.Barrier(len(stores))

    def writer(index: int) -> int:
        ordered = urls if index == 0 else urls[::-1]
        batch = [article(url) for url in ordered]
        start.wait()
        return sum(stores[index].save_articles(batch) for _ in range(5))

    with ThreadPoolExecutor(len(stores)) as pool:
        written = sum(pool.map(writer, range(len(stores))))

    assert written == len(urls)  # every URL inserted exactly once, all else no-ops
    stored = stores[0].list_articles(limit=100)
    assert sorted(a.url for a in stored) == sorted(urls)
    assert {a.revision for a in stored} == {1}


def test_concurrent_edits_count_each_change(database: Database) -> None:
    urls = [f"https://edit.example/{n}" for n in range(10)]
    stores = [database.store(), database.store()]
    start = threading.Barrier(len(stores))

    def editor(index: int) -> None:
        start.wait()
        stores[index].save_articles([article(url, text=f"edit {index}") for url in urls])

    with ThreadPoolExecutor(len(stores)) as pool:
        list(pool.map(editor, range(len(stores))))

    # Whichever ran second saw the first one's text, so it changed every row once more.
    assert {a.revision for a in stores[0].list_articles(limit=100)} == {2}


def test_large_batch_counts_every_row(store: ArticleStore) -> None:
    batch = [article(f"https://bulk.example/{n}") for n in range(1_500)]

    assert store.save_articles(batch) == 1_500
    assert len(store.outcomes([a.url for a in batch])) == 1_500


def test_create_schema_is_idempotent(store: ArticleStore) -> None:
    store.save_articles([article("kept")])

    store.create_schema()

    assert store.outcomes(["kept"]) == {"kept": "stored"}
    assert store.save_articles([]) == 0
    assert store.save_failures([]) == 0


def test_sqlite_file_is_shared_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "dir" / "newsflow.db"
    writer = ArticleStore.from_url(f"sqlite:///{path}")
    reader = ArticleStore.from_url(f"sqlite:///{path}")
    try:
        writer.create_schema()
        writer.save_articles([article("shared")])
        assert reader.outcomes(["shared"]) == {"shared": "stored"}
    finally:
        writer.close()
        reader.close()

    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_sqlite_connections_keep_a_32_mib_page_cache(tmp_path: Path) -> None:
    store = ArticleStore.from_url(f"sqlite:///{tmp_path / 'newsflow.db'}")
    try:
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA cache_size").scalar() == -32 * 1024
    finally:
        store.close()


def test_content_hash_ignores_whitespace_and_unicode_form() -> None:
    composed, decomposed = "caf\u00e9", "cafe\u0301"

    assert content_hash(f" {composed} ", "a\n\nb") == content_hash(decomposed, "a b")
    assert content_hash("a", "b c") != content_hash("a b", "c")


# -- canonical URLs ----------------------------------------------------------------------


def test_urls_with_one_canonical_url_are_one_article(store: ArticleStore) -> None:
    canonical = "https://news.example/story"
    same = {"canonical_url": canonical, "title": "Story", "text": "Body."}
    sent = [
        article("https://news.example/story?utm_source=x", **same),
        article("https://m.news.example/story", **same),
    ]

    assert store.save_articles(sent[:1]) == 1
    assert store.save_articles(sent[1:]) == 0  # same content under the same key: no-op

    stored = only(store)
    assert (stored.canonical_url, stored.url) == (canonical, sent[0].url)
    assert store.outcomes([a.url for a in sent]) == {a.url: "stored" for a in sent}


def test_url_published_twice_stays_one_article_when_its_canonical_link_changes(
    store: ArticleStore,
) -> None:
    url = "https://news.example/a"
    store.save_articles([article(url)])  # no canonical link the first time

    later = T0 + timedelta(hours=1)
    moved = article(url, canonical_url="https://news.example/a-moved", fetched_at=later, text="v2")
    assert store.save_articles([moved]) == 1

    stored = only(store)
    assert (stored.canonical_url, stored.text, stored.revision) == (url, "v2", 2)


@pytest.mark.parametrize(
    "canonical",
    ["https://news.example/", "https://news.example", "/relative/path", "ftp://news.example/a"],
)
def test_implausible_canonical_links_are_ignored(store: ArticleStore, canonical: str) -> None:
    urls = ["https://news.example/one", "https://news.example/two"]

    store.save_articles([article(url, canonical_url=canonical) for url in urls])

    assert sorted(a.canonical_url for a in store.list_articles()) == urls


def test_site_is_the_host_the_page_came_from(store: ArticleStore) -> None:
    store.save_articles(
        [article("https://feed.example/r/1", final_url="https://WWW.News.Example/a")]
    )

    assert only(store).site == "news.example"


# -- revisions ---------------------------------------------------------------------------


def test_every_revision_is_kept(store: ArticleStore) -> None:
    url = "https://a.example/history"
    later = T0 + timedelta(hours=1)
    store.save_articles([article(url, text="first")])
    store.save_articles([article(url, text="second", fetched_at=later)])
    store.save_articles([article(url, text="second", fetched_at=later, topic="politics")])

    stored = only(store)
    revisions = store.revisions(stored.id)
    assert [(r.revision, r.text) for r in revisions] == [(1, "first"), (2, "second")]
    assert revisions[1].fetched_at == later
    assert (stored.revision, stored.topic) == (2, "politics")
    assert store.revisions(stored.id + 1) == []


def test_older_fetch_never_overwrites_newer_content(store: ArticleStore) -> None:
    url = "https://a.example/late"
    store.save_articles([article(url, text="new", fetched_at=T0 + timedelta(hours=2))])

    assert store.save_articles([article(url, text="old", fetched_at=T0)]) == 0

    assert (only(store).text, only(store).revision) == ("new", 1)


def test_newest_fetch_wins_within_a_batch(store: ArticleStore) -> None:
    url = "https://a.example/batch"
    newer = article(url, text="newer", fetched_at=T0 + timedelta(hours=1))

    store.save_articles([newer, article(url, text="older")])

    assert only(store).text == "newer"


def test_new_contract_fields_round_trip(store: ArticleStore) -> None:
    sent = article(
        "https://a.example/full",
        modified_at=T0,
        top_image="https://a.example/img.jpg",
        tags=["harbour", "ships"],
        topic_probabilities={"science": 0.7, "politics": 0.3},
        needs_review=True,
        topic_reason=None,
        simhash="00ff00ff00ff00ff",
    )
    store.save_articles([sent])

    stored = only(store)
    assert (stored.modified_at, stored.top_image, stored.tags) == (T0, sent.top_image, sent.tags)
    assert stored.topic_probabilities == {"science": 0.7, "politics": 0.3}
    assert (stored.needs_review, stored.simhash, stored.story_id) == (True, sent.simhash, stored.id)
    assert store.get_article(stored.id) == stored
    assert store.get_article(stored.id + 100) is None


def test_too_long_url_fails_the_batch_and_writes_nothing(database: Database) -> None:
    if database.dialect != "postgresql":
        pytest.skip("SQLite does not enforce VARCHAR lengths")
    store = database.store()
    good, bad = article("https://a.example/ok"), article("https://a.example/" + "x" * 2100)

    with pytest.raises(sa.exc.DBAPIError):
        store.save_articles([good, bad])

    assert store.list_articles() == []
    assert store.outcomes([good.url]) == {}
