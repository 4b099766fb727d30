"""The cleaner service: every outcome of a page is a record, and the stage goes on."""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import pytest
from redis.asyncio import Redis

from services.cleaner import settings as settings_module
from services.cleaner.app import build, extract_article
from services.cleaner.core import Extracted, clean_task
from services.cleaner.pool import ProcessPool, TaskTimedOut, WorkerDied
from services.cleaner.settings import CleanerSettings
from shared.contracts import ArticleCleaned, PageFetched, StageFailed
from shared.settings import SharedSettings
from shared.streams import ARTICLES_CLEAN, ARTICLES_RAW, FAILURES

PARAGRAPH = (
    "The city council approved the new bridge on Tuesday after a long debate about "
    "its cost, its design and the years of traffic disruption it will bring."
)
ARTICLE_HTML = f"""<html lang="en"><head>
<title>Council approves bridge | Daily Planet</title>
<meta property="og:title" content="Council approves bridge">
<meta property="og:image" content="/img/bridge.jpg">
<meta property="article:published_time" content="2024-03-01T10:00:00Z">
<meta property="article:modified_time" content="2024-03-02T08:30:00+01:00">
<meta property="article:tag" content="Transport">
<meta property="article:tag" content="Local politics">
<link rel="canonical" href="https://planet.example/news/bridge">
</head><body><article><h1>Council approves bridge</h1>
{"".join(f"<p>{PARAGRAPH} ({n})</p>" for n in range(4))}
</article></body></html>"""
HANG_MARKER = "<!-- hang -->"


def page(html: str, url: str = "https://planet.example/news/bridge?utm=x") -> PageFetched:
    now = datetime(2024, 3, 2, tzinfo=UTC)
    return PageFetched(
        url=url,
        submitted_at=now,
        timings={"fetch": 0.1},
        final_url=url,
        status_code=200,
        content_type="text/html",
        encoding="utf-8",
        html=html,
        fetched_at=now,
    )


def raising(error: Exception) -> Callable[[tuple[str, str | None]], Extracted]:
    def extract(_task: tuple[str, str | None]) -> Extracted:
        raise error

    return extract


def test_article_carries_every_field() -> None:
    result = extract_article(page(ARTICLE_HTML), clean_task, max_chars=10**6)

    assert isinstance(result, ArticleCleaned)
    assert result.title == "Council approves bridge"
    assert result.canonical_url == "https://planet.example/news/bridge"
    assert result.top_image == "https://planet.example/img/bridge.jpg"
    assert result.modified_at == datetime(2024, 3, 2, 7, 30, tzinfo=UTC)
    assert result.tags == ["Transport", "Local politics"]
    assert result.content_hash is not None
    assert len(result.content_hash) == 64
    assert result.simhash is not None
    assert len(result.simhash) == 16
    assert set(result.timings) == {"fetch", "clean"}


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (TaskTimedOut(10), "extraction timed out after 10s"),
        (WorkerDied(-9), "extraction failed: worker process died (exit code -9)"),
    ],
)
def test_timeouts_and_crashes_are_recorded_failures(error: Exception, reason: str) -> None:
    result = extract_article(page(ARTICLE_HTML), raising(error), max_chars=10**6)

    assert isinstance(result, StageFailed)
    assert result.stage == "cleaner"
    assert result.reason == reason


def test_a_page_too_large_is_refused_before_extraction() -> None:
    never = raising(AssertionError("extraction should not run"))

    result = extract_article(page(ARTICLE_HTML), never, max_chars=1000)

    assert isinstance(result, StageFailed)
    assert result.reason.startswith("not an article: page too large")


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSFLOW_CLEANER_TIMEOUT_S", "2.5")
    monkeypatch.setenv("NEWSFLOW_CLEANER_WORKERS", "3")
    monkeypatch.setenv("NEWSFLOW_CLEANER_MAX_PAGES_PER_WORKER", "7")

    settings = CleanerSettings()

    assert (settings.timeout_s, settings.workers, settings.max_pages_per_worker) == (2.5, 3, 7)


# -- the service over a real Redis -----------------------------------------------------


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url)
    yield client
    await client.aclose()


def shared_settings(redis_url: str) -> SharedSettings:
    return SharedSettings(redis_url=redis_url, polling_interval_ms=50)


async def publish(redis: Redis, fetched: PageFetched) -> None:
    # plain string fields, as any client may write them (timings left to the default)
    fields = json.loads(fetched.model_dump_json(exclude={"timings"}))
    await redis.xadd(ARTICLES_RAW, fields)


async def wait_for(condition: Callable[[], Awaitable[bool]], timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not await condition():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met")
        await asyncio.sleep(0.05)


async def bodies(redis: Redis, stream: str) -> list[dict[str, Any]]:
    entries = await redis.xrange(stream) or []
    decoded = []
    for _, fields in entries:
        data = cast(dict[bytes, bytes], fields)[b"__data__"]
        decoded.append(json.loads(data[data.index(b"{") :]))
    return decoded


async def test_a_hung_page_fails_and_the_stage_goes_on(redis: Redis, redis_url: str) -> None:
    # A real worker process hangs on the marked page (time.sleep in the worker) and is
    # killed after the time limit; other pages are extracted in-thread.
    hanging: ProcessPool[float, None] = ProcessPool(
        time.sleep, workers=1, timeout_s=0.5, max_tasks_per_worker=10
    )

    def extract(task: tuple[str, str | None]) -> Extracted:
        if HANG_MARKER in task[0]:
            hanging(600)
        return clean_task(task)

    service = build(shared_settings(redis_url), CleanerSettings(workers=2), extract=extract)
    await publish(redis, page(ARTICLE_HTML + HANG_MARKER, "https://planet.example/hang"))
    await publish(redis, page(ARTICLE_HTML))
    try:
        async with service.running():
            await wait_for(lambda: _lengths_at_least(redis, {FAILURES: 1, ARTICLES_CLEAN: 1}))
    finally:
        hanging.close()

    [failure] = await bodies(redis, FAILURES)
    assert failure["url"] == "https://planet.example/hang"
    assert failure["reason"] == "extraction timed out after 0.5s"
    [article] = await bodies(redis, ARTICLES_CLEAN)
    assert article["title"] == "Council approves bridge"


async def test_the_service_extracts_in_worker_processes(redis: Redis, redis_url: str) -> None:
    settings = CleanerSettings(workers=1, timeout_s=60, max_pages_per_worker=1)
    service = build(shared_settings(redis_url), settings)
    for n in range(2):  # max one page per worker: the second page gets a new worker
        await publish(redis, page(ARTICLE_HTML, f"https://planet.example/{n}"))

    async with service.running():
        await wait_for(lambda: _lengths_at_least(redis, {ARTICLES_CLEAN: 2}))

    articles = await bodies(redis, ARTICLES_CLEAN)
    assert {a["url"] for a in articles} == {"https://planet.example/0", "https://planet.example/1"}
    assert all(a["extraction_method"] == "trafilatura" for a in articles)


async def _lengths_at_least(redis: Redis, minimums: dict[str, int]) -> bool:
    lengths = [await redis.xlen(stream) for stream in minimums]
    return all(
        length >= minimum for length, minimum in zip(lengths, minimums.values(), strict=True)
    )


@pytest.mark.parametrize(
    ("cpu_max", "expected"),
    [("100000 100000", 1), ("50000 100000", 1), ("max 100000", None), ("garbage", None)],
)
def test_default_workers_follow_the_container_cpu_quota(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cpu_max: str, expected: int | None
) -> None:
    cgroup = tmp_path / "cpu.max"
    cgroup.write_text(cpu_max + "\n", encoding="ascii")
    monkeypatch.setattr(settings_module, "_CGROUP_CPU_MAX", cgroup)
    monkeypatch.delenv("NEWSFLOW_CLEANER_WORKERS", raising=False)

    unlimited = len(os.sched_getaffinity(0))
    assert CleanerSettings().workers == (expected or unlimited)
