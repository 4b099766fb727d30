"""Fetcher service: submitted URLs in, downloaded pages out."""

from __future__ import annotations

import time

import httpx

from services.fetcher.core import FetchError, FetchPolicy, fetch, make_client
from services.fetcher.settings import DEFAULT_PORT, FetcherSettings
from shared.contracts import PageFetched, StageFailed, UrlSubmitted, utc_now
from shared.service import Service
from shared.settings import SharedSettings
from shared.stage import per_item
from shared.streams import ARTICLES_RAW, URLS

__all__ = ["build", "download"]


async def download(
    request: UrlSubmitted, client: httpx.AsyncClient, policy: FetchPolicy
) -> PageFetched | StageFailed:
    started = time.perf_counter()
    try:
        page = await fetch(request.url, client, policy)
    except FetchError as error:
        return StageFailed(
            url=request.url,
            submitted_at=request.submitted_at,
            timings={"fetch": time.perf_counter() - started},
            stage="fetcher",
            reason=error.reason,
        )
    return PageFetched(
        url=request.url,
        submitted_at=request.submitted_at,
        timings={"fetch": time.perf_counter() - started},
        final_url=page.final_url,
        status_code=page.status_code,
        content_type=page.content_type,
        encoding=page.encoding,
        html=page.html,
        fetched_at=utc_now(),
    )


def build(shared: SharedSettings, settings: FetcherSettings | None = None) -> Service:
    settings = settings or FetcherSettings()
    policy = settings.policy()
    service = Service("fetcher", shared, default_port=DEFAULT_PORT)
    client = make_client(
        policy,
        limits=httpx.Limits(
            max_connections=settings.concurrency, max_keepalive_connections=settings.concurrency
        ),
    )

    async def process(request: UrlSubmitted) -> PageFetched | StageFailed:
        return await download(request, client, policy)

    service.consume(
        URLS,
        UrlSubmitted,
        per_item(process, concurrency=settings.concurrency),
        output=ARTICLES_RAW,
    )
    service.on_shutdown.append(client.aclose)
    return service
