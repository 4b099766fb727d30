"""Helpers for end-to-end tests: pages to serve, and waiting for the pipeline."""

from __future__ import annotations

import time

import pytest
from redis import Redis

from newsflow.demo.pages import write_pages
from services.storage.repository import ArticleStore
from shared.streams import PIPELINE_STREAMS

__all__ = ["wait_until_drained", "wait_until_ended", "write_pages"]


def wait_until_ended(
    store: ArticleStore, urls: list[str], timeout_s: float = 60.0
) -> dict[str, str]:
    deadline = time.monotonic() + timeout_s
    wanted = set(urls)
    while time.monotonic() < deadline:
        outcomes = store.outcomes(urls)
        if len(outcomes) == len(wanted):
            return dict(outcomes)
        time.sleep(0.2)
    missing = wanted - set(store.outcomes(urls))
    pytest.fail(f"{len(missing)} URL(s) not ended, e.g. {sorted(missing)[:3]}")


def wait_until_drained(redis: Redis, timeout_s: float = 30.0) -> None:
    """Every group has read its stream to the end and acknowledged all of it."""

    def drained(stream: str) -> bool:
        if not redis.exists(stream):
            return True
        last = redis.xinfo_stream(stream)["last-generated-id"]
        return all(
            group["pending"] == 0 and group["last-delivered-id"] == last
            for group in redis.xinfo_groups(stream)
        )

    deadline = time.monotonic() + timeout_s
    while not all(drained(stream) for stream in PIPELINE_STREAMS):
        if time.monotonic() > deadline:
            pytest.fail("pipeline did not drain")
        time.sleep(0.1)
