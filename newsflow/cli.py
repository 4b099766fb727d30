"""The ``newsflow`` command: publish URLs, run a service, read the store, try a stage.

This is the composition root: the one place that imports every service.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TextIO

from redis import Redis

from shared.service import Service
from shared.settings import SharedSettings

__all__ = ["main"]

SERVICES = ("fetcher", "cleaner", "classifier", "storage")


def _read_lines(stream: TextIO) -> Iterable[str]:
    for line in stream:
        line = line.strip()
        if line and not line.startswith("#"):
            yield line


def cmd_publish(args: argparse.Namespace) -> int:
    from shared.intake import publish_urls

    urls: list[str] = []
    for item in args.urls:
        urls.extend(_read_lines(sys.stdin) if item == "-" else [item])
    if args.file:
        with open(args.file, encoding="utf-8") as handle:
            urls.extend(_read_lines(handle))
    if not urls:
        print("newsflow publish: no URLs given", file=sys.stderr)
        return 2
    redis = Redis.from_url(SharedSettings().redis_url)
    try:
        ids = publish_urls(redis, urls, source=args.source)
    finally:
        redis.close()
    print(f"published {len(ids)} URL(s)")
    return 0


def _build_service(name: str, shared: SharedSettings) -> Service:
    # Imported lazily: each service pulls in its own heavy dependencies (models, lxml).
    if name == "fetcher":
        from services.fetcher.app import build as build_fetcher

        return build_fetcher(shared)
    if name == "cleaner":
        from services.cleaner.app import build as build_cleaner

        return build_cleaner(shared)
    if name == "classifier":
        from services.classifier.app import build as build_classifier

        return build_classifier(shared)
    from services.storage.app import build as build_storage

    return build_storage(shared)


def cmd_serve(args: argparse.Namespace) -> int:
    service = _build_service(args.service, SharedSettings())
    asyncio.run(service.run())
    return 0


def cmd_articles(args: argparse.Namespace) -> int:
    from services.storage.repository import ArticleStore
    from services.storage.settings import StorageSettings

    store = ArticleStore.from_url(StorageSettings().database_url)
    store.create_schema()
    if args.failed:
        failures = store.list_failures(limit=args.limit)
        if args.json:
            for failure in failures:
                print(json.dumps(failure.to_json(), ensure_ascii=False))
        else:
            _print_table(
                ["stage", "reason", "url"],
                [[f.stage, f.reason, f.url] for f in failures],
            )
        return 0
    articles = store.list_articles(language=args.lang, topic=args.topic, limit=args.limit)
    if args.json:
        for article in articles:
            print(json.dumps(article.to_json(), ensure_ascii=False))
    else:
        _print_table(
            ["id", "lang", "topic", "title", "url"],
            [[str(a.id), a.language, a.topic or "-", a.title, a.url] for a in articles],
        )
    return 0


def cmd_extract(args: argparse.Namespace) -> int:
    from services.cleaner.core import NotAnArticle, clean

    status = 0
    for name in args.files:
        content = sys.stdin.read() if name == "-" else Path(name).read_text(encoding="utf-8")
        try:
            extracted = clean(content, args.url)
        except NotAnArticle as error:
            print(json.dumps({"input": name, "error": f"not an article: {error.reason}"}))
            status = 1
            continue
        record = {
            "input": name,
            "title": extracted.title,
            "text": extracted.text,
            "description": extracted.description,
            "authors": extracted.authors,
            "published_at": extracted.published_at.isoformat() if extracted.published_at else None,
            "site_name": extracted.site_name,
            "language_hint": extracted.language_hint,
            "extraction_method": extracted.method,
        }
        print(json.dumps(record, ensure_ascii=False))
    return status


def _print_table(header: Sequence[str], rows: Sequence[Sequence[str]], width: int = 60) -> None:
    def cell(value: str) -> str:
        value = " ".join(value.split())
        return value if len(value) <= width else value[: width - 1] + "…"

    table = [list(header)] + [[cell(v) for v in row] for row in rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for row in table:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="newsflow", description=__doc__.splitlines()[0])
    commands = root.add_subparsers(dest="command", required=True)

    publish = commands.add_parser("publish", help="publish URLs onto the input stream")
    publish.add_argument("urls", nargs="*", help="URLs, or - to read them from stdin")
    publish.add_argument("-f", "--file", help="a file with one URL per line")
    publish.add_argument("--source", help="who submitted these URLs")
    publish.set_defaults(run=cmd_publish)

    serve = commands.add_parser("serve", help="run one service in the foreground")
    serve.add_argument("service", choices=SERVICES)
    serve.set_defaults(run=cmd_serve)

    articles = commands.add_parser("articles", help="list stored articles")
    articles.add_argument("--json", action="store_true", help="JSON Lines")
    articles.add_argument("--lang", help="ISO 639-1 language code")
    articles.add_argument("--topic")
    articles.add_argument("--limit", type=int, default=50)
    articles.add_argument("--failed", action="store_true", help="list final failures instead")
    articles.set_defaults(run=cmd_articles)

    extract = commands.add_parser("extract", help="run the cleaner on HTML or text files")
    extract.add_argument("files", nargs="+", help="files, or - for stdin")
    extract.add_argument("--url", help="the page's URL, to resolve relative links")
    extract.set_defaults(run=cmd_extract)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    code: int = args.run(args)
    return code
