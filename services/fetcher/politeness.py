"""Per-host politeness shared by every fetcher replica, kept in Redis.

For each host (``name`` or ``name:port``, see ``urls.host_key``) Redis holds:

* ``newsflow:fetch:host:<host>:next``: the earliest start (ms, Redis clock) still free
  for a new request, so starts are at least ``delay_s`` apart across all replicas;
* ``newsflow:fetch:host:<host>:last``: when the latest request actually started;
* ``newsflow:fetch:host:<host>:leases``: a sorted set of requests in flight, each scored
  by when its lease lapses, so a crashed replica cannot hold a slot for ever;
* ``newsflow:fetch:host:<host>:paused``: present while the host asked us to wait
  (``Retry-After`` on 429/503); its TTL is the pause;
* ``newsflow:fetch:host:<host>:booking:<id>``: a future start booked for one item.

One Lua script checks them and reserves a slot atomically, on the Redis server's clock
so replicas on different machines agree on time. A slot that starts within
``max_wait_s`` is taken and waited for in-process. A later one, up to ``max_booking_s``
ahead, is booked for the item (its canonical URL) and the caller is told when to come
back (it raises ``RetryLater``): a burst of URLs for one host is spread over successive
slots, each redelivered at its own time, instead of all of them retrying at once and
spending their deliveries. Every start is still checked against ``last``, so a late
redelivery never starts closer than ``delay_s`` to the previous request.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from typing import Literal

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline

__all__ = ["KEY_PREFIX", "HostNotReady", "HostSlot", "Politeness"]

KEY_PREFIX = "newsflow:fetch:host:"

NotReadyReason = Literal["paused", "busy", "booked", "spacing"]

# KEYS: next, leases, paused, last, booking (or a key never written when ARGV[7] is 0).
# ARGV: delay, concurrency, lease, max wait, token, max booking (ms), booking enabled.
_RESERVE = """
redis.replicate_commands()
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local delay, lease, max_wait = tonumber(ARGV[1]), tonumber(ARGV[3]), tonumber(ARGV[4])
local paused = redis.call('PTTL', KEYS[3])
if paused > 0 then return {0, paused, 'paused'} end
local last = tonumber(redis.call('GET', KEYS[4]) or '-1e15')
local booked = nil
if ARGV[7] == '1' then booked = redis.call('GET', KEYS[5]) end
local nxt = tonumber(redis.call('GET', KEYS[1]) or '0')
local start = math.max(now, last + delay)
if booked then start = math.max(start, tonumber(booked)) else start = math.max(start, nxt) end
local wait = start - now
if wait <= max_wait then
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
  if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[2]) then return {0, -1, 'busy'} end
  redis.call('SET', KEYS[4], start, 'PX', wait + delay + 1000)
  if start + delay > nxt then
    redis.call('SET', KEYS[1], start + delay, 'PX', wait + delay + 1000)
  end
  if booked then redis.call('DEL', KEYS[5]) end
  redis.call('ZADD', KEYS[2], start + lease, ARGV[5])
  redis.call('PEXPIRE', KEYS[2], wait + lease)
  return {1, wait, 'granted'}
end
if booked then return {0, wait, 'booked'} end
if ARGV[7] ~= '1' or wait > tonumber(ARGV[6]) then return {0, wait, 'spacing'} end
redis.call('SET', KEYS[5], start, 'PX', wait + lease)
redis.call('SET', KEYS[1], start + delay, 'PX', wait + delay + 1000)
return {0, wait, 'booked'}
"""

# Extend a pause, never shorten it: two answers may race with different Retry-After values.
_PAUSE = """
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('SET', KEYS[1], '1', 'PX', ARGV[1])
end
return 1
"""


class HostNotReady(Exception):
    """The host cannot be contacted now; try again in about ``retry_after_s``."""

    def __init__(self, host: str, reason: NotReadyReason, retry_after_s: float) -> None:
        super().__init__(f"host {host} {_DESCRIPTIONS[reason]}")
        self.host = host
        self.reason = reason
        self.retry_after_s = retry_after_s


_DESCRIPTIONS: dict[NotReadyReason, str] = {
    "paused": "asked us to wait (Retry-After)",
    "busy": "has its maximum of requests in flight",
    "booked": "has a slot booked for this URL later (crawl delay)",
    "spacing": "has no free slot soon enough (crawl delay)",
}


@dataclass(frozen=True, slots=True)
class HostSlot:
    """A reserved request slot: start after ``wait_s`` seconds, then ``release`` it."""

    host: str
    token: str
    wait_s: float


@dataclass
class Politeness:
    """Reserve, release and pause per-host request slots in a Redis shared by replicas."""

    redis: Redis
    concurrency: int = 2  # requests in flight per host, all replicas together
    lease_s: float = 60.0  # a slot lapses after this even if never released (crashes)
    max_wait_s: float = 2.0  # slots starting later than this are not waited for in-process
    busy_retry_s: float = 5.0  # retry hint when the host is at its concurrency limit
    max_booking_s: float = 60.0  # book slots up to this far ahead; later ones are refused

    def __post_init__(self) -> None:
        self._reserve = self.redis.register_script(_RESERVE)
        self._pause = self.redis.register_script(_PAUSE)

    async def reserve(self, host: str, delay_s: float, booking: str | None = None) -> HostSlot:
        """Take the next slot for ``host`` (starts ``delay_s`` apart) or raise HostNotReady.

        ``booking`` names the item (its canonical URL): a slot too far ahead to wait for
        is then booked for it, and honoured when the same item asks again.
        """
        token = uuid.uuid4().hex
        granted, wait_ms, reason = await self._reserve(
            keys=[
                _key(host, "next"),
                _key(host, "leases"),
                _key(host, "paused"),
                _key(host, "last"),
                _key(host, f"booking:{booking or ''}"),
            ],
            args=[
                _ms(delay_s),
                self.concurrency,
                _ms(self.lease_s),
                _ms(self.max_wait_s),
                token,
                _ms(self.max_booking_s),
                1 if booking else 0,
            ],
        )
        if not granted:
            why: NotReadyReason = reason.decode()
            retry_s = self.busy_retry_s if wait_ms < 0 else wait_ms / 1000
            raise HostNotReady(host, why, retry_s)
        return HostSlot(host=host, token=token, wait_s=wait_ms / 1000)

    async def acquire(self, host: str, delay_s: float, booking: str | None = None) -> HostSlot:
        """``reserve``, then wait until the slot starts."""
        slot = await self.reserve(host, delay_s, booking)
        if slot.wait_s > 0:
            try:
                await asyncio.sleep(slot.wait_s)
            except BaseException:
                await self.release(slot)
                raise
        return slot

    async def release(self, slot: HostSlot) -> None:
        await self.redis.zrem(_key(slot.host, "leases"), slot.token)

    def release_in(self, pipe: Pipeline, slot: HostSlot) -> None:
        """``release`` as part of the caller's pipeline."""
        pipe.zrem(_key(slot.host, "leases"), slot.token)

    async def pause(self, host: str, seconds: float) -> None:
        """Send no request to ``host`` for ``seconds`` (from every replica)."""
        if seconds > 0:
            await self._pause(keys=[_key(host, "paused")], args=[_ms(seconds)])


def _key(host: str, part: str) -> str:
    return f"{KEY_PREFIX}{host}:{part}"


def _ms(seconds: float) -> int:
    return max(0, round(seconds * 1000))
