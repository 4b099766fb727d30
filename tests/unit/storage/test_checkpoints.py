"""SQLite's write-ahead log is copied into the database file by a thread of the store's."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import nullcontext
from pathlib import Path

import pytest
import sqlalchemy as sa

from services.storage import checkpoints
from services.storage.checkpoints import WalCheckpointer
from services.storage.database import create_database_engine
from services.storage.repository import ArticleStore
from tests.unit.storage.factories import article, failure

_PATIENCE_S = 10.0


def eventually(check: Callable[[], bool]) -> bool:
    deadline = time.monotonic() + _PATIENCE_S
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def rows_in_file(path: Path, table: str) -> int:
    """Rows in the database file itself: ``immutable`` reads it without the log."""
    try:
        with sqlite3.connect(f"file:{path}?immutable=1", uri=True) as conn:
            return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
    except sqlite3.DatabaseError:  # not there yet, or caught mid-copy
        return -1


def test_stored_articles_reach_the_database_file_without_a_writer_checkpointing(
    tmp_path: Path,
) -> None:
    path = tmp_path / "newsflow.db"
    store = ArticleStore.from_url(f"sqlite:///{path}")
    try:
        store.create_schema()
        # Far below the 1,000 pages after which a writer would copy the log itself.
        store.save_articles([article(f"https://a.example/{n}") for n in range(20)])

        assert eventually(lambda: rows_in_file(path, "articles") == 20)
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 0
    finally:
        store.close()


def test_failures_are_checkpointed_too(tmp_path: Path) -> None:
    path = tmp_path / "newsflow.db"
    store = ArticleStore.from_url(f"sqlite:///{path}")
    try:
        store.create_schema()
        store.save_failures([failure("https://a.example/gone")])

        assert eventually(lambda: rows_in_file(path, "failures") == 1)
    finally:
        store.close()


def test_checkpointer_starts_on_first_commit_and_stops_on_close(tmp_path: Path) -> None:
    engine = create_database_engine(f"sqlite:///{tmp_path / 'x.db'}")
    checkpointer = WalCheckpointer(engine, interval_s=0.01)
    try:
        assert not checkpointer.running
        with engine.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE t (n INTEGER)")
        checkpointer.committed()
        assert checkpointer.running
        assert eventually(lambda: checkpointer.checkpoints >= 1)
    finally:
        checkpointer.close()
        engine.dispose()

    assert not checkpointer.running
    checkpointer.committed()  # after close: ignored, no thread again
    assert not checkpointer.running
    assert rows_in_file(tmp_path / "x.db", "t") == 0  # the table reached the file


def test_every_commit_is_checkpointed_eventually(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    engine = create_database_engine(f"sqlite:///{path}")
    checkpointer = WalCheckpointer(engine, interval_s=0.05)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE t (n INTEGER)")
        for n in range(5):
            with engine.begin() as conn:
                conn.execute(sa.text("INSERT INTO t VALUES (:n)"), {"n": n})
            checkpointer.committed()
        # Commits during a checkpoint's pause are not forgotten: the last one lands too.
        assert eventually(lambda: rows_in_file(path, "t") == 5)
    finally:
        checkpointer.close()
        engine.dispose()


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:"])
def test_only_a_database_file_has_a_log_to_checkpoint(url: str) -> None:
    engine = sa.create_engine(url)
    with pytest.raises(ValueError, match="write-ahead log"):
        WalCheckpointer(engine)
    store = ArticleStore(engine)  # a store on it simply has no checkpointer
    store.create_schema()
    assert store.save_articles([article("https://a.example/memory")]) == 1
    store.close()


def wal_bytes(path: Path) -> int:
    wal = Path(f"{path}-wal")
    return wal.stat().st_size if wal.exists() else 0


def test_a_log_past_its_limit_is_emptied_between_batches(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    engine = create_database_engine(f"sqlite:///{path}")
    checkpointer = WalCheckpointer(engine, interval_s=0.01, wal_limit_bytes=64 * 1024)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE t (n INTEGER, pad TEXT)")
        for n in range(20):  # each about 100 kB of pages: every commit passes the limit
            with engine.begin() as conn:
                conn.exec_driver_sql("INSERT INTO t VALUES (?, randomblob(100000))", (n,))
            checkpointer.committed()
        assert eventually(lambda: checkpointer.truncations >= 1)
        assert eventually(lambda: wal_bytes(path) == 0)
        assert rows_in_file(path, "t") == 20
    finally:
        checkpointer.close()
        engine.dispose()


def test_a_reader_in_the_log_is_not_waited_for(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    engine = create_database_engine(f"sqlite:///{path}")
    checkpointer = WalCheckpointer(engine, interval_s=0.01, wal_limit_bytes=1)
    reader = sqlite3.connect(path, isolation_level=None)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE t (n INTEGER)")
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM t").fetchone()  # a snapshot in the log, held
        for n in range(5):
            started = time.monotonic()
            with engine.begin() as conn:
                conn.exec_driver_sql("INSERT INTO t VALUES (?)", (n,))
            checkpointer.committed()
            assert time.monotonic() - started < 1.0
            time.sleep(0.03)
        assert checkpointer.truncations == 0
        assert wal_bytes(path) > 0

        reader.execute("COMMIT")
        with engine.begin() as conn:
            conn.exec_driver_sql("INSERT INTO t VALUES (5)")
        checkpointer.committed()
        assert eventually(lambda: checkpointer.truncations >= 1)
    finally:
        reader.close()
        checkpointer.close()
        engine.dispose()


def test_the_no_wait_setting_is_undone(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "x.db")
    conn.execute("PRAGMA busy_timeout=1234")
    with checkpoints._never_waiting(conn):
        assert conn.execute("PRAGMA busy_timeout").fetchone() == (0,)
    assert conn.execute("PRAGMA busy_timeout").fetchone() == (1234,)
    conn.close()


def test_a_log_is_left_alone_while_the_writers_cannot_be_paused(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    engine = create_database_engine(f"sqlite:///{path}")
    checkpointer = WalCheckpointer(
        engine, interval_s=0.01, wal_limit_bytes=1, pause_writers=lambda: nullcontext(False)
    )
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE t (n INTEGER)")
        checkpointer.committed()
        assert eventually(lambda: checkpointer.checkpoints >= 1)
        checkpointer.committed()
        assert eventually(lambda: checkpointer.checkpoints >= 2)
        assert checkpointer.truncations == 0
        assert wal_bytes(path) > 0
    finally:
        checkpointer.close()
        engine.dispose()


@pytest.fixture
def store_past_its_log_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[ArticleStore]:
    """A store whose every log is longer than its limit, after each commit."""
    monkeypatch.setattr(checkpoints, "DEFAULT_WAL_LIMIT_BYTES", 1)
    store = ArticleStore.from_url(f"sqlite:///{tmp_path / 'newsflow.db'}")
    store.create_schema()
    yield store
    store.close()


def index_lock(store: ArticleStore) -> threading.Lock:
    index = store._search
    assert index is not None
    return index.writer_lock


def test_writes_go_on_while_a_long_catch_up_holds_the_search_index(
    store_past_its_log_limit: ArticleStore,
) -> None:
    store = store_past_its_log_limit
    with index_lock(store):  # held, as a catch-up rebuilding a large index would
        store.save_articles([article("https://a.example/1")])
        time.sleep(0.2)  # the checkpointer finds the log too long meanwhile
        saving = threading.Thread(
            target=store.save_articles, args=([article("https://a.example/2")],)
        )
        saving.start()
        saving.join(timeout=5)
        assert not saving.is_alive(), "the checkpointer held the write lock, waiting"


def test_a_log_is_emptied_once_a_catch_up_in_its_way_is_done(
    store_past_its_log_limit: ArticleStore,
) -> None:
    store, checkpointer = store_past_its_log_limit, store_past_its_log_limit._checkpointer
    assert checkpointer is not None
    with index_lock(store):  # a catch-up, as under load there nearly always is one
        store.save_articles([article("https://a.example/1")])  # the last commit
        time.sleep(0.3)
    # The checkpointer waited for the catch-up, not for another commit.
    assert eventually(lambda: checkpointer.truncations >= 1)
