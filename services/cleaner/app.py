"""Cleaner service: fetched pages in, article text and metadata out."""

from __future__ import annotations

import asyncio
import time

from services.cleaner.core import NotAnArticle, clean
from services.cleaner.settings import DEFAULT_PORT, CleanerSettings
from shared.contracts import ArticleCleaned, PageFetched, StageFailed
from shared.service import Service
from shared.settings import SharedSettings
from shared.stage import per_item
from shared.streams import ARTICLES_CLEAN, ARTICLES_RAW

__all__ = ["build", "extract_article"]


def extract_article(page: PageFetched) -> ArticleCleaned | StageFailed:
    started = time.perf_counter()
    try:
        extracted = clean(page.html, page.final_url)
    except NotAnArticle as error:
        return StageFailed(
            url=page.url,
            submitted_at=page.submitted_at,
            timings={**page.timings, "clean": time.perf_counter() - started},
            stage="cleaner",
            reason=f"not an article: {error.reason}",
        )
    return ArticleCleaned(
        url=page.url,
        submitted_at=page.submitted_at,
        timings={**page.timings, "clean": time.perf_counter() - started},
        final_url=page.final_url,
        fetched_at=page.fetched_at,
        title=extracted.title,
        text=extracted.text,
        description=extracted.description,
        authors=extracted.authors,
        published_at=extracted.published_at,
        site_name=extracted.site_name,
        language_hint=extracted.language_hint,
        extraction_method=extracted.method,
    )


def build(shared: SharedSettings, settings: CleanerSettings | None = None) -> Service:
    settings = settings or CleanerSettings()
    service = Service("cleaner", shared, default_port=DEFAULT_PORT)

    async def process(page: PageFetched) -> ArticleCleaned | StageFailed:
        return await asyncio.to_thread(extract_article, page)

    service.consume(
        ARTICLES_RAW,
        PageFetched,
        per_item(process, concurrency=settings.concurrency),
        output=ARTICLES_CLEAN,
    )
    return service
