"""The service shell: one stage from newsflow:urls, fetch metrics on the service registry."""

from __future__ import annotations

from prometheus_client import generate_latest

from services.fetcher.app import build
from services.fetcher.settings import FetcherSettings
from shared.settings import SharedSettings
from shared.streams import URLS


async def test_build_wires_the_stage_and_the_fetch_metrics(redis_url):
    service = build(SharedSettings(redis_url=redis_url), FetcherSettings(concurrency=4))
    try:
        exported = generate_latest(service.registry).decode()
    finally:
        await service.close()

    assert [stage.source for stage in service.stages] == [URLS]
    for name in (
        "newsflow_fetch_results_total",
        "newsflow_fetch_body_bytes_total",
        "newsflow_fetch_duration_seconds",
        "newsflow_fetch_robots_denials_total",
        "newsflow_fetch_guard_refusals_total",
        "newsflow_fetch_retries_total",
        "newsflow_fetch_in_flight",
    ):
        assert f"# TYPE {name.removesuffix('_total')}" in exported, name
