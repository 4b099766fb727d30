"""ArticleStore against a SQLite file and, when reachable, PostgreSQL (one schema per test)."""

from __future__ import annotations

import functools
import json
import os
import sqlite3
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from services.storage.repository import ArticleStore, StoredArticle, content_hash
from shared.contracts import ArticleClassified, StageFailed

POSTGRES_URL = os.environ.get(
    "NEWSFLOW_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@functools.cache
def _postgres_unavailable() -> str | None:
    """Why PostgreSQL cannot be used, or None; checked once per session."""
    try:
        engine = sa.create_engine(POSTGRES_URL, connect_args={"connect_timeout": 2})
        with engine.connect():
            pass
        engine.dispose()
    except (ImportError, sa.exc.SQLAlchemyError) as exc:
        detail = str(exc).splitlines()[0]
        return f"PostgreSQL not reachable at {POSTGRES_URL}: {type(exc).__name__}: {detail}"
    return None


class Database:
    """One isolated database; hands out stores on it, each with its own engine and pool."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._stores: list[ArticleStore] = []

    def store(self) -> ArticleStore:
        store = ArticleStore.from_url(self.url)
        store.create_schema()
        self._stores.append(store)
        return store

    def close(self) -> None:
        for store in self._stores:
            store.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    if request.param == "sqlite":
        db = Database(f"sqlite:///{tmp_path / 'newsflow.db'}")
        yield db
        db.close()
        return
    if reason := _postgres_unavailable():
        pytest.skip(reason)
    yield from _postgres_schema()


def _postgres_schema() -> Iterator[Database]:
    """A throwaway schema, selected through the connection's search_path."""
    schema = f"test_{uuid.uuid4().hex}"
    admin = sa.create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    url = sa.make_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    db = Database(url.render_as_string(hide_password=False))
    try:
        yield db
    finally:
        db.close()
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def store(database: Database) -> ArticleStore:
    return database.store()


T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def article(url: str, **changes: Any) -> ArticleClassified:
    fields: dict[str, Any] = {
        "url": url,
        "final_url": url + "?amp",
        "submitted_at": T0,
        "fetched_at": T0 + timedelta(seconds=2),
        "title": f"Title of {url}",
        "text": f"Body of {url}.",
        "description": "A description",
        "authors": ["Ada Lovelace", "Alan Turing"],
        "published_at": T0 - timedelta(days=1),
        "site_name": "Example News",
        "extraction_method": "trafilatura",
        "language": "en",
        "language_confidence": 0.98,
        "topic": "science",
        "topic_confidence": 0.7,
        "model_version": "clf-1",
        "timings": {"fetcher": 0.25, "cleaner": 0.5},
    }
    return ArticleClassified(**(fields | changes))


def failure(url: str, failed_at: datetime = T0, reason: str = "HTTP 404") -> StageFailed:
    return StageFailed(
        url=url,
        submitted_at=T0,
        stage="fetcher",
        reason=reason,
        failed_at=failed_at,
        timings={"fetcher": 1.5},
    )


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


def test_content_hash_ignores_whitespace_and_unicode_form() -> None:
    composed, decomposed = "caf\u00e9", "cafe\u0301"

    assert content_hash(f" {composed} ", "a\n\nb") == content_hash(decomposed, "a b")
    assert content_hash("a", "b c") != content_hash("a b", "c")
