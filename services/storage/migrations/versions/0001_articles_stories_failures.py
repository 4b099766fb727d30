"""Articles keyed by canonical URL, their URLs and revisions, stories, failures, search.

Revision ID: 0001
Revises:
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

_URL = sa.String(2048)
_TIME = sa.DateTime(timezone=True)
_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

# External-content FTS5 table: the text lives once, in articles; triggers keep the index
# in step. Upserts that turn into updates fire UPDATE triggers only.
SQLITE_SEARCH = [
    """CREATE VIRTUAL TABLE articles_fts USING fts5(
        title, text, content='articles', content_rowid='id',
        tokenize='unicode61 remove_diacritics 2')""",
    """CREATE TRIGGER articles_fts_insert AFTER INSERT ON articles BEGIN
        INSERT INTO articles_fts(rowid, title, text) VALUES (new.id, new.title, new.text);
    END""",
    """CREATE TRIGGER articles_fts_delete AFTER DELETE ON articles BEGIN
        INSERT INTO articles_fts(articles_fts, rowid, title, text)
        VALUES ('delete', old.id, old.title, old.text);
    END""",
    """CREATE TRIGGER articles_fts_update AFTER UPDATE OF title, text ON articles
    WHEN old.title IS NOT new.title OR old.text IS NOT new.text BEGIN
        INSERT INTO articles_fts(articles_fts, rowid, title, text)
        VALUES ('delete', old.id, old.title, old.text);
        INSERT INTO articles_fts(rowid, title, text) VALUES (new.id, new.title, new.text);
    END""",
]
# 'simple': no stemming and no stop words, so every language (Arabic too) is tokenised
# the same way. The expression must match SEARCH_VECTOR_SQL in schema.py.
_POSTGRES_SEARCH = [
    "CREATE INDEX ix_articles_search ON articles "
    "USING gin (to_tsvector('simple', title || ' ' || text))",
]

# When an update changes an article's content, the content it replaces becomes history.
# A trigger, so that the batch write path pays nothing for it on inserts.
_REVISION_COLUMNS = (
    "article_id, revision, final_url, title, text, content_hash, simhash, fetched_at, stored_at"
)
_OLD_VALUES = (
    "old.id, old.revision, old.final_url, old.title, old.text, old.content_hash, "
    "old.simhash, old.fetched_at, old.stored_at"
)
_SQLITE_REVISIONS = [
    f"""CREATE TRIGGER articles_keep_revision AFTER UPDATE OF content_hash ON articles
    WHEN old.content_hash IS NOT new.content_hash BEGIN
        INSERT INTO article_revisions ({_REVISION_COLUMNS}) VALUES ({_OLD_VALUES});
    END""",
]
_POSTGRES_REVISIONS = [
    f"""CREATE FUNCTION articles_keep_revision() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO article_revisions ({_REVISION_COLUMNS}) VALUES ({_OLD_VALUES});
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER articles_keep_revision AFTER UPDATE OF content_hash ON articles
    FOR EACH ROW WHEN (old.content_hash IS DISTINCT FROM new.content_hash)
    EXECUTE FUNCTION articles_keep_revision()""",
]


def upgrade() -> None:
    op.create_table(
        "articles",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("canonical_url", _URL, nullable=False),
        sa.Column("url", _URL, nullable=False),
        sa.Column("final_url", sa.Text(), nullable=False),
        sa.Column("site", sa.String(253), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("authors", _JSON, nullable=False),
        sa.Column("published_at", _TIME, nullable=True),
        sa.Column("modified_at", _TIME, nullable=True),
        sa.Column("site_name", sa.Text(), nullable=True),
        sa.Column("top_image", sa.Text(), nullable=True),
        sa.Column("tags", _JSON, nullable=False),
        sa.Column("language", sa.Text(), nullable=False),
        sa.Column("language_confidence", sa.Double(), nullable=False),
        sa.Column("topic", sa.Text(), nullable=True),
        sa.Column("topic_confidence", sa.Double(), nullable=True),
        sa.Column("topic_probabilities", _JSON, nullable=False),
        sa.Column("needs_review", sa.Boolean(), nullable=False),
        sa.Column("topic_reason", sa.Text(), nullable=True),
        sa.Column("model_version", sa.Text(), nullable=False),
        sa.Column("extraction_method", sa.Text(), nullable=False),
        sa.Column("submitted_at", _TIME, nullable=False),
        sa.Column("fetched_at", _TIME, nullable=False),
        sa.Column("stored_at", _TIME, nullable=False),
        sa.Column("timings", _JSON, nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("simhash", sa.String(16), nullable=True),
        *(sa.Column(f"simhash_band{n}", sa.Integer(), nullable=True) for n in range(4)),
        sa.Column("story_id", _ID, nullable=True),
        sa.UniqueConstraint("canonical_url"),
    )
    for column in ("site", "published_at", "language", "topic", "stored_at", "story_id"):
        op.create_index(f"ix_articles_{column}", "articles", [column])
    for n in range(4):
        op.create_index(f"ix_articles_simhash_band{n}", "articles", [f"simhash_band{n}"])

    op.create_table(
        "article_urls",
        sa.Column("url", _URL, primary_key=True),
        sa.Column("canonical_url", _URL, nullable=False),
    )
    op.create_index("ix_article_urls_canonical_url", "article_urls", ["canonical_url"])

    op.create_table(
        "article_revisions",
        sa.Column(
            "article_id",
            _ID,
            sa.ForeignKey("articles.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("revision", sa.Integer(), primary_key=True),
        sa.Column("final_url", sa.Text(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("simhash", sa.String(16), nullable=True),
        sa.Column("fetched_at", _TIME, nullable=False),
        sa.Column("stored_at", _TIME, nullable=False),
    )

    op.create_table(
        "failures",
        sa.Column("url", _URL, primary_key=True),
        sa.Column("stage", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("submitted_at", _TIME, nullable=False),
        sa.Column("failed_at", _TIME, nullable=False),
        sa.Column("timings", _JSON, nullable=False),
    )
    op.create_index("ix_failures_failed_at", "failures", ["failed_at"])

    if op.get_bind().dialect.name == "sqlite":
        statements = SQLITE_SEARCH + _SQLITE_REVISIONS
    else:
        statements = _POSTGRES_SEARCH + _POSTGRES_REVISIONS
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    op.drop_table("failures")
    op.drop_table("article_revisions")
    op.drop_table("article_urls")
    op.drop_table("articles")  # its triggers go with it
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE articles_fts")
    else:
        op.execute("DROP FUNCTION articles_keep_revision()")
