"""Storage service: labelled articles and final failures in, rows in the store out."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError, StatementError

from services.storage.api import create_api
from services.storage.repository import ArticleStore
from services.storage.settings import API_PREFIX, DEFAULT_PORT, StorageSettings
from shared.contracts import ArticleClassified, Contract, StageFailed
from shared.logging import get_logger
from shared.service import Service
from shared.settings import SharedSettings
from shared.stage import BatchProcessor, Delivery, Reject, Result
from shared.streams import ARTICLES_CLASSIFIED, FAILURES

__all__ = ["SearchBacklog", "batch_writer", "build"]

T = TypeVar("T", bound=Contract)
log = get_logger(__name__)


def batch_writer(save: Callable[[Sequence[T]], int]) -> BatchProcessor[T]:
    """Write a batch in one transaction; if the database rejects it, find the bad rows.

    A lost connection (OperationalError) is not the rows' fault: it propagates, so the
    batch stays pending and is delivered again.
    """

    def write(deliveries: Sequence[Delivery[T]]) -> list[Result]:
        messages = [d.message for d in deliveries]
        try:
            save(messages)
            return [None] * len(messages)
        except OperationalError:
            raise
        except (DBAPIError, StatementError):
            return [_save_one(save, message) for message in messages]

    async def process(deliveries: Sequence[Delivery[T]]) -> Sequence[Result]:
        return await asyncio.to_thread(write, deliveries)

    return process


def _save_one(save: Callable[[Sequence[T]], int], message: T) -> Result:
    try:
        save([message])
    except OperationalError:
        raise
    except (DBAPIError, StatementError) as error:
        # The database refuses this row for good: retrying cannot help.
        rejected = Reject(f"refused by the database: {error}")
        rejected.__cause__ = error
        return rejected
    return None


class SearchBacklog(Collector):
    """``newsflow_storage_search_backlog``: stored articles SQLite's search index has yet
    to take in, read at each scrape. A store on PostgreSQL exports nothing."""

    def __init__(self, store: ArticleStore) -> None:
        self._store = store

    def collect(self) -> Iterator[Metric]:
        try:
            backlog = self._store.search_backlog()
        except SQLAlchemyError as error:  # not migrated yet, or the database is away
            log.warning("search backlog unreadable", error=str(error))
            return
        if backlog is not None:
            yield GaugeMetricFamily(
                "newsflow_storage_search_backlog",
                "Stored or changed articles not yet in the SQLite search index.",
                value=backlog,
            )


def build(shared: SharedSettings, settings: StorageSettings | None = None) -> Service:
    settings = settings or StorageSettings()
    store = ArticleStore.from_url(
        settings.database_url, story_max_distance=settings.story_max_distance_bits
    )
    service = Service("storage", shared, default_port=DEFAULT_PORT)

    async def upgrade_schema() -> None:
        # Every replica runs it; the migration lock makes all but the first wait and no-op.
        await asyncio.to_thread(store.create_schema)

    async def close_store() -> None:
        await asyncio.to_thread(store.close)

    service.on_startup.append(upgrade_schema)
    service.on_shutdown.append(close_store)
    service.consume(
        ARTICLES_CLASSIFIED,
        ArticleClassified,
        batch_writer(store.save_articles),
        readers=settings.concurrent_batches,
        max_records=settings.batch_size,
    )
    service.consume(
        FAILURES, StageFailed, batch_writer(store.save_failures), max_records=settings.batch_size
    )
    service.mount(API_PREFIX, create_api(store))
    service.registry.register(SearchBacklog(store))
    return service
