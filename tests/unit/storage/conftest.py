"""Each storage test runs against SQLite and, when reachable, PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from services.storage.repository import ArticleStore
from tests.unit.storage.factories import Database, postgres_database, postgres_unavailable


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    if request.param == "sqlite":
        db = Database(f"sqlite:///{tmp_path / 'newsflow.db'}")
        yield db
        db.close()
        return
    if reason := postgres_unavailable():
        pytest.skip(reason)
    yield from postgres_database()


@pytest.fixture
def store(database: Database) -> ArticleStore:
    return database.store()
