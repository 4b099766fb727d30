"""The ``newsflow`` command: publish URLs, run a service, read the store, try a stage.

This is the composition root: the one place that imports every service.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Iterable, Sequence
from typing import TextIO

from redis import Redis

from newsflow import ops
from services.classifier import cli as classifier_cli
from services.cleaner import cli as cleaner_cli
from services.fetcher import cli as fetcher_cli
from services.storage import cli as storage_cli
from shared.logging import configure_logging
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
        ids = publish_urls(redis, urls, source=args.source, force=args.force)
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


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="newsflow", description=__doc__.splitlines()[0])
    commands = root.add_subparsers(dest="command", required=True)

    publish = commands.add_parser("publish", help="publish URLs onto the input stream")
    publish.add_argument("urls", nargs="*", help="URLs, or - to read them from stdin")
    publish.add_argument("-f", "--file", help="a file with one URL per line")
    publish.add_argument("--source", help="who submitted these URLs")
    publish.add_argument(
        "--force", action="store_true", help="fetch even if the URL was fetched recently"
    )
    publish.set_defaults(run=cmd_publish)

    serve = commands.add_parser("serve", help="run one service in the foreground")
    serve.add_argument("service", choices=SERVICES)
    serve.set_defaults(run=cmd_serve)

    for register in (
        fetcher_cli.register,
        cleaner_cli.register,
        classifier_cli.register,
        storage_cli.register,
        ops.register,
    ):
        register(commands)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    # Commands print their results on stdout; what the code they run logs goes to
    # stderr, warnings only. `serve` sets up its service's own logging.
    configure_logging("newsflow", level="WARNING", json=False)
    code: int = args.run(args)
    return code
