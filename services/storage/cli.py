"""``newsflow articles``: read the store."""

from __future__ import annotations

import argparse
from typing import Any

from services.storage.repository import ArticleStore
from services.storage.settings import StorageSettings
from shared.console import print_json_line, print_table

__all__ = ["register"]


def cmd_articles(args: argparse.Namespace) -> int:
    store = ArticleStore.from_url(StorageSettings().database_url)
    store.create_schema()
    if args.failed:
        failures = store.list_failures(limit=args.limit)
        if args.json:
            for failure in failures:
                print_json_line(failure.to_json())
        else:
            print_table(["stage", "reason", "url"], [[f.stage, f.reason, f.url] for f in failures])
        return 0
    articles = store.list_articles(language=args.lang, topic=args.topic, limit=args.limit)
    if args.json:
        for article in articles:
            print_json_line(article.to_json())
    else:
        print_table(
            ["id", "lang", "topic", "title", "url"],
            [[str(a.id), a.language, a.topic or "-", a.title, a.url] for a in articles],
        )
    return 0


def register(commands: Any) -> None:
    articles = commands.add_parser("articles", help="list stored articles")
    articles.add_argument("--json", action="store_true", help="JSON Lines")
    articles.add_argument("--lang", help="ISO 639-1 language code")
    articles.add_argument("--topic")
    articles.add_argument("--limit", type=int, default=50)
    articles.add_argument("--failed", action="store_true", help="list final failures instead")
    articles.set_defaults(run=cmd_articles)
