"""SQLAlchemy 2 typed declarative tables for the storage service.

The tables are created and changed by the Alembic migrations in ``migrations/``; this
module is their description for queries (and for ``alembic revision --autogenerate``).
Full-text search needs dialect-specific DDL that only the migrations hold: an FTS5
table kept in step by triggers on SQLite, a GIN expression index on PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Double,
    ForeignKey,
    Integer,
    String,
    Text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from shared.contracts import MAX_URL_LENGTH

__all__ = [
    "BAND_COLUMNS",
    "MAX_SITE_LENGTH",
    "SEARCH_VECTOR_SQL",
    "ArticleRevisionRow",
    "ArticleRow",
    "ArticleUrlRow",
    "Base",
    "FailureRow",
    "UtcDateTime",
    "as_utc",
]

MAX_SITE_LENGTH = 253  # the longest DNS name
BAND_COLUMNS = tuple(f"simhash_band{n}" for n in range(8))  # see stories.bands
# Spelled once, as raw SQL, so that PostgreSQL matches queries to the GIN index on it:
# a bound ' ' separator would not match the indexed expression.
SEARCH_VECTOR_SQL = "to_tsvector('simple', title || ' ' || text)"


def as_utc(value: datetime) -> datetime:
    """Aware UTC; naive values are taken to be UTC already, as every producer stamps UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """A timestamp that is stored in UTC and always read back timezone-aware.

    SQLite keeps no offset, so values are normalised to UTC before binding.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        utc = as_utc(value)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return as_utc(value)


# JSONB on PostgreSQL: binary, indexable, and (unlike JSON) comparable.
_Json = JSON().with_variant(JSONB(), "postgresql")
# SQLite only auto-increments an INTEGER PRIMARY KEY, PostgreSQL gets a BIGSERIAL.
_Id = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UtcDateTime(), str: Text()}


class ArticleRow(Base):
    """One row per article, keyed by its canonical URL; re-saves update it in place.

    ``story_id`` is the id of the first-seen article of its near-duplicate group (its own
    id when it founded the group); ``simhash_band0..7`` are the 16-bit quarters of the
    signature and of the signature rotated by 8 bits, indexed so that near-duplicate
    candidates are found without a scan.
    """

    __tablename__ = "articles"

    id: Mapped[int] = mapped_column(_Id, primary_key=True, autoincrement=True)
    canonical_url: Mapped[str] = mapped_column(String(MAX_URL_LENGTH), unique=True)
    url: Mapped[str] = mapped_column(String(MAX_URL_LENGTH))
    final_url: Mapped[str]
    site: Mapped[str] = mapped_column(String(MAX_SITE_LENGTH), index=True)
    title: Mapped[str]
    text: Mapped[str]
    description: Mapped[str | None]
    authors: Mapped[list[str]] = mapped_column(_Json)
    published_at: Mapped[datetime | None] = mapped_column(index=True)
    modified_at: Mapped[datetime | None]
    site_name: Mapped[str | None]
    top_image: Mapped[str | None]
    tags: Mapped[list[str]] = mapped_column(_Json)
    language: Mapped[str] = mapped_column(index=True)
    language_confidence: Mapped[float] = mapped_column(Double())
    topic: Mapped[str | None] = mapped_column(index=True)
    topic_confidence: Mapped[float | None] = mapped_column(Double())
    topic_probabilities: Mapped[dict[str, float]] = mapped_column(_Json)
    needs_review: Mapped[bool]
    topic_reason: Mapped[str | None]
    model_version: Mapped[str]
    extraction_method: Mapped[str]
    submitted_at: Mapped[datetime]
    fetched_at: Mapped[datetime]
    stored_at: Mapped[datetime] = mapped_column(index=True)
    timings: Mapped[dict[str, float]] = mapped_column(_Json)
    revision: Mapped[int]
    content_hash: Mapped[str] = mapped_column(String(64))
    simhash: Mapped[str | None] = mapped_column(String(16))
    simhash_band0: Mapped[int | None] = mapped_column(Integer(), index=True)
    simhash_band1: Mapped[int | None] = mapped_column(Integer(), index=True)
    simhash_band2: Mapped[int | None] = mapped_column(Integer(), index=True)
    simhash_band3: Mapped[int | None] = mapped_column(Integer(), index=True)
    simhash_band4: Mapped[int | None] = mapped_column(Integer(), index=True)
    simhash_band5: Mapped[int | None] = mapped_column(Integer(), index=True)
    simhash_band6: Mapped[int | None] = mapped_column(Integer(), index=True)
    simhash_band7: Mapped[int | None] = mapped_column(Integer(), index=True)
    story_id: Mapped[int | None] = mapped_column(_Id, index=True)


class ArticleUrlRow(Base):
    """Every submitted URL and the canonical URL of the article it resolved to, first time.

    Later deliveries of a URL are stored under the same article even if the page's
    canonical link changed meanwhile, so a URL published twice is stored once.
    """

    __tablename__ = "article_urls"

    url: Mapped[str] = mapped_column(String(MAX_URL_LENGTH), primary_key=True)
    canonical_url: Mapped[str] = mapped_column(String(MAX_URL_LENGTH), index=True)


class ArticleRevisionRow(Base):
    """Superseded content: a trigger copies an article's row here when its content changes."""

    __tablename__ = "article_revisions"

    article_id: Mapped[int] = mapped_column(
        _Id, ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True
    )
    revision: Mapped[int] = mapped_column(primary_key=True)
    final_url: Mapped[str]
    title: Mapped[str]
    text: Mapped[str]
    content_hash: Mapped[str] = mapped_column(String(64))
    simhash: Mapped[str | None] = mapped_column(String(16))
    fetched_at: Mapped[datetime]
    stored_at: Mapped[datetime]


class FailureRow(Base):
    """The latest permanent failure of each URL."""

    __tablename__ = "failures"

    url: Mapped[str] = mapped_column(String(MAX_URL_LENGTH), primary_key=True)
    stage: Mapped[str]
    reason: Mapped[str]
    submitted_at: Mapped[datetime]
    failed_at: Mapped[datetime] = mapped_column(index=True)
    timings: Mapped[dict[str, float]] = mapped_column(_Json)
