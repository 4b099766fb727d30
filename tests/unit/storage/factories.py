"""Databases and messages for the storage tests.

Every test database is isolated: a SQLite file in the test's tmp_path, or a throwaway
PostgreSQL schema selected through the connection's search_path.
"""

from __future__ import annotations

import functools
import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from services.storage.repository import ArticleStore
from shared.contracts import ArticleClassified, StageFailed

__all__ = [
    "POSTGRES_URL",
    "T0",
    "Database",
    "article",
    "failure",
    "postgres_database",
    "postgres_unavailable",
]

POSTGRES_URL = os.environ.get(
    "NEWSFLOW_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


@functools.cache
def postgres_unavailable() -> str | None:
    """Why PostgreSQL cannot be used, or None; checked once per session."""
    try:
        engine = sa.create_engine(POSTGRES_URL, connect_args={"connect_timeout": 2})
        with engine.connect():
            pass
        engine.dispose()
    except (ImportError, sa.exc.SQLAlchemyError) as exc:
        detail = str(exc).splitlines()[0]
        return f"PostgreSQL not reachable at {POSTGRES_URL}: {type(exc).__name__}: {detail}"
    return None


class Database:
    """One isolated database; hands out stores on it, each with its own engine and pool."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._stores: list[ArticleStore] = []

    @property
    def dialect(self) -> str:
        return sa.make_url(self.url).get_backend_name()

    def store(self, *, migrate: bool = True, **options: Any) -> ArticleStore:
        store = ArticleStore.from_url(self.url, **options)
        if migrate:
            store.create_schema()
        self._stores.append(store)
        return store

    def close(self) -> None:
        for store in self._stores:
            store.close()


def postgres_database() -> Iterator[Database]:
    """A throwaway schema, selected through the connection's search_path."""
    schema = f"test_{uuid.uuid4().hex}"
    admin = sa.create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    url = sa.make_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    db = Database(url.render_as_string(hide_password=False))
    try:
        yield db
    finally:
        db.close()
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def article(url: str, **changes: Any) -> ArticleClassified:
    fields: dict[str, Any] = {
        "url": url,
        "final_url": url + "?amp",
        "submitted_at": T0,
        "fetched_at": T0 + timedelta(seconds=2),
        "title": f"Title of {url}",
        "text": f"Body of {url}.",
        "description": "A description",
        "authors": ["Ada Lovelace", "Alan Turing"],
        "published_at": T0 - timedelta(days=1),
        "site_name": "Example News",
        "extraction_method": "trafilatura",
        "language": "en",
        "language_confidence": 0.98,
        "topic": "science",
        "topic_confidence": 0.7,
        "model_version": "clf-1",
        "timings": {"fetcher": 0.25, "cleaner": 0.5},
    }
    return ArticleClassified(**(fields | changes))


def failure(url: str, failed_at: datetime = T0, reason: str = "HTTP 404") -> StageFailed:
    return StageFailed(
        url=url,
        submitted_at=T0,
        stage="fetcher",
        reason=reason,
        failed_at=failed_at,
        timings={"fetcher": 1.5},
    )
