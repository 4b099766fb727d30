"""Benchmark the cleaner's HTML extraction against pages with known article bodies.

    .venv/bin/python -m benchmarks.extraction [--data DIR] [--rounds 3] [--workers 2]

Scores as the Zyte article-extraction benchmark does (see services/cleaner/scoring.py):
precision and recall of word 4-gram shingles averaged over pages, and their F1; also
the F1 of the even-numbered and of the odd-numbered pages apart, to check that a change
in extraction helps both halves rather than the page it was written for.

Speed is the best of ``--rounds`` passes over the pages (the machine is shared, so the
fastest pass is the one least disturbed), in one thread of this process, as wall-clock
pages/s and as pages per CPU-second of this process (less sensitive to other processes
on the machine); then the service's way, through the worker pool (``--workers``
processes, one thread feeding each, as the stage does), where pickling and pipes add
their cost.

The data set is read at run time and never copied into the project. ``DIR`` holds
``ground_truth.json`` (file name -> {"body": [paragraphs], "url"})
and ``html/<file name>`` (gzip-compressed pages), the layout of the Fundus
evaluation set.
"""

from __future__ import annotations

import argparse
import logging
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import trafilatura

from services.cleaner.core import NotAnArticle, clean_html, clean_task
from services.cleaner.pool import ProcessPool
from services.cleaner.scoring import Page, load_pages, page_counts, score

__all__ = ["DEFAULT_DATA_DIR", "EXTRACTORS", "main"]

# The project's read-only data sits in ../shared beside the checkout (as for the tests);
# NEWSFLOW_SHARED_DIR points elsewhere.
_SHARED_DIR = Path(
    os.environ.get("NEWSFLOW_SHARED_DIR", Path(__file__).resolve().parents[2] / "shared")
)
DEFAULT_DATA_DIR = _SHARED_DIR / "data" / "extraction" / "fundus"
_WARM_UP_PAGES = 3

Extractor = Callable[[str, str | None], str]


def _newsflow(html: str, url: str | None) -> str:
    try:
        return clean_html(html, url).text
    except NotAnArticle:
        return ""


def _trafilatura(html: str, url: str | None) -> str:
    return trafilatura.extract(html, url=url) or ""


EXTRACTORS: dict[str, Extractor] = {
    "newsflow clean_html": _newsflow,
    "trafilatura.extract": _trafilatura,
}


def _report(
    name: str, pages: Sequence[Page], outputs: Sequence[str], elapsed: float, cpu: float | None
) -> None:
    counts = [page_counts(p.expected, out) for p, out in zip(pages, outputs, strict=True)]
    result = score(counts)
    # F1 of the even and the odd pages apart: a change made for one page shows in one half
    halves = (
        f"{score(counts[0::2]).f1:.4f}/{score(counts[1::2]).f1:.4f}" if len(counts) > 1 else "-"
    )
    empty = sum(1 for out in outputs if not out)
    per_cpu = f"{len(pages) / cpu:6.1f}" if cpu else "     -"
    print(
        f"{name:<24} precision={result.precision:.4f} recall={result.recall:.4f} "
        f"F1={result.f1:.4f} (even/odd {halves})  {len(pages) / elapsed:6.1f} pages/s  "
        f"{per_cpu} pages/CPU-s  empty={empty}/{len(pages)}"
    )


def _run(extractors: dict[str, Extractor], pages: Sequence[Page], rounds: int) -> None:
    """Rounds interleaved across extractors, so that a change in the machine's load
    weighs on each alike; the fastest round of each is reported."""
    for extract in extractors.values():
        for page in pages[:_WARM_UP_PAGES]:  # lazy imports and stop lists are not per page
            extract(page.html, page.url)
    best = dict.fromkeys(extractors, float("inf"))
    best_cpu = dict.fromkeys(extractors, float("inf"))
    outputs: dict[str, list[str]] = {}
    for _ in range(rounds):
        for name, extract in extractors.items():
            started, started_cpu = time.perf_counter(), time.process_time()
            outputs[name] = [extract(page.html, page.url) for page in pages]
            best[name] = min(best[name], time.perf_counter() - started)
            best_cpu[name] = min(best_cpu[name], time.process_time() - started_cpu)
    for name in extractors:
        _report(name, pages, outputs[name], best[name], best_cpu[name])


def _pool_text(pool: ProcessPool[tuple[str, str | None], object], page: Page) -> str:
    try:
        return pool((page.html, page.url)).text  # type: ignore[attr-defined,no-any-return]
    except NotAnArticle:
        return ""


def _run_pool(pages: Sequence[Page], workers: int, rounds: int) -> None:
    """The service's path: a thread per worker feeding the pool."""
    pool: ProcessPool[tuple[str, str | None], object] = ProcessPool(
        clean_task,
        workers=workers,
        timeout_s=60,
        max_tasks_per_worker=10**9,
        preload=["services.cleaner.warm"],
    )
    with pool, ThreadPoolExecutor(workers) as threads:
        list(threads.map(lambda page: _pool_text(pool, page), pages[: workers * 2]))  # start-up
        best = float("inf")
        for _ in range(rounds):
            started = time.perf_counter()
            outputs = list(threads.map(lambda page: _pool_text(pool, page), pages))
            best = min(best, time.perf_counter() - started)
    _report(f"newsflow pool x{workers}", pages, outputs, best, None)


def _resident_mb(pid: int) -> float:
    with open(f"/proc/{pid}/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _run_memory(pages: Sequence[Page], total: int) -> None:
    """One worker, never recycled, over ``total`` pages: its resident memory as it goes."""
    pool: ProcessPool[tuple[str, str | None], object] = ProcessPool(
        clean_task,
        workers=1,
        timeout_s=60,
        max_tasks_per_worker=10**9,
        preload=["services.cleaner.warm"],
    )
    with pool:
        samples = []
        for done in range(1, total + 1):
            _pool_text(pool, pages[done % len(pages)])
            if done % len(pages) == 0 or done == total:
                samples.append(f"{done}:{_resident_mb(pool.worker_pids()[0]):.0f}")
    print(f"worker resident MB after N pages (no recycling): {' '.join(samples)}")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA_DIR, help="data set directory")
    parser.add_argument("--rounds", type=int, default=3, help="passes; the fastest is reported")
    parser.add_argument(
        "--workers", type=int, default=os.cpu_count() or 1, help="pool processes (0: skip)"
    )
    parser.add_argument(
        "--memory-pages", type=int, default=0, help="pages for the memory run (0: skip)"
    )
    args = parser.parse_args(argv)
    # trafilatura logs a warning for every page it discards; the summary says enough.
    logging.getLogger("trafilatura").setLevel(logging.ERROR)
    pages = load_pages(args.data)
    print(f"{len(pages)} pages from {args.data}, best of {args.rounds} rounds")
    _run(EXTRACTORS, pages, args.rounds)
    if args.workers > 0:
        _run_pool(pages, args.workers, args.rounds)
    if args.memory_pages > 0:
        _run_memory(pages, args.memory_pages)


if __name__ == "__main__":
    main()
