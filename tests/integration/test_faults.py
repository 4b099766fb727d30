"""Fault injection with real processes: nothing lost, nothing stuck.

After each fault every published URL is stored exactly once, or has a recorded final
failure, or a dead-letter entry, and no group has anything left pending.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from redis import Redis

from newsflow.demo.run import Pipeline, corpus_server
from newsflow.embedded import EmbeddedRedis
from services.storage.repository import ArticleStore
from shared.intake import publish_urls
from shared.ops import pipeline_status
from shared.streams import URLS, dead_letter_stream
from tests.integration.harness import wait_until_drained, wait_until_ended, write_pages

pytestmark = pytest.mark.integration

# Short timings so that a test sees recovery within seconds, not minutes.
FAST_RECOVERY = {
    "NEWSFLOW_RECLAIM_MIN_IDLE_MS": "3000",
    "NEWSFLOW_RECLAIM_INTERVAL_MS": "200",
    "NEWSFLOW_RETRY_BASE_DELAY_MS": "200",
    "NEWSFLOW_HOUSEKEEPING_INTERVAL_MS": "1000",
    "NEWSFLOW_POLLING_INTERVAL_MS": "200",
}


@dataclass
class Stack:
    redis_server: EmbeddedRedis
    pipeline: Pipeline
    store: ArticleStore
    redis: Redis
    pages_url: str


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    pages = tmp_path / "pages"
    pages.mkdir()
    write_pages(pages, 500)
    database_url = f"sqlite:///{tmp_path / 'newsflow.db'}"
    with EmbeddedRedis(append_only=True) as redis_server, corpus_server(pages) as pages_url:
        pipeline = Pipeline(
            redis_server.url, database_url, tmp_path / "logs", extra_env=FAST_RECOVERY
        )
        try:
            pipeline.start()
            store = ArticleStore.from_url(database_url)
            store.create_schema()
            redis = Redis.from_url(redis_server.url)
            yield Stack(redis_server, pipeline, store, redis, pages_url)
            redis.close()
        finally:
            pipeline.stop()


def assert_each_stored_exactly_once(stack: Stack, urls: list[str]) -> None:
    outcomes = wait_until_ended(stack.store, urls, timeout_s=180)
    wait_until_drained(stack.redis, timeout_s=60)
    assert set(outcomes.values()) == {"stored"}
    stored = [a for a in stack.store.list_articles(limit=100_000) if a.url in set(urls)]
    assert len(stored) == len(urls)
    for status in pipeline_status(stack.redis):
        assert all(group.pending == 0 for group in status.groups), status


def publish_with_two_cleaners(stack: Stack, pages: int, then_wait_for: int) -> list[str]:
    """Start a second cleaner, publish ``pages`` URLs, return once some have ended."""
    stack.pipeline.wait_ready(stack.pipeline.spawn("cleaner", "cleaner-2"))
    urls = [f"{stack.pages_url}story-{n}.html" for n in range(pages)]
    publish_urls(stack.redis, urls)
    while len(stack.store.outcomes(urls)) < then_wait_for:
        time.sleep(0.05)
    return urls


def test_kill_9_of_a_service_mid_batch_loses_nothing(stack: Stack) -> None:
    urls = publish_with_two_cleaners(stack, pages=500, then_wait_for=50)

    # Kill a cleaner and the fetcher while they hold unacknowledged batches.
    stack.pipeline.kill("cleaner")
    stack.pipeline.kill("fetcher")
    stack.pipeline.spawn("fetcher", "fetcher-2")

    assert_each_stored_exactly_once(stack, urls)


def test_sigterm_finishes_or_hands_back_the_batch_in_hand(stack: Stack) -> None:
    urls = publish_with_two_cleaners(stack, pages=300, then_wait_for=30)

    started = time.monotonic()
    # uvicorn re-raises SIGTERM after its clean shutdown: "killed by SIGTERM" is success.
    assert stack.pipeline.terminate("cleaner") in (0, -signal.SIGTERM)
    assert time.monotonic() - started < 25  # within NEWSFLOW_SHUTDOWN_GRACE_S and then some
    log = (stack.pipeline.log_dir / "cleaner.log").read_text()
    assert '"event": "stopped"' in log

    assert_each_stored_exactly_once(stack, urls)


def test_redis_restart_with_persistence_loses_nothing(stack: Stack) -> None:
    urls = [f"{stack.pages_url}story-{n}.html" for n in range(200)]
    publish_urls(stack.redis, urls)
    while len(stack.store.outcomes(urls)) < 20:
        time.sleep(0.05)

    stack.redis_server.stop()  # SIGTERM: redis-server fsyncs its append-only file
    deadline = time.monotonic() + 10
    while stack.pipeline.readiness("storage") != 503 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert stack.pipeline.readiness("storage") == 503
    stack.redis_server.start()

    assert_each_stored_exactly_once(stack, urls)


def test_burst_of_10000_urls_and_poison_entries_all_end_somewhere(stack: Stack) -> None:
    # Addresses the fetcher's guard refuses without any network traffic.
    refused = [f"http://10.0.{n // 250}.{n % 250}/news/{n}" for n in range(10_000)]
    publish_urls(stack.redis, refused)
    stack.redis.xadd(URLS, {"link": "no url field"})
    stack.redis.xadd(URLS, {"url": b"\xff\xfe"})

    outcomes = wait_until_ended(stack.store, refused, timeout_s=240)
    wait_until_drained(stack.redis, timeout_s=60)

    assert set(outcomes.values()) == {"failed"}
    failures = stack.store.list_failures(limit=20_000)
    assert {f.stage for f in failures} == {"fetcher"}
    assert all("10.0." in f.reason for f in failures[:10]), failures[0].reason
    assert stack.redis.xlen(dead_letter_stream(URLS)) == 2
