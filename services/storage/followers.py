"""Work that follows a SQLite database's commits on a thread of its own.

Copying the write-ahead log back into the file and indexing new articles for search
both belong after a commit, not inside it: done from another thread they cost the
writer nothing, because the sqlite3 driver releases the GIL while SQLite works.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable

import structlog
from sqlalchemy import Engine

__all__ = ["CommitFollower", "driver_connection"]

log = structlog.get_logger(__name__)


def driver_connection(connection: object) -> sqlite3.Connection:
    """The sqlite3 connection inside a pooled SQLAlchemy connection."""
    driver = getattr(connection, "driver_connection", None)
    if not isinstance(driver, sqlite3.Connection):
        raise TypeError(f"expected a sqlite3 connection, got {type(driver).__name__}")
    return driver


class CommitFollower:
    """Runs ``work`` on a daemon thread after commits, at most once per ``interval_s``.

    ``committed`` wakes the thread (it starts on the first call, with a connection of
    its own); commits made while ``work`` runs are not forgotten, they wake it again.
    ``close`` stops it after a last run. If ``work`` raises, the error is logged and the
    next commit starts a new thread.
    """

    def __init__(
        self,
        engine: Engine,
        work: Callable[[sqlite3.Connection], object],
        *,
        name: str,
        interval_s: float,
    ) -> None:
        self._engine = engine
        self._work = work
        self._name = name
        self._interval_s = interval_s
        self._wanted = threading.Event()
        self._closing = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        thread = self._thread
        return thread is not None and thread.is_alive()

    def committed(self) -> None:
        """A write transaction committed."""
        with self._lock:
            if self._closing.is_set():
                return
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
                self._thread.start()
        self._wanted.set()

    def close(self) -> None:
        with self._lock:
            self._closing.set()
            thread = self._thread
        self._wanted.set()
        if thread is not None:
            thread.join()

    def _run(self) -> None:
        try:
            self._follow_until_closed()
        except Exception:
            log.exception("commit follower stopped; the next commit restarts it", name=self._name)
            with self._lock:
                self._thread = None

    def _follow_until_closed(self) -> None:
        connection = self._engine.raw_connection()
        try:
            driver = driver_connection(connection)
            while not self._closing.is_set():
                self._wanted.wait()
                self._wanted.clear()
                self._work(driver)
                self._closing.wait(self._interval_s)
            self._work(driver)
        finally:
            connection.close()
