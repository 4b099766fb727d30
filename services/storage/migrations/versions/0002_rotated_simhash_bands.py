"""Four more SimHash bands, over the signature rotated by 8 bits, for story look-ups.

Two signatures a few bits apart share one of the first four bands only when the
differing bits leave one of them whole; the rotated bands straddle their boundaries, so
most pairs that miss there share one of these (docs/storage.md, Stories). Existing
rows get their values from their stored signature.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None

_NEW_BANDS = range(4, 8)
_CHUNK = 1000


def _rotated_bands(simhash: str) -> dict[str, int]:
    # Spelled out rather than imported: a migration must not change when the code does.
    value = int(simhash, 16)
    rotated = ((value << 8) | (value >> 56)) & 0xFFFF_FFFF_FFFF_FFFF
    return {f"b{band}": rotated >> (16 * (7 - band)) & 0xFFFF for band in _NEW_BANDS}


def upgrade() -> None:
    for band in _NEW_BANDS:
        op.add_column("articles", sa.Column(f"simhash_band{band}", sa.Integer(), nullable=True))
    bind = op.get_bind()
    rows = bind.execute(
        sa.text("SELECT id, simhash FROM articles WHERE simhash IS NOT NULL ORDER BY id")
    ).all()
    update = sa.text(
        "UPDATE articles SET "
        + ", ".join(f"simhash_band{band} = :b{band}" for band in _NEW_BANDS)
        + " WHERE id = :id"
    )
    for start in range(0, len(rows), _CHUNK):
        values = [
            {"id": article_id, **_rotated_bands(simhash)}
            for article_id, simhash in rows[start : start + _CHUNK]
            if len(simhash) == 16
        ]
        if values:
            bind.execute(update, values)
    for band in _NEW_BANDS:
        op.create_index(f"ix_articles_simhash_band{band}", "articles", [f"simhash_band{band}"])


def downgrade() -> None:
    for band in _NEW_BANDS:
        op.drop_index(f"ix_articles_simhash_band{band}", table_name="articles")
        # Plain SQL: SQLite (3.35+) drops a column in place, while Alembic's batch mode
        # would rebuild the table without its triggers.
        op.execute(f"ALTER TABLE articles DROP COLUMN simhash_band{band}")
