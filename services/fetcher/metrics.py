"""The fetcher's Prometheus metrics (``newsflow_fetch_*``), on the service's registry."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

__all__ = ["FETCH_BUCKETS_S", "FetchMetrics", "status_class"]

# From a keep-alive hit on a near server (~2 ms) to the 30 s deadline.
FETCH_BUCKETS_S = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


def status_class(status_code: int | None) -> str:
    """``"2xx"``..``"5xx"``, or ``"none"`` when no HTTP answer came (refused, timeout)."""
    return f"{status_code // 100}xx" if status_code else "none"


class FetchMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.results = Counter(
            "newsflow_fetch_results",
            "Fetches by outcome (ok, failed, retry, duplicate, robots_denied, refused) and "
            "HTTP status class.",
            ["outcome", "status_class"],
            registry=registry,
        )
        self.body_bytes = Counter(
            "newsflow_fetch_body_bytes",
            "Bytes of page bodies downloaded (after Content-Encoding was undone).",
            registry=registry,
        )
        self.duration = Histogram(
            "newsflow_fetch_duration_seconds",
            "Time of one page download, redirects included, politeness waits excluded.",
            ["outcome"],
            buckets=FETCH_BUCKETS_S,
            registry=registry,
        )
        self.robots_denials = Counter(
            "newsflow_fetch_robots_denials",
            "Pages not fetched because robots.txt disallows them.",
            registry=registry,
        )
        self.guard_refusals = Counter(
            "newsflow_fetch_guard_refusals",
            "URLs or redirect hops refused by the SSRF guard.",
            registry=registry,
        )
        self.retries = Counter(
            "newsflow_fetch_retries",
            "Entries handed back for a later delivery (RetryLater), by why.",
            ["reason"],
            registry=registry,
        )
        self.in_flight = Gauge(
            "newsflow_fetch_in_flight",
            "Page downloads in progress in this process.",
            registry=registry,
        )
