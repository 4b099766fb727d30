"""One pipeline stage: read a stream as a consumer group, process, hand on, acknowledge.

FastStream delivers a batch of entries; this module adds what it leaves to us:

* each entry is validated against the stream's contract on its own, so one malformed
  entry goes to the dead-letter stream with its reason instead of failing its batch;
* results and dead letters are written and the batch acknowledged in one MULTI/EXEC,
  so a crash leaves either nothing done (the batch stays pending) or all of it;
* a result is routed by type: a ``StageFailed`` goes to the failures stream, any
  other contract to the stage's output stream.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import structlog
from faststream.redis import RedisBroker, StreamSub
from faststream.redis.annotations import RedisBatchStreamMessage
from pydantic import ValidationError
from redis.asyncio import Redis
from redis.exceptions import ResponseError

from shared.contracts import Contract, StageFailed, utc_now
from shared.metrics import StageMetrics
from shared.streams import FAILURES, consumer_name, dead_letter_stream

__all__ = [
    "BatchProcessor",
    "Delivery",
    "RetryLater",
    "Stage",
    "dead_letter_fields",
    "ensure_group",
    "per_item",
]

In = TypeVar("In", bound=Contract)


@dataclass(frozen=True, slots=True)
class Delivery(Generic[In]):
    """A validated entry: the contract and the stream entry id it came in."""

    entry_id: str
    message: In


Result = Contract | None | BaseException
# Processes a batch; returns one result per delivery, in order: a contract to publish,
# None for nothing to publish, or the exception that entry raised.
BatchProcessor = Callable[[Sequence[Delivery[In]]], Awaitable[Sequence[Result]]]

log = structlog.get_logger(__name__)


class RetryLater(Exception):
    """A transient failure: deliver this entry again later.

    ``delay_s`` asks for a particular delay (a ``Retry-After``, a busy host); ``None``
    leaves it to the stage's exponential backoff. Once the entry has been delivered the
    stage's maximum number of times, it ends as a ``StageFailed`` with ``reason``.
    """

    def __init__(self, reason: str, *, delay_s: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.delay_s = delay_s


def per_item(
    process: Callable[[In], Awaitable[Contract | None]], *, concurrency: int
) -> BatchProcessor[In]:
    """Lift a one-entry coroutine to a batch, at most ``concurrency`` entries at a time."""
    limit = asyncio.Semaphore(concurrency)

    async def one(delivery: Delivery[In]) -> Contract | None:
        # gather() runs each in its own task, so these bindings stay with this entry.
        structlog.contextvars.bind_contextvars(
            entry_id=delivery.entry_id, url=getattr(delivery.message, "url", None)
        )
        async with limit:
            return await process(delivery.message)

    async def batch(deliveries: Sequence[Delivery[In]]) -> Sequence[Result]:
        return await asyncio.gather(*(one(d) for d in deliveries), return_exceptions=True)

    return batch


async def ensure_group(redis: Redis, stream: str, group: str) -> None:
    """Create the group at the start of the stream, so no backlog published before it is skipped."""
    try:
        await redis.xgroup_create(stream, group, id="0", mkstream=True)
    except ResponseError as error:
        if "BUSYGROUP" not in str(error):
            raise


def dead_letter_fields(
    *,
    origin: str,
    group: str,
    entry_id: str,
    payload: dict[bytes, bytes],
    error: BaseException | str,
) -> dict[str, str]:
    """Flat string fields, readable with XRANGE from any client."""
    error_type = type(error).__name__ if isinstance(error, BaseException) else "Rejected"
    return {
        "origin_stream": origin,
        "group": group,
        "entry_id": entry_id,
        "error_type": error_type,
        "error": str(error)[:2000],
        "failed_at": utc_now().isoformat(),
        "payload": json.dumps(
            {k.decode(errors="replace"): v.decode(errors="replace") for k, v in payload.items()},
            ensure_ascii=False,
        ),
    }


@dataclass(frozen=True, slots=True)
class _Entry:
    entry_id: str
    fields: dict[bytes, bytes]
    body: Any


class Stage(Generic[In]):
    """Wires one consumer group of ``source`` to a batch processor."""

    def __init__(
        self,
        *,
        service: str,
        source: str,
        contract: type[In],
        output: str | None,
        redis: Redis,
        metrics: StageMetrics,
        max_records: int,
        polling_interval_ms: int,
    ) -> None:
        self.service = service
        self.source = source
        self.contract = contract
        self.output = output
        self.redis = redis
        self.metrics = metrics
        self.max_records = max_records
        self.polling_interval_ms = polling_interval_ms

    @property
    def group(self) -> str:
        return self.service

    def attach(self, broker: RedisBroker, process: BatchProcessor[In]) -> None:
        subscriber = broker.subscriber(
            stream=StreamSub(
                self.source,
                group=self.group,
                consumer=consumer_name(),
                batch=True,
                max_records=self.max_records,
                polling_interval=self.polling_interval_ms,
            ),
            title=f"{self.service}:{self.source}",
        )
        # Declared so that AsyncAPI documents what this stage writes.
        outputs = [broker.publisher(stream=FAILURES, schema=StageFailed)]
        if self.output:
            outputs.append(broker.publisher(stream=self.output))

        async def handle(body: list[Any], message: RedisBatchStreamMessage) -> None:
            raw = message.raw_message
            entries = [
                _Entry(entry_id.decode(), fields, item)
                for entry_id, fields, item in zip(
                    raw["message_ids"], raw["data"], body, strict=True
                )
            ]
            await self.handle_batch(broker, entries, process)

        subscriber(handle)

    async def handle_batch(
        self, broker: RedisBroker, entries: Sequence[_Entry], process: BatchProcessor[In]
    ) -> None:
        valid: list[tuple[_Entry, In]] = []
        rejected: list[tuple[_Entry, BaseException | str]] = []
        for entry in entries:
            try:
                valid.append((entry, self.contract.model_validate(entry.body)))
            except ValidationError as error:
                rejected.append((entry, f"breaks the {self.contract.__name__} contract: {error}"))

        started = time.perf_counter()
        deliveries = [Delivery(entry.entry_id, message) for entry, message in valid]
        results = await process(deliveries) if valid else []
        if valid:
            per_entry_s = (time.perf_counter() - started) / len(valid)
            for _ in valid:
                self.metrics.observe(per_entry_s)

        async with self.redis.pipeline(transaction=True) as pipe:
            for (entry, _), result in zip(valid, results, strict=True):
                if isinstance(result, BaseException):
                    rejected.append((entry, result))
                    log.error(
                        "entry failed", entry_id=entry.entry_id, error=repr(result), exc_info=result
                    )
                elif isinstance(result, StageFailed):
                    await broker.publish(result, stream=FAILURES, pipeline=pipe)
                    self.metrics.count(self.source, "failed")
                elif result is not None:
                    if self.output is None:
                        raise RuntimeError(f"{self.service} has no output stream for {result!r}")
                    await broker.publish(result, stream=self.output, pipeline=pipe)
                    self.metrics.count(self.source, "ok")
                else:
                    self.metrics.count(self.source, "ok")
            for entry, reason in rejected:
                fields = dead_letter_fields(
                    origin=self.source,
                    group=self.group,
                    entry_id=entry.entry_id,
                    payload=entry.fields,
                    error=reason,
                )
                pipe.xadd(dead_letter_stream(self.source), fields)  # type: ignore[arg-type]
                self.metrics.count(self.source, "dead_lettered")
                log.warning("dead-lettered", entry_id=entry.entry_id, reason=fields["error"])
            pipe.xack(self.source, self.group, *(entry.entry_id for entry in entries))
            await pipe.execute()
