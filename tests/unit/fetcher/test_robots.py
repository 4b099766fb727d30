"""robots.txt through the guarded fetch path, cached per origin in a real Redis."""

from __future__ import annotations

import asyncio
import json

import pytest

from services.fetcher.clients import ClientShards
from services.fetcher.core import fetch_text
from services.fetcher.robots import KEY_PREFIX, RobotsCache, RobotsUnavailable, origin_of
from tests.unit.fetcher.conftest import LOCAL_POLICY as LOCAL
from tests.unit.fetcher.conftest import Gate, http_response
from tests.unit.fetcher.conftest import no_dns as NO_DNS

ROBOTS = b"""
User-agent: newsflow
Disallow: /private/
Crawl-delay: 1.5

User-agent: *
Disallow: /
"""
UA = "newsflow/0.1 (+https://newsflow.example/bot)"


@pytest.fixture
def robots(aredis, http) -> RobotsCache:
    return RobotsCache(
        aredis, ClientShards.single(http), LOCAL, ttl_s=600, error_ttl_s=30, resolver=NO_DNS
    )


def text(body: bytes, status: int = 200, content_type: str = "text/plain") -> bytes:
    return http_response(status, body, {"Content-Type": content_type})


async def test_rules_apply_to_our_user_agent(server, robots):
    server.routes["/robots.txt"] = text(ROBOTS)

    rules = await robots.rules_for(server.url("/news/1"))

    assert rules.allows(server.url("/news/1"), UA)
    assert not rules.allows(server.url("/private/x"), UA)
    assert not rules.allows(server.url("/news/1"), "otherbot/1.0")
    assert rules.crawl_delay_s(UA) == 1.5


async def test_rules_are_cached_in_redis_for_every_replica(server, robots, aredis, http):
    server.routes["/robots.txt"] = text(ROBOTS)
    await robots.rules_for(server.url("/a"))
    other_replica = RobotsCache(aredis, ClientShards.single(http), LOCAL, resolver=NO_DNS)

    rules = await other_replica.rules_for(server.url("/private/b"))

    assert not rules.allows(server.url("/private/b"), UA)
    assert [r.path for r in server.requests] == ["/robots.txt"]
    key = KEY_PREFIX + origin_of(server.url())
    assert json.loads(await aredis.get(key))["kind"] == "rules"
    assert 590_000 < await aredis.pttl(key) <= 600_000


async def test_many_pages_waiting_share_one_robots_fetch(server, robots):
    gate = Gate(text(ROBOTS))
    server.routes["/robots.txt"] = gate

    waiting = [asyncio.create_task(robots.rules_for(server.url(f"/{n}"))) for n in range(10)]
    await gate.until_waiting(1)
    gate.open.set()
    results = await asyncio.gather(*waiting)

    assert gate.waiting == 1
    assert all(rules.allows(server.url("/x"), UA) for rules in results)


@pytest.mark.parametrize("status", [401, 403, 404, 410])
async def test_a_4xx_robots_allows_everything(server, robots, aredis, status):
    server.routes["/robots.txt"] = text(b"Disallow: /", status=status)

    rules = await robots.rules_for(server.url("/private/x"))

    assert rules.allows(server.url("/private/x"), UA)
    assert rules.crawl_delay_s(UA) is None
    record = json.loads(await aredis.get(KEY_PREFIX + origin_of(server.url())))
    assert record == {"kind": "allow_all", "text": None, "reason": f"HTTP {status}"}


@pytest.mark.parametrize(
    "response",
    [text(b"", status=503), text(b"", status=500), b"HTTP/1.1 200 OK\r\nContent-Le"],
    ids=["503", "500", "broken"],
)
async def test_an_unavailable_robots_means_retry_later_and_is_remembered(server, robots, response):
    server.routes["/robots.txt"] = response

    with pytest.raises(RobotsUnavailable) as first:
        await robots.rules_for(server.url("/a"))
    server.routes["/robots.txt"] = text(ROBOTS)  # answers now, but the failure is cached
    with pytest.raises(RobotsUnavailable) as second:
        await robots.rules_for(server.url("/b"))

    assert first.value.retry_after_s == 30
    assert 25 < second.value.retry_after_s <= 30
    assert len([r for r in server.requests if r.path == "/robots.txt"]) == 1


async def test_robots_may_be_served_as_html_or_without_content_type(server, robots):
    server.routes["/robots.txt"] = http_response(
        200, b"User-agent: *\nDisallow: /x", {"Content-Type": None}
    )

    rules = await robots.rules_for(server.url("/"))

    assert not rules.allows(server.url("/x"), UA)


async def test_robots_redirect_is_followed(server, robots):
    server.routes["/robots.txt"] = http_response(301, headers={"Location": "/real-robots.txt"})
    server.routes["/real-robots.txt"] = text(b"User-agent: *\nDisallow: /x")

    rules = await robots.rules_for(server.url("/"))

    assert not rules.allows(server.url("/x/1"), UA)


async def test_robots_fetch_is_guarded(server, aredis, http):
    server.routes["/robots.txt"] = text(ROBOTS)
    unguarded_policy = type(LOCAL)()  # no private network allowed
    robots = RobotsCache(aredis, ClientShards.single(http), unguarded_policy, resolver=NO_DNS)

    rules = await robots.rules_for(server.url("/private/x"))

    assert server.requests == []  # refused before any connection
    assert rules.text is None  # a permanent failure: no rules (the page is refused anyway)


async def test_fetch_text_decodes_declared_charset_and_caps_size(server, http):
    server.routes["/t"] = text(
        "Disallow: /é".encode("latin-1"), content_type="text/plain; charset=latin-1"
    )
    server.routes["/big"] = text(b"#" * 2000)

    page = await fetch_text(server.url("/t"), http, LOCAL, resolver=NO_DNS)
    small = type(LOCAL)(max_body_bytes=1000, allow_networks=LOCAL.allow_networks)
    with pytest.raises(Exception, match="larger than 1000 bytes"):
        await fetch_text(server.url("/big"), http, small, resolver=NO_DNS)

    assert page.html == "Disallow: /é"
    assert page.content_type == "text/plain"


async def test_a_process_reuses_a_record_briefly_then_reads_redis_again(server, aredis, http):
    server.routes["/robots.txt"] = text(ROBOTS)
    robots = RobotsCache(aredis, ClientShards.single(http), LOCAL, memo_s=0.2, resolver=NO_DNS)
    await robots.rules_for(server.url("/a"))
    await aredis.delete(KEY_PREFIX + origin_of(server.url()))  # e.g. an operator's reset

    within = await robots.rules_for(server.url("/private/a"))
    await asyncio.sleep(0.25)
    server.routes["/robots.txt"] = text(b"User-agent: *\nAllow: /")
    after = await robots.rules_for(server.url("/private/a"))

    assert not within.allows(server.url("/private/a"), UA)
    assert after.allows(server.url("/private/a"), UA)
    assert [r.path for r in server.requests] == ["/robots.txt", "/robots.txt"]
