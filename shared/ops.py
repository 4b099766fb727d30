"""What ops reads and does by hand: stream status and the dead-letter streams.

Plain functions over a synchronous Redis client, used by ``newsflow status`` and
``newsflow dlq``.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from redis import Redis

from shared.streams import PIPELINE_STREAMS, dead_letter_stream

__all__ = [
    "DeadLetterEntry",
    "GroupStatus",
    "StreamStatus",
    "drop_dead_letters",
    "list_dead_letters",
    "pipeline_status",
    "replay_dead_letters",
]


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


@dataclass(frozen=True, slots=True)
class GroupStatus:
    name: str
    consumers: int
    pending: int
    lag: int | None  # None where Redis (before 7) does not report it
    oldest_pending_age_s: float | None
    last_delivered_id: str


@dataclass(frozen=True, slots=True)
class StreamStatus:
    stream: str
    length: int
    dead_letters: int
    groups: list[GroupStatus] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _group_status(redis: Redis, stream: str, info: dict[str, Any]) -> GroupStatus:
    name = _text(info["name"])
    summary: dict[str, Any] = redis.xpending(stream, name)
    oldest = summary.get("min")
    age = None
    if oldest:
        age = max(time.time() - int(_text(oldest).split("-")[0]) / 1000, 0.0)
    lag = info.get("lag")
    return GroupStatus(
        name=name,
        consumers=int(info["consumers"]),
        pending=int(info["pending"]),
        lag=int(lag) if lag is not None else None,
        oldest_pending_age_s=round(age, 3) if age is not None else None,
        last_delivered_id=_text(info["last-delivered-id"]),
    )


def pipeline_status(
    redis: Redis, streams: tuple[str, ...] = PIPELINE_STREAMS
) -> list[StreamStatus]:
    statuses = []
    for stream in streams:
        exists = bool(redis.exists(stream))
        groups: list[dict[str, Any]] = redis.xinfo_groups(stream) if exists else []
        statuses.append(
            StreamStatus(
                stream=stream,
                length=int(redis.xlen(stream)),
                dead_letters=int(redis.xlen(dead_letter_stream(stream))),
                groups=[_group_status(redis, stream, g) for g in groups],
            )
        )
    return statuses


@dataclass(frozen=True, slots=True)
class DeadLetterEntry:
    dead_stream: str
    id: str
    fields: dict[str, str]

    @property
    def origin_stream(self) -> str:
        return self.fields.get("origin_stream", "")

    @property
    def payload(self) -> dict[str, str]:
        decoded: dict[str, str] = json.loads(self.fields.get("payload", "{}"))
        return decoded

    def to_json(self) -> dict[str, Any]:
        return {"dead_stream": self.dead_stream, "id": self.id, **self.fields}


def list_dead_letters(
    redis: Redis,
    *,
    streams: tuple[str, ...] = PIPELINE_STREAMS,
    ids: tuple[str, ...] = (),
    limit: int = 100,
) -> list[DeadLetterEntry]:
    """Oldest first, from every dead-letter stream (or only the entries ``ids``)."""
    found: list[DeadLetterEntry] = []
    for stream in streams:
        dead = dead_letter_stream(stream)
        if ids:
            raw = [e for entry_id in ids for e in redis.xrange(dead, entry_id, entry_id)]  # type: ignore[union-attr]
        else:
            raw = redis.xrange(dead, count=limit)  # type: ignore[assignment]
        for entry_id, fields in raw:
            found.append(
                DeadLetterEntry(
                    dead, _text(entry_id), {_text(k): _text(v) for k, v in (fields or {}).items()}
                )
            )
    return found[:limit] if not ids else found


def replay_dead_letters(redis: Redis, entries: list[DeadLetterEntry]) -> int:
    """Put each original payload back on its origin stream and delete the dead letter,
    atomically per entry: a crash never loses one nor replays it twice."""
    for entry in entries:
        if not entry.origin_stream:
            raise ValueError(f"{entry.id} has no origin stream")
        pipe = redis.pipeline(transaction=True)
        pipe.xadd(entry.origin_stream, entry.payload)  # type: ignore[arg-type]
        pipe.xdel(entry.dead_stream, entry.id)
        pipe.execute()
    return len(entries)


def drop_dead_letters(redis: Redis, entries: list[DeadLetterEntry]) -> int:
    return sum(int(redis.xdel(e.dead_stream, e.id)) for e in entries)
