"""``newsflow articles``: read the store; ``newsflow db upgrade|current``: its schema.

Reading never changes the schema: a database that is not at the latest migration is
reported, with the command that upgrades it.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from typing import Any

from services.storage import migrate
from services.storage.database import create_database_engine
from services.storage.query import ArticleQuery, InvalidCursor
from services.storage.repository import ArticleStore
from services.storage.schema import as_utc
from services.storage.settings import StorageSettings
from shared.console import print_json_line, print_table

__all__ = ["EXIT_NOT_MIGRATED", "register"]

EXIT_NOT_MIGRATED = 3


def cmd_articles(args: argparse.Namespace) -> int:
    store = ArticleStore.from_url(StorageSettings().database_url)
    try:
        if not _at_head(store):
            return EXIT_NOT_MIGRATED
        return _show_failures(store, args) if args.failed else _show_articles(store, args)
    finally:
        store.close()


def _at_head(store: ArticleStore) -> bool:
    current, head = migrate.current_revision(store.engine), migrate.head_revision()
    if current == head:
        return True
    print(
        f"newsflow: the database schema is at {current or 'nothing'}, not {head}: "
        "run `newsflow db upgrade`",
        file=sys.stderr,
    )
    return False


def _show_failures(store: ArticleStore, args: argparse.Namespace) -> int:
    failures = store.list_failures(limit=args.limit, stage=args.stage)
    if args.json:
        for failure in failures:
            print_json_line(failure.to_json())
    else:
        print_table(["stage", "reason", "url"], [[f.stage, f.reason, f.url] for f in failures])
    return 0


def _show_articles(store: ArticleStore, args: argparse.Namespace) -> int:
    query = ArticleQuery(
        language=args.lang,
        topic=args.topic,
        site=args.site,
        story_id=args.story,
        published_from=args.since,
        published_to=args.until,
        q=args.q,
        limit=args.limit,
        cursor=args.cursor,
    )
    try:
        page = store.find_articles(query)
    except InvalidCursor as error:
        print(f"newsflow articles: {error}", file=sys.stderr)
        return 2
    if args.json:
        for article in page.articles:
            print_json_line(article.to_json())
    else:
        print_table(
            ["id", "story", "lang", "topic", "published", "title", "url"],
            [
                [
                    str(a.id),
                    str(a.story_id),
                    a.language,
                    a.topic or "-",
                    a.published_at.date().isoformat() if a.published_at else "-",
                    a.title,
                    a.url,
                ]
                for a in page.articles
            ],
        )
    if page.next_cursor:
        print(f"more: --cursor {page.next_cursor}", file=sys.stderr)
    return 0


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    engine = create_database_engine(StorageSettings().database_url)
    try:
        migrate.upgrade(engine, args.revision)
        print(f"database at {migrate.current_revision(engine)}")
    finally:
        engine.dispose()
    return 0


def cmd_db_current(_args: argparse.Namespace) -> int:
    engine = create_database_engine(StorageSettings().database_url)
    try:
        current, head = migrate.current_revision(engine), migrate.head_revision()
    finally:
        engine.dispose()
    print(f"current: {current or 'none'}  head: {head}")
    return 0 if current == head else EXIT_NOT_MIGRATED


def _moment(value: str) -> datetime:
    """An ISO date or date-time; without an offset it is UTC."""
    try:
        return as_utc(datetime.fromisoformat(value))
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"not an ISO date or date-time: {value!r}") from error


def register(commands: Any) -> None:
    articles = commands.add_parser("articles", help="list stored articles (newest stored first)")
    articles.add_argument("--json", action="store_true", help="JSON Lines")
    articles.add_argument("--lang", help="ISO 639-1 language code")
    articles.add_argument("--topic")
    articles.add_argument("--site", help="host the article came from, e.g. example.org")
    articles.add_argument("--since", type=_moment, help="published at or after (ISO date/time)")
    articles.add_argument("--until", type=_moment, help="published before (ISO date/time)")
    articles.add_argument("--story", type=int, help="only the articles of this story id")
    articles.add_argument("--q", help="full-text search: every word, in title or text")
    articles.add_argument("--limit", type=int, default=50)
    articles.add_argument("--cursor", help="continue where a previous listing stopped")
    articles.add_argument("--failed", action="store_true", help="list final failures instead")
    articles.add_argument("--stage", help="with --failed: only failures at this stage")
    articles.set_defaults(run=cmd_articles)

    db = commands.add_parser("db", help="storage database schema")
    actions = db.add_subparsers(dest="db_command", required=True)
    upgrade = actions.add_parser("upgrade", help="apply pending migrations")
    upgrade.add_argument("--revision", default="head", help="target revision (default: head)")
    upgrade.set_defaults(run=cmd_db_upgrade)
    current = actions.add_parser("current", help="show the schema revision; exit 3 if behind")
    current.set_defaults(run=cmd_db_current)
