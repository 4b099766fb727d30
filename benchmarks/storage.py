"""Storage write throughput: classified articles per second into SQLite and PostgreSQL.

    .venv/bin/python -m benchmarks.storage [--articles 20000] [--batches 32,256]
        [--databases sqlite,postgresql] [--concurrent 1,2] [--postgres-url URL]

One storage process's write path, ``ArticleStore.save_articles``, fed batches of the
sizes the stage delivers (``NEWSFLOW_MAX_RECORDS``), one transaction each, with 1 or
more batches in hand at once (``NEWSFLOW_STORAGE_CONCURRENT_BATCHES``: the service's
readers each hand their batch to a thread, as here), on a freshly
migrated database: a SQLite file in a temporary directory, or a throwaway schema in the
PostgreSQL database at ``--postgres-url`` (dropped afterwards). Articles are synthetic
(about 3,000 characters over a 5,000-word vocabulary, Arabic words among them, and
realistic metadata) and built before the clock starts; one in ten is a near-copy of an
earlier one (2 SimHash bits apart, another site) and one in ten declares a canonical
URL, so the story index and the URL table do real work.

Reported per database, batch size and concurrency, for first writes (inserts, story assignment,
search index) and for redelivery of the same articles (all no-ops): articles per second
of wall time, and articles per CPU-second spent by this process plus, on PostgreSQL, the
whole server (read from /proc, so the server must be local and otherwise idle: the
backends, and the background processes that finish the work later: WAL writer,
checkpointer, autovacuum workers merging the search index's pending entries), and those
CPU milliseconds per article, split: what the work costs, whatever else the machine
runs, and so how many cores a storage process and its database need for a given rate.
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from services.storage.repository import ArticleStore
from shared.contracts import ArticleClassified
from shared.logging import configure_logging

__all__ = ["main", "synthetic_articles"]

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
_T0 = datetime(2024, 5, 1, tzinfo=UTC)
_SEED_WORDS = ["الهدنة", "سوريا", "وزير", "الخارجية", "اتفاق", "مراقبة", "election", "harbour"]
_VOCABULARY = 5_000  # distinct words; drawn Zipf-like, as words are in news text
_TEXT_WORDS = 450  # about 3,000 characters


def _vocabulary(rng: random.Random) -> tuple[list[str], list[float]]:
    letters = "abcdefghijklmnopqrstuvwxyz"
    made = {"".join(rng.choices(letters, k=rng.randint(2, 10))) for _ in range(_VOCABULARY)}
    words = _SEED_WORDS + sorted(made)
    return words, [1 / rank for rank in range(1, len(words) + 1)]


@dataclass(frozen=True, slots=True)
class Timing:
    """Wall time, and CPU time of this process and of the PostgreSQL server."""

    wall_s: float
    client_cpu_s: float
    server_cpu_s: float

    def rates(self, count: int) -> str:
        cpu = self.client_cpu_s + self.server_cpu_s
        client_ms, server_ms = 1000 * self.client_cpu_s / count, 1000 * self.server_cpu_s / count
        return (
            f"{count / self.wall_s:,.0f} | {count / cpu:,.0f} | {client_ms:.2f} + {server_ms:.2f}"
        )


@dataclass(frozen=True, slots=True)
class Result:
    database: str
    batch: int
    concurrent: int
    articles: int
    first: Timing
    again: Timing

    def row(self) -> str:
        first, again = self.first.rates(self.articles), self.again.rates(self.articles)
        return (
            f"| {self.database} | {self.batch} | {self.concurrent} | {self.articles} "
            f"| {first} | {again} |"
        )


def synthetic_articles(count: int, seed: int = 0) -> list[ArticleClassified]:
    rng = random.Random(seed)
    words, weights = _vocabulary(rng)
    articles: list[ArticleClassified] = []
    signatures: list[int] = []
    for n in range(count):
        near_copy = n >= 10 and n % 10 == 0
        signature = rng.getrandbits(64)
        if near_copy:
            signature = rng.choice(signatures) ^ (1 << rng.randrange(64)) ^ (1 << rng.randrange(64))
        signatures.append(signature)
        site = f"site{n % 50}.example"
        url = f"https://{site}/news/{n}"
        articles.append(
            ArticleClassified(
                url=url,
                final_url=url,
                canonical_url=f"https://{site}/a/{n}" if n % 10 == 5 else None,
                submitted_at=_T0,
                fetched_at=_T0 + timedelta(seconds=n),
                title=" ".join(rng.choices(words, weights, k=8)),
                text=" ".join(rng.choices(words, weights, k=_TEXT_WORDS)),
                description=" ".join(rng.choices(words, weights, k=20)),
                authors=["A. Writer"],
                published_at=_T0 - timedelta(hours=n % 240),
                site_name=site,
                extraction_method="trafilatura",
                simhash=f"{signature:016x}",
                language=rng.choice(("en", "ar", "fr")),
                language_confidence=0.99,
                topic=rng.choice(("politics", "economy", "sport", None)),
                topic_confidence=0.8,
                topic_probabilities={"politics": 0.8, "economy": 0.2},
                model_version="bench",
                timings={"fetcher": 0.2, "cleaner": 0.05, "classifier": 0.01},
            )
        )
    return articles


def _batches(
    articles: Sequence[ArticleClassified], size: int
) -> Iterator[Sequence[ArticleClassified]]:
    for start in range(0, len(articles), size):
        yield articles[start : start + size]


def _timed_writes(
    store: ArticleStore, articles: Sequence[ArticleClassified], size: int, concurrent: int
) -> Timing:
    postmaster = _postmaster_pid(store)
    with ThreadPoolExecutor(concurrent) as pool:
        # One connection per thread, opened before the clock starts.
        list(pool.map(lambda _: _touch(store), range(concurrent * 4)))
        server_before = _server_cpu(postmaster)
        cpu_before, started = time.process_time(), time.perf_counter()
        list(pool.map(store.save_articles, _batches(articles, size)))
        store.catch_up_search()  # stored means findable too: SQLite indexes beside the writer
        wall, client = time.perf_counter() - started, time.process_time() - cpu_before
    return Timing(wall, client, _server_cpu(postmaster) - server_before)


def _touch(store: ArticleStore) -> None:
    with store.engine.connect() as conn:
        conn.execute(sa.select(1))


def _postmaster_pid(store: ArticleStore) -> int | None:
    """The local PostgreSQL server's main process: the parent of a backend."""
    if store.engine.dialect.name != "postgresql":
        return None
    with store.engine.connect() as conn:
        backend = int(conn.scalar(sa.select(sa.func.pg_backend_pid())) or 0)
    stat = _stat(backend)
    return stat[0] if stat else None


def _stat(pid: int) -> tuple[int, float, float] | None:
    """Parent pid, own CPU seconds, and CPU seconds of its exited and reaped children."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    tick = os.sysconf("SC_CLK_TCK")
    own = (int(fields[11]) + int(fields[12])) / tick
    reaped = (int(fields[13]) + int(fields[14])) / tick
    return int(fields[1]), own, reaped


def _server_cpu(postmaster: int | None) -> float:
    """CPU seconds of the whole server so far: the postmaster, its live children, and
    those that have exited (autovacuum workers come and go), which the postmaster reaps."""
    if postmaster is None or (main := _stat(postmaster)) is None:
        return 0.0
    total = main[1] + main[2]
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (child := _stat(int(entry.name))) and child[0] == postmaster:
            total += child[1]
    return total


@contextmanager
def _database(kind: str, postgres_url: str) -> Iterator[str]:
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="newsflow-bench-") as directory:
            yield f"sqlite:///{Path(directory) / 'bench.db'}"
        return
    schema = f"bench_{uuid.uuid4().hex}"
    admin = sa.create_engine(postgres_url)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        url = sa.make_url(postgres_url).update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def run(
    kind: str,
    batch: int,
    concurrent: int,
    articles: Sequence[ArticleClassified],
    postgres_url: str,
) -> Result:
    with _database(kind, postgres_url) as url:
        store = ArticleStore.from_url(url)
        try:
            store.create_schema()
            first = _timed_writes(store, articles, batch, concurrent)
            again = _timed_writes(store, articles, batch, concurrent)
            stored = len(store.outcomes([a.url for a in articles]))
            if stored != len(articles):
                raise RuntimeError(f"{kind}: {stored} of {len(articles)} URLs stored")
        finally:
            store.close()
    return Result(kind, batch, concurrent, len(articles), first, again)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.storage", description=__doc__)
    parser.add_argument("--articles", type=int, default=20_000)
    parser.add_argument("--batches", default="32,256", help="comma-separated batch sizes")
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument(
        "--concurrent", default="1,2", help="comma-separated batches in hand at once"
    )
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL)
    args = parser.parse_args(argv)
    configure_logging("benchmark", level="WARNING", json=False)  # stdout is the table

    articles = synthetic_articles(args.articles)
    print(
        "| database | batch | in hand | articles | first write: articles/s "
        "| per CPU-s | CPU ms per article: process + server "
        "| redelivery: articles/s | per CPU-s | CPU ms: process + server |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for kind in args.databases.split(","):
        for size in (int(value) for value in args.batches.split(",")):
            for concurrent in (int(value) for value in args.concurrent.split(",")):
                result = run(kind, size, concurrent, articles, args.postgres_url)
                print(result.row(), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
