"""The upsert statements of the write path (``writes``), per dialect."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

import pydantic_core
from sqlalchemy import Connection, Row, and_, case, literal_column, or_, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.expression import ColumnElement

from .schema import ArticleRow, Base, FailureRow

__all__ = [
    "POSTGRES_ARTICLE_UPSERT",
    "SQLITE_ARTICLE_UPSERT",
    "SqliteArticleUpsert",
    "Written",
    "article_upsert",
    "as_json",
    "failure_upsert",
]

_ARTICLES = ArticleRow.__table__.c
_FAILURES = FailureRow.__table__.c
# Columns an update never touches: identity, first submitted URL, story, and revision
# (which is computed).
_KEPT_ON_UPDATE = frozenset({"id", "canonical_url", "url", "revision", "story_id"})
# What the article upsert returns for each row it wrote: id, canonical_url, story_id.
Written = Row[int, str, int]


def _insert(dialect: str, row: type[Base]) -> sqlite.Insert | postgresql.Insert:
    return postgresql.insert(row) if dialect == "postgresql" else sqlite.insert(row)


def article_upsert(stmt: sqlite.Insert | postgresql.Insert, *, returning: bool = True) -> Any:
    new, old = stmt.excluded, _ARTICLES
    content_changed = old.content_hash != new.content_hash
    labels_changed = or_(
        old.language != new.language,
        old.topic.is_distinct_from(new.topic),
        old.model_version != new.model_version,
    )
    updates: dict[str, ColumnElement[Any]] = {
        column.key: new[column.key] for column in _ARTICLES if column.key not in _KEPT_ON_UPDATE
    }
    updates["revision"] = case((content_changed, old.revision + 1), else_=old.revision)
    upsert = stmt.on_conflict_do_update(
        index_elements=[old.canonical_url],
        set_=updates,
        where=and_(new.fetched_at >= old.fetched_at, or_(content_changed, labels_changed)),
    )
    # RETURNING yields only the rows actually written, skipped no-ops excluded.
    return upsert.returning(old.id, old.canonical_url, old.story_id) if returning else upsert


def _postgres_article_upsert() -> Any:
    """The batch as one JSON parameter, unpacked by the server into rows.

    A multi-row ``VALUES`` list of 256 rows has ~10,000 placeholders: psycopg re-parses
    such a long query on every execution (it caches only short ones) and so does the
    server. One parameter keeps the statement short, constant and cheap on both sides.
    """
    names = [column.key for column in _ARTICLES]
    columns: list[ColumnElement[Any]] = [literal_column(f"batch.{name}") for name in names]
    rows = select(*columns).select_from(
        text("jsonb_populate_recordset(NULL::articles, CAST(:rows AS jsonb)) AS batch")
    )
    return article_upsert(postgresql.insert(ArticleRow).from_select(names, rows))


POSTGRES_ARTICLE_UPSERT = _postgres_article_upsert()


class SqliteArticleUpsert:
    """The article upsert as one multi-row statement handed straight to the driver.

    SQLAlchemy's own executemany builds a parameter dictionary per row and runs it
    through each column's type; on batches of 256 that was 6-13% of the write path's
    CPU. The statement is SQLAlchemy's (``article_upsert``, compiled once), with its
    ``VALUES`` group repeated once per row; values go through the same bind
    processors (JSON, UTC timestamps), in a flat tuple.

    The processors run before the transaction (``prebind``): SQLite has one writer,
    so with several batches in hand, work done while holding the write lock is work
    the other batches wait for. Only what the transaction decides (id, story, key) is
    filled in under the lock.

    It returns how many rows it wrote, not the rows: on SQLite the batch holds the
    only write lock from before it looks rows up, so it knows what it inserts.
    """

    def __init__(self) -> None:
        dialect = sqlite.dialect()
        self._columns = [column.key for column in _ARTICLES]
        self._binders = [
            column.type.dialect_impl(dialect).bind_processor(dialect) for column in _ARTICLES
        ]
        compiled = article_upsert(sqlite.insert(ArticleRow), returning=False).compile(
            dialect=dialect, column_keys=self._columns
        )
        self._group = "(" + ", ".join(["?"] * len(self._columns)) + ")"
        self._head, values, self._tail = compiled.string.partition(f" VALUES {self._group}")
        if not values or list(compiled.positiontup or ())[: len(self._columns)] != self._columns:
            raise RuntimeError("unexpected shape of the compiled SQLite article upsert")
        # Parameters after the VALUES group: constants of the update (revision + 1).
        self._constants = tuple(
            compiled.binds[name].effective_value
            for name in (compiled.positiontup or ())[len(self._columns) :]
        )
        self._assigned = [(self._columns.index(name), name) for name in _ASSIGNED_IN_TRANSACTION]
        if any(self._binders[index] is not None for index, _ in self._assigned):
            raise RuntimeError("a column assigned in the transaction needs a bind processor")

    def prebind(self, row: dict[str, Any]) -> None:
        """Keep the row's values through the column processors, in column order."""
        row[_PREBOUND] = self._bind(row)

    def _bind(self, row: dict[str, Any]) -> list[Any]:
        return [
            value if binder is None else binder(value)
            for value, binder in zip(map(row.get, self._columns), self._binders, strict=True)
        ]

    def __call__(self, conn: Connection, rows: Sequence[dict[str, Any]]) -> int:
        written = 0
        driver = conn.connection.driver_connection
        if not isinstance(driver, sqlite3.Connection):
            raise TypeError(f"expected a sqlite3 connection, got {type(driver).__name__}")
        limit = driver.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
        per_statement = max(1, (limit - len(self._constants)) // len(self._columns))
        for start in range(0, len(rows), per_statement):
            part = rows[start : start + per_statement]
            sql = f"{self._head} VALUES {', '.join([self._group] * len(part))}{self._tail}"
            result = conn.exec_driver_sql(sql, (*self._flat(part), *self._constants))
            written += result.rowcount  # rows inserted or changed: SQLite's changes()
        return written

    def _flat(self, rows: Sequence[dict[str, Any]]) -> list[Any]:
        flat: list[Any] = []
        for row in rows:
            start = len(flat)
            flat.extend(row.get(_PREBOUND) or self._bind(row))
            for index, name in self._assigned:
                flat[start + index] = row[name]
        return flat


_PREBOUND = "_prebound"  # not a column: where ``prebind`` keeps a row's driver values
# Set by ``write_articles`` after the rows were prepared.
_ASSIGNED_IN_TRANSACTION = ("id", "story_id", "canonical_url")
SQLITE_ARTICLE_UPSERT = SqliteArticleUpsert()


def as_json(rows: Sequence[dict[str, Any]]) -> str:
    """pydantic-core's serializer: three times json.dumps's speed on these rows, and it
    writes datetimes itself (``prepare_articles`` has made them all aware)."""
    return pydantic_core.to_json(rows).decode()


def failure_upsert(dialect: str) -> Any:
    stmt = _insert(dialect, FailureRow)
    new, old = stmt.excluded, _FAILURES
    updates = {column.key: new[column.key] for column in _FAILURES if column.key != "url"}
    # Out-of-order delivery must not let an older failure overwrite a newer one.
    return stmt.on_conflict_do_update(
        index_elements=[old.url], set_=updates, where=new.failed_at > old.failed_at
    ).returning(old.url)
