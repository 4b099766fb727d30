"""Helpers for end-to-end tests: pages to serve, and waiting for the pipeline."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from redis import Redis

from services.storage.repository import ArticleStore
from shared.streams import PIPELINE_STREAMS


def write_pages(directory: Path, count: int) -> list[str]:
    """``count`` distinct article pages; returns their file names."""
    names = []
    for n in range(count):
        paragraphs = "".join(
            f"<p>Report {n}, paragraph {p}: the harbour authority of town {n} said on Monday "
            f"that cargo volumes rose for the {p + 2}th month in a row, and that new cranes "
            f"ordered last year would arrive before the winter season begins.</p>"
            for p in range(5)
        )
        name = f"story-{n}.html"
        (directory / name).write_text(
            f"<!doctype html><html lang='en'><head><meta charset='utf-8'>"
            f"<title>Harbour report {n}</title></head><body><nav><a href='/'>Home</a></nav>"
            f"<article><h1>Harbour report {n}</h1>{paragraphs}</article>"
            f"<footer>© Port News</footer></body></html>",
            encoding="utf-8",
        )
        names.append(name)
    return names


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
