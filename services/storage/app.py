"""Storage service: labelled articles and final failures in, rows in the store out."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import TypeVar

from sqlalchemy.exc import DBAPIError, OperationalError, StatementError

from services.storage.repository import ArticleStore
from services.storage.settings import DEFAULT_PORT, StorageSettings
from shared.contracts import ArticleClassified, Contract, StageFailed
from shared.service import Service
from shared.settings import SharedSettings
from shared.stage import BatchProcessor, Delivery, Result
from shared.streams import ARTICLES_CLASSIFIED, FAILURES

__all__ = ["batch_writer", "build"]

T = TypeVar("T", bound=Contract)


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
        return error
    return None


def build(shared: SharedSettings, settings: StorageSettings | None = None) -> Service:
    settings = settings or StorageSettings()
    store = ArticleStore.from_url(settings.database_url)
    service = Service("storage", shared, default_port=DEFAULT_PORT)

    async def create_schema() -> None:
        await asyncio.to_thread(store.create_schema)

    service.on_startup.append(create_schema)
    service.consume(ARTICLES_CLASSIFIED, ArticleClassified, batch_writer(store.save_articles))
    service.consume(FAILURES, StageFailed, batch_writer(store.save_failures))
    return service
