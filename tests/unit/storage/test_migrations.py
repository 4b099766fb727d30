"""Alembic migrations: applied once however many replicas start, and matching the models."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from services.storage import migrate
from services.storage.database import create_database_engine
from services.storage.schema import Base
from services.storage.stories import bands
from tests.unit.storage.factories import Database, article

# Full-text search lives only in the migrations (dialect-specific DDL).
_SEARCH_OBJECTS = ("articles_fts", "ix_articles_search", "search_")


def _not_search(obj: Any, name: str | None, *_: Any) -> bool:
    return not (name or "").startswith(_SEARCH_OBJECTS)


def test_upgrade_brings_a_new_database_to_head(database: Database) -> None:
    engine = create_database_engine(database.url)
    try:
        assert migrate.current_revision(engine) is None
        migrate.upgrade(engine)
        migrate.upgrade(engine)  # again: nothing to do
        assert migrate.current_revision(engine) == migrate.head_revision()
    finally:
        engine.dispose()


def test_migrated_schema_matches_the_models(database: Database) -> None:
    store = database.store()
    with store.engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"include_object": _not_search, "compare_type": True}
        )
        assert compare_metadata(context, Base.metadata) == []


def test_replicas_starting_together_migrate_once(database: Database) -> None:
    engines = [create_database_engine(database.url) for _ in range(3)]
    start = threading.Barrier(len(engines))

    def start_replica(engine: sa.Engine) -> str | None:
        start.wait()
        migrate.upgrade(engine)
        return migrate.current_revision(engine)

    try:
        with ThreadPoolExecutor(len(engines)) as pool:
            revisions = list(pool.map(start_replica, engines))
    finally:
        for engine in engines:
            engine.dispose()

    assert revisions == [migrate.head_revision()] * len(engines)
    assert database.store(migrate=False).save_articles([article("https://a.example/1")]) == 1


def test_downgrade_and_upgrade_again(database: Database) -> None:
    store = database.store()
    with store.engine.connect() as conn, conn.begin():
        command.downgrade(migrate.alembic_config(conn), "base")
    assert "articles" not in sa.inspect(store.engine).get_table_names()

    store.create_schema()
    assert store.save_articles([article("https://a.example/again")]) == 1


def test_rotated_bands_are_filled_in_for_articles_stored_before_them(
    database: Database,
) -> None:
    store = database.store()
    signature = 0x0123_4567_89AB_CDEF
    store.save_articles([article("https://a.example/old", simhash=f"{signature:016x}")])
    store.save_articles([article("https://a.example/unsigned")])
    with store.engine.connect() as conn, conn.begin():
        command.downgrade(migrate.alembic_config(conn), "0001")

    store.create_schema()

    with store.engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT url, simhash_band4, simhash_band5, simhash_band6, simhash_band7 "
                "FROM articles ORDER BY url"
            )
        ).all()
    assert [tuple(row) for row in rows] == [
        ("https://a.example/old", *bands(signature)[4:]),
        ("https://a.example/unsigned", None, None, None, None),
    ]


def test_tables_from_before_migrations_are_refused(database: Database) -> None:
    engine = create_database_engine(database.url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("CREATE TABLE articles (id INTEGER PRIMARY KEY)"))
        with pytest.raises(migrate.UnversionedDatabase, match="move it aside"):
            migrate.upgrade(engine)
    finally:
        engine.dispose()


def test_migrations_ship_inside_the_package() -> None:
    assert (migrate.MIGRATIONS_DIR / "env.py").is_file()
    assert migrate.head_revision() == "0004"


def test_article_text_is_compressed_with_lz4_where_the_server_has_it(
    database: Database,
) -> None:
    if database.dialect != "postgresql":
        pytest.skip("a PostgreSQL column setting")
    store = database.store()
    store.save_articles([article("https://a.example/long", text="word " * 2_000)])
    with store.engine.connect() as conn:
        if not conn.scalar(
            sa.text(
                "SELECT 'lz4' = ANY(enumvals) FROM pg_settings "
                "WHERE name = 'default_toast_compression'"
            )
        ):
            pytest.skip("this PostgreSQL server was built without lz4")
        methods = conn.execute(
            sa.text(
                "SELECT pg_column_compression(text), pg_column_compression(title) FROM articles"
            )
        ).one()
    assert tuple(methods) == ("lz4", None)  # the title is too short to compress
