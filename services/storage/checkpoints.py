"""SQLite's write-ahead log copied back into the database file beside the writer.

By default (``wal_autocheckpoint``) the connection whose commit takes the log past
1,000 pages copies it back, fsyncs included, before its commit returns, so the writer
waits for it: in the storage benchmark, about a sixth of the time a batch took. A
``WalCheckpointer`` turns that off for its engine's connections and checkpoints from a
thread of its own instead. The checkpoints are PASSIVE: they never wait for, nor block,
the writer or the readers (frames a reader still needs are copied next time), and the
sqlite3 driver releases the GIL while SQLite works, so the copy runs on another core.
"""

from __future__ import annotations

import sqlite3
from typing import Any

import structlog
from sqlalchemy import Engine, event

from .followers import CommitFollower

__all__ = ["WalCheckpointer", "is_sqlite_file"]

log = structlog.get_logger(__name__)

# Often enough to keep the log small (a storage process writes a few MB a second),
# seldom enough that pages rewritten by consecutive batches are copied once.
DEFAULT_INTERVAL_S = 0.5


def is_sqlite_file(engine: Engine) -> bool:
    """A SQLite database in a file: the only kind with a write-ahead log."""
    database = engine.url.database
    return engine.dialect.name == "sqlite" and bool(database) and database != ":memory:"


class WalCheckpointer:
    """Checkpoints an engine's SQLite database files on a daemon thread, after commits.

    ``committed`` wakes the thread (it starts on the first call); it checkpoints at
    most once per ``interval_s``, every attached database file included. ``close``
    stops it after a last checkpoint. Attach it before the engine opens connections:
    those already open keep checkpointing inline, which is slower but harmless.
    """

    def __init__(self, engine: Engine, *, interval_s: float = DEFAULT_INTERVAL_S) -> None:
        if not is_sqlite_file(engine):
            raise ValueError("only a SQLite database in a file has a write-ahead log")
        self._follower = CommitFollower(
            engine, self._checkpoint, name="sqlite-wal-checkpointer", interval_s=interval_s
        )
        self.checkpoints = 0  # completed, for tests and curiosity
        event.listen(engine, "connect", _no_inline_checkpoints)

    @property
    def running(self) -> bool:
        return self._follower.running

    def committed(self) -> None:
        """A write transaction committed: its pages are in the log."""
        self._follower.committed()

    def close(self) -> None:
        self._follower.close()

    def _checkpoint(self, driver: sqlite3.Connection) -> None:
        try:
            # No schema named: every attached database (the search index's file too).
            busy, _, _ = driver.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        except sqlite3.Error as error:
            # The next commit asks again; the log only grows meanwhile.
            log.warning("sqlite checkpoint failed", error=str(error))
            return
        if not busy:
            self.checkpoints += 1


def _no_inline_checkpoints(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.execute("PRAGMA wal_autocheckpoint=0")
