"""SQLAlchemy 2 typed declarative tables for the storage service.

The tables are created with ``create_all`` for now; Alembic migrations come later.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, BigInteger, DateTime, Double, Integer, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from shared.contracts import MAX_URL_LENGTH

__all__ = ["ArticleRow", "Base", "FailureRow", "UtcDateTime", "as_utc"]


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


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UtcDateTime(), str: Text()}


class ArticleRow(Base):
    """One row per submitted URL; re-saves update it in place and bump ``revision``."""

    __tablename__ = "articles"

    # SQLite only auto-increments an INTEGER PRIMARY KEY, PostgreSQL gets a BIGSERIAL.
    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    url: Mapped[str] = mapped_column(String(MAX_URL_LENGTH), unique=True)
    final_url: Mapped[str]
    title: Mapped[str]
    text: Mapped[str]
    description: Mapped[str | None]
    authors: Mapped[list[str]] = mapped_column(_Json)
    published_at: Mapped[datetime | None]
    site_name: Mapped[str | None]
    language: Mapped[str] = mapped_column(index=True)
    language_confidence: Mapped[float] = mapped_column(Double())
    topic: Mapped[str | None] = mapped_column(index=True)
    topic_confidence: Mapped[float | None] = mapped_column(Double())
    model_version: Mapped[str]
    extraction_method: Mapped[str]
    submitted_at: Mapped[datetime]
    fetched_at: Mapped[datetime]
    stored_at: Mapped[datetime] = mapped_column(index=True)
    timings: Mapped[dict[str, float]] = mapped_column(_Json)
    revision: Mapped[int]
    content_hash: Mapped[str] = mapped_column(String(64))


class FailureRow(Base):
    """The latest permanent failure of each URL."""

    __tablename__ = "failures"

    url: Mapped[str] = mapped_column(String(MAX_URL_LENGTH), primary_key=True)
    stage: Mapped[str]
    reason: Mapped[str]
    submitted_at: Mapped[datetime]
    failed_at: Mapped[datetime] = mapped_column(index=True)
    timings: Mapped[dict[str, float]] = mapped_column(_Json)
