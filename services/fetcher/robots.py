"""robots.txt: fetched through the guarded fetch path, cached per origin in Redis.

What an answer means follows RFC 9309 section 2.3.1:

* 2xx: the rules (at most ``max_bytes`` are read), cached for ``ttl_s``;
* 4xx, or a permanent failure (too many redirects, a refused address, too large):
  no usable rules, so everything is allowed, cached for ``ttl_s`` too;
* 5xx, timeout, connection failure: unavailable; the site is not crawled until it
  answers, and that is cached for ``error_ttl_s`` so replicas do not hammer it.

Redis is the shared record (``newsflow:fetch:robots:<origin>``). A process keeps what it
read there for at most ``memo_s`` (and never past the record's expiry), which saves a
round trip per page; it also memoises the parsing of a given text. One process fetches a
missing robots.txt once, whatever number of its pages wait for it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import json
import time
from dataclasses import dataclass
from typing import Literal

import httpx
from protego import Protego
from redis.asyncio import Redis

from services.fetcher.clients import ClientShards
from services.fetcher.core import FetchError, FetchPolicy, fetch_text
from services.fetcher.guard import Resolver, system_resolver

__all__ = ["KEY_PREFIX", "RobotsCache", "RobotsRules", "RobotsUnavailable", "origin_of"]

KEY_PREFIX = "newsflow:fetch:robots:"
_MAX_MEMO_ORIGINS = 10_000
Kind = Literal["rules", "allow_all", "unavailable"]


class RobotsUnavailable(Exception):
    """robots.txt could not be read for a transient reason: do not crawl the site yet."""

    def __init__(self, origin: str, reason: str, retry_after_s: float) -> None:
        super().__init__(f"robots.txt unavailable for {origin}: {reason}")
        self.origin = origin
        self.reason = reason
        self.retry_after_s = retry_after_s


@dataclass(frozen=True, slots=True)
class RobotsRules:
    """The rules of one origin as they apply to one user agent."""

    text: str | None  # None: no usable robots.txt, everything allowed

    def allows(self, url: str, user_agent: str) -> bool:
        return self.text is None or _parse(self.text).can_fetch(url, user_agent)

    def crawl_delay_s(self, user_agent: str) -> float | None:
        if self.text is None:
            return None
        delay = _parse(self.text).crawl_delay(user_agent)
        return float(delay) if delay is not None else None


def origin_of(url: str) -> str:
    """``scheme://host[:port]``: robots.txt applies per origin (RFC 9309 section 2.3)."""
    parsed = httpx.URL(url)
    return f"{parsed.scheme}://{parsed.netloc.decode('ascii')}"


@dataclass
class RobotsCache:
    redis: Redis
    clients: ClientShards
    policy: FetchPolicy
    ttl_s: float = 86_400.0  # RFC 9309 asks not to cache longer than 24 hours
    error_ttl_s: float = 300.0
    max_bytes: int = 512_000  # RFC 9309: parse at least 500 KiB
    memo_s: float = 30.0  # how long a process reuses a record it read from Redis
    resolver: Resolver = system_resolver
    _pending: dict[str, asyncio.Future[RobotsRules]] = dataclasses.field(
        default_factory=dict, init=False, repr=False
    )
    _memo: dict[str, tuple[float, RobotsRules]] = dataclasses.field(
        default_factory=dict, init=False, repr=False
    )

    async def rules_for(self, url: str) -> RobotsRules:
        """The rules for ``url``'s origin, from Redis or fetched; raises RobotsUnavailable."""
        origin = origin_of(url)
        memo = self._recall(origin)
        if memo is not None:
            return memo
        key = KEY_PREFIX + origin
        pipe = self.redis.pipeline(transaction=False)
        pipe.get(key)
        pipe.pttl(key)
        cached, ttl_ms = await pipe.execute()
        if cached is not None:
            return self._remember(origin, _from_record(origin, json.loads(cached), ttl_ms), ttl_ms)
        memo = self._recall(origin)  # a fetch of this process may have ended meanwhile
        if memo is not None:
            return memo
        pending = self._pending.get(origin)
        if pending is None:
            pending = asyncio.ensure_future(self._refresh(origin, key))
            self._pending[origin] = pending
            pending.add_done_callback(lambda _: self._pending.pop(origin, None))
        return await asyncio.shield(pending)

    async def _refresh(self, origin: str, key: str) -> RobotsRules:
        kind, text, reason = await self._download(origin)
        ttl_s = self.error_ttl_s if kind == "unavailable" else self.ttl_s
        record = {"kind": kind, "text": text, "reason": reason}
        ttl_ms = max(1, round(ttl_s * 1000))
        await self.redis.set(key, json.dumps(record), px=ttl_ms)
        return self._remember(origin, _from_record(origin, record, ttl_ms), ttl_ms)

    def _recall(self, origin: str) -> RobotsRules | None:
        memo = self._memo.get(origin)
        return memo[1] if memo is not None and memo[0] > time.monotonic() else None

    def _remember(self, origin: str, rules: RobotsRules, ttl_ms: int) -> RobotsRules:
        if len(self._memo) >= _MAX_MEMO_ORIGINS:
            self._memo.clear()  # crude, but bounded; the records are in Redis
        expires = time.monotonic() + min(self.memo_s, max(ttl_ms, 0) / 1000)
        self._memo[origin] = (expires, rules)
        return rules

    async def _download(self, origin: str) -> tuple[Kind, str | None, str | None]:
        policy = dataclasses.replace(self.policy, max_body_bytes=self.max_bytes)
        try:
            url = f"{origin}/robots.txt"
            client = self.clients.for_url(url)
            page = await fetch_text(url, client, policy, resolver=self.resolver)
        except FetchError as error:
            if error.permanent:
                return "allow_all", None, error.reason
            return "unavailable", None, error.reason
        return "rules", page.html, None


def _from_record(origin: str, record: dict[str, str | None], ttl_ms: int) -> RobotsRules:
    kind = record["kind"]
    if kind == "unavailable":
        reason = record.get("reason") or "unknown error"
        raise RobotsUnavailable(origin, reason, max(ttl_ms, 0) / 1000)
    return RobotsRules(text=record["text"] if kind == "rules" else None)


@functools.lru_cache(maxsize=1024)
def _parse(text: str) -> Protego:
    return Protego.parse(text)
