"""SQLite: the full-text index leaves the writer's transaction for a file of its own.

Triggers kept an FTS5 index in the articles' own database, so every stored article was
tokenised inside the write transaction, under the one write lock: about half of a
batch's time. Now the triggers only note which articles changed, in ``search_queue``,
and ``services/storage/search.py`` indexes them from another thread into a second
database file, which has a write lock of its own. ``search_generation`` names this
queue; an index built from another queue (a copied file, a downgrade and upgrade) is
rebuilt. The index file itself is built on first use, so nothing is enqueued here.
PostgreSQL keeps its GIN index: a no-op there.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30
"""

from __future__ import annotations

import importlib

from alembic import op

revision = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None

_FTS_TRIGGERS = ("articles_fts_insert", "articles_fts_delete", "articles_fts_update")

# AUTOINCREMENT: sequence numbers never go back, even when the queue has been emptied,
# so the index's high-water mark stays meaningful.
_QUEUE = [
    "CREATE TABLE search_queue ("
    "seq INTEGER PRIMARY KEY AUTOINCREMENT, article_id INTEGER NOT NULL)",
    "CREATE TABLE search_generation (generation TEXT NOT NULL)",
    "INSERT INTO search_generation VALUES (lower(hex(randomblob(16))))",
    """CREATE TRIGGER search_queue_insert AFTER INSERT ON articles BEGIN
        INSERT INTO search_queue (article_id) VALUES (new.id);
    END""",
    """CREATE TRIGGER search_queue_delete AFTER DELETE ON articles BEGIN
        INSERT INTO search_queue (article_id) VALUES (old.id);
    END""",
    """CREATE TRIGGER search_queue_update AFTER UPDATE OF title, text ON articles
    WHEN old.title IS NOT new.title OR old.text IS NOT new.text BEGIN
        INSERT INTO search_queue (article_id) VALUES (new.id);
    END""",
]

# The index as revision 0001 created it, for a downgrade.
_REVISION_0001 = importlib.import_module(
    "services.storage.migrations.versions.0001_articles_stories_failures"
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for trigger in _FTS_TRIGGERS:
        op.execute(f"DROP TRIGGER {trigger}")
    op.execute("DROP TABLE main.articles_fts")
    for statement in _QUEUE:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for trigger in ("search_queue_insert", "search_queue_delete", "search_queue_update"):
        op.execute(f"DROP TRIGGER {trigger}")
    op.execute("DROP TABLE search_generation")
    op.execute("DROP TABLE search_queue")
    for statement in _REVISION_0001.SQLITE_SEARCH:
        op.execute(statement)
    op.execute("INSERT INTO main.articles_fts(articles_fts) VALUES ('rebuild')")
