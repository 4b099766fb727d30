"""`make run`: the whole pipeline on one machine, with nothing installed but the venv.

A private redis-server, a SQLite file, the four services as separate processes and a
local web server for the bundled corpus. Publishes the corpus's URLs, waits until each
has ended (stored or failed), prints what happened and stops everything it started.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from redis import Redis

from newsflow.embedded import EmbeddedRedis, free_port
from services.storage.repository import ArticleStore, StoredArticle, StoredFailure
from shared.intake import publish_urls

__all__ = ["CORPUS_DIR", "Pipeline", "corpus_server", "main"]

CORPUS_DIR = Path(__file__).parent / "corpus"
SERVICES = ("fetcher", "cleaner", "classifier", "storage")
# A URL that the corpus server answers with 404: shows a recorded permanent failure.
MISSING_PAGE = "missing-article.html"
_HEALTH_TIMEOUT_S = 30.0
_STOP_GRACE_S = 10.0


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@contextlib.contextmanager
def corpus_server(directory: Path = CORPUS_DIR) -> Iterator[str]:
    """Serve ``directory`` on a free loopback port; yields the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def corpus_urls(base_url: str, directory: Path = CORPUS_DIR) -> list[str]:
    pages = sorted(p.name for p in directory.glob("*.html"))
    return [base_url + name for name in [*pages, MISSING_PAGE]]


@dataclass
class Pipeline:
    """The four services as child processes, wired to one Redis and one database."""

    redis_url: str
    database_url: str
    log_dir: Path
    allow_networks: str = "127.0.0.0/8"
    extra_env: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.ports: dict[str, int] = {}

    def environment(self, replica: str) -> dict[str, str]:
        return {
            **os.environ,
            "REDIS_URL": self.redis_url,
            "DATABASE_URL": self.database_url,
            "NEWSFLOW_FETCH_ALLOW_NETWORKS": self.allow_networks,
            "NEWSFLOW_HTTP_HOST": "127.0.0.1",
            "NEWSFLOW_HTTP_PORT": str(self.ports[replica]),
            # Every page here comes from one local server: no politeness delay for it.
            "NEWSFLOW_FETCH_HOST_DELAY_S": "0",
            "NEWSFLOW_FETCH_HOST_CONCURRENCY": "64",
            **self.extra_env,
        }

    def start(self, services: Sequence[str] = SERVICES) -> None:
        for service in services:
            self.spawn(service)
        for service in services:
            self.wait_ready(service)

    def spawn(self, service: str, replica: str | None = None) -> str:
        """Start one process of ``service``; ``replica`` names a second, third... one."""
        replica = replica or service
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.ports[replica] = free_port()
        with open(self.log_dir / f"{replica}.log", "ab") as log:
            self.processes[replica] = subprocess.Popen(
                [sys.executable, "-m", "newsflow", "serve", service],
                env=self.environment(replica),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        return replica

    def kill(self, replica: str) -> None:
        """SIGKILL: no shutdown, no acks; its pending entries must be reclaimed."""
        process = self.processes.pop(replica)
        process.kill()
        process.wait()

    def terminate(self, replica: str, timeout_s: float = 30.0) -> int:
        """SIGTERM, as an orchestrator stops a container; returns the exit code."""
        process = self.processes.pop(replica)
        process.send_signal(signal.SIGTERM)
        return process.wait(timeout=timeout_s)

    def readiness(self, replica: str) -> int:
        """HTTP status of the replica's /readyz (0 when it does not answer)."""
        url = f"http://127.0.0.1:{self.ports[replica]}/readyz"
        try:
            with urllib.request.urlopen(url, timeout=3) as response:
                return int(response.status)
        except urllib.error.HTTPError as error:
            return int(error.code)
        except OSError:
            return 0

    def wait_ready(self, replica: str) -> None:
        url = f"http://127.0.0.1:{self.ports[replica]}/readyz"
        deadline = time.monotonic() + _HEALTH_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.processes[replica].poll() is not None:
                raise RuntimeError(f"{replica} exited; see {self.log_dir / replica}.log")
            with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=1) as response:
                if response.status < 300:
                    return
            time.sleep(0.1)
        raise TimeoutError(f"{replica} not ready after {_HEALTH_TIMEOUT_S:.0f}s")

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + _STOP_GRACE_S
        for process in self.processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.processes.clear()


def wait_for_outcomes(store: ArticleStore, urls: Sequence[str], timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if len(store.outcomes(urls)) == len(urls):
            return True
        time.sleep(0.2)
    return False


def _ms(timings: dict[str, float], stage: str) -> str:
    return f"{timings[stage] * 1000:.0f}" if stage in timings else "-"


def report(urls: Sequence[str], store: ArticleStore) -> list[list[str]]:
    articles: dict[str, StoredArticle] = {a.url: a for a in store.list_articles(limit=10_000)}
    failures: dict[str, StoredFailure] = {f.url: f for f in store.list_failures(limit=10_000)}
    rows = []
    for url in urls:
        if url in articles:
            a = articles[url]
            total = (a.stored_at - a.submitted_at).total_seconds()
            rows.append(
                [a.title, a.language, a.topic or "-", "stored", _ms(a.timings, "fetch"),
                 _ms(a.timings, "clean"), _ms(a.timings, "classify"), f"{total:.2f}"]
            )  # fmt: skip
        elif url in failures:
            f = failures[url]
            name = url.rsplit("/", 1)[-1]
            total = (f.failed_at - f.submitted_at).total_seconds()
            rows.append(
                [name, "-", "-", f"failed at {f.stage}: {f.reason}", _ms(f.timings, "fetch"),
                 _ms(f.timings, "clean"), "-", f"{total:.2f}"]
            )  # fmt: skip
        else:
            rows.append([url.rsplit("/", 1)[-1], "-", "-", "NOT ENDED", "-", "-", "-", "-"])
    return rows


def print_table(rows: Sequence[Sequence[str]]) -> None:
    header = ["title", "lang", "topic", "status", "fetch ms", "clean ms", "classify ms", "total s"]
    limit = 48

    def cut(value: str) -> str:
        return value if len(value) <= limit else value[: limit - 1] + "…"

    table = [header, *[[cut(v) for v in row] for row in rows]]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for row in table:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())


def main(argv: Sequence[str] | None = None) -> int:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--workdir", type=Path, default=Path(".newsflow/demo"))
    options.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for all")
    args = options.parse_args(argv)

    shutil.rmtree(args.workdir, ignore_errors=True)
    args.workdir.mkdir(parents=True)
    database_url = f"sqlite:///{args.workdir / 'newsflow.db'}"
    started = time.monotonic()
    with EmbeddedRedis() as redis_server, corpus_server() as base_url:
        pipeline = Pipeline(redis_server.url, database_url, args.workdir / "logs")
        try:
            pipeline.start()
            print(f"pipeline up in {time.monotonic() - started:.1f}s (redis {redis_server.url})")
            urls = corpus_urls(base_url)
            redis = Redis.from_url(redis_server.url)
            publish_urls(redis, urls, source="demo")
            redis.close()
            store = ArticleStore.from_url(database_url)
            store.create_schema()
            ended = wait_for_outcomes(store, urls, args.timeout)
            print_table(report(urls, store))
        finally:
            pipeline.stop()
    elapsed = time.monotonic() - started
    print(f"\n{len(urls)} URLs in {elapsed:.1f}s; store: {database_url}; logs: {pipeline.log_dir}")
    if not ended:
        print("some URLs did not end in time: see the logs above", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
