"""The loop each stage runs beside FastStream's reader: reclaim, trim, measure.

* Reclaim: entries pending for at least ``reclaim_min_idle_ms`` (their consumer died,
  or a retry's backoff has passed: see ``Stage._on_failure``) are claimed with XCLAIM,
  which only succeeds for one claimant, and processed like new ones.
* Trim: entries every group of the stream has acknowledged are removed (XTRIM MINID);
  an entry that some group has not read, or still has pending, is never trimmed.
* Measure: stream length, lag, pending and the age of the oldest pending entry per group.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass
from typing import Any

import structlog
from faststream.redis import RedisBroker
from prometheus_client import CollectorRegistry, Counter, Gauge
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from shared.stage import Entry, Stage, ensure_group
from shared.streams import dead_letter_stream

__all__ = ["GroupGauges", "Maintenance", "safe_trim_id"]

log = structlog.get_logger(__name__)

_CONNECTION_ERRORS = (RedisConnectionError, RedisTimeoutError, OSError)


def _id_tuple(entry_id: str | bytes) -> tuple[int, int]:
    text = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
    ms, _, seq = text.partition("-")
    return int(ms), int(seq or 0)


def safe_trim_id(groups: list[dict[str, Any]], oldest_pending: dict[str, str | None]) -> str | None:
    """The lowest id still needed by any group, for XTRIM MINID; None: trim nothing.

    A group needs its oldest pending entry and everything after its last-delivered id.
    """
    if not groups:
        return None  # nobody has read the stream: all of it is backlog
    needed: list[tuple[int, int]] = []
    for group in groups:
        name = group["name"].decode() if isinstance(group["name"], bytes) else group["name"]
        pending = oldest_pending.get(name)
        if pending:
            needed.append(_id_tuple(pending))
        else:
            ms, seq = _id_tuple(group["last-delivered-id"])
            needed.append((ms, seq + 1))
    ms, seq = min(needed)
    return f"{ms}-{seq}"


class GroupGauges:
    def __init__(self, registry: CollectorRegistry) -> None:
        labels = ["stream", "group"]
        self.length = Gauge("newsflow_stream_length", "Entries in a stream.", ["stream"],
                            registry=registry)  # fmt: skip
        self.dead = Gauge("newsflow_dead_letters", "Entries in a dead-letter stream.",
                          ["stream"], registry=registry)  # fmt: skip
        self.pending = Gauge("newsflow_group_pending", "Entries delivered, not yet acknowledged.",
                             labels, registry=registry)  # fmt: skip
        self.lag = Gauge("newsflow_group_lag", "Entries not yet delivered to the group.",
                         labels, registry=registry)  # fmt: skip
        self.oldest_pending = Gauge(
            "newsflow_group_oldest_pending_age_seconds",
            "Age of the oldest pending entry (0 when none).", labels, registry=registry,
        )  # fmt: skip
        self.reclaimed = Counter("newsflow_reclaimed_messages",
                                 "Entries claimed from idle consumers or after a backoff.",
                                 labels, registry=registry)  # fmt: skip
        self.trimmed = Counter("newsflow_trimmed_messages",
                               "Entries trimmed after every group acknowledged them.",
                               ["stream"], registry=registry)  # fmt: skip


@dataclass
class Maintenance:
    """One per stage; ``run`` until ``stop``."""

    stage: Stage[Any]
    broker: RedisBroker
    gauges: GroupGauges
    max_records: int
    reclaim_interval_ms: int
    housekeeping_interval_ms: int

    def __post_init__(self) -> None:
        self.heartbeat = time.monotonic()
        self._stopping = asyncio.Event()
        self._last_housekeeping = 0.0

    @property
    def redis(self) -> Any:
        return self.stage.redis

    async def run(self) -> None:
        while not self._stopping.is_set():
            self.heartbeat = time.monotonic()
            try:
                claimed = await self.reclaim_once()
                if (
                    time.monotonic() - self._last_housekeeping
                    > self.housekeeping_interval_ms / 1000
                ):
                    await self.housekeeping()
                    self._last_housekeeping = time.monotonic()
            except _CONNECTION_ERRORS as error:
                log.warning("redis unreachable; retrying", error=str(error))
                claimed = 0
            except ResponseError as error:
                if "NOGROUP" not in str(error):
                    raise
                # The stream or group vanished (a Redis restart without persistence):
                # recreate it so the reader resumes.
                log.warning("consumer group missing; recreating", stream=self.stage.source)
                await ensure_group(self.redis, self.stage.source, self.stage.group)
                claimed = 0
            except Exception:
                # A batch that failed as a whole (its database down, say) stays pending
                # and comes back; the loop itself must outlive it.
                log.exception("maintenance round failed", stream=self.stage.source)
                claimed = 0
            if not claimed:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(
                        self._stopping.wait(), timeout=self.reclaim_interval_ms / 1000
                    )

    def stop(self) -> None:
        self._stopping.set()

    async def reclaim_once(self) -> int:
        stage = self.stage
        pending = await self.redis.xpending_range(
            stage.source, stage.group, min="-", max="+", count=self.max_records,
            idle=stage.reclaim_min_idle_ms,
        )  # fmt: skip
        if not pending:
            return 0
        deliveries = {p["message_id"]: int(p["times_delivered"]) + 1 for p in pending}
        claimed = await self.redis.xclaim(
            stage.source, stage.group, stage.consumer, stage.reclaim_min_idle_ms,
            list(deliveries),
        )  # fmt: skip
        entries = [
            Entry(entry_id.decode(), fields, deliveries[entry_id])
            for entry_id, fields in claimed
            if fields
        ]
        vanished = [entry_id for entry_id, fields in claimed if not fields]
        if vanished:  # deleted while pending: nothing left to process
            await self.redis.xack(stage.source, stage.group, *vanished)
        if entries:
            self.gauges.reclaimed.labels(stage.source, stage.group).inc(len(entries))
            log.info("reclaimed", stream=stage.source, count=len(entries))
            await stage.handle_batch(self.broker, entries)
        return len(claimed)

    async def housekeeping(self) -> None:
        stream = self.stage.source
        groups = await self.redis.xinfo_groups(stream)
        oldest: dict[str, str | None] = {}
        now_ms = time.time() * 1000
        for group in groups:
            name = group["name"].decode() if isinstance(group["name"], bytes) else group["name"]
            summary = await self.redis.xpending(stream, name)
            low = summary.get("min")
            oldest_id = low.decode() if isinstance(low, bytes) else low
            oldest[name] = oldest_id
            self.gauges.pending.labels(stream, name).set(group["pending"])
            if group.get("lag") is not None:  # Redis 7 and later
                self.gauges.lag.labels(stream, name).set(group["lag"])
            age_s = (now_ms - _id_tuple(oldest_id)[0]) / 1000 if oldest_id else 0.0
            self.gauges.oldest_pending.labels(stream, name).set(max(age_s, 0.0))
        minid = safe_trim_id(groups, oldest)
        if minid:
            trimmed = await self.redis.xtrim(stream, minid=minid)
            if trimmed:
                self.gauges.trimmed.labels(stream).inc(trimmed)
        self.gauges.length.labels(stream).set(await self.redis.xlen(stream))
        self.gauges.dead.labels(stream).set(await self.redis.xlen(dead_letter_stream(stream)))
