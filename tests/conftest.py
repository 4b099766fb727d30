"""Fixtures shared by every test: one private, real redis-server per test run."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from redis import Redis

from newsflow.embedded import EmbeddedRedis


@pytest.fixture(scope="session")
def redis_server() -> Iterator[EmbeddedRedis]:
    with EmbeddedRedis() as server:
        yield server


@pytest.fixture
def redis_url(redis_server: EmbeddedRedis) -> str:
    """A clean database on the private server for each test."""
    client = Redis.from_url(redis_server.url)
    client.flushall()
    client.close()
    return redis_server.url
