"""The shared "recently fetched" record: one fetch per canonical URL per TTL.

``newsflow:fetch:recent:<canonical url>`` is ``fetching:<submission>`` while a worker
downloads the page (for at most ``in_progress_ttl_s``) and ``fetched:<submission>`` for
``ttl_s`` after a success. ``<submission>`` names the stream entry that claimed it, so
when that same entry is delivered again (its worker crashed after the fetch, before its
result was published, or during it) it is not taken for a duplicate of itself: it
claims the URL again and fetches. A failed fetch forgets its claim, so a retry or a
later submission may try again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline

__all__ = ["KEY_PREFIX", "Claim", "RecentFetches"]

KEY_PREFIX = "newsflow:fetch:recent:"

# ARGV: in-progress TTL (ms), submission.
_CLAIM = """
local state = redis.call('GET', KEYS[1])
if state and state ~= 'fetching:' .. ARGV[2] and state ~= 'fetched:' .. ARGV[2] then
  return {string.match(state, '^(%a+)'), redis.call('PTTL', KEYS[1])}
end
redis.call('SET', KEYS[1], 'fetching:' .. ARGV[2], 'PX', ARGV[1])
return {'claimed', 0}
"""

# Forget only our unfinished claim: a success recorded meanwhile stays.
_FORGET = """
if redis.call('GET', KEYS[1]) == 'fetching:' .. ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

State = Literal["claimed", "fetching", "fetched"]


@dataclass(frozen=True, slots=True)
class Claim:
    state: State  # claimed: ours to fetch; fetching: another one is; fetched: done recently
    ttl_s: float  # how long the other claim or record lasts (0 when claimed)


@dataclass
class RecentFetches:
    redis: Redis
    ttl_s: float = 6 * 3600.0
    in_progress_ttl_s: float = 120.0

    def __post_init__(self) -> None:
        self._claim = self.redis.register_script(_CLAIM)
        self._forget = self.redis.register_script(_FORGET)

    async def claim(self, canonical: str, submission: str) -> Claim:
        state, ttl_ms = await self._claim(
            keys=[KEY_PREFIX + canonical], args=[_ms(self.in_progress_ttl_s), submission]
        )
        name: State = state.decode()
        return Claim(state=name, ttl_s=max(int(ttl_ms), 0) / 1000)

    async def mark_fetched(self, canonical: str, submission: str) -> None:
        await self.redis.set(KEY_PREFIX + canonical, f"fetched:{submission}", px=_ms(self.ttl_s))

    def mark_fetched_in(self, pipe: Pipeline, canonical: str, submission: str) -> None:
        """``mark_fetched`` as part of the caller's pipeline."""
        pipe.set(KEY_PREFIX + canonical, f"fetched:{submission}", px=_ms(self.ttl_s))

    async def forget(self, canonical: str, submission: str) -> None:
        await self._forget(keys=[KEY_PREFIX + canonical], args=[submission])


def _ms(seconds: float) -> int:
    return max(1, round(seconds * 1000))
