"""Article queries: filters, full-text search and opaque keyset cursors.

Results come newest-stored first by id, an order that never changes once a row exists,
so paging with a cursor neither repeats nor skips articles while new ones arrive.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, false, func, literal_column, select, text

from .schema import SEARCH_VECTOR_SQL, ArticleRow
from .search import SEARCH_TABLE

__all__ = [
    "ArticleQuery",
    "InvalidCursor",
    "decode_cursor",
    "encode_cursor",
    "select_articles",
    "site_of_host",
]

_CURSOR_VERSION = 1


class InvalidCursor(ValueError):
    """A cursor this store did not hand out."""


@dataclass(frozen=True, slots=True)
class ArticleQuery:
    """What to list; every filter is optional and they combine with AND.

    ``published_from`` is inclusive and ``published_to`` exclusive; articles without a
    publication date are left out when either is given. ``q`` matches articles that
    contain every word of it, in title or text.
    """

    language: str | None = None
    topic: str | None = None
    site: str | None = None
    story_id: int | None = None
    published_from: datetime | None = None
    published_to: datetime | None = None
    q: str | None = None
    limit: int = 50
    cursor: str | None = None


def encode_cursor(last_id: int) -> str:
    raw = json.dumps({"v": _CURSOR_VERSION, "before": last_id}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    """The id the next page starts below."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw)
        before = data["before"]
        if data["v"] != _CURSOR_VERSION or not isinstance(before, int) or isinstance(before, bool):
            raise TypeError(data)
    except (binascii.Error, ValueError, TypeError, KeyError, UnicodeDecodeError) as error:
        raise InvalidCursor(f"invalid cursor {cursor!r}") from error
    return before


def select_articles(query: ArticleQuery, dialect: str) -> Select[ArticleRow]:
    """The rows of one page plus one more, which tells whether a next page exists."""
    if query.limit < 0:
        raise ValueError(f"limit must not be negative, got {query.limit}")
    stmt = select(ArticleRow)
    for column, value in (
        (ArticleRow.language, query.language),
        (ArticleRow.topic, query.topic),
        (ArticleRow.site, _site(query.site)),
        (ArticleRow.story_id, query.story_id),
    ):
        if value is not None:
            stmt = stmt.where(column == value)
    if query.published_from is not None:
        stmt = stmt.where(ArticleRow.published_at >= query.published_from)
    if query.published_to is not None:
        stmt = stmt.where(ArticleRow.published_at < query.published_to)
    if query.cursor is not None:
        stmt = stmt.where(ArticleRow.id < decode_cursor(query.cursor))
    if query.q is not None and query.q.strip():
        stmt = _search(stmt, query.q, dialect)
    return stmt.order_by(ArticleRow.id.desc()).limit(query.limit + 1)


def _site(site: str | None) -> str | None:
    return None if site is None else site_of_host(site)


def site_of_host(host: str) -> str:
    """The site an article belongs to: its host, lowercased, without a leading ``www.``."""
    host = host.strip().lower().rstrip(".")
    return host[4:] if host.startswith("www.") else host


def _search(stmt: Select[ArticleRow], q: str, dialect: str) -> Select[ArticleRow]:
    if dialect == "postgresql":
        matches = literal_column(SEARCH_VECTOR_SQL).op("@@")(
            func.plainto_tsquery(literal_column("'simple'"), q)
        )
        return stmt.where(matches)
    phrases = [word.replace('"', " ").strip() for word in q.split()]
    phrases = [phrase for phrase in phrases if phrase]
    if not phrases:
        return stmt.where(false())
    # Each word quoted: FTS5 operators and punctuation in user input are plain text.
    expression = " ".join(f'"{phrase}"' for phrase in phrases)
    hits: Select[Any] = (
        select(literal_column("rowid"))
        .select_from(text(SEARCH_TABLE))
        .where(text("articles_fts MATCH :fts_query").bindparams(fts_query=expression))
    )
    return stmt.where(ArticleRow.id.in_(hits))
