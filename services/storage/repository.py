"""Storage domain and SQL adapter: upserts classified articles and failures, reads them back.

An article is stored under its canonical URL (the page's declared canonical link, else
the submitted URL), with every URL it was submitted under, the content it had before
each change, and the story (near-duplicate group) it belongs to; ``writes`` holds the
write path. Only SQLite and PostgreSQL are supported, because the upsert syntax is
dialect-specific.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import asdict, dataclass, fields
from datetime import datetime
from typing import Literal, TypeVar

from sqlalchemy import Connection, Engine, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import ColumnElement

from shared.contracts import ArticleClassified, StageFailed, utc_now

from . import migrate
from .checkpoints import WalCheckpointer, is_sqlite_file
from .database import DIALECTS, create_database_engine
from .query import ArticleQuery, encode_cursor, select_articles
from .schema import ArticleRevisionRow, ArticleRow, ArticleUrlRow, Base, FailureRow
from .search import SearchIndex
from .stories import DEFAULT_STORY_MAX_DISTANCE, MAX_STORY_DISTANCE
from .writes import chunks, content_hash, prepare_articles, write_articles, write_failures

__all__ = [
    "ArticlePage",
    "ArticleQuery",
    "ArticleStore",
    "Outcome",
    "StoredArticle",
    "StoredFailure",
    "StoredRevision",
    "content_hash",
]

Outcome = Literal["stored", "failed"]

_URLS = ArticleUrlRow.__table__.c
_FAILURES = FailureRow.__table__.c
_INDEX_LOCK_WAIT_S = 1.0  # a few catch-ups' worth under load


@dataclass(frozen=True, slots=True)
class StoredArticle:
    """An article as stored; ``stored_at`` is when its row was last inserted or changed.

    ``url`` is the first URL it was submitted under; ``canonical_url`` is its key.
    ``story_id`` is the id of the first-stored article of its near-duplicate group.
    """

    id: int
    url: str
    canonical_url: str
    final_url: str
    site: str
    title: str
    text: str
    description: str | None
    authors: list[str]
    published_at: datetime | None
    modified_at: datetime | None
    site_name: str | None
    top_image: str | None
    tags: list[str]
    language: str
    language_confidence: float
    topic: str | None
    topic_confidence: float | None
    topic_probabilities: dict[str, float]
    needs_review: bool
    topic_reason: str | None
    model_version: str
    extraction_method: str
    submitted_at: datetime
    fetched_at: datetime
    stored_at: datetime
    timings: dict[str, float]
    revision: int
    content_hash: str
    simhash: str | None
    story_id: int | None

    def to_json(self) -> dict[str, object]:
        return _to_json(self)


@dataclass(frozen=True, slots=True)
class StoredRevision:
    """The content an article had at one revision."""

    revision: int
    final_url: str
    title: str
    text: str
    content_hash: str
    simhash: str | None
    fetched_at: datetime
    stored_at: datetime

    def to_json(self) -> dict[str, object]:
        return _to_json(self)


@dataclass(frozen=True, slots=True)
class StoredFailure:
    """The latest permanent failure of a URL."""

    url: str
    stage: str
    reason: str
    submitted_at: datetime
    failed_at: datetime
    timings: dict[str, float]

    def to_json(self) -> dict[str, object]:
        return _to_json(self)


@dataclass(frozen=True, slots=True)
class ArticlePage:
    """One page of a query; ``next_cursor`` fetches the next, None on the last page."""

    articles: list[StoredArticle]
    next_cursor: str | None


_Stored = TypeVar("_Stored", StoredArticle, StoredFailure, StoredRevision)


class ArticleStore:
    """Articles and failures in any SQLite or PostgreSQL database."""

    def __init__(
        self,
        engine: Engine,
        *,
        clock: Callable[[], datetime] = utc_now,
        story_max_distance: int = DEFAULT_STORY_MAX_DISTANCE,
    ) -> None:
        if engine.dialect.name not in DIALECTS:
            raise ValueError(
                f"unsupported database {engine.dialect.name!r}: use SQLite or PostgreSQL"
            )
        if not 0 <= story_max_distance <= MAX_STORY_DISTANCE:
            raise ValueError(
                f"story_max_distance must be 0..{MAX_STORY_DISTANCE}, got {story_max_distance}"
            )
        self._engine = engine
        self._clock = clock
        self._story_max_distance = story_max_distance
        # SQLite has one writer. This process's batches queue here, and the next starts
        # the moment the last commits, instead of polling SQLite's lock from its busy
        # handler, which sleeps up to 100 ms between tries.
        self._write_lock: AbstractContextManager[object] = (
            threading.Lock() if engine.dialect.name == "sqlite" else nullcontext()
        )
        self._search = SearchIndex(engine) if engine.dialect.name == "sqlite" else None
        self._checkpointer = (
            WalCheckpointer(engine, pause_writers=self._pause_writers)
            if is_sqlite_file(engine)
            else None
        )

    @classmethod
    def from_url(
        cls, database_url: str, *, story_max_distance: int = DEFAULT_STORY_MAX_DISTANCE
    ) -> ArticleStore:
        """Build a store for any SQLAlchemy URL, e.g. ``sqlite:///data/newsflow.db``."""
        return cls(create_database_engine(database_url), story_max_distance=story_max_distance)

    @property
    def engine(self) -> Engine:
        return self._engine

    def close(self) -> None:
        # The indexer first: its last catch-up leaves pages for the last checkpoint.
        if self._search is not None:
            self._search.close()
        if self._checkpointer is not None:
            self._checkpointer.close()
        self._engine.dispose()

    def create_schema(self) -> None:
        """Apply every pending migration; safe to call on every start, from every replica."""
        migrate.upgrade(self._engine)

    # -- writes -----------------------------------------------------------------------

    def save_articles(self, articles: Sequence[ArticleClassified]) -> int:
        """Upsert in one transaction; returns the number of articles inserted or changed.

        Re-saving identical content and labels changes nothing, so redelivered messages
        are harmless, and a fetch older than the stored one never overwrites it.
        """
        if not articles:
            return 0
        rows = prepare_articles(articles, self._clock(), self._engine.dialect.name)
        with self._write_lock, self._engine.begin() as conn:
            written = write_articles(conn, rows, self._story_max_distance)
            if self._search is not None:
                self._search.prune(conn)
        self._committed()
        if self._search is not None:
            self._search.committed()
        return written

    def save_failures(self, failures: Sequence[StageFailed]) -> int:
        """Upsert by URL in one transaction, keeping the latest failure; article rows stay."""
        if not failures:
            return 0
        with self._write_lock, self._engine.begin() as conn:
            written = write_failures(conn, failures)
        self._committed()
        return written

    @contextmanager
    def _pause_writers(self) -> Iterator[bool]:
        """No write transaction of this process, on the database or its search index.

        The index's lock comes first, and is waited for only a moment, without the write
        lock: under load catch-ups follow each other closely, but one can take long (a
        rebuild), and the writes must go on meanwhile.
        """
        index_lock = self._search.writer_lock if self._search else None
        if index_lock is not None and not index_lock.acquire(timeout=_INDEX_LOCK_WAIT_S):
            yield False
            return
        try:
            with self._write_lock:
                yield True
        finally:
            if index_lock is not None:
                index_lock.release()

    def _committed(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.committed()

    def catch_up_search(self) -> None:
        """Make every article committed so far findable by ``q`` (SQLite indexes them
        beside the writer, a moment after their commit; PostgreSQL in it)."""
        if self._search is not None:
            self._search.catch_up()

    def search_backlog(self) -> int | None:
        """Articles stored or changed and not yet findable by ``q`` until the next catch-up;
        None on PostgreSQL, which indexes them in their transaction."""
        if self._search is None:
            return None
        with self._engine.connect() as conn:
            return self._search.backlog(conn)

    # -- reads ------------------------------------------------------------------------

    def list_articles(
        self, *, language: str | None = None, topic: str | None = None, limit: int = 50
    ) -> list[StoredArticle]:
        """Most recently written (inserted or changed) first."""
        query = select(ArticleRow).order_by(ArticleRow.stored_at.desc(), ArticleRow.id.desc())
        if language is not None:
            query = query.where(ArticleRow.language == language)
        if topic is not None:
            query = query.where(ArticleRow.topic == topic)
        with Session(self._engine) as session:
            rows = session.scalars(query.limit(_checked(limit)))
            return [_from_row(StoredArticle, row) for row in rows]

    def find_articles(self, query: ArticleQuery) -> ArticlePage:
        """A page of matching articles, newest stored first; see ``ArticleQuery``."""
        if query.q is not None:
            self.catch_up_search()
        statement = select_articles(query, self._engine.dialect.name)
        with Session(self._engine) as session:
            rows = list(session.scalars(statement))
        page = [_from_row(StoredArticle, row) for row in rows[: query.limit]]
        more = len(rows) > query.limit and bool(page)
        return ArticlePage(page, encode_cursor(page[-1].id) if more else None)

    def get_article(self, article_id: int) -> StoredArticle | None:
        with Session(self._engine) as session:
            row = session.get(ArticleRow, article_id)
            return None if row is None else _from_row(StoredArticle, row)

    def revisions(self, article_id: int) -> list[StoredRevision]:
        """Every revision of an article, oldest first, the current one last; empty if none."""
        query = (
            select(ArticleRevisionRow)
            .where(ArticleRevisionRow.article_id == article_id)
            .order_by(ArticleRevisionRow.revision)
        )
        with Session(self._engine) as session:
            history = [_from_row(StoredRevision, row) for row in session.scalars(query)]
            current = session.get(ArticleRow, article_id)
            return history + ([_from_row(StoredRevision, current)] if current else [])

    def list_failures(self, *, limit: int = 50, stage: str | None = None) -> list[StoredFailure]:
        """Most recent failure first."""
        query = select(FailureRow).order_by(FailureRow.failed_at.desc(), FailureRow.url)
        if stage is not None:
            query = query.where(FailureRow.stage == stage)
        with Session(self._engine) as session:
            rows = session.scalars(query.limit(_checked(limit)))
            return [_from_row(StoredFailure, row) for row in rows]

    def outcomes(self, urls: Collection[str]) -> dict[str, Outcome]:
        """How each submitted URL that has ended did; an article beats a failure."""
        wanted = list(dict.fromkeys(urls))
        ended: dict[str, Outcome] = {}
        with self._engine.connect() as conn:
            for chunk in chunks(wanted):
                for url in _present(conn, _FAILURES.url, chunk):
                    ended[url] = "failed"
                for url in _present(conn, _URLS.url, chunk):
                    ended[url] = "stored"
        return ended


# -- helpers ----------------------------------------------------------------------------


def _present(conn: Connection, column: ColumnElement[str], urls: Sequence[str]) -> list[str]:
    return list(conn.scalars(select(column).where(column.in_(urls))))


def _checked(limit: int) -> int:
    if limit < 0:
        raise ValueError(f"limit must not be negative, got {limit}")
    return limit


def _from_row(kind: type[_Stored], row: Base) -> _Stored:
    return kind(**{field.name: getattr(row, field.name) for field in fields(kind)})


def _to_json(record: StoredArticle | StoredFailure | StoredRevision) -> dict[str, object]:
    return {
        name: value.isoformat() if isinstance(value, datetime) else value
        for name, value in asdict(record).items()
    }
