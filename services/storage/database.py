"""Engines for the two supported databases, with SQLite made transactional.

Python's sqlite3 driver opens transactions lazily and never around DDL, so migrations
would run half outside a transaction and two processes could both start them. The
driver's own transaction handling is switched off and SQLAlchemy's ``begin`` emits
``BEGIN``; a connection with ``execution_options(sqlite_begin="IMMEDIATE")`` takes the
write lock up front, before it reads anything it will act on.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url

__all__ = ["DIALECTS", "SQLITE_CACHE_KIB", "create_database_engine", "switch_to_wal"]

DIALECTS = frozenset({"sqlite", "postgresql"})
_SQLITE_BUSY_TIMEOUT_MS = 30_000
# SQLite's default page cache is 2 MiB per connection. Each article touches ~16 index
# b-trees and the search index, and a bigger cache keeps their inner pages in memory:
# about 5-10% less CPU per stored article (docs/benchmarks.md, Storage).
SQLITE_CACHE_KIB = 32 * 1024
_BEGIN_MODES = frozenset({"DEFERRED", "IMMEDIATE"})
_WAL_RETRY_S = 0.01


def create_database_engine(database_url: str) -> Engine:
    """An engine for any SQLAlchemy URL, e.g. ``sqlite:///data/newsflow.db``."""
    url = make_url(database_url)
    if url.get_backend_name() not in DIALECTS:
        raise ValueError(
            f"unsupported database {url.get_backend_name()!r}: use SQLite or PostgreSQL"
        )
    if url.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    _make_parent_dir(url)
    engine = create_engine(url)
    event.listen(engine, "connect", _tune_sqlite)
    event.listen(engine, "begin", _begin_sqlite)
    return engine


def _make_parent_dir(url: URL) -> None:
    database = url.database
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).parent.mkdir(parents=True, exist_ok=True)


def _tune_sqlite(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # SQLAlchemy's begin event issues BEGIN
    cursor = dbapi_connection.cursor()
    # busy_timeout makes a second writer wait for the lock instead of failing at once.
    # WAL lets the CLI and the API read while the service writes.
    cursor.execute(f"PRAGMA busy_timeout={_SQLITE_BUSY_TIMEOUT_MS}")
    switch_to_wal(cursor)
    cursor.execute("PRAGMA synchronous=NORMAL")  # durable across app crashes under WAL
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")  # negative: KiB, not pages
    cursor.close()


def switch_to_wal(cursor: Any, schema: str = "main") -> None:
    """Connections opening a new file together race to switch it to WAL, and SQLite
    answers the losers "database is locked" at once, without its busy handler."""
    deadline = time.monotonic() + _SQLITE_BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            cursor.execute(f"PRAGMA {schema}.journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(_WAL_RETRY_S)


def _begin_sqlite(conn: Connection) -> None:
    mode = str(conn.get_execution_options().get("sqlite_begin", "DEFERRED")).upper()
    if mode not in _BEGIN_MODES:
        raise ValueError(f"sqlite_begin must be one of {sorted(_BEGIN_MODES)}, got {mode!r}")
    conn.exec_driver_sql(f"BEGIN {mode}")
