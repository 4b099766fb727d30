"""End-to-end throughput: URLs in, articles stored, through the four real services.

    .venv/bin/python -m benchmarks.pipeline [--pages 1000] [--cleaners 2]

Starts a private redis-server, a local page server, one fetcher, classifier and storage
and ``--cleaners`` cleaner processes (extraction is the slow stage), publishes the URLs
at once and reports the time until every URL has ended.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from redis import Redis

from newsflow.demo.pages import write_pages
from newsflow.demo.run import Pipeline, corpus_server
from newsflow.embedded import EmbeddedRedis
from services.storage.repository import ArticleStore
from shared.intake import publish_urls


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--pages", type=int, default=1000)
    options.add_argument("--cleaners", type=int, default=2)
    args = options.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "pages").mkdir()
        names = write_pages(work / "pages", args.pages)
        database_url = f"sqlite:///{work / 'newsflow.db'}"
        with EmbeddedRedis() as redis_server, corpus_server(work / "pages") as base:
            pipeline = Pipeline(
                redis_server.url, database_url, work / "logs",
                extra_env={"NEWSFLOW_LOG_LEVEL": "WARNING"},
            )  # fmt: skip
            try:
                pipeline.start()
                for n in range(2, args.cleaners + 1):
                    pipeline.wait_ready(pipeline.spawn("cleaner", f"cleaner-{n}"))
                store = ArticleStore.from_url(database_url)
                store.create_schema()
                urls = [base + name for name in names]
                redis = Redis.from_url(redis_server.url)
                started = time.perf_counter()
                publish_urls(redis, urls)
                while len(store.outcomes(urls)) < len(urls):
                    time.sleep(0.05)
                elapsed = time.perf_counter() - started
                stored = sum(1 for o in store.outcomes(urls).values() if o == "stored")
            finally:
                pipeline.stop()
    print(
        f"pipeline: {len(urls)} URLs ({stored} stored) in {elapsed:.1f}s = "
        f"{len(urls) / elapsed:.0f} URLs/s with {args.cleaners} cleaner process(es)"
    )


if __name__ == "__main__":
    main()
