"""The stage shell over a real Redis: contract checks, routing, dead letters, acks."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, cast

import pytest
from redis.asyncio import Redis

from shared.contracts import Contract, StageFailed, UrlSubmitted
from shared.service import Service
from shared.settings import SharedSettings
from shared.stage import per_item
from shared.streams import FAILURES, URLS, consumer_name, dead_letter_stream

OUTPUT = "test:output"


class Echo(Contract):
    url: str


Fields = dict[bytes, bytes]


async def entries(redis: Redis, stream: str) -> list[Fields]:
    """The fields of every entry of ``stream``, oldest first."""
    return [cast(Fields, fields) for _, fields in await redis.xrange(stream) or []]


def body(fields: Fields) -> dict[str, Any]:
    """The JSON body inside a FastStream-encoded entry."""
    data = fields[b"__data__"]
    decoded: dict[str, Any] = json.loads(data[data.index(b"{") :])
    return decoded


async def wait_for(condition: Callable[[], Awaitable[bool]], timeout_s: float = 10.0) -> None:
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


async def run_stage(
    redis_url: str, process: Callable[[UrlSubmitted], Awaitable[Contract | None]]
) -> None:
    """Run a one-stage service until every entry of URLS is delivered and acknowledged."""
    service = Service("tester", SharedSettings(redis_url=redis_url, polling_interval_ms=50), 0)
    service.consume(URLS, UrlSubmitted, per_item(process, concurrency=4), output=OUTPUT)
    await service.prepare()

    async def all_acked() -> bool:
        [group] = await service.redis.xinfo_groups(URLS)
        last = await service.redis.xrevrange(URLS, count=1) or []
        return bool(last and group["last-delivered-id"] == last[0][0] and group["pending"] == 0)

    async with service.broker:
        await service.broker.start()
        await wait_for(all_acked)
    await service.close()


async def echo(message: UrlSubmitted) -> Echo:
    return Echo(url=message.url)


async def test_entries_published_before_start_are_consumed(redis: Redis, redis_url: str) -> None:
    await redis.xadd(URLS, {"url": "https://a.example/1"})
    await redis.xadd(URLS, {"url": "https://a.example/2"})

    await run_stage(redis_url, echo)

    assert await redis.xlen(OUTPUT) == 2


async def test_malformed_entry_is_dead_lettered_with_reason_and_payload(
    redis: Redis, redis_url: str
) -> None:
    await redis.xadd(URLS, {"href": "https://no-url-field.example/"})
    await redis.xadd(URLS, {"url": "https://ok.example/"})

    await run_stage(redis_url, echo)

    assert await redis.xlen(OUTPUT) == 1
    [dead] = await entries(redis, dead_letter_stream(URLS))
    assert dead[b"origin_stream"] == URLS.encode()
    assert dead[b"group"] == b"tester"
    assert b"UrlSubmitted contract" in dead[b"error"]
    assert json.loads(dead[b"payload"]) == {"href": "https://no-url-field.example/"}


async def test_entry_that_raises_is_dead_lettered_and_others_go_on(
    redis: Redis, redis_url: str
) -> None:
    async def explode_on_b(message: UrlSubmitted) -> Echo:
        if "b" in message.url:
            raise RuntimeError("boom")
        return Echo(url=message.url)

    for url in ("https://a.example/", "https://b.example/", "https://c.example/"):
        await redis.xadd(URLS, {"url": url})

    await run_stage(redis_url, explode_on_b)

    outputs = [body(fields)["url"] for fields in await entries(redis, OUTPUT)]
    assert sorted(outputs) == ["https://a.example/", "https://c.example/"]
    [dead] = await entries(redis, dead_letter_stream(URLS))
    assert dead[b"error_type"] == b"RuntimeError"
    assert dead[b"error"] == b"boom"


async def test_stage_failed_results_go_to_the_failures_stream(redis: Redis, redis_url: str) -> None:
    async def refuse(message: UrlSubmitted) -> StageFailed:
        return StageFailed(
            url=message.url, submitted_at=message.submitted_at, stage="fetcher", reason="HTTP 404"
        )

    await redis.xadd(URLS, {"url": "https://gone.example/"})

    await run_stage(redis_url, refuse)

    assert await redis.xlen(FAILURES) == 1
    assert await redis.xlen(OUTPUT) == 0


def test_consumer_name_is_host_and_pid() -> None:
    import os
    import socket

    assert consumer_name() == f"{socket.gethostname()}-{os.getpid()}"
