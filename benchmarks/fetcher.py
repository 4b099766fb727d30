"""Fetcher throughput: pages/s of the fetcher core plus politeness in one process.

    .venv/bin/python -m benchmarks.fetcher [--pages 2000] [--repeat 3] [--hosts 16]
                                           [--concurrency 64] [--batch 32]

Starts a private redis-server and, in a separate process, a small keep-alive HTTP/1.1
server (raw asyncio) answering every path with the same 50 KB HTML page on 127.0.0.1 ..
127.0.0.<hosts> (distinct hosts for politeness; robots.txt is a 404, so allow-all). Then:

1. the server's ceiling: a bare asyncio client (no parsing beyond Content-Length) on
   keep-alive connections, so the figure below is not the server's limit;
2. ``core``: ``core.fetch`` alone, ``--concurrency`` in flight;
3. ``politeness``: ``Downloader.download`` (canonical URL, recently-fetched claim and
   record, robots.txt from Redis, host slot reserve/release, fetch, metrics), the way
   the service runs it, ``--concurrency`` in flight;
4. ``stage batches``: the same through ``shared.stage.per_item`` on batches of
   ``--batch`` entries, each batch finishing before the next starts, as the stage reads.

Per-host limits are raised (``host_concurrency`` = concurrency, ``host_delay_s`` = 0) so
politeness costs its Redis round trips but never makes anything wait: this measures the
machinery, not the politeness policy. Steps 2-4 run ``--repeat`` interleaved rounds and
the best of each is reported too; CPU seconds of this process are given besides wall
time, since the machine may be shared. Only 127.0.0.0/8 is contacted.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from prometheus_client import CollectorRegistry
from redis.asyncio import Redis

from newsflow.embedded import EmbeddedRedis, free_port
from services.fetcher.clients import ClientShards
from services.fetcher.core import fetch
from services.fetcher.download import build_downloader
from services.fetcher.metrics import FetchMetrics
from services.fetcher.settings import FetcherSettings
from shared.contracts import PageFetched, UrlSubmitted
from shared.stage import BatchProcessor, Delivery, per_item

__all__ = ["main"]

PAGE_BYTES = 50_000


def page_body() -> bytes:
    paragraph = (
        "<p>The harbour authority said on Monday that cargo volumes rose for the third "
        "month in a row — قال مسؤولون إن الاجتماع تناول سبل تعزيز التعاون.</p>\n"
    )
    head = "<!doctype html><html><head><meta charset='utf-8'><title>Bench</title></head><body>"
    body = head + paragraph * (PAGE_BYTES // len(paragraph.encode()))
    data = body.encode()
    return data + b" " * (PAGE_BYTES - len(data) - len(b"</body></html>")) + b"</body></html>"


# ---- the server (separate process) --------------------------------------------------


def serve(port: int, hosts: int) -> None:
    page = page_body()
    ok = (
        b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"
        + f"Content-Length: {len(page)}\r\n\r\n".encode()
        + page
    )
    missing = b"HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 0\r\n\r\n"

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                writer.write(missing if head.startswith(b"GET /robots.txt ") else ok)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def main() -> None:
        addresses = [f"127.0.0.{n}" for n in range(1, hosts + 1)]
        server = await asyncio.start_server(answer, addresses, port, backlog=1024)
        print("ready", flush=True)
        async with server:
            await server.serve_forever()

    asyncio.run(main())


def start_server(port: int, hosts: int) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.fetcher", "--serve", str(port), "--hosts", str(hosts)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    if process.stdout.readline().strip() != "ready":
        process.kill()
        raise RuntimeError("benchmark server did not start")
    return process


# ---- measurements -------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    name: str
    pages: int
    seconds: float
    cpu_seconds: float  # of this process: what the run costs whatever else the machine does
    latencies_s: Sequence[float]

    def line(self) -> str:
        rate = self.pages / self.seconds
        line = (
            f"{self.name:<16} {self.pages:>6} pages in {self.seconds:6.2f} s = "
            f"{rate:5.0f} pages/s ({rate * PAGE_BYTES / 1e6:5.1f} MB/s); "
            f"{self.pages / self.cpu_seconds:5.0f} pages per CPU-second of this process"
        )
        if not self.latencies_s:
            return line
        ordered = sorted(self.latencies_s)
        p95 = ordered[int(0.95 * (len(ordered) - 1))]
        median = statistics.median(ordered)
        return f"{line}; latency p50 {median * 1000:.1f} ms p95 {p95 * 1000:.1f} ms"


async def bounded(
    name: str, urls: Sequence[str], concurrency: int, one: Callable[[str], Awaitable[None]]
) -> Run:
    limit = asyncio.Semaphore(concurrency)
    latencies: list[float] = []

    async def timed(url: str) -> None:
        async with limit:
            started = time.perf_counter()
            await one(url)
            latencies.append(time.perf_counter() - started)

    started, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(timed(url) for url in urls))
    elapsed = time.perf_counter() - started
    return Run(name, len(urls), elapsed, time.process_time() - cpu, latencies)


async def server_ceiling(port: int, hosts: int, connections: int, seconds: float) -> Run:
    """Requests/s a bare keep-alive client gets: a lower bound of the server's ceiling."""
    deadline = time.perf_counter() + seconds
    latencies: list[float] = []

    async def connection(n: int) -> None:
        host = f"127.0.0.{n % hosts + 1}"
        reader, writer = await asyncio.open_connection(host, port)
        request = f"GET /x HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode()
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(head.split(b"Content-Length: ")[1].split(b"\r\n")[0])
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - started)
        writer.close()

    started, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(connection(n) for n in range(connections)))
    elapsed = time.perf_counter() - started
    return Run("server ceiling", len(latencies), elapsed, time.process_time() - cpu, latencies)


def page_urls(port: int, hosts: int, pages: int, run: str) -> list[str]:
    return [f"http://127.0.0.{n % hosts + 1}:{port}/{run}/article-{n}?id={n}" for n in range(pages)]


async def stage_batches(urls: Sequence[str], size: int, batch: BatchProcessor[UrlSubmitted]) -> Run:
    """As the stage runs: one batch of ``size`` entries at a time, each finished first."""
    started, cpu = time.perf_counter(), time.process_time()
    for first in range(0, len(urls), size):
        chunk = urls[first : first + size]
        results = await batch([Delivery(str(n), UrlSubmitted(url=u)) for n, u in enumerate(chunk)])
        failures = [r for r in results if not isinstance(r, PageFetched)]
        if failures:
            raise RuntimeError(f"stage batch failed: {failures[0]!r}")
    elapsed = time.perf_counter() - started
    return Run(f"stage batch={size}", len(urls), elapsed, time.process_time() - cpu, [])


async def measure(args: argparse.Namespace, redis_url: str, port: int) -> list[Run]:
    settings = FetcherSettings(
        allow_networks="127.0.0.0/8",
        concurrency=args.concurrency,
        host_concurrency=args.concurrency,
        host_delay_s=0,
    )
    policy = settings.policy()
    runs = [await server_ceiling(port, args.hosts, args.concurrency, seconds=3.0)]
    redis = Redis.from_url(redis_url)
    clients = ClientShards.create(policy, args.concurrency)
    try:
        # Warm up: connections, robots.txt of every host into Redis.
        warm = build_downloader(settings, redis, clients, FetchMetrics(CollectorRegistry()))
        for url in page_urls(port, args.hosts, args.hosts, "warm"):
            await warm.download(UrlSubmitted(url=url))

        async def core_only(url: str) -> None:
            await fetch(url, clients.for_url(url), policy)

        downloader = build_downloader(settings, redis, clients, FetchMetrics(CollectorRegistry()))

        async def polite(url: str) -> None:
            result = await downloader.download(UrlSubmitted(url=url))
            if not isinstance(result, PageFetched):
                raise RuntimeError(f"{url}: {result}")

        async def process(request: UrlSubmitted) -> PageFetched:
            result = await downloader.download(request)
            assert isinstance(result, PageFetched)
            return result

        batch = per_item(process, concurrency=args.concurrency)
        for round_ in range(args.repeat):  # rounds interleave, so load drifts hit all alike
            urls = page_urls(port, args.hosts, args.pages, f"core{round_}")
            runs.append(await bounded("core", urls, args.concurrency, core_only))
            urls = page_urls(port, args.hosts, args.pages, f"polite{round_}")
            runs.append(await bounded("politeness", urls, args.concurrency, polite))
            urls = page_urls(port, args.hosts, args.pages, f"stage{round_}")
            runs.append(await stage_batches(urls, args.batch, batch))
    finally:
        await clients.aclose()
        await redis.aclose()
    return runs


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.fetcher", description=__doc__)
    parser.add_argument("--pages", type=int, default=2000, help="pages per run")
    parser.add_argument("--repeat", type=int, default=3, help="rounds; the best is reported")
    parser.add_argument("--hosts", type=int, default=16, help="distinct 127.0.0.x hosts")
    parser.add_argument("--concurrency", type=int, default=64, help="fetches in flight")
    parser.add_argument("--batch", type=int, default=32, help="entries per stage batch")
    parser.add_argument("--serve", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        serve(args.serve, args.hosts)
        return 0

    port = free_port()
    print(
        f"fetcher benchmark: {args.pages} pages of {PAGE_BYTES} bytes per run, "
        f"{args.hosts} hosts, {args.concurrency} in flight, {os.cpu_count()} CPUs"
    )
    with EmbeddedRedis() as redis_server:
        server = start_server(port, args.hosts)
        try:
            runs = asyncio.run(measure(args, redis_server.url, port))
        finally:
            server.terminate()
            server.wait(timeout=10)
    for run in runs:
        print(run.line())
    print(f"best of {args.repeat} (pages/s):")
    for name in dict.fromkeys(run.name for run in runs):
        same = [run for run in runs if run.name == name]
        print("  " + max(same, key=lambda run: run.pages / run.seconds).line())
    return 0


if __name__ == "__main__":
    sys.exit(main())
