"""SQLite's write-ahead logs copied back into the database files beside the writer.

By default (``wal_autocheckpoint``) the connection whose commit takes the log past
1,000 pages copies it back, fsyncs included, before its commit returns, so the writer
waits for it: in the storage benchmark, about a sixth of the time a batch took. A
``WalCheckpointer`` turns that off for its engine's connections and checkpoints from a
thread of its own instead, every attached database file included. Its checkpoints are
PASSIVE: they never wait for, nor block, the writers or the readers, and the sqlite3
driver releases the GIL while SQLite works, so the copy runs on another core.

A log starts over from its beginning only when a writer finds it wholly copied back and
no reader in it. Under a steady stream of batches there is always a commit in between,
so passive checkpoints alone let the log grow without end (314 MB after 20,000
articles). Past ``wal_limit_bytes`` the checkpointer therefore pauses this process's
writers (``pause_writers``) for one TRUNCATE checkpoint, which copies the few frames the
passive one left and empties the file. It does not wait for other readers: one holding
an old snapshot makes it give up until the next round.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

import structlog
from sqlalchemy import Engine, event

from .followers import CommitFollower

__all__ = ["DEFAULT_WAL_LIMIT_BYTES", "WalCheckpointer", "is_sqlite_file"]

log = structlog.get_logger(__name__)

# Often enough to keep the log small (a storage process writes tens of MB a second),
# seldom enough that pages rewritten by consecutive batches are copied once.
DEFAULT_INTERVAL_S = 0.5
DEFAULT_WAL_LIMIT_BYTES = 64 * 1024 * 1024


def is_sqlite_file(engine: Engine) -> bool:
    """A SQLite database in a file: the only kind with a write-ahead log."""
    database = engine.url.database
    return engine.dialect.name == "sqlite" and bool(database) and database != ":memory:"


class WalCheckpointer:
    """Checkpoints an engine's SQLite database files on a daemon thread, after commits.

    ``committed`` wakes the thread (it starts on the first call); it checkpoints at
    most once per ``interval_s``. ``close`` stops it after a last checkpoint.
    ``pause_writers`` holds off every writer of this process (of the database and of
    any attached file) while a log past ``wal_limit_bytes`` is emptied; it yields False
    when they cannot be paused now, and the log is left for the next round. Attach it
    before the engine opens connections: those already open keep checkpointing inline,
    which is slower but harmless.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        interval_s: float = DEFAULT_INTERVAL_S,
        wal_limit_bytes: int | None = None,
        pause_writers: Callable[[], AbstractContextManager[bool]] = lambda: nullcontext(True),
    ) -> None:
        if not is_sqlite_file(engine):
            raise ValueError("only a SQLite database in a file has a write-ahead log")
        self._follower = CommitFollower(
            engine, self._checkpoint, name="sqlite-wal-checkpointer", interval_s=interval_s
        )
        self._wal_limit_bytes = wal_limit_bytes or DEFAULT_WAL_LIMIT_BYTES
        self._pause_writers = pause_writers
        self.checkpoints = 0  # completed passive ones, for tests and curiosity
        self.truncations = 0  # logs emptied
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
            too_long = [s for s in _schemas(driver) if self._passive(driver, s)]
            if too_long:
                with _never_waiting(driver), self._pause_writers() as paused:
                    for schema in too_long if paused else ():
                        self._truncate(driver, schema)
        except sqlite3.Error as error:
            # The next commit asks again; the log only grows meanwhile.
            log.warning("sqlite checkpoint failed", error=str(error))

    def _passive(self, driver: sqlite3.Connection, schema: str) -> bool:
        """Copies what it can; True when the log is longer than the limit."""
        busy, frames, _ = driver.execute(f"PRAGMA {schema}.wal_checkpoint(PASSIVE)").fetchone()
        if not busy:
            self.checkpoints += 1
        page_size = driver.execute(f"PRAGMA {schema}.page_size").fetchone()[0]
        return bool(frames * page_size > self._wal_limit_bytes)

    def _truncate(self, driver: sqlite3.Connection, schema: str) -> None:
        busy, _, _ = driver.execute(f"PRAGMA {schema}.wal_checkpoint(TRUNCATE)").fetchone()
        if not busy:
            self.truncations += 1


@contextmanager
def _never_waiting(driver: sqlite3.Connection) -> Iterator[None]:
    """No busy handler: a TRUNCATE checkpoint gives up at once on a reader in the log."""
    (previous,) = driver.execute("PRAGMA busy_timeout").fetchone()
    driver.execute("PRAGMA busy_timeout=0")
    try:
        yield
    finally:
        driver.execute(f"PRAGMA busy_timeout={int(previous)}")


def _schemas(driver: sqlite3.Connection) -> list[str]:
    return [name for _, name, file in driver.execute("PRAGMA database_list") if file]


def _no_inline_checkpoints(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.execute("PRAGMA wal_autocheckpoint=0")
