"""The SQLite article upsert (``upserts``) that bypasses SQLAlchemy's per-row parameter handling."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import sqlite

from services.storage.repository import ArticleStore
from services.storage.schema import ArticleRow
from services.storage.upserts import article_upsert
from services.storage.writes import prepare_articles, write_articles
from tests.unit.storage.factories import T0, article


def _batch(dialect: str) -> list[dict[str, object]]:
    """Rows as ``save_articles`` prepares them: for SQLite, with their driver values."""
    articles = [
        article("https://a.example/plain"),
        article("https://a.example/arabic", title="هدنة في سوريا", text="نص الخبر " * 50),
        article("https://a.example/sparse", published_at=None, topic=None, tags=[]),
        article("https://a.example/tagged", tags=["politics", "سوريا"], simhash="0123456789abcdef"),
    ]
    return [
        {**row, "id": number, "story_id": number}
        for number, row in enumerate(prepare_articles(articles, T0, dialect), start=1)
    ]


def _stored(store: ArticleStore) -> list[dict[str, object]]:
    """Every column as SQLite holds it, but the ids and stories ``write_articles`` assigns."""
    with store.engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT * FROM articles ORDER BY canonical_url").mappings()
        return [{k: v for k, v in row.items() if k not in ("id", "story_id")} for row in rows]


def _store(path: Path) -> ArticleStore:
    store = ArticleStore.from_url(f"sqlite:///{path}")
    store.create_schema()
    return store


# Rows prepared for SQLite carry their driver values; others are bound under the lock.
@pytest.mark.parametrize("prepared_for", ["sqlite", "postgresql"])
def test_stores_exactly_what_sqlalchemys_executemany_stores(
    tmp_path: Path, prepared_for: str
) -> None:
    ours, reference = _store(tmp_path / "ours.db"), _store(tmp_path / "reference.db")
    try:
        with ours.engine.begin() as conn:
            write_articles(conn, _batch(prepared_for), distance=0)
        with reference.engine.begin() as conn:
            conn.execute(article_upsert(sqlite.insert(ArticleRow)), _batch("postgresql")).all()

        assert _stored(ours) == _stored(reference)  # JSON, timestamps, NULLs, byte for byte
        assert len(_stored(ours)) == 4
    finally:
        ours.close()
        reference.close()


def test_a_batch_beyond_the_bound_parameter_limit_is_split(tmp_path: Path) -> None:
    store = _store(tmp_path / "newsflow.db")

    @sa.event.listens_for(store.engine, "connect")
    def small_limit(dbapi_connection: sqlite3.Connection, _record: object) -> None:
        # 100 parameters: two rows of 39 columns per statement
        dbapi_connection.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 100)

    store.engine.dispose()  # new connections, with the small limit
    try:
        batch = [article(f"https://split.example/{n}") for n in range(7)]

        assert store.save_articles(batch) == 7
        assert store.save_articles(batch) == 0  # the same again: all no-ops
        assert len(_stored(store)) == 7
    finally:
        store.close()


def test_sqlite_write_path_fetches_rows_in_aggregates_not_one_by_one(tmp_path: Path) -> None:
    """The driver releases the GIL for each row it steps through, and a busy thread
    beside it makes each retake wait up to 5 ms: look-ups return one JSON row each."""
    store = _store(tmp_path / "newsflow.db")
    writer = threading.get_ident()
    fetched: list[tuple[object, ...]] = []  # by this thread: not the store's own threads

    @sa.event.listens_for(store.engine, "connect")
    def count_rows(dbapi_connection: sqlite3.Connection, _record: object) -> None:
        def factory(_cursor: sqlite3.Cursor, row: tuple[object, ...]) -> tuple[object, ...]:
            if threading.get_ident() == writer:
                fetched.append(row)
            return row

        dbapi_connection.row_factory = factory

    store.engine.dispose()
    try:
        signature = "0123456789abcdef"
        first = [article(f"https://a.example/{n}", simhash=signature) for n in range(300)]
        assert store.save_articles(first) == 300
        fetched.clear()
        # URLs seen before, stored articles to find, near-copies as story candidates.
        again = [
            article(f"https://a.example/{n}", text=f"Changed {n}.", simhash=signature)
            for n in range(300)
        ]
        assert store.save_articles(again) == 300

        assert len(fetched) < 10
        assert len({a.story_id for a in store.list_articles(limit=400)}) == 1
    finally:
        store.close()
