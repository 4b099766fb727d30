"""SQLite's search index: in a file of its own, kept up beside the writer, never stale."""

from __future__ import annotations

import shutil
import sqlite3
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command

from services.storage import migrate, search
from services.storage.query import ArticleQuery
from services.storage.repository import ArticleStore
from services.storage.search import search_file
from tests.unit.storage.factories import T0, article
from tests.unit.storage.test_checkpoints import eventually


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "newsflow.db"


@pytest.fixture
def store(path: Path) -> Iterator[ArticleStore]:
    store = ArticleStore.from_url(f"sqlite:///{path}")
    store.create_schema()
    yield store
    store.close()


def found(store: ArticleStore, q: str) -> list[str]:
    return [a.url for a in store.find_articles(ArticleQuery(q=q)).articles]


def indexed_in_file(path: Path) -> int:
    """Documents in the index file, read by a connection of nobody's store."""
    with sqlite3.connect(search_file(str(path))) as conn:
        return int(conn.execute("SELECT count(*) FROM articles_fts").fetchone()[0])


def queued(store: ArticleStore) -> int:
    with store.engine.connect() as conn:
        return int(conn.exec_driver_sql("SELECT count(*) FROM main.search_queue").scalar_one())


def test_index_is_a_file_beside_the_database() -> None:
    assert search_file("/data/newsflow.db") == "/data/newsflow.search.db"
    assert search_file("/data/store") == "/data/store.search"


def test_articles_are_indexed_after_their_commit_without_a_search(
    store: ArticleStore, path: Path
) -> None:
    store.save_articles([article(f"https://a.example/{n}") for n in range(30)])

    assert eventually(lambda: indexed_in_file(path) == 30)
    with store.engine.connect() as conn:
        main_tables = set(sa.inspect(conn).get_table_names())
    assert not {name for name in main_tables if name.startswith("articles_fts")}


def test_writer_does_not_wait_for_the_index(store: ArticleStore, path: Path) -> None:
    store.save_articles([article("https://a.example/before")])
    store.catch_up_search()
    index_writer = sqlite3.connect(search_file(str(path)), isolation_level=None)
    index_writer.execute("BEGIN IMMEDIATE")  # the index file's write lock, held
    try:
        saving = threading.Thread(
            target=store.save_articles, args=([article("https://a.example/during")],)
        )
        saving.start()
        saving.join(timeout=5)
        assert not saving.is_alive(), "the write waited for the index file's lock"
        assert store.get_article(2) is not None
    finally:
        index_writer.execute("ROLLBACK")
        index_writer.close()

    assert found(store, "during") == ["https://a.example/during"]


def test_a_search_finds_what_was_committed_before_it(path: Path) -> None:
    writer = ArticleStore.from_url(f"sqlite:///{path}")
    reader = ArticleStore.from_url(f"sqlite:///{path}")  # another process, as it were
    try:
        writer.create_schema()
        for n in range(5):
            writer.save_articles([article(f"https://a.example/{n}", text=f"word{n} shared")])
            assert found(reader, f"word{n}") == [f"https://a.example/{n}"]
        assert len(found(reader, "shared")) == 5
        assert indexed_in_file(path) == 5  # each article once, whoever indexed it
    finally:
        writer.close()
        reader.close()


def test_the_queue_keeps_only_what_the_index_lacks(store: ArticleStore) -> None:
    store.save_articles([article(f"https://a.example/{n}") for n in range(10)])
    store.catch_up_search()
    store.save_articles([article("https://a.example/next")])

    assert queued(store) == 1  # the first ten went with the next batch's transaction


def test_deleted_articles_leave_the_index(store: ArticleStore) -> None:
    store.save_articles([article("https://a.example/gone", text="ephemeral words")])
    assert found(store, "ephemeral") == ["https://a.example/gone"]
    with store.engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM articles")

    assert found(store, "ephemeral") == []


def test_a_lost_index_file_is_rebuilt(store: ArticleStore, path: Path) -> None:
    store.save_articles([article(f"https://a.example/{n}", text="kept words") for n in range(3)])
    store.catch_up_search()
    store.close()
    for suffix in ("", "-wal", "-shm"):
        Path(search_file(str(path)) + suffix).unlink(missing_ok=True)

    reopened = ArticleStore.from_url(f"sqlite:///{path}")
    try:
        assert len(found(reopened, "kept")) == 3
    finally:
        reopened.close()


def test_an_index_restored_from_an_old_copy_is_rebuilt(store: ArticleStore, path: Path) -> None:
    store.save_articles([article("https://a.example/old", text="early words")])
    store.catch_up_search()
    store.close()
    old_copy = path.with_name("old-index.db")
    shutil.copy(search_file(str(path)), old_copy)

    store = ArticleStore.from_url(f"sqlite:///{path}")
    try:
        store.save_articles([article("https://a.example/new", text="later words")])
        store.catch_up_search()
        store.save_articles([article("https://a.example/newest", text="latest words")])
        store.close()  # the queue entry for "new" was pruned with this batch
        shutil.copy(old_copy, search_file(str(path)))

        store = ArticleStore.from_url(f"sqlite:///{path}")
        assert found(store, "words") == [
            "https://a.example/newest",
            "https://a.example/new",
            "https://a.example/old",
        ]
    finally:
        store.close()


def test_an_index_built_from_another_database_is_rebuilt(tmp_path: Path) -> None:
    paths = [tmp_path / "one.db", tmp_path / "two.db"]
    for n, path in enumerate(paths):
        store = ArticleStore.from_url(f"sqlite:///{path}")
        store.create_schema()
        store.save_articles([article(f"https://{n}.example/a", text=f"only{n}")])
        store.catch_up_search()
        store.close()
    shutil.copy(search_file(str(paths[0])), search_file(str(paths[1])))

    store = ArticleStore.from_url(f"sqlite:///{paths[1]}")
    try:
        assert found(store, "only0") == []
        assert found(store, "only1") == ["https://1.example/a"]
    finally:
        store.close()


def test_a_failed_catch_up_leaves_the_mark_and_the_next_one_indexes(
    store: ArticleStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.save_articles([article("https://a.example/first", text="alpha")])
    store.catch_up_search()
    store.save_articles([article("https://a.example/second", text="beta")])
    monkeypatch.setattr(search, "_INDEX", "INSERT INTO no_such_table VALUES (1)")
    with pytest.raises(sqlite3.OperationalError):
        store.catch_up_search()
    monkeypatch.undo()

    assert found(store, "beta") == ["https://a.example/second"]
    assert found(store, "alpha") == ["https://a.example/first"]


def test_changed_content_is_reindexed_once(store: ArticleStore, path: Path) -> None:
    url = "https://a.example/edit"
    store.save_articles([article(url, text="first draft")])
    store.catch_up_search()
    for hour in (1, 2):
        later = T0 + timedelta(hours=hour)
        store.save_articles([article(url, text=f"draft {hour}", fetched_at=later)])

    assert found(store, "draft") == [url]
    assert found(store, "first") == []
    assert indexed_in_file(path) == 1


def test_an_in_memory_store_searches_too() -> None:
    store = ArticleStore(sa.create_engine("sqlite://"))
    try:
        store.create_schema()
        store.save_articles([article("https://a.example/memory", text="volatile words")])
        assert found(store, "volatile") == ["https://a.example/memory"]
    finally:
        store.close()


def test_articles_stored_before_the_index_moved_are_found(store: ArticleStore, path: Path) -> None:
    store.save_articles([article("https://a.example/older", text="archived words")])
    with store.engine.connect() as conn, conn.begin():
        command.downgrade(migrate.alembic_config(conn), "0003")
    store.close()
    for suffix in ("", "-wal", "-shm"):  # as before this revision: no index file
        Path(search_file(str(path)) + suffix).unlink(missing_ok=True)

    store = ArticleStore.from_url(f"sqlite:///{path}")
    try:
        store.create_schema()
        assert found(store, "archived") == ["https://a.example/older"]
    finally:
        store.close()


def test_downgrading_rebuilds_the_index_inside_the_database(store: ArticleStore) -> None:
    store.save_articles([article("https://a.example/kept", text="durable words")])
    with store.engine.connect() as conn, conn.begin():
        command.downgrade(migrate.alembic_config(conn), "0003")
    with store.engine.connect() as conn:
        hits = conn.exec_driver_sql(
            "SELECT rowid FROM main.articles_fts WHERE articles_fts MATCH 'durable'"
        ).all()
    assert [tuple(hit) for hit in hits] == [(1,)]


def test_two_stores_writing_and_indexing_at_once_index_each_article_once(path: Path) -> None:
    stores = [ArticleStore.from_url(f"sqlite:///{path}") for _ in range(2)]
    stores[0].create_schema()

    def write(n: int) -> None:
        for batch in range(10):
            urls = [f"https://{n}.example/{batch}/{k}" for k in range(20)]
            stores[n].save_articles([article(url, text=f"common word{n}") for url in urls])
            stores[1 - n].catch_up_search()  # the other one's catch-ups meanwhile

    try:
        writers = [threading.Thread(target=write, args=(n,)) for n in range(2)]
        for writer in writers:
            writer.start()
        for writer in writers:
            writer.join()
        stores[0].catch_up_search()

        assert indexed_in_file(path) == 400
        with stores[1].engine.connect() as conn:
            hits = conn.exec_driver_sql(
                "SELECT count(*) FROM search.articles_fts WHERE articles_fts MATCH 'word1'"
            ).scalar_one()
        assert hits == 200
        stores[1].save_articles([article("https://last.example/")])
        assert queued(stores[1]) == 1  # every earlier entry pruned by this batch
    finally:
        for store in stores:
            store.close()


def test_the_backlog_counts_what_the_index_has_yet_to_take_in() -> None:
    store = ArticleStore(sa.create_engine("sqlite://"))  # no indexing thread: it waits
    try:
        store.create_schema()
        store.save_articles([article(f"https://a.example/{n}") for n in range(3)])
        assert store.search_backlog() == 3
        store.catch_up_search()
        assert store.search_backlog() == 0
    finally:
        store.close()


def test_a_store_in_a_file_works_its_backlog_off(store: ArticleStore) -> None:
    store.save_articles([article(f"https://a.example/{n}") for n in range(3)])

    assert eventually(lambda: store.search_backlog() == 0)
