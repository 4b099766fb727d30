"""Politeness: per-host slots shared through a real Redis by several "replicas"."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from services.fetcher.politeness import KEY_PREFIX, HostNotReady, Politeness


@pytest.fixture
async def replica_redis(redis_url: str) -> AsyncIterator[Redis]:
    """A second client: what another fetcher process would hold."""
    client = Redis.from_url(redis_url)
    yield client
    await client.aclose()


async def test_concurrency_limit_holds_across_replicas(aredis, replica_redis):
    first = Politeness(aredis, concurrency=2, busy_retry_s=7.0)
    second = Politeness(replica_redis, concurrency=2, busy_retry_s=7.0)

    one = await first.reserve("news.example", delay_s=0)
    two = await second.reserve("news.example", delay_s=0)
    with pytest.raises(HostNotReady) as busy:
        await first.reserve("news.example", delay_s=0)
    other_host = await second.reserve("other.example", delay_s=0)

    assert (busy.value.reason, busy.value.retry_after_s) == ("busy", 7.0)
    assert other_host.wait_s == 0
    await second.release(two)
    three = await first.reserve("news.example", delay_s=0)
    assert three.host == "news.example"
    for slot in (one, three, other_host):
        await first.release(slot)


async def test_slots_are_spaced_by_the_delay(aredis, replica_redis):
    first = Politeness(aredis, concurrency=10, max_wait_s=5.0)
    second = Politeness(replica_redis, concurrency=10, max_wait_s=5.0)

    a = await first.reserve("news.example", delay_s=0.4)
    b = await second.reserve("news.example", delay_s=0.4)
    c = await first.reserve("news.example", delay_s=0.4)

    # Redis' clock moves on between the calls (more so on a busy machine): upper bounds
    # are exact, lower ones leave room.
    assert a.wait_s == 0
    assert 0.15 < b.wait_s <= 0.4
    assert 0.55 < c.wait_s <= 0.8


async def test_a_slot_too_far_ahead_is_not_reserved(aredis):
    politeness = Politeness(aredis, concurrency=10, max_wait_s=0.5)
    await politeness.reserve("news.example", delay_s=2.0)

    with pytest.raises(HostNotReady) as later:
        await politeness.reserve("news.example", delay_s=2.0)
    with pytest.raises(HostNotReady) as again:
        await politeness.reserve("news.example", delay_s=2.0)

    assert later.value.reason == "spacing"
    assert 1.0 < later.value.retry_after_s <= 2.0
    # The refused reservation did not push the next slot further out.
    assert again.value.retry_after_s <= later.value.retry_after_s


async def test_acquire_waits_for_its_slot(aredis):
    politeness = Politeness(aredis, concurrency=10, max_wait_s=1.0)
    starts = []
    for _ in range(3):
        slot = await politeness.acquire("news.example", delay_s=0.2)
        starts.append(time.monotonic())
        await politeness.release(slot)

    gaps = [later - earlier for earlier, later in itertools.pairwise(starts)]
    assert all(gap >= 0.18 for gap in gaps), gaps


async def test_acquire_cancelled_while_waiting_releases_its_slot(aredis):
    politeness = Politeness(aredis, concurrency=1, max_wait_s=5.0)
    first = await politeness.reserve("news.example", delay_s=1.0)
    await politeness.release(first)
    waiting = asyncio.create_task(politeness.acquire("news.example", delay_s=1.0))
    await asyncio.sleep(0.1)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting

    assert await aredis.zcard(f"{KEY_PREFIX}news.example:leases") == 0


async def test_pause_refuses_every_replica_until_it_lapses(aredis, replica_redis):
    first = Politeness(aredis)
    second = Politeness(replica_redis)

    await first.pause("news.example", 0.3)
    await first.pause("news.example", 0.1)  # a shorter pause does not shorten it
    with pytest.raises(HostNotReady) as paused:
        await second.reserve("news.example", delay_s=0)

    assert paused.value.reason == "paused"
    assert 0 < paused.value.retry_after_s <= 0.3
    await asyncio.sleep(0.35)
    slot = await second.reserve("news.example", delay_s=0)
    assert slot.wait_s == 0


async def test_a_crashed_replica_lease_lapses(aredis):
    crashed = Politeness(aredis, concurrency=1, lease_s=0.2)
    await crashed.reserve("news.example", delay_s=0)  # never released
    survivor = Politeness(aredis, concurrency=1)
    with pytest.raises(HostNotReady):
        await survivor.reserve("news.example", delay_s=0)

    await asyncio.sleep(0.25)
    slot = await survivor.reserve("news.example", delay_s=0)
    assert slot.host == "news.example"


async def test_keys_expire_so_idle_hosts_leave_nothing_behind(aredis):
    politeness = Politeness(aredis, lease_s=30.0)
    slot = await politeness.reserve("news.example", delay_s=1.0)
    await politeness.release(slot)

    for part in ("next", "leases"):
        ttl = await aredis.pttl(f"{KEY_PREFIX}news.example:{part}")
        assert ttl == -2 or 0 < ttl <= 31_000, (part, ttl)
    assert 0 < await aredis.pttl(f"{KEY_PREFIX}news.example:next") <= 2_000


async def test_a_burst_is_booked_over_successive_slots(aredis, replica_redis):
    first = Politeness(aredis, concurrency=10, max_wait_s=0.1, max_booking_s=10)
    second = Politeness(replica_redis, concurrency=10, max_wait_s=0.1, max_booking_s=10)
    await first.reserve("news.example", delay_s=0.3, booking="u1")

    waits = []
    for n, politeness in ((2, second), (3, first), (4, second)):
        with pytest.raises(HostNotReady) as booked:
            await politeness.reserve("news.example", delay_s=0.3, booking=f"u{n}")
        assert booked.value.reason == "booked"
        waits.append(booked.value.retry_after_s)
    with pytest.raises(HostNotReady) as early:  # u2 asks again before its time
        await first.reserve("news.example", delay_s=0.3, booking="u2")

    assert waits == sorted(waits)
    assert [wait <= limit for wait, limit in zip(waits, (0.3, 0.6, 0.9), strict=True)] == [True] * 3
    assert waits[2] > 0.6  # three successive slots, each delay_s after the one before
    assert early.value.reason == "booked"
    assert early.value.retry_after_s <= waits[0]  # its place was kept, not pushed back
    await asyncio.sleep(waits[0])
    u2 = await second.reserve("news.example", delay_s=0.3, booking="u2")
    assert u2.wait_s <= 0.1


async def test_a_late_booked_item_still_keeps_the_delay(aredis):
    politeness = Politeness(aredis, concurrency=10, max_wait_s=0.1, max_booking_s=10)
    await politeness.reserve("news.example", delay_s=0.3, booking="u1")
    for name in ("u2", "u3"):
        with pytest.raises(HostNotReady):
            await politeness.reserve("news.example", delay_s=0.3, booking=name)
    await asyncio.sleep(0.7)  # both bookings are due; u3 comes back first

    u3 = await politeness.reserve("news.example", delay_s=0.3, booking="u3")
    with pytest.raises(HostNotReady) as u2:
        await politeness.reserve("news.example", delay_s=0.3, booking="u2")

    assert u3.wait_s == 0
    assert u2.value.reason == "booked"
    assert 0.1 < u2.value.retry_after_s <= 0.3  # delay_s after u3, not at once


async def test_no_booking_beyond_the_booking_horizon(aredis):
    politeness = Politeness(aredis, concurrency=10, max_wait_s=0, max_booking_s=0.5)
    await politeness.reserve("news.example", delay_s=0.4, booking="u1")
    with pytest.raises(HostNotReady):
        await politeness.reserve("news.example", delay_s=0.4, booking="u2")

    with pytest.raises(HostNotReady) as refused:
        await politeness.reserve("news.example", delay_s=0.4, booking="u3")

    assert refused.value.reason == "spacing"
    assert 0.7 < refused.value.retry_after_s <= 0.8
    assert await aredis.exists(f"{KEY_PREFIX}news.example:booking:u3") == 0


async def test_a_booked_item_waits_while_the_host_is_busy(aredis):
    politeness = Politeness(aredis, concurrency=1, max_wait_s=0.05, max_booking_s=10)
    held = await politeness.reserve("news.example", delay_s=0.2, booking="u1")
    with pytest.raises(HostNotReady):
        await politeness.reserve("news.example", delay_s=0.2, booking="u2")
    await asyncio.sleep(0.2)

    with pytest.raises(HostNotReady) as busy:
        await politeness.reserve("news.example", delay_s=0.2, booking="u2")
    await politeness.release(held)
    u2 = await politeness.reserve("news.example", delay_s=0.2, booking="u2")

    assert busy.value.reason == "busy"
    assert u2.wait_s <= 0.05
