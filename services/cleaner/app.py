"""Cleaner service: fetched pages in, article text and metadata out.

Extraction runs in a pool of worker processes (see pool.py): a page that takes longer
than ``NEWSFLOW_CLEANER_TIMEOUT_S`` or kills its worker becomes a recorded failure,
and the stage goes on with the next page.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import structlog

from services.cleaner.core import Extracted, NotAnArticle, check_size, clean_task
from services.cleaner.pool import ProcessPool, TaskTimedOut, WorkerDied
from services.cleaner.settings import DEFAULT_PORT, CleanerSettings
from shared.contracts import ArticleCleaned, PageFetched, StageFailed
from shared.service import Service
from shared.settings import SharedSettings
from shared.stage import per_item
from shared.streams import ARTICLES_CLEAN, ARTICLES_RAW

__all__ = ["Extractor", "article_record", "build", "extract_article", "make_pool"]

log = structlog.get_logger(__name__)

# Extracts (content, url); raises NotAnArticle, TaskTimedOut or WorkerDied.
Extractor = Callable[[tuple[str, str | None]], Extracted]


def article_record(extracted: Extracted) -> dict[str, object]:
    """The ``ArticleCleaned`` fields that come from the extraction (shared with the CLI)."""
    return {
        "title": extracted.title,
        "text": extracted.text,
        "description": extracted.description,
        "authors": extracted.authors,
        "published_at": extracted.published_at,
        "site_name": extracted.site_name,
        "language_hint": extracted.language_hint,
        "extraction_method": extracted.method,
        "canonical_url": extracted.canonical_url,
        "modified_at": extracted.modified_at,
        "top_image": extracted.top_image,
        "tags": extracted.tags,
        "content_hash": extracted.content_hash,
        "simhash": extracted.simhash,
    }


def _failure(page: PageFetched, started: float, reason: str) -> StageFailed:
    return StageFailed(
        url=page.url,
        submitted_at=page.submitted_at,
        timings={**page.timings, "clean": time.perf_counter() - started},
        stage="cleaner",
        reason=reason,
    )


def extract_article(
    page: PageFetched, extract: Extractor, *, max_chars: int
) -> ArticleCleaned | StageFailed:
    """One page through ``extract``; every way it can fail ends as a ``StageFailed``."""
    started = time.perf_counter()
    try:
        check_size(page.html, max_chars)  # before the page is copied to a worker
        extracted = extract((page.html, page.final_url))
    except NotAnArticle as error:
        return _failure(page, started, f"not an article: {error.reason}")
    except TaskTimedOut as error:
        log.warning("extraction timed out", url=page.url, timeout_s=error.timeout_s)
        return _failure(page, started, f"extraction timed out after {error.timeout_s:g}s")
    except WorkerDied as error:
        # A page that crashes the parser or exhausts memory would do it again: no retry.
        log.warning("extraction worker died", url=page.url, exitcode=error.exitcode)
        return _failure(page, started, f"extraction failed: {error}")
    return ArticleCleaned(
        url=page.url,
        submitted_at=page.submitted_at,
        timings={**page.timings, "clean": time.perf_counter() - started},
        final_url=page.final_url,
        fetched_at=page.fetched_at,
        **article_record(extracted),
    )


def make_pool(settings: CleanerSettings) -> ProcessPool[tuple[str, str | None], Extracted]:
    return ProcessPool(
        clean_task,
        workers=settings.workers,
        timeout_s=settings.timeout_s,
        max_tasks_per_worker=settings.max_pages_per_worker,
        max_worker_bytes=settings.max_worker_mb * 1024 * 1024,
        preload=["services.cleaner.warm"],
    )


def build(
    shared: SharedSettings,
    settings: CleanerSettings | None = None,
    *,
    extract: Extractor | None = None,
) -> Service:
    """The cleaner service; ``extract`` replaces the worker pool (tests)."""
    settings = settings or CleanerSettings()
    service = Service("cleaner", shared, default_port=DEFAULT_PORT)
    # One thread per worker, each only waiting on its worker: the event loop stays free
    # for health checks and acks (the default executor may have fewer threads).
    threads = ThreadPoolExecutor(settings.workers, thread_name_prefix="cleaner")
    if extract is None:
        pool = make_pool(settings)
        service.on_shutdown.append(lambda: asyncio.to_thread(pool.close))
        extract = pool
    run = extract
    max_chars = int(settings.max_page_mb * 1_000_000)

    async def process(page: PageFetched) -> ArticleCleaned | StageFailed:
        call = functools.partial(extract_article, page, run, max_chars=max_chars)
        return await asyncio.get_running_loop().run_in_executor(threads, call)

    async def stop_threads() -> None:
        threads.shutdown(wait=False, cancel_futures=True)

    service.consume(
        ARTICLES_RAW,
        PageFetched,
        per_item(process, concurrency=settings.workers),
        output=ARTICLES_CLEAN,
    )
    service.on_shutdown.append(stop_threads)
    return service
