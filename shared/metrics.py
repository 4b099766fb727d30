"""Per-stage Prometheus metrics: what every service exports besides FastStream's own."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

__all__ = ["PROCESSING_BUCKETS_S", "StageMetrics"]

# From a fast classification (~1 ms) to a slow fetch (~30 s deadline).
PROCESSING_BUCKETS_S = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


class StageMetrics:
    def __init__(self, service: str, registry: CollectorRegistry) -> None:
        self.service = service
        self._messages = Counter(
            "newsflow_stage_messages",
            "Entries a stage finished, by outcome (ok, failed, dead_lettered).",
            ["service", "stream", "outcome"],
            registry=registry,
        )
        self._processing = Histogram(
            "newsflow_stage_processing_seconds",
            "Time a stage spent on one entry.",
            ["service"],
            buckets=PROCESSING_BUCKETS_S,
            registry=registry,
        )

    def count(self, stream: str, outcome: str, amount: int = 1) -> None:
        self._messages.labels(self.service, stream, outcome).inc(amount)

    def observe(self, seconds: float) -> None:
        self._processing.labels(self.service).observe(seconds)
