"""PostgreSQL: compress article text with lz4 instead of pglz, where the server has it.

Article bodies (~3 KB) are compressed on their way into TOAST. With pglz that was a
tenth of the server's CPU per stored article (perf, docs/benchmarks.md); lz4 does the
same work several times faster for slightly larger rows. Only new and rewritten
values use it; stored rows stay readable either way. A server built without lz4 keeps
pglz. SQLite has no such setting, so this is a no-op there.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None

_TEXT_COLUMNS = {
    "articles": ("title", "text", "description"),
    "article_revisions": ("title", "text"),
}


def _set_compression(method: str) -> None:
    for table, columns in _TEXT_COLUMNS.items():
        for column in columns:
            op.execute(f"ALTER TABLE {table} ALTER COLUMN {column} SET COMPRESSION {method}")


def _server_has_lz4() -> bool:
    # The setting lists lz4 among its values only when the server was built with it.
    query = sa.text(
        "SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'"
    )
    return bool(op.get_bind().scalar(query))


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql" and _server_has_lz4():
        _set_compression("lz4")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _set_compression("default")
