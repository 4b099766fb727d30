"""The fetcher's decisions against local servers and a real Redis: which outcome, which
failures are retried (RetryLater) and with which delay."""

from __future__ import annotations

import asyncio
import itertools
import time
from typing import Any

import pytest
from prometheus_client import CollectorRegistry
from redis.asyncio import Redis

from services.fetcher.clients import ClientShards
from services.fetcher.download import Downloader, build_downloader, duplicate_reason
from services.fetcher.metrics import FetchMetrics
from services.fetcher.settings import FetcherSettings
from shared.contracts import PageFetched, StageFailed, UrlSubmitted
from shared.stage import RetryLater
from tests.unit.fetcher.conftest import Gate, http_response, no_dns, sequence

PAGE = b"<!doctype html><html><head><title>News</title></head><body><p>Story</p></body></html>"
OK = http_response(200, PAGE)
ROBOTS_DELAY = http_response(
    200, b"User-agent: newsflow\nCrawl-delay: 1\n", {"Content-Type": "text/plain"}
)


def make(redis: Redis, http: Any, registry: CollectorRegistry, **settings: Any) -> Downloader:
    base: dict[str, Any] = {
        "allow_networks": "127.0.0.0/8",
        "connect_timeout_s": 2,
        "read_timeout_s": 2,
        "deadline_s": 5,
        "host_delay_s": 0,
        "max_slot_wait_s": 0,
        "robots_error_ttl_s": 30,
    }
    return build_downloader(
        FetcherSettings(**{**base, **settings}),
        redis,
        ClientShards.single(http),
        FetchMetrics(registry),
        resolver=no_dns,
    )


@pytest.fixture
def registry() -> CollectorRegistry:
    return CollectorRegistry()


@pytest.fixture
def downloader(aredis, http, registry) -> Downloader:
    return make(aredis, http, registry)


def metric(registry: CollectorRegistry, name: str, **labels: str) -> float:
    return registry.get_sample_value(name, labels) or 0.0


async def retry_of(downloader: Downloader, url: str, **fields: Any) -> RetryLater:
    with pytest.raises(RetryLater) as caught:
        await downloader.download(UrlSubmitted(url=url, **fields))
    return caught.value


async def test_fetches_a_page(server, downloader, registry):
    server.respond("/news/1", body=PAGE)

    result = await downloader.download(UrlSubmitted(url=server.url("/news/1")))

    assert isinstance(result, PageFetched)
    assert (result.status_code, result.html) == (200, PAGE.decode())
    assert result.timings["fetch"] > 0
    assert [r.path for r in server.requests] == ["/robots.txt", "/news/1"]
    assert metric(registry, "newsflow_fetch_results_total", outcome="ok", status_class="2xx") == 1
    assert metric(registry, "newsflow_fetch_body_bytes_total") == len(PAGE)
    assert metric(registry, "newsflow_fetch_duration_seconds_count", outcome="ok") == 1
    assert metric(registry, "newsflow_fetch_in_flight") == 0


async def test_robots_disallow_is_a_permanent_failure(server, downloader, registry):
    server.respond("/robots.txt", body=b"User-agent: *\nDisallow: /private/", headers={})

    result = await downloader.download(UrlSubmitted(url=server.url("/private/1")))

    assert isinstance(result, StageFailed)
    assert (result.stage, result.reason) == ("fetcher", "disallowed by robots.txt")
    assert [r.path for r in server.requests] == ["/robots.txt"]
    assert metric(registry, "newsflow_fetch_robots_denials_total") == 1


async def test_crawl_delay_spaces_requests_to_a_host(server, aredis, http, registry):
    server.routes["/robots.txt"] = ROBOTS_DELAY
    arrivals: list[float] = []

    async def page(writer: asyncio.StreamWriter) -> None:
        arrivals.append(time.monotonic())
        writer.write(OK)
        await writer.drain()

    for n in range(3):
        server.routes[f"/{n}"] = page
    waiting = make(aredis, http, registry, max_slot_wait_s=5, host_concurrency=5)

    results = await asyncio.gather(
        *(waiting.download(UrlSubmitted(url=server.url(f"/{n}"))) for n in range(3))
    )

    assert all(isinstance(result, PageFetched) for result in results)
    arrivals.sort()
    gaps = [later - earlier for earlier, later in itertools.pairwise(arrivals)]
    assert all(gap >= 0.95 for gap in gaps), gaps


async def test_a_slot_beyond_the_wait_limit_is_booked_for_after_the_crawl_delay(
    server, downloader, registry
):
    server.routes["/robots.txt"] = ROBOTS_DELAY
    server.respond("/a", body=PAGE)
    server.respond("/b", body=PAGE)

    first = await downloader.download(UrlSubmitted(url=server.url("/a")))
    retry = await retry_of(downloader, server.url("/b"))

    assert isinstance(first, PageFetched)
    assert retry.delay_s is not None
    assert 0 < retry.delay_s <= 1.0  # the crawl delay, less the time the first fetch took
    assert "slot booked" in retry.reason
    assert metric(registry, "newsflow_fetch_retries_total", reason="host_booked") == 1
    await asyncio.sleep(retry.delay_s)  # what the stage's redelivery does
    second = await downloader.download(UrlSubmitted(url=server.url("/b")))
    assert isinstance(second, PageFetched)


async def test_429_with_retry_after_pauses_the_host_then_succeeds(server, downloader, registry):
    server.routes["/a"] = sequence(http_response(429, headers={"Retry-After": "1"}), OK)
    server.respond("/b", body=PAGE)

    retry = await retry_of(downloader, server.url("/a"))
    paused = await retry_of(downloader, server.url("/b"))  # same host, other page
    await asyncio.sleep(1.05)
    result = await downloader.download(UrlSubmitted(url=server.url("/a")))

    assert (retry.reason, retry.delay_s) == ("HTTP 429", 1.0)
    assert paused.delay_s is not None
    assert 0 < paused.delay_s <= 1.0
    assert "Retry-After" in paused.reason
    assert isinstance(result, PageFetched)
    assert [r.path for r in server.requests].count("/b") == 0  # never sent while paused
    assert (
        metric(registry, "newsflow_fetch_results_total", outcome="retry", status_class="4xx") == 1
    )
    assert metric(registry, "newsflow_fetch_retries_total", reason="transient") == 1
    assert metric(registry, "newsflow_fetch_retries_total", reason="host_paused") == 1


async def test_503_then_200_retries_with_backoff_left_to_the_stage(server, downloader):
    server.routes["/a"] = sequence(http_response(503), OK)

    retry = await retry_of(downloader, server.url("/a"))
    result = await downloader.download(UrlSubmitted(url=server.url("/a")))

    assert (retry.reason, retry.delay_s) == ("HTTP 503", None)
    assert isinstance(result, PageFetched)  # no pause without Retry-After; not a duplicate


async def test_503_retry_after_is_capped(server, aredis, http, registry):
    server.respond("/a", 503, headers={"Retry-After": "86400"})
    capped = make(aredis, http, registry, max_pause_s=120)

    retry = await retry_of(capped, server.url("/a"))
    paused = await retry_of(capped, server.url("/b"))

    assert retry.delay_s == 120
    assert paused.delay_s is not None
    assert 119 < paused.delay_s <= 120


@pytest.mark.parametrize("status", [500, 502, 408])
async def test_other_transient_statuses_retry_without_pausing_the_host(server, downloader, status):
    server.respond("/a", status, headers={"Retry-After": "30"})
    server.respond("/b", body=PAGE)

    retry = await retry_of(downloader, server.url("/a"))
    result = await downloader.download(UrlSubmitted(url=server.url("/b")))

    assert retry.reason == f"HTTP {status}"
    assert isinstance(result, PageFetched)


async def test_an_unreachable_host_retries_after_the_robots_error_ttl(downloader, registry):
    # A port nobody listens on: robots.txt cannot be read, so the site is not crawled yet.
    retry = await retry_of(downloader, "http://127.0.0.1:9/news")

    assert "robots.txt unavailable" in retry.reason
    assert retry.delay_s == 30
    assert metric(registry, "newsflow_fetch_retries_total", reason="robots_unavailable") == 1


async def test_a_timeout_retries(server, aredis, http, registry):
    async def silent(writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(3)

    server.routes["/slow"] = silent
    impatient = make(aredis, http, registry, read_timeout_s=0.2)

    retry = await retry_of(impatient, server.url("/slow"))

    assert retry.reason == "read timeout"
    assert retry.delay_s is None


async def test_4xx_is_permanent_and_not_remembered_as_fetched(server, downloader, registry):
    server.respond("/gone", 404)

    first = await downloader.download(UrlSubmitted(url=server.url("/gone")))
    second = await downloader.download(UrlSubmitted(url=server.url("/gone")))

    assert isinstance(first, StageFailed)
    assert isinstance(second, StageFailed)
    assert first.reason == second.reason == "HTTP 404"
    assert [r.path for r in server.requests].count("/gone") == 2
    assert (
        metric(registry, "newsflow_fetch_results_total", outcome="failed", status_class="4xx") == 2
    )


async def test_guard_refusal_is_permanent_and_counted(server, aredis, http, registry):
    server.respond("/a", body=PAGE)
    guarded = make(aredis, http, registry, allow_networks="")

    result = await guarded.download(UrlSubmitted(url=server.url("/a")))

    assert isinstance(result, StageFailed)
    assert result.reason == "refused: address 127.0.0.1 is not public"
    assert server.requests == []
    assert metric(registry, "newsflow_fetch_guard_refusals_total") == 1
    assert (
        metric(registry, "newsflow_fetch_results_total", outcome="refused", status_class="none")
        == 1
    )


async def test_a_bad_url_is_permanent(downloader):
    result = await downloader.download(UrlSubmitted(url="https:///no-host"))

    assert isinstance(result, StageFailed)
    assert result.reason.startswith("bad URL:")


async def test_the_same_article_twice_is_fetched_once(server, downloader, registry):
    server.respond("/story?utm_source=twitter", body=PAGE)  # the test server routes by path+query
    canonical = server.url("/story")

    first = await downloader.download(
        UrlSubmitted(url=server.url("/story?utm_source=twitter"), source="a")
    )
    second = await downloader.download(
        UrlSubmitted(url=server.url("/story?fbclid=x#comments"), source="b")
    )

    assert isinstance(first, PageFetched)
    assert isinstance(second, StageFailed)
    assert second.reason == duplicate_reason(canonical)
    assert second.reason == f"duplicate of {canonical}, fetched within TTL"
    assert [r.path for r in server.requests].count("/story?utm_source=twitter") == 1
    assert len([r for r in server.requests if r.path.startswith("/story")]) == 1
    assert (
        metric(registry, "newsflow_fetch_results_total", outcome="duplicate", status_class="none")
        == 1
    )


async def test_force_bypasses_the_recent_record(server, downloader):
    server.respond("/story", body=PAGE)

    await downloader.download(UrlSubmitted(url=server.url("/story")))
    forced = await downloader.download(UrlSubmitted(url=server.url("/story"), force=True))
    again = await downloader.download(UrlSubmitted(url=server.url("/story")))

    assert isinstance(forced, PageFetched)
    assert isinstance(again, StageFailed)
    assert [r.path for r in server.requests].count("/story") == 2


async def test_the_recent_record_lapses_after_its_ttl(server, aredis, http, registry):
    server.respond("/story", body=PAGE)
    short = make(aredis, http, registry, recent_ttl_s=0.2)

    await short.download(UrlSubmitted(url=server.url("/story")))
    await asyncio.sleep(0.25)
    again = await short.download(UrlSubmitted(url=server.url("/story")))

    assert isinstance(again, PageFetched)


async def test_a_url_being_fetched_elsewhere_retries_later(server, downloader):
    gate = Gate(OK)
    server.routes["/story"] = gate

    first = asyncio.create_task(downloader.download(UrlSubmitted(url=server.url("/story"))))
    await gate.until_waiting(1)
    retry = await retry_of(downloader, server.url("/story?utm_medium=email"))
    gate.open.set()

    assert isinstance(await first, PageFetched)
    assert retry.delay_s is not None
    assert retry.delay_s > 0
    assert "is being fetched" in retry.reason


async def test_host_concurrency_is_shared_by_two_replicas(server, redis_url, http, registry):
    gate = Gate(OK)
    for n in range(4):
        server.routes[f"/{n}"] = gate
    clients = [Redis.from_url(redis_url), Redis.from_url(redis_url)]
    settings = {"host_concurrency": 2, "busy_retry_s": 3}
    registries = [CollectorRegistry(), CollectorRegistry()]
    replicas = [make(c, http, r, **settings) for c, r in zip(clients, registries, strict=True)]
    try:
        in_flight = [
            asyncio.create_task(replicas[n].download(UrlSubmitted(url=server.url(f"/{n}"))))
            for n in range(2)
        ]
        await gate.until_waiting(2)
        refused = [await retry_of(replica, server.url("/2")) for replica in replicas]
        gauge = [metric(r, "newsflow_fetch_in_flight") for r in registries]
        gate.open.set()
        done = await asyncio.gather(*in_flight)
        after = await replicas[1].download(UrlSubmitted(url=server.url("/3")))
    finally:
        for client in clients:
            await client.aclose()

    assert all(isinstance(result, PageFetched) for result in done)
    assert [(r.delay_s, "maximum of requests in flight" in r.reason) for r in refused] == [
        (3.0, True),
        (3.0, True),
    ]
    assert gauge == [1.0, 1.0]
    assert isinstance(after, PageFetched)
    assert gate.waiting == 3  # the refused ones never reached the server


async def test_a_redelivered_entry_is_not_a_duplicate_of_itself(server, downloader):
    # Its worker fetched the page, then died before the stage published the result.
    server.respond("/story", body=PAGE)
    request = UrlSubmitted(url=server.url("/story"))

    first = await downloader.download(request, "1700000000000-0")
    again = await downloader.download(request, "1700000000000-0")
    other = await downloader.download(UrlSubmitted(url=server.url("/story")), "1700000000001-0")

    assert isinstance(first, PageFetched)
    assert isinstance(again, PageFetched)
    assert isinstance(other, StageFailed)
    assert other.reason == duplicate_reason(server.url("/story"))
    assert [r.path for r in server.requests].count("/story") == 2


async def test_a_claim_left_by_a_crash_does_not_block_its_own_entry(server, downloader):
    server.respond("/story", body=PAGE)
    assert downloader.recent is not None
    await downloader.recent.claim(server.url("/story"), "1700000000000-0")  # then killed

    retry = await retry_of(downloader, server.url("/story"))  # another entry: wait
    result = await downloader.download(UrlSubmitted(url=server.url("/story")), "1700000000000-0")

    assert "is being fetched" in retry.reason
    assert isinstance(result, PageFetched)
