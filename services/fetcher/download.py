"""One submitted URL to one outcome: the fetcher's decisions, used by the service and the CLI.

In order: the canonical URL is claimed in the "recently fetched" record (unless the
submission says ``force``), robots.txt is consulted, a per-host slot is reserved, the
page is fetched (core.fetch), the slot released. The outcome is

* a ``PageFetched``;
* a ``StageFailed`` when retrying cannot help: 4xx, guard refusal, not HTML, too large,
  robots.txt disallows, or a duplicate fetched within the TTL;
* ``RetryLater`` raised when it may: timeouts, connection errors, 5xx, 408, 429, the
  host paused or busy or contacted too recently, robots.txt unavailable, the same URL
  being fetched elsewhere. ``delay_s`` is set whenever the wait is known.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import NoReturn

from redis.asyncio import Redis

from services.fetcher.clients import ClientShards
from services.fetcher.core import (
    FetchedPage,
    FetchPolicy,
    PermanentFetchError,
    TransientFetchError,
    fetch,
)
from services.fetcher.guard import Resolver, UnsafeURLError, system_resolver
from services.fetcher.metrics import FetchMetrics, status_class
from services.fetcher.politeness import HostNotReady, Politeness
from services.fetcher.recent import RecentFetches
from services.fetcher.robots import RobotsCache, RobotsRules, RobotsUnavailable
from services.fetcher.settings import FetcherSettings
from services.fetcher.urls import canonical_url, host_key
from shared.contracts import PageFetched, StageFailed, UrlSubmitted, utc_now
from shared.stage import RetryLater

__all__ = ["PAUSE_STATUS_CODES", "Downloader", "build_downloader", "duplicate_reason"]

# Statuses whose Retry-After pauses the whole host, not only this URL (RFC 9110 15.5.20,
# RFC 6585 4): the server said it is overloaded or that we ask too often.
PAUSE_STATUS_CODES = frozenset({429, 503})


def duplicate_reason(canonical: str) -> str:
    return f"duplicate of {canonical}, fetched within TTL"


@dataclass
class Downloader:
    clients: ClientShards
    policy: FetchPolicy
    robots: RobotsCache
    politeness: Politeness
    recent: RecentFetches | None  # None: no dedup record read or written (the CLI)
    metrics: FetchMetrics
    host_delay_s: float = 1.0
    max_crawl_delay_s: float = 60.0
    max_pause_s: float = 3600.0
    resolver: Resolver = system_resolver

    async def download(
        self, request: UrlSubmitted, submission: str | None = None
    ) -> PageFetched | StageFailed:
        """The outcome for ``request``; raises RetryLater for a transient failure.

        ``submission`` identifies the stream entry (its id), the same on every delivery:
        a redelivery of an entry whose fetch succeeded but whose result was never
        published is then fetched again, not taken for a duplicate. Without it, the
        URL and ``submitted_at`` stand in.
        """
        started = time.perf_counter()
        submission = submission or f"{request.url} {request.submitted_at.isoformat()}"
        try:
            canonical = canonical_url(request.url)
        except ValueError as error:
            self._count("refused", None)
            return _failed(request, started, f"bad URL: {error}")
        recent = None if request.force else self.recent
        if recent is not None:
            claim = await recent.claim(canonical, submission)
            if claim.state == "fetched":
                self._count("duplicate", None)
                return _failed(request, started, duplicate_reason(canonical))
            if claim.state == "fetching":
                self._retry(
                    "in_progress", None, f"{canonical} is being fetched", claim.ttl_s, counts=False
                )
        try:
            result = await self._polite_fetch(request, canonical, submission, started)
        except BaseException:
            if recent is not None:
                await recent.forget(canonical, submission)
            raise
        if isinstance(result, StageFailed) and recent is not None:
            await recent.forget(canonical, submission)
        return result

    async def _polite_fetch(
        self, request: UrlSubmitted, canonical: str, submission: str, started: float
    ) -> PageFetched | StageFailed:
        try:
            rules = await self.robots.rules_for(request.url)
        except RobotsUnavailable as error:
            self._retry("robots_unavailable", None, str(error), error.retry_after_s)
        if not rules.allows(request.url, self.policy.user_agent):
            self.metrics.robots_denials.inc()
            self._count("robots_denied", None)
            return _failed(request, started, "disallowed by robots.txt")
        host = host_key(canonical)
        try:
            slot = await self.politeness.acquire(host, self._delay_s(rules), booking=canonical)
        except HostNotReady as error:
            self._retry(f"host_{error.reason}", None, str(error), error.retry_after_s, counts=False)
        page = None
        try:
            page = await self._fetch(request.url, host)
        except PermanentFetchError as error:
            refused = isinstance(error.__cause__, UnsafeURLError)
            if refused:
                self.metrics.guard_refusals.inc()
            self._count("refused" if refused else "failed", error.status_code)
            return _failed(request, started, error.reason)
        finally:
            # One round trip: release the slot and, on success, record the URL as fetched
            # (a forced fetch too, so later duplicates are caught).
            pipe = self.politeness.redis.pipeline(transaction=False)
            self.politeness.release_in(pipe, slot)
            if page is not None and self.recent is not None:
                self.recent.mark_fetched_in(pipe, canonical, submission)
            await pipe.execute()
        self._count("ok", page.status_code)
        self.metrics.body_bytes.inc(page.body_bytes)
        return _fetched(request, started, page)

    async def _fetch(self, url: str, host: str) -> FetchedPage:
        fetch_started = time.perf_counter()
        outcome = "failed"
        try:
            with self.metrics.in_flight.track_inprogress():
                client = self.clients.for_url(url)
                page = await fetch(url, client, self.policy, resolver=self.resolver)
            outcome = "ok"
            return page
        except TransientFetchError as error:
            outcome = "retry"
            delay_s = error.retry_after_s
            if delay_s is not None:
                delay_s = min(delay_s, self.max_pause_s)
                if error.status_code in PAUSE_STATUS_CODES:
                    await self.politeness.pause(host, delay_s)
            self._retry("transient", error.status_code, error.reason, delay_s)
        finally:
            self.metrics.duration.labels(outcome).observe(time.perf_counter() - fetch_started)

    def _delay_s(self, rules: RobotsRules) -> float:
        crawl_delay = rules.crawl_delay_s(self.policy.user_agent)
        if crawl_delay is None:
            return self.host_delay_s
        return max(self.host_delay_s, min(crawl_delay, self.max_crawl_delay_s))

    def _count(self, outcome: str, status_code: int | None) -> None:
        self.metrics.results.labels(outcome, status_class(status_code)).inc()

    def _retry(
        self,
        why: str,
        status_code: int | None,
        reason: str,
        delay_s: float | None,
        *,
        counts: bool = True,
    ) -> NoReturn:
        """``counts=False``: a wait, not a failure; it spends none of the entry's deliveries."""
        self._count("retry", status_code)
        self.metrics.retries.labels(why).inc()
        raise RetryLater(reason, delay_s=delay_s, counts=counts)


def build_downloader(
    settings: FetcherSettings,
    redis: Redis,
    clients: ClientShards,
    metrics: FetchMetrics,
    *,
    record_recent: bool = True,
    max_slot_wait_s: float | None = None,
    resolver: Resolver = system_resolver,
) -> Downloader:
    """A Downloader configured from ``settings``, its shared state in ``redis``."""
    policy = settings.policy()
    return Downloader(
        clients=clients,
        policy=policy,
        robots=RobotsCache(
            redis,
            clients,
            policy,
            ttl_s=settings.robots_ttl_s,
            error_ttl_s=settings.robots_error_ttl_s,
            max_bytes=settings.robots_max_bytes,
            memo_s=settings.robots_memo_s,
            resolver=resolver,
        ),
        politeness=Politeness(
            redis,
            concurrency=settings.host_concurrency,
            # A lease outlives any fetch (deadline), so it only lapses after a crash.
            lease_s=settings.deadline_s + settings.max_slot_wait_s + 30,
            max_wait_s=settings.max_slot_wait_s if max_slot_wait_s is None else max_slot_wait_s,
            busy_retry_s=settings.busy_retry_s,
            max_booking_s=settings.max_booking_s,
        ),
        recent=RecentFetches(
            redis, ttl_s=settings.recent_ttl_s, in_progress_ttl_s=settings.deadline_s * 2 + 60
        )
        if record_recent
        else None,
        metrics=metrics,
        host_delay_s=settings.host_delay_s,
        max_crawl_delay_s=settings.max_crawl_delay_s,
        max_pause_s=settings.max_pause_s,
        resolver=resolver,
    )


def _failed(request: UrlSubmitted, started: float, reason: str) -> StageFailed:
    return StageFailed(
        url=request.url,
        submitted_at=request.submitted_at,
        timings={"fetch": time.perf_counter() - started},
        stage="fetcher",
        reason=reason,
    )


def _fetched(request: UrlSubmitted, started: float, page: FetchedPage) -> PageFetched:
    return PageFetched(
        url=request.url,
        submitted_at=request.submitted_at,
        timings={"fetch": time.perf_counter() - started},
        final_url=page.final_url,
        status_code=page.status_code,
        content_type=page.content_type,
        encoding=page.encoding,
        html=page.html,
        fetched_at=utc_now(),
    )
