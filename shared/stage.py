"""One pipeline stage: read a stream as a consumer group, process, hand on, acknowledge.

FastStream delivers batches of new entries; this module adds what it leaves to us:

* each entry is decoded and validated against the stream's contract on its own, so a
  malformed entry goes to the dead-letter stream with its reason, not its whole batch;
* a failed entry stays pending and is delivered again after a backoff (see
  ``shared.reliability``), up to a limit; then a transient failure (``RetryLater``)
  ends as a recorded ``StageFailed`` and any other error as a dead letter;
* results, dead letters and the acknowledgement of a batch are written in one
  MULTI/EXEC: a crash leaves either nothing of the batch done (it stays pending and is
  reclaimed) or all of it.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import json
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import structlog
from faststream.middlewares import AckPolicy
from faststream.redis import RedisBroker, StreamSub
from faststream.redis.annotations import RedisBatchStreamMessage
from faststream.redis.parser.binary import BinaryMessageFormatV1
from pydantic import ValidationError
from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from redis.exceptions import ResponseError

from shared.contracts import Contract, StageFailed, utc_now
from shared.metrics import StageMetrics
from shared.reliability.policy import DeadLetter, GiveUp, Retry, RetryPolicy, decide
from shared.streams import FAILURES, consumer_name, dead_letter_stream, failure_log_key

__all__ = [
    "BatchProcessor",
    "Delivery",
    "Entry",
    "Reject",
    "RetryLater",
    "Stage",
    "current_entry_id",
    "decode_entry",
    "ensure_group",
    "per_item",
]

In = TypeVar("In", bound=Contract)

log = structlog.get_logger(__name__)

_current_entry_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "newsflow_entry_id", default=None
)


def current_entry_id() -> str | None:
    """The stream entry id being processed in this task (set by ``per_item``)."""
    return _current_entry_id.get()


class RetryLater(Exception):
    """A transient failure: deliver this entry again later.

    ``delay_s`` asks for a particular delay (a ``Retry-After``, a busy host); ``None``
    leaves it to the stage's exponential backoff. Once the entry has been delivered the
    stage's maximum number of times, it ends as a ``StageFailed`` with ``reason``.

    ``counts=False`` defers the entry without spending one of its deliveries: for waits
    that are not failures (a host's politeness slot is later, another worker holds the
    URL). A delay past the reclaim idle time is served in several hops.
    """

    def __init__(self, reason: str, *, delay_s: float | None = None, counts: bool = True) -> None:
        super().__init__(reason)
        self.reason = reason
        self.delay_s = delay_s
        self.counts = counts


class Reject(Exception):
    """This entry can never succeed (a row the database refuses): dead-letter it now."""


@dataclass(frozen=True, slots=True)
class Delivery(Generic[In]):
    """A validated entry: the contract, its stream entry id and how often it was delivered."""

    entry_id: str
    message: In
    deliveries: int = 1


Result = Contract | None | BaseException
# Processes a batch; returns one result per delivery, in order: a contract to publish,
# None for nothing to publish, or the exception that entry raised.
BatchProcessor = Callable[[Sequence[Delivery[In]]], Awaitable[Sequence[Result]]]


@dataclass(frozen=True, slots=True)
class Entry:
    """A raw stream entry as read or claimed."""

    entry_id: str
    fields: dict[bytes, bytes]
    deliveries: int = 1


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
        _current_entry_id.set(delivery.entry_id)
        async with limit:
            return await process(delivery.message)

    async def batch(deliveries: Sequence[Delivery[In]]) -> Sequence[Result]:
        return await asyncio.gather(*(one(d) for d in deliveries), return_exceptions=True)

    return batch


def decode_entry(fields: dict[bytes, bytes]) -> Any:
    """The message body of an entry: FastStream's envelope, or plain fields from any client."""
    data = fields.get(b"__data__")
    if data is not None:
        body, _headers = BinaryMessageFormatV1.parse(data)
        return json.loads(body)
    return {key.decode(): value.decode() for key, value in fields.items()}


async def ensure_group(redis: Redis, stream: str, group: str) -> None:
    """Create the group at the start of the stream, so no backlog published before it is skipped."""
    try:
        await redis.xgroup_create(stream, group, id="0", mkstream=True)
    except ResponseError as error:
        if "BUSYGROUP" not in str(error):
            raise


def _payload_json(fields: dict[bytes, bytes]) -> str:
    """The entry's fields as JSON text: readable, and replayable with a plain XADD.

    FastStream's binary envelope is unwrapped to its JSON body, which FastStream (and
    ``decode_entry``) read back as is.
    """
    readable = {}
    for key, value in fields.items():
        if key == b"__data__":
            with contextlib.suppress(Exception):
                value, _headers = BinaryMessageFormatV1.parse(value)
        readable[key.decode(errors="replace")] = value.decode(errors="replace")
    return json.dumps(readable, ensure_ascii=False)


async def _parse_ids_only(
    message: dict[str, Any], original: Callable[[dict[str, Any]], Awaitable[Any]]
) -> Any:
    """FastStream's batch parser JSON-encodes every entry up front, and one undecodable
    entry (say, a non-UTF-8 field) fails the whole batch there. Bodies are ours to decode,
    entry by entry, so it gets empty ones and the raw entries stay on ``raw_message``."""
    parsed = await original({**message, "data": [{} for _ in message["data"]]})
    parsed.raw_message = message
    return parsed


class Stage(Generic[In]):
    """Wires one consumer group of ``source`` to a batch processor."""

    def __init__(
        self,
        *,
        service: str,
        source: str,
        contract: type[In],
        output: str | None,
        process: BatchProcessor[In],
        redis: Redis,
        metrics: StageMetrics,
        retry: RetryPolicy,
        reclaim_min_idle_ms: int,
    ) -> None:
        self.service = service
        self.source = source
        self.contract = contract
        self.output = output
        self.process = process
        self.redis = redis
        self.metrics = metrics
        self.retry = retry
        self.reclaim_min_idle_ms = reclaim_min_idle_ms
        self.consumer = consumer_name()

    @property
    def group(self) -> str:
        return self.service

    def attach(
        self,
        broker: RedisBroker,
        *,
        max_records: int,
        polling_interval_ms: int,
        readers: int = 1,
    ) -> None:
        """Subscribe to new entries; acks are ours (MANUAL), never FastStream's.

        ``readers`` > 1 keeps that many batches in hand at once (FastStream handles a
        batch subscriber's batches one after another): while one waits on a database,
        the next is decoded and prepared. Each reader is a consumer of its own,
        ``<name>-<n>``, so that FastStream keeps them apart.
        """
        if readers < 1:
            raise ValueError(f"readers must be at least 1, got {readers}")

        async def handle(message: RedisBatchStreamMessage) -> None:
            raw = message.raw_message
            entries = [
                Entry(entry_id.decode(), fields)
                for entry_id, fields in zip(raw["message_ids"], raw["data"], strict=True)
            ]
            await self.handle_batch(broker, entries)

        for n in range(readers):
            subscriber = broker.subscriber(
                stream=StreamSub(
                    self.source,
                    group=self.group,
                    consumer=self.consumer if n == 0 else f"{self.consumer}-{n}",
                    batch=True,
                    max_records=max_records,
                    polling_interval=polling_interval_ms,
                ),
                ack_policy=AckPolicy.MANUAL,
                parser=_parse_ids_only,
                title=f"{self.service}:{self.source}",
                include_in_schema=n == 0,
            )
            subscriber(handle)
        # Declared so that AsyncAPI documents what this stage writes.
        broker.publisher(stream=FAILURES, schema=StageFailed)
        if self.output:
            broker.publisher(stream=self.output)

    async def handle_batch(self, broker: RedisBroker, entries: Sequence[Entry]) -> None:
        valid: list[Delivery[In]] = []
        poison: list[tuple[Entry, str]] = []
        by_id = {entry.entry_id: entry for entry in entries}
        for entry in entries:
            try:
                message = self.contract.model_validate(decode_entry(entry.fields))
            except (ValueError, ValidationError) as error:
                poison.append((entry, f"breaks the {self.contract.__name__} contract: {error}"))
            else:
                valid.append(Delivery(entry.entry_id, message, entry.deliveries))

        started = time.perf_counter()
        results = await self.process(valid) if valid else []
        if valid:
            per_entry_s = (time.perf_counter() - started) / len(valid)
            for _ in valid:
                self.metrics.observe(per_entry_s)

        failed = [
            (d, r) for d, r in zip(valid, results, strict=True) if isinstance(r, BaseException)
        ]
        history = await self._failure_history([d.entry_id for d, _ in failed])
        done: list[str] = [entry.entry_id for entry, _ in poison]
        async with self.redis.pipeline(transaction=True) as pipe:
            for entry, reason in poison:
                self._dead_letter(pipe, entry, reason, "ContractError", None)
            for delivery, result in zip(valid, results, strict=True):
                if isinstance(result, BaseException):
                    entry = by_id[delivery.entry_id]
                    if await self._on_failure(broker, pipe, entry, delivery, result, history):
                        done.append(entry.entry_id)
                    continue
                await self._publish(broker, pipe, result)
                done.append(delivery.entry_id)
            if done:
                pipe.xack(self.source, self.group, *done)
                retried = [e.entry_id for e in entries if e.deliveries > 1 and e.entry_id in done]
                if retried:
                    pipe.hdel(failure_log_key(self.source, self.group), *retried)
            await pipe.execute()

    async def _publish(self, broker: RedisBroker, pipe: Pipeline, result: Contract | None) -> None:
        if isinstance(result, StageFailed):
            await broker.publish(result, stream=FAILURES, pipeline=pipe)
            self.metrics.count(self.source, "failed")
            return
        if result is not None:
            if self.output is None:
                raise RuntimeError(f"{self.service} has no output stream for {type(result)}")
            await broker.publish(result, stream=self.output, pipeline=pipe)
        self.metrics.count(self.source, "ok")

    async def _on_failure(
        self,
        broker: RedisBroker,
        pipe: Pipeline,
        entry: Entry,
        delivery: Delivery[In],
        error: BaseException,
        history: dict[str, dict[str, str]],
    ) -> bool:
        """Schedule a retry or end the entry; True when it ended (and so is to be acked)."""
        transient = isinstance(error, RetryLater)
        reason = error.reason if isinstance(error, RetryLater) else str(error) or repr(error)
        requested = (
            int(error.delay_s * 1000)
            if isinstance(error, RetryLater) and error.delay_s is not None
            else None
        )
        counts = not isinstance(error, RetryLater) or error.counts
        if isinstance(error, Reject):
            self._dead_letter(pipe, entry, reason, type(error.__cause__ or error).__name__, None)
            return True
        outcome = decide(
            entry.deliveries if counts else 0,
            transient=transient,
            reason=reason,
            policy=self.retry,
            requested_delay_ms=requested,
        )
        now = utc_now().isoformat()
        record = {
            "error_type": type(error).__name__,
            "error": reason[:2000],
            "first_failed_at": history.get(entry.entry_id, {}).get("first_failed_at", now),
            "last_failed_at": now,
            "deliveries": str(entry.deliveries),
        }
        if isinstance(outcome, Retry):
            # Keep it pending, but set its idle time so that the reclaim loop (which takes
            # entries idle for reclaim_min_idle_ms) picks it up after delay_ms.
            pipe.xclaim(
                self.source,
                self.group,
                self.consumer,
                0,
                [entry.entry_id],
                idle=max(self.reclaim_min_idle_ms - outcome.delay_ms, 0),
                # XCLAIM on reclaim adds one: a deferral must not spend a delivery.
                retrycount=entry.deliveries if counts else entry.deliveries - 1,
                justid=True,
            )
            pipe.hset(failure_log_key(self.source, self.group), entry.entry_id, json.dumps(record))
            self.metrics.count(self.source, "retried" if counts else "deferred")
            log.warning(
                "will retry", entry_id=entry.entry_id, delay_ms=outcome.delay_ms, reason=reason
            )
            return False
        if isinstance(outcome, GiveUp):
            message = delivery.message
            failure = StageFailed(
                url=str(getattr(message, "url", "")),
                submitted_at=getattr(message, "submitted_at", utc_now()),
                timings=dict(getattr(message, "timings", {})),
                stage=self.service,
                reason=outcome.reason,
            )
            await broker.publish(failure, stream=FAILURES, pipeline=pipe)
            self.metrics.count(self.source, "gave_up")
            return True
        assert isinstance(outcome, DeadLetter)
        self._dead_letter(pipe, entry, outcome.reason, record["error_type"], record)
        log.error("entry failed for good", entry_id=entry.entry_id, exc_info=error)
        return True

    def _dead_letter(
        self,
        pipe: Pipeline,
        entry: Entry,
        reason: str,
        error_type: str,
        record: dict[str, str] | None,
    ) -> None:
        now = utc_now().isoformat()
        fields = {
            "origin_stream": self.source,
            "group": self.group,
            "entry_id": entry.entry_id,
            "error_type": error_type,
            "error": reason[:2000],
            "deliveries": str(entry.deliveries),
            "first_failed_at": (record or {}).get("first_failed_at", now),
            "last_failed_at": now,
            "payload": _payload_json(entry.fields),
        }
        pipe.xadd(dead_letter_stream(self.source), fields)  # type: ignore[arg-type]
        self.metrics.count(self.source, "dead_lettered")
        log.warning("dead-lettered", entry_id=entry.entry_id, reason=fields["error"])

    async def _failure_history(self, entry_ids: list[str]) -> dict[str, dict[str, str]]:
        if not entry_ids:
            return {}
        raw = await self.redis.hmget(failure_log_key(self.source, self.group), entry_ids)
        return {
            entry_id: json.loads(value)
            for entry_id, value in zip(entry_ids, raw, strict=True)
            if value
        }
