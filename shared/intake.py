"""Publishing URLs onto the input stream, exactly as a non-Python producer would.

Entries are flat string fields (``url``, optional ``source``, ``submitted_at``), so
``XADD newsflow:urls * url https://example.org/a`` from any client is the same message.
"""

from __future__ import annotations

from collections.abc import Iterable

from redis import Redis

from shared.contracts import UrlSubmitted, utc_now
from shared.streams import URLS

__all__ = ["publish_urls"]

_PIPELINE_CHUNK = 1000  # entries per round trip


def publish_urls(
    redis: Redis, urls: Iterable[str], *, source: str | None = None, force: bool = False
) -> list[str]:
    """Validate and XADD each URL; returns the entry ids. Invalid URLs raise before any write."""
    now = utc_now().isoformat()
    messages = [UrlSubmitted(url=url, source=source) for url in urls]
    ids: list[str] = []
    for start in range(0, len(messages), _PIPELINE_CHUNK):
        pipe = redis.pipeline(transaction=False)
        for message in messages[start : start + _PIPELINE_CHUNK]:
            fields = {"url": message.url, "submitted_at": now}
            if message.source:
                fields["source"] = message.source
            if force:
                fields["force"] = "true"
            pipe.xadd(URLS, fields)  # type: ignore[arg-type]
        ids.extend(
            entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)
            for entry_id in pipe.execute()
        )
    return ids
