"""Storage domain and SQL adapter: upserts classified articles and failures, reads them back.

Writes are single ``INSERT ... ON CONFLICT (url) DO UPDATE`` statements, so several storage
replicas can save the same URL at once without a select-then-insert race.
Only SQLite and PostgreSQL are supported, because the upsert syntax is dialect-specific.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import asdict, dataclass, fields
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, TypeVar

from sqlalchemy import Connection, Engine, case, create_engine, event, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import ReturningInsert
from sqlalchemy.sql.expression import ColumnElement

from shared.contracts import ArticleClassified, StageFailed, utc_now

from .schema import ArticleRow, Base, FailureRow, as_utc

__all__ = ["ArticleStore", "Outcome", "StoredArticle", "StoredFailure", "content_hash"]

Outcome = Literal["stored", "failed"]

_DIALECTS = frozenset({"sqlite", "postgresql"})
_SQLITE_BUSY_TIMEOUT_MS = 30_000
_SCHEMA_LOCK_KEY = 0x6E657773666C6F77  # "newsflow": arbitrary pg_advisory_xact_lock key
_IN_CHUNK = 500  # keeps IN lists far below every backend's bound-parameter limit
_ARTICLES = ArticleRow.__table__.c
_FAILURES = FailureRow.__table__.c
# The message fields that are also columns (a set, as pydantic's ``include`` wants).
_ARTICLE_FIELDS = set(_ARTICLES.keys()) & ArticleClassified.model_fields.keys()
_FAILURE_FIELDS = set(_FAILURES.keys()) & StageFailed.model_fields.keys()


@dataclass(frozen=True, slots=True)
class StoredArticle:
    """An article as stored; ``stored_at`` is when its row was last inserted or changed."""

    id: int
    url: str
    final_url: str
    title: str
    text: str
    description: str | None
    authors: list[str]
    published_at: datetime | None
    site_name: str | None
    language: str
    language_confidence: float
    topic: str | None
    topic_confidence: float | None
    model_version: str
    extraction_method: str
    submitted_at: datetime
    fetched_at: datetime
    stored_at: datetime
    timings: dict[str, float]
    revision: int
    content_hash: str

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


_Stored = TypeVar("_Stored", StoredArticle, StoredFailure)
_Upsert = ReturningInsert[tuple[str]]  # returns the URL of each row it wrote


class ArticleStore:
    """Articles and failures keyed by submitted URL, in any SQLite or PostgreSQL database."""

    def __init__(self, engine: Engine, *, clock: Callable[[], datetime] = utc_now) -> None:
        if engine.dialect.name not in _DIALECTS:
            raise ValueError(
                f"unsupported database {engine.dialect.name!r}: use SQLite or PostgreSQL"
            )
        self._engine = engine
        self._clock = clock

    @classmethod
    def from_url(cls, database_url: str) -> ArticleStore:
        """Build a store for any SQLAlchemy URL, e.g. ``sqlite:///data/newsflow.db``."""
        url = make_url(database_url)
        if url.get_backend_name() != "sqlite":
            return cls(create_engine(url, pool_pre_ping=True))
        _make_parent_dir(url)
        engine = create_engine(url)
        event.listen(engine, "connect", _tune_sqlite)
        return cls(engine)

    @property
    def engine(self) -> Engine:
        return self._engine

    def close(self) -> None:
        self._engine.dispose()

    def create_schema(self) -> None:
        """Create missing tables and indexes; safe to call on every start."""
        with self._engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                # Replicas starting together would otherwise race on the catalog.
                conn.execute(select(func.pg_advisory_xact_lock(_SCHEMA_LOCK_KEY)))
            Base.metadata.create_all(conn)

    def save_articles(self, articles: Sequence[ArticleClassified]) -> int:
        """Upsert by URL in one transaction; returns the number of rows inserted or changed.

        Re-saving identical content and labels is a no-op, so redelivered messages cost nothing.
        """
        now = self._clock()
        rows = [_article_values(article, now) for article in articles]
        return self._upsert(_article_upsert, _unique_sorted(rows))

    def save_failures(self, failures: Sequence[StageFailed]) -> int:
        """Upsert by URL in one transaction, keeping the latest failure; article rows stay."""
        chronological = sorted(failures, key=lambda failure: as_utc(failure.failed_at))
        rows = [failure.model_dump(include=_FAILURE_FIELDS) for failure in chronological]
        return self._upsert(_failure_upsert, _unique_sorted(rows))

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

    def list_failures(self, *, limit: int = 50) -> list[StoredFailure]:
        """Most recent failure first."""
        query = select(FailureRow).order_by(FailureRow.failed_at.desc(), FailureRow.url)
        with Session(self._engine) as session:
            rows = session.scalars(query.limit(_checked(limit)))
            return [_from_row(StoredFailure, row) for row in rows]

    def outcomes(self, urls: Collection[str]) -> dict[str, Outcome]:
        """How each URL that has ended did; an article beats a failure, as it holds content."""
        wanted = list(dict.fromkeys(urls))
        ended: dict[str, Outcome] = {}
        with self._engine.connect() as conn:
            for start in range(0, len(wanted), _IN_CHUNK):
                chunk = wanted[start : start + _IN_CHUNK]
                for url in _present(conn, _FAILURES.url, chunk):
                    ended[url] = "failed"
                for url in _present(conn, _ARTICLES.url, chunk):
                    ended[url] = "stored"
        return ended

    def _upsert(self, build: Callable[[str], _Upsert], rows: list[dict[str, Any]]) -> int:
        if not rows:
            return 0
        with self._engine.begin() as conn:
            # RETURNING yields only the rows actually written, skipped no-ops excluded.
            return len(conn.execute(build(conn.dialect.name), rows).all())


def content_hash(title: str, text: str) -> str:
    """SHA-256 of title and text, blind to Unicode composition and whitespace reflow."""
    normalised = "\n".join(_normalise(part) for part in (title, text))
    return hashlib.sha256(normalised.encode()).hexdigest()


def _normalise(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).split())


def _article_values(article: ArticleClassified, now: datetime) -> dict[str, Any]:
    values = article.model_dump(include=_ARTICLE_FIELDS)
    values.update(stored_at=now, revision=1, content_hash=content_hash(article.title, article.text))
    return values


def _unique_sorted(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The last row per URL, in URL order.

    One statement may not touch a row twice on PostgreSQL, and a fixed order means
    concurrent writers lock rows in the same sequence, so they cannot deadlock.
    """
    latest = {row["url"]: row for row in rows}
    return [latest[url] for url in sorted(latest)]


def _insert(dialect: str, row: type[Base]) -> sqlite.Insert | postgresql.Insert:
    return postgresql.insert(row) if dialect == "postgresql" else sqlite.insert(row)


def _article_upsert(dialect: str) -> _Upsert:
    stmt = _insert(dialect, ArticleRow)
    new, old = stmt.excluded, _ARTICLES
    content_changed = old.content_hash != new.content_hash
    labels_changed = or_(
        old.language != new.language,
        old.topic.is_distinct_from(new.topic),
        old.model_version != new.model_version,
    )
    updates: dict[str, ColumnElement[Any]] = {
        column.key: new[column.key]
        for column in _ARTICLES
        if column.key not in ("id", "url", "revision")
    }
    updates["revision"] = case((content_changed, old.revision + 1), else_=old.revision)
    return stmt.on_conflict_do_update(
        index_elements=[old.url], set_=updates, where=or_(content_changed, labels_changed)
    ).returning(old.url)


def _failure_upsert(dialect: str) -> _Upsert:
    stmt = _insert(dialect, FailureRow)
    new, old = stmt.excluded, _FAILURES
    updates = {column.key: new[column.key] for column in _FAILURES if column.key != "url"}
    # Out-of-order delivery must not let an older failure overwrite a newer one.
    return stmt.on_conflict_do_update(
        index_elements=[old.url], set_=updates, where=new.failed_at > old.failed_at
    ).returning(old.url)


def _present(conn: Connection, column: ColumnElement[str], urls: list[str]) -> list[str]:
    return list(conn.scalars(select(column).where(column.in_(urls))))


def _checked(limit: int) -> int:
    if limit < 0:
        raise ValueError(f"limit must not be negative, got {limit}")
    return limit


def _from_row(kind: type[_Stored], row: Base) -> _Stored:
    return kind(**{field.name: getattr(row, field.name) for field in fields(kind)})


def _to_json(record: StoredArticle | StoredFailure) -> dict[str, object]:
    return {
        name: value.isoformat() if isinstance(value, datetime) else value
        for name, value in asdict(record).items()
    }


def _make_parent_dir(url: URL) -> None:
    database = url.database
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).parent.mkdir(parents=True, exist_ok=True)


def _tune_sqlite(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets the CLI read while the service writes; busy_timeout makes a second
    # writer wait for the lock instead of failing at once.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={_SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")  # durable across app crashes under WAL
    cursor.close()
