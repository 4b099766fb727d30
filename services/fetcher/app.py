"""Fetcher service: submitted URLs in, downloaded pages out (see download.py for the rules)."""

from __future__ import annotations

from services.fetcher.clients import ClientShards
from services.fetcher.download import build_downloader
from services.fetcher.metrics import FetchMetrics
from services.fetcher.settings import DEFAULT_PORT, FetcherSettings
from shared.contracts import PageFetched, StageFailed, UrlSubmitted
from shared.service import Service
from shared.settings import SharedSettings
from shared.stage import current_entry_id, per_item
from shared.streams import ARTICLES_RAW, URLS

__all__ = ["build"]


def build(shared: SharedSettings, settings: FetcherSettings | None = None) -> Service:
    settings = settings or FetcherSettings()
    service = Service("fetcher", shared, default_port=DEFAULT_PORT)
    # Plain-HTTP connections are kept alive and reused; HTTPS ones are closed after each
    # response (see core._request_headers).
    clients = ClientShards.create(settings.policy(), settings.concurrency)
    downloader = build_downloader(settings, service.redis, clients, FetchMetrics(service.registry))

    async def process(request: UrlSubmitted) -> PageFetched | StageFailed:
        # The stream entry id is the same on every delivery of the entry, which the
        # recently-fetched record needs (download.py).
        entry_id = current_entry_id()
        return await downloader.download(request, entry_id)

    service.consume(
        URLS,
        UrlSubmitted,
        per_item(process, concurrency=settings.concurrency),
        output=ARTICLES_RAW,
    )
    service.on_shutdown.append(clients.aclose)
    return service
