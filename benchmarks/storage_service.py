"""The storage service itself: a backlog of classified articles drained from Redis.

    .venv/bin/python -m benchmarks.storage_service [--articles 20000]
        [--databases sqlite,postgresql] [--postgres-url URL] [--env NAME=VALUE ...]

Where ``benchmarks.storage`` times the store's write path alone, this runs the whole
service as it is deployed: ``newsflow serve storage`` as a process of its own, reading
``newsflow:articles:classified`` from a private redis-server through its consumer group,
decoding and validating each entry, writing batches and acknowledging them. The
articles (the storage benchmark's synthetic ones) are published first, as the classifier
publishes them, so the service starts with a backlog. Reported: articles per second from
the service's first commit until every article is stored (on SQLite: and in the search
index), and the service process's CPU over that time (the database server's and Redis's
are not counted). ``--env`` passes settings, e.g. ``NEWSFLOW_STORAGE_BATCH_SIZE=32``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import sqlalchemy as sa
from faststream.redis import RedisBroker
from redis.asyncio import Redis

from benchmarks.storage import DEFAULT_POSTGRES_URL, _database, _stat, synthetic_articles
from newsflow.embedded import EmbeddedRedis, free_port
from services.storage.repository import ArticleStore
from shared.contracts import ArticleClassified
from shared.logging import configure_logging
from shared.streams import ARTICLES_CLASSIFIED

__all__ = ["main"]

_PUBLISH_CHUNK = 1000
_POLL_S = 0.05
_PATIENCE_S = 600.0


async def _publish(redis_url: str, articles: Sequence[ArticleClassified]) -> None:
    """As the classifier publishes them: FastStream's envelope, pipelined."""
    broker, redis = RedisBroker(redis_url), Redis.from_url(redis_url)
    await broker.connect()
    try:
        for start in range(0, len(articles), _PUBLISH_CHUNK):
            pipe = redis.pipeline(transaction=False)
            for article in articles[start : start + _PUBLISH_CHUNK]:
                await broker.publish(article, stream=ARTICLES_CLASSIFIED, pipeline=pipe)
            await pipe.execute()
    finally:
        await broker.stop()
        await redis.aclose()


def _stored(store: ArticleStore) -> int:
    """Articles stored, and on SQLite indexed for search too; 0 before the schema exists."""
    try:
        with store.engine.connect() as conn:
            count = int(conn.exec_driver_sql("SELECT count(*) FROM articles").scalar_one())
        return count - (store.search_backlog() or 0)
    except sa.exc.SQLAlchemyError:
        return 0


def _cpu_s(pid: int) -> float:
    stat = _stat(pid)
    return stat[1] if stat else 0.0


def run(
    kind: str, articles: Sequence[ArticleClassified], postgres_url: str, env: dict[str, str]
) -> str:
    with (
        tempfile.TemporaryDirectory(prefix="newsflow-bench-") as workdir,
        EmbeddedRedis() as redis,
        _database(kind, postgres_url) as database_url,
    ):
        asyncio.run(_publish(redis.url, articles))
        service_env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": workdir,
            "REDIS_URL": redis.url,
            "DATABASE_URL": database_url,
            "NEWSFLOW_HTTP_HOST": "127.0.0.1",
            "NEWSFLOW_HTTP_PORT": str(free_port()),
            **env,
        }
        command = [str(Path(sys.executable).parent / "newsflow"), "serve", "storage"]
        with (Path(workdir) / "storage.log").open("wb") as log:
            service = subprocess.Popen(command, env=service_env, stdout=log, stderr=log)
        store = ArticleStore.from_url(database_url)  # a reader, beside the service
        try:
            deadline = time.monotonic() + _PATIENCE_S
            first: tuple[float, float, int] | None = None
            while (stored := _stored(store)) < len(articles):
                if time.monotonic() > deadline or service.poll() is not None:
                    raise RuntimeError(f"{kind}: {stored} of {len(articles)} stored")
                if first is None and stored:
                    first = (time.perf_counter(), _cpu_s(service.pid), stored)
                time.sleep(_POLL_S)
            ended, cpu = time.perf_counter(), _cpu_s(service.pid)
        finally:
            service.terminate()
            service.wait(timeout=30)
            store.close()
        if first is None:
            raise RuntimeError(f"{kind}: everything was stored before the first look")
        started, cpu_before, stored_before = first
        count = len(articles) - stored_before
        rate = count / (ended - started)
        cpu_ms = 1000 * (cpu - cpu_before) / count
        settings = " ".join(f"{name}={value}" for name, value in env.items()) or "defaults"
        return f"| {kind} | {settings} | {len(articles)} | {rate:,.0f} | {cpu_ms:.2f} |"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.storage_service", description=__doc__
    )
    parser.add_argument("--articles", type=int, default=20_000)
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL)
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE")
    args = parser.parse_args(argv)
    configure_logging("benchmark", level="WARNING", json=False)  # stdout is the table

    env = dict(setting.split("=", 1) for setting in args.env)
    articles = synthetic_articles(args.articles)
    print(
        "| database | settings | articles | stored/s after the first commit "
        "| service CPU ms per article |"
    )
    print("|---|---|---|---|---|")
    for kind in args.databases.split(","):
        print(run(kind, articles, args.postgres_url, env), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
