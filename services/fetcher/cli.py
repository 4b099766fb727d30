"""``newsflow fetch URL``: one URL through the fetcher's own path, nothing published.

Same guard, robots.txt, host politeness, limits and decoding as the service, with the
same Redis (``REDIS_URL``) for robots.txt and host slots. It neither reads nor writes the
"recently fetched" record, so trying a URL never hides it from the pipeline. It waits
for its host slot (up to ``NEWSFLOW_FETCH_MAX_CRAWL_DELAY_S``) rather than giving up.

Exit status: 0 fetched, 1 permanent failure, 75 (EX_TEMPFAIL) transient failure,
2 Redis unreachable.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from services.fetcher.clients import ClientShards
from services.fetcher.core import make_client
from services.fetcher.download import build_downloader
from services.fetcher.metrics import FetchMetrics
from services.fetcher.settings import FetcherSettings
from shared.console import print_json_line
from shared.contracts import PageFetched, StageFailed, UrlSubmitted
from shared.settings import SharedSettings
from shared.stage import RetryLater

__all__ = ["EXIT_FAILED", "EXIT_NO_REDIS", "EXIT_RETRY_LATER", "fetch_one", "register"]

EXIT_FAILED = 1
EXIT_NO_REDIS = 2
EXIT_RETRY_LATER = 75  # EX_TEMPFAIL (sysexits.h)


async def fetch_one(
    url: str, redis_url: str, settings: FetcherSettings
) -> PageFetched | StageFailed | RetryLater:
    """The outcome of fetching ``url``; raises redis ConnectionError if Redis is down."""
    redis = Redis.from_url(redis_url, socket_connect_timeout=2.0)
    clients = ClientShards.single(make_client(settings.policy()))
    try:
        await redis.ping()
        downloader = build_downloader(
            settings,
            redis,
            clients,
            FetchMetrics(registry=None),
            record_recent=False,
            max_slot_wait_s=settings.max_crawl_delay_s,
        )
        try:
            return await downloader.download(UrlSubmitted(url=url))
        except RetryLater as retry:
            return retry
    finally:
        await clients.aclose()
        await redis.aclose()


def cmd_fetch(args: argparse.Namespace) -> int:
    redis_url = SharedSettings().redis_url
    try:
        outcome = asyncio.run(fetch_one(args.url, redis_url, FetcherSettings()))
    except (RedisConnectionError, RedisTimeoutError, OSError) as error:
        print(
            f"newsflow fetch: Redis unreachable at {redis_url} (set REDIS_URL): {error}; "
            "robots.txt and host politeness are kept there",
            file=sys.stderr,
        )
        return EXIT_NO_REDIS
    _print(args.url, outcome, as_json=args.json)
    if isinstance(outcome, PageFetched):
        return 0
    return EXIT_RETRY_LATER if isinstance(outcome, RetryLater) else EXIT_FAILED


def _print(url: str, outcome: PageFetched | StageFailed | RetryLater, *, as_json: bool) -> None:
    record: dict[str, Any]
    if isinstance(outcome, PageFetched):
        record = {"url": url, "outcome": "fetched", **outcome.model_dump(mode="json")}
        summary = (
            f"fetched {url}: HTTP {outcome.status_code} {outcome.content_type} "
            f"{outcome.encoding}, {len(outcome.html)} characters, final URL {outcome.final_url}"
        )
    elif isinstance(outcome, StageFailed):
        record = {"url": url, "outcome": "failed", "reason": outcome.reason}
        summary = f"failed {url}: {outcome.reason}"
    else:
        record = {
            "url": url,
            "outcome": "retry_later",
            "reason": outcome.reason,
            "delay_s": outcome.delay_s,
        }
        after = f" (retry in {outcome.delay_s:g}s)" if outcome.delay_s is not None else ""
        summary = f"transient failure {url}: {outcome.reason}{after}"
    if as_json:
        print_json_line(record)
    elif isinstance(outcome, PageFetched):
        print(summary)
    else:
        print(summary, file=sys.stderr)


def register(commands: Any) -> None:
    fetch = commands.add_parser(
        "fetch", help="fetch one URL through the fetcher (guard, robots.txt, limits), no publish"
    )
    fetch.add_argument("url")
    fetch.add_argument("--json", action="store_true", help="print the outcome as one JSON line")
    fetch.set_defaults(run=cmd_fetch)
