"""Does a cleaner worker's memory stay flat over many pages?

    .venv/bin/python -m benchmarks.cleaner_memory [--pages 100000] [--every 5000] [--data DIR]

One extraction worker of the service's pool (the same fork server and preloaded
modules), never recycled (no page limit, no memory limit), cleans ``--pages`` pages:
the Fundus evaluation pages over and over, each copy made different (a counter in the
``<title>``, the ``<h1>`` and every ``<p>``), so that no cache can serve a page it has
seen and every copy brings new words and new fingerprints. The worker's resident memory
is printed every ``--every`` pages, then a summary: resident memory after the first
page, its maximum, at the end, and the least-squares slope per 10,000 pages over the
samples after the first tenth of the run (caches fill up there: bounded caches stop
growing, a leak does not).
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import time
from collections.abc import Sequence
from pathlib import Path

from benchmarks.extraction import DEFAULT_DATA_DIR
from services.cleaner.core import NotAnArticle, clean_task
from services.cleaner.pool import ProcessPool, TaskTimedOut, WorkerDied
from services.cleaner.scoring import Page, load_pages

__all__ = ["counter_slots", "main", "slope_per_10k", "vary"]

_COUNTED_TAGS_RE = re.compile(r"<(title|h1|p)(\s[^>]*)?>", re.IGNORECASE)
_TIMEOUT_S = 60.0  # generous: a timeout would replace the worker and end the measurement


def counter_slots(html: str) -> list[str]:
    """The page cut right after each opening ``<title>``, ``<h1>`` and ``<p>`` tag, once,
    so that each copy costs a join rather than a regular-expression pass over the page."""
    ends = [tag.end() for tag in _COUNTED_TAGS_RE.finditer(html)]
    return [html[start:end] for start, end in zip([0, *ends], [*ends, len(html)], strict=True)]


def vary(slots: Sequence[str], copy: int) -> str:
    """The page with ``copy`` written at the start of its title, headline and paragraphs."""
    return f"copy{copy} ".join(slots)


def slope_per_10k(samples: Sequence[tuple[int, float]]) -> float:
    """Least-squares slope of (pages, MB) samples, in MB per 10,000 pages."""
    if len(samples) < 2:
        return 0.0
    mean_x = sum(x for x, _ in samples) / len(samples)
    mean_y = sum(y for _, y in samples) / len(samples)
    spread = sum((x - mean_x) ** 2 for x, _ in samples)
    if spread == 0:
        return 0.0
    covariance = sum((x - mean_x) * (y - mean_y) for x, y in samples)
    return covariance / spread * 10_000


def _resident_mb(pid: int) -> float:
    with open(f"/proc/{pid}/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _clean(pool: ProcessPool[tuple[str, str | None], object], html: str, url: str | None) -> str:
    """'' for an article, else what went wrong."""
    try:
        pool((html, url))
    except NotAnArticle as rejection:
        return f"not an article: {rejection.reason}"
    except (TaskTimedOut, WorkerDied) as failure:
        return str(failure)
    return ""


def run(pages: Sequence[Page], total: int, every: int) -> None:
    pool: ProcessPool[tuple[str, str | None], object] = ProcessPool(
        clean_task,
        workers=1,
        timeout_s=_TIMEOUT_S,
        max_tasks_per_worker=total + 1,  # never recycled
        preload=["services.cleaner.warm"],
    )
    samples: list[tuple[int, float]] = []
    failures: dict[str, int] = {}
    worker_pids: set[int] = set()
    started = time.perf_counter()
    slots = [counter_slots(page.html) for page in pages]
    with pool:
        for done in range(1, total + 1):
            page = (done - 1) % len(pages)
            if failure := _clean(pool, vary(slots[page], done), pages[page].url):
                failures[failure] = failures.get(failure, 0) + 1
            pids = pool.worker_pids()
            worker_pids.update(pids)
            if pids and (done == 1 or done % every == 0 or done == total):
                samples.append((done, _resident_mb(pids[0])))
                elapsed = time.perf_counter() - started
                print(
                    f"{done:>8} pages  worker RSS {samples[-1][1]:7.1f} MB  "
                    f"{done / elapsed:5.1f} pages/s",
                    flush=True,
                )
    settled = [(x, y) for x, y in samples if x > total // 10]
    print(
        f"summary: {total} pages in {time.perf_counter() - started:.0f}s; worker RSS "
        f"start {samples[0][1]:.1f} MB (after page 1), max {max(y for _, y in samples):.1f} MB, "
        f"end {samples[-1][1]:.1f} MB; slope {slope_per_10k(settled):+.2f} MB per 10k pages "
        f"(pages {settled[0][0] if settled else '-'}-{total}); worker processes: "
        f"{len(worker_pids)} (1 = never replaced)"
    )
    for failure, count in sorted(failures.items(), key=lambda item: -item[1]):
        print(f"  {count} x {failure}")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--pages", type=int, default=100_000, help="pages to clean")
    parser.add_argument("--every", type=int, default=5_000, help="pages between RSS samples")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA_DIR, help="data set directory")
    args = parser.parse_args(argv)
    if args.pages < 1 or args.every < 1:
        parser.error("--pages and --every must be positive")
    logging.getLogger("trafilatura").setLevel(logging.ERROR)
    run(load_pages(args.data), args.pages, args.every)


if __name__ == "__main__":
    main()
