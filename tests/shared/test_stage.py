"""The stage shell over a real Redis: contract checks, routing, retries, dead letters, acks."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any, cast

import pytest
from redis.asyncio import Redis

from shared.contracts import Contract, StageFailed, UrlSubmitted
from shared.service import Service
from shared.settings import SharedSettings
from shared.stage import Delivery, Reject, Result, RetryLater, per_item
from shared.streams import FAILURES, URLS, consumer_name, dead_letter_stream, failure_log_key

OUTPUT = "test:output"
Fields = dict[bytes, bytes]
Process = Callable[[UrlSubmitted], Awaitable[Contract | None]]


class Echo(Contract):
    url: str


async def entries(redis: Redis, stream: str) -> list[Fields]:
    """The fields of every entry of ``stream``, oldest first."""
    return [cast(Fields, fields) for _, fields in await redis.xrange(stream) or []]


def body(fields: Fields) -> dict[str, Any]:
    """The JSON body inside a FastStream-encoded entry."""
    data = fields[b"__data__"]
    decoded: dict[str, Any] = json.loads(data[data.index(b"{") :])
    return decoded


async def wait_for(condition: Callable[[], Awaitable[bool]], timeout_s: float = 15.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not await condition():
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError("condition not met")
        await asyncio.sleep(0.05)


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url)
    yield client
    await client.aclose()


def make_service(
    redis_url: str, process: Process, name: str = "fetcher", **settings: Any
) -> Service:
    options: dict[str, Any] = {
        "polling_interval_ms": 50,
        "reclaim_interval_ms": 50,
        "reclaim_min_idle_ms": 500,
        "retry_base_delay_ms": 50,
        "housekeeping_interval_ms": 100,
        "max_deliveries": 3,
        **settings,
    }
    service = Service(name, SharedSettings(redis_url=redis_url, **options), 0)
    service.consume(URLS, UrlSubmitted, per_item(process, concurrency=4), output=OUTPUT)
    return service


async def drained(redis: Redis, stream: str = URLS, group: str = "fetcher") -> bool:
    """Every entry delivered to ``group`` and acknowledged."""
    groups = await redis.xinfo_groups(stream)
    [info] = [g for g in groups if g["name"] == group.encode()]
    last = (await redis.xinfo_stream(stream))["last-generated-id"]
    return bool(info["last-delivered-id"] == last and info["pending"] == 0)


async def run_stage(redis_url: str, process: Process, **settings: Any) -> None:
    service = make_service(redis_url, process, **settings)
    async with service.running():
        await wait_for(lambda: drained(service.redis))


async def echo(message: UrlSubmitted) -> Echo:
    return Echo(url=message.url)


async def test_entries_published_before_start_are_consumed(redis: Redis, redis_url: str) -> None:
    await redis.xadd(URLS, {"url": "https://a.example/1"})
    await redis.xadd(URLS, {"url": "https://a.example/2"})

    await run_stage(redis_url, echo)

    assert [body(f)["url"] for f in await entries(redis, OUTPUT)] == [
        "https://a.example/1",
        "https://a.example/2",
    ]


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"href": "https://no-url-field.example/"}, b"UrlSubmitted contract"),
        ({"url": "   "}, b"url is blank"),
        ({"__data__": "\x89BIN garbage that is no envelope"}, b"contract"),
        ({"url": b"\xff\xfe not utf-8"}, b"contract"),
    ],
)
async def test_undecodable_or_malformed_entry_is_dead_lettered_at_once(
    redis: Redis, redis_url: str, fields: dict[str, Any], reason: bytes
) -> None:
    await redis.xadd(URLS, fields)  # type: ignore[arg-type]
    await redis.xadd(URLS, {"url": "https://ok.example/"})

    await run_stage(redis_url, echo)

    assert len(await entries(redis, OUTPUT)) == 1
    [dead] = await entries(redis, dead_letter_stream(URLS))
    assert dead[b"origin_stream"] == URLS.encode()
    assert dead[b"group"] == b"fetcher"
    assert dead[b"deliveries"] == b"1"
    assert reason in dead[b"error"]
    assert set(json.loads(dead[b"payload"])) == set(fields)


async def test_flaky_entry_is_retried_until_it_succeeds(redis: Redis, redis_url: str) -> None:
    calls: dict[str, int] = {}

    async def flaky(message: UrlSubmitted) -> Echo:
        calls[message.url] = calls.get(message.url, 0) + 1
        if calls[message.url] < 3:
            raise ConnectionError("upstream reset")
        return Echo(url=message.url)

    await redis.xadd(URLS, {"url": "https://flaky.example/"})

    await run_stage(redis_url, flaky)

    assert calls == {"https://flaky.example/": 3}
    assert len(await entries(redis, OUTPUT)) == 1
    assert await redis.xlen(dead_letter_stream(URLS)) == 0
    assert await redis.hlen(failure_log_key(URLS, "fetcher")) == 0


async def test_entry_that_always_raises_is_dead_lettered_after_max_deliveries(
    redis: Redis, redis_url: str
) -> None:
    calls: list[str] = []

    async def explode_on_b(message: UrlSubmitted) -> Echo:
        if "b." in message.url:
            calls.append(message.url)
            raise RuntimeError("boom")
        return Echo(url=message.url)

    for url in ("https://a.example/", "https://b.example/", "https://c.example/"):
        await redis.xadd(URLS, {"url": url})

    await run_stage(redis_url, explode_on_b, max_deliveries=3)

    assert len(calls) == 3
    outputs = [body(fields)["url"] for fields in await entries(redis, OUTPUT)]
    assert sorted(outputs) == ["https://a.example/", "https://c.example/"]
    [dead] = await entries(redis, dead_letter_stream(URLS))
    assert dead[b"error_type"] == b"RuntimeError"
    assert dead[b"error"] == b"gave up after 3 deliveries: boom"
    assert dead[b"deliveries"] == b"3"
    assert dead[b"first_failed_at"] < dead[b"last_failed_at"]
    assert json.loads(dead[b"payload"]) == {"url": "https://b.example/"}
    assert await redis.hlen(failure_log_key(URLS, "fetcher")) == 0


async def test_transient_failure_that_outlives_its_retries_is_a_recorded_failure(
    redis: Redis, redis_url: str
) -> None:
    async def unavailable(message: UrlSubmitted) -> Echo:
        raise RetryLater("HTTP 503", delay_s=0.05)

    await redis.xadd(URLS, {"url": "https://down.example/"})

    await run_stage(redis_url, unavailable, max_deliveries=2)

    [failure] = await entries(redis, FAILURES)
    assert body(failure)["stage"] == "fetcher"
    assert body(failure)["reason"] == "gave up after 2 deliveries: HTTP 503"
    assert await redis.xlen(dead_letter_stream(URLS)) == 0


async def test_rejected_entry_is_dead_lettered_without_retries(
    redis: Redis, redis_url: str
) -> None:
    calls: list[str] = []

    async def refuse(message: UrlSubmitted) -> Echo:
        calls.append(message.url)
        raise Reject("refused by the database: value too long") from ValueError("too long")

    await redis.xadd(URLS, {"url": "https://long.example/"})

    await run_stage(redis_url, refuse, max_deliveries=5)

    assert calls == ["https://long.example/"]
    [dead] = await entries(redis, dead_letter_stream(URLS))
    assert dead[b"error_type"] == b"ValueError"
    assert dead[b"deliveries"] == b"1"


async def test_deferrals_do_not_spend_deliveries(redis: Redis, redis_url: str) -> None:
    waits: list[str] = []

    async def busy_host(message: UrlSubmitted) -> Echo:
        if len(waits) < 4:
            waits.append(message.url)
            raise RetryLater("host slot later", delay_s=0.05, counts=False)
        return Echo(url=message.url)

    await redis.xadd(URLS, {"url": "https://busy.example/"})

    await run_stage(redis_url, busy_host, max_deliveries=2)

    assert len(waits) == 4
    assert [body(f)["url"] for f in await entries(redis, OUTPUT)] == ["https://busy.example/"]
    assert await redis.xlen(FAILURES) == 0


async def test_stage_failed_results_go_to_the_failures_stream(redis: Redis, redis_url: str) -> None:
    async def refuse(message: UrlSubmitted) -> StageFailed:
        return StageFailed(
            url=message.url, submitted_at=message.submitted_at, stage="fetcher", reason="HTTP 404"
        )

    await redis.xadd(URLS, {"url": "https://gone.example/"})

    await run_stage(redis_url, refuse)

    assert await redis.xlen(FAILURES) == 1
    assert await redis.xlen(OUTPUT) == 0


async def test_entries_left_pending_by_a_dead_consumer_are_reclaimed(
    redis: Redis, redis_url: str
) -> None:
    await redis.xgroup_create(URLS, "fetcher", id="0", mkstream=True)
    for n in range(5):
        await redis.xadd(URLS, {"url": f"https://a.example/{n}"})
    # A consumer that read the batch and died before acknowledging it.
    await redis.xreadgroup("fetcher", "dead-consumer", {URLS: ">"}, count=5)
    await redis.xadd(URLS, {"url": "https://a.example/new"})

    await run_stage(redis_url, echo, reclaim_min_idle_ms=300)

    urls = sorted(body(f)["url"] for f in await entries(redis, OUTPUT))
    assert urls == sorted([f"https://a.example/{n}" for n in range(5)] + ["https://a.example/new"])


async def test_acknowledged_entries_are_trimmed_and_unread_ones_kept(
    redis: Redis, redis_url: str
) -> None:
    for n in range(20):
        await redis.xadd(URLS, {"url": f"https://a.example/{n}"})
    # A second group that has read nothing: nothing it still needs may be trimmed.
    await redis.xgroup_create(URLS, "auditor", id="0")

    service = make_service(redis_url, echo, housekeeping_interval_ms=100)
    async with service.running():
        await wait_for(lambda: drained(redis))
        trimmed_before = service.registry.get_sample_value(
            "newsflow_trimmed_messages_total", {"stream": URLS}
        )
        await asyncio.sleep(0.5)  # several housekeeping rounds
        assert await redis.xlen(URLS) == 20
        assert trimmed_before is None

    await redis.xgroup_destroy(URLS, "auditor")
    service = make_service(redis_url, echo)
    async with service.running():
        await wait_for(lambda: _length_is(redis, URLS, 0))


async def _length_is(redis: Redis, stream: str, length: int) -> bool:
    return bool(await redis.xlen(stream) == length)


def test_consumer_name_is_host_and_pid() -> None:
    import os
    import socket

    assert consumer_name() == f"{socket.gethostname()}-{os.getpid()}"


@pytest.mark.parametrize("readers", [1, 2])
async def test_readers_keep_that_many_batches_in_hand(
    redis: Redis, redis_url: str, readers: int
) -> None:
    in_hand, most = 0, 0

    async def slow_batch(deliveries: Sequence[Delivery[UrlSubmitted]]) -> list[Result]:
        nonlocal in_hand, most
        in_hand += 1
        most = max(most, in_hand)
        await asyncio.sleep(0.3)
        in_hand -= 1
        return [None] * len(deliveries)

    for n in range(8):
        await redis.xadd(URLS, {"url": f"https://a.example/{n}"})
    settings = SharedSettings(redis_url=redis_url, max_records=2, polling_interval_ms=50)
    service = Service("storage", settings, 0)
    service.consume(URLS, UrlSubmitted, slow_batch, readers=readers)
    async with service.running():
        await wait_for(lambda: drained(service.redis, group="storage"))

    assert most == readers
    groups = await redis.xinfo_groups(URLS)
    assert [g["pending"] for g in groups if g["name"] == b"storage"] == [0]


def test_readers_must_be_positive(redis_url: str) -> None:
    service = Service("storage", SharedSettings(redis_url=redis_url), 0)

    async def nothing(deliveries: Sequence[Delivery[UrlSubmitted]]) -> list[Result]:
        return [None] * len(deliveries)

    with pytest.raises(ValueError, match="readers"):
        service.consume(URLS, UrlSubmitted, nothing, readers=0)
