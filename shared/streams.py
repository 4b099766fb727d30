"""Stream, group and consumer names: the only place that spells them."""

from __future__ import annotations

import os
import socket

__all__ = [
    "ARTICLES_CLASSIFIED",
    "ARTICLES_CLEAN",
    "ARTICLES_RAW",
    "FAILURES",
    "PIPELINE_STREAMS",
    "URLS",
    "consumer_name",
    "dead_letter_stream",
    "failure_log_key",
]

URLS = "newsflow:urls"
ARTICLES_RAW = "newsflow:articles:raw"
ARTICLES_CLEAN = "newsflow:articles:clean"
ARTICLES_CLASSIFIED = "newsflow:articles:classified"
FAILURES = "newsflow:failures"
PIPELINE_STREAMS = (URLS, ARTICLES_RAW, ARTICLES_CLEAN, ARTICLES_CLASSIFIED, FAILURES)


def dead_letter_stream(stream: str) -> str:
    return f"{stream}:dead"


def failure_log_key(stream: str, group: str) -> str:
    """Hash of entry id -> last failure, for entries of ``stream`` waiting to be retried."""
    return f"newsflow:failures:{group}:{stream}"


def consumer_name() -> str:
    """Unique per process: replicas and forked workers must never share a pending list."""
    return f"{socket.gethostname()}-{os.getpid()}"
