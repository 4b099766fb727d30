"""SQLite full-text search, indexed beside the writer instead of inside its transaction.

Tokenising an article for FTS5 was about half of what storing it cost, and it ran under
the database's one write lock. Now triggers (migration 0004) only append the id of each
inserted, changed or deleted article to ``search_queue``, and the FTS5 index lives in a
second file beside the database (``newsflow.search.db`` for ``newsflow.db``), attached
to every connection of the store as ``search``. That file has a write lock of its own,
so ``catch_up`` indexes while the next batch is written: one ``INSERT ... SELECT``
across the two files, which SQLite runs on another core (the driver releases the GIL).

- Nothing is lost: the index file records the last queue entry it holds (``mark``) in
  the same transaction as the entries; the writer's transaction drops queue entries at
  or below it (``prune``).
- Read your writes: a search first catches up, so it finds every article committed
  before it started. A store on a file also catches up from a thread after each commit,
  so searches seldom have anything left to do.
- The index is derived data. An index file that is missing, was built from another
  database's queue (``search_generation``), or lacks entries the queue no longer holds
  (restored from an old copy) is rebuilt from the articles on the next catch-up.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any

import structlog
from sqlalchemy import Connection, Engine, event

from .checkpoints import is_sqlite_file
from .database import SQLITE_CACHE_KIB, switch_to_wal
from .followers import CommitFollower, driver_connection

__all__ = ["SEARCH_TABLE", "SearchIndex", "search_file"]

log = structlog.get_logger(__name__)

SEARCH_TABLE = "search.articles_fts"

# 'unicode61' splits on Unicode word boundaries, so Arabic is tokenised like any other
# script; 'remove_diacritics 2' lets a query without harakat match text with them.
_CREATE_INDEX = (
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {SEARCH_TABLE} USING fts5("
    "title, text, tokenize='unicode61 remove_diacritics 2')"
)
_CREATE_STATE = (
    "CREATE TABLE IF NOT EXISTS search.index_state ("
    "id INTEGER PRIMARY KEY CHECK (id = 1), generation TEXT, mark INTEGER NOT NULL)"
)
_QUEUE_TOP = "coalesce((SELECT seq FROM main.sqlite_sequence WHERE name = 'search_queue'), 0)"
_UP_TO_DATE = (
    f"SELECT s.generation = g.generation AND s.mark = {_QUEUE_TOP} "
    "FROM search.index_state AS s, main.search_generation AS g"
)
# A write to the index file before anything in the database is read: it takes the
# file's write lock first, so a catch-up never reads the queue in a snapshot older than
# the mark another one has just committed.
_LOCK_INDEX = (
    "INSERT INTO search.index_state (id, generation, mark) VALUES (1, NULL, 0) "
    "ON CONFLICT (id) DO NOTHING"
)
_SOURCE = (
    f"SELECT (SELECT generation FROM main.search_generation), {_QUEUE_TOP}, "
    "(SELECT count(*) FROM main.search_queue WHERE seq > :mark)"
)
_PENDING_IDS = "SELECT article_id FROM main.search_queue WHERE seq > :mark"
_UNINDEX = f"DELETE FROM {SEARCH_TABLE} WHERE rowid IN ({_PENDING_IDS})"
_INDEX = (
    f"INSERT INTO {SEARCH_TABLE} (rowid, title, text) "
    f"SELECT id, title, text FROM main.articles WHERE id IN ({_PENDING_IDS})"
)
_INDEX_ALL = (
    f"INSERT INTO {SEARCH_TABLE} (rowid, title, text) SELECT id, title, text FROM main.articles"
)
_MARK = "UPDATE search.index_state SET generation = :generation, mark = :mark"
# The index's mark, if it was built from this database's queue; else NULL.
_MARK_OF_THIS_QUEUE = (
    "(SELECT s.mark FROM search.index_state AS s "
    "JOIN main.search_generation AS g ON s.generation = g.generation)"
)
_BACKLOG = f"SELECT count(*) FROM main.search_queue WHERE seq > coalesce({_MARK_OF_THIS_QUEUE}, 0)"
_PRUNE = f"DELETE FROM main.search_queue WHERE seq <= {_MARK_OF_THIS_QUEUE}"


def search_file(database_file: str) -> str:
    """Where the search index of a database file lives: beside it."""
    path = Path(database_file)
    return str(path.with_name(f"{path.stem}.search{path.suffix}"))


class SearchIndex:
    """The FTS5 index of a SQLite store's articles, in its own file, kept up by catch-ups.

    Create it before the engine opens connections: it attaches the index file to each
    new one. ``committed`` (after a write transaction) wakes the indexing thread of a
    store in a file; an in-memory store has no thread and catches up on each search.
    """

    def __init__(self, engine: Engine) -> None:
        if engine.dialect.name != "sqlite":
            raise ValueError("the search index beside the writer is SQLite's")
        self._engine = engine
        self._lock = threading.Lock()  # this process's catch-ups queue here, not in SQLite
        self._follower = (
            CommitFollower(engine, self._catch_up, name="sqlite-search-indexer", interval_s=0)
            if is_sqlite_file(engine)
            else None
        )
        event.listen(engine, "connect", _attach)

    @property
    def writer_lock(self) -> threading.Lock:
        """Held by every catch-up of this process, while it writes the index file."""
        return self._lock

    def committed(self) -> None:
        if self._follower is not None:
            self._follower.committed()

    def close(self) -> None:
        if self._follower is not None:
            self._follower.close()

    def catch_up(self) -> int:
        """Index every article committed so far; returns how many were (re)indexed."""
        connection = self._engine.raw_connection()
        try:
            return self._catch_up(driver_connection(connection))
        finally:
            connection.close()

    @staticmethod
    def backlog(conn: Connection) -> int:
        """Changed articles queued and not yet in the index."""
        return int(conn.exec_driver_sql(_BACKLOG).scalar_one())

    @staticmethod
    def prune(conn: Connection) -> None:
        """Drop the queue entries the index holds, in the writer's transaction."""
        conn.exec_driver_sql(_PRUNE)

    def _catch_up(self, db: sqlite3.Connection) -> int:
        with self._lock:
            if db.execute(_UP_TO_DATE).fetchone() == (1,):
                return 0
            db.execute("BEGIN")
            try:
                indexed = self._index_pending(db)
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
            return indexed

    def _index_pending(self, db: sqlite3.Connection) -> int:
        db.execute(_LOCK_INDEX)
        generation, mark = db.execute("SELECT generation, mark FROM search.index_state").fetchone()
        source, top, pending = db.execute(_SOURCE, {"mark": mark}).fetchone()
        if generation is None:
            indexed = self._rebuild(db, reason="a new index file")
        elif generation != source:
            indexed = self._rebuild(db, reason="built from another queue")
        elif pending != top - mark:
            indexed = self._rebuild(db, reason="entries the queue no longer holds are missing")
        else:
            db.execute(_UNINDEX, {"mark": mark})
            indexed = db.execute(_INDEX, {"mark": mark}).rowcount
        db.execute(_MARK, {"generation": source, "mark": top})
        return indexed

    @staticmethod
    def _rebuild(db: sqlite3.Connection, *, reason: str) -> int:
        db.execute(f"DROP TABLE {SEARCH_TABLE}")  # faster than deleting every document
        db.execute(_CREATE_INDEX)
        indexed = db.execute(_INDEX_ALL).rowcount
        log.info("search index built from the articles", reason=reason, articles=indexed)
        return indexed


def _attach(dbapi_connection: Any, _record: Any) -> None:
    main_file = dbapi_connection.execute("PRAGMA database_list").fetchone()[2]
    # An in-memory database gets an in-memory index, private to the connection as it is.
    target = search_file(main_file) if main_file else ":memory:"
    dbapi_connection.execute("ATTACH DATABASE ? AS search", (target,))
    cursor = dbapi_connection.cursor()
    if main_file:
        switch_to_wal(cursor, "search")
        cursor.execute("PRAGMA search.synchronous=NORMAL")
        cursor.execute(f"PRAGMA search.cache_size=-{SQLITE_CACHE_KIB}")
    cursor.execute(_CREATE_INDEX)
    cursor.execute(_CREATE_STATE)
    cursor.close()
