"""Benchmark the cleaner's HTML extraction against pages with known article bodies.

Scores the way the Zyte (Scrapinghub) article-extraction benchmark does: ``\\w+``
tokens, word 4-gram shingles, per-page true/false positives and false negatives
from shingle counts (normalised to sum to 1, so long pages weigh no more than
short ones), precision and recall averaged over pages, and F1 of the two averages.

The data set is read at run time and never copied into the project::

    .venv/bin/python -m services.cleaner.bench_extraction [--data DIR]

``DIR`` holds ``ground_truth.json`` (file name -> {"body": [paragraphs], "url"})
and ``html/<file name>`` (gzip-compressed pages), the layout of the Fundus
evaluation set.
"""

from __future__ import annotations

import argparse
import gzip
import json
import logging
import re
import statistics
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import trafilatura

from services.cleaner.core import NotAnArticle, clean_html

__all__ = ["DEFAULT_DATA_DIR", "Page", "Score", "main", "page_counts", "score"]

DEFAULT_DATA_DIR = Path("/work/shared/data/extraction/fundus")
_SHINGLE_SIZE = 4
_WARM_UP_PAGES = 3
_TOKEN_RE = re.compile(r"\w+")

Extractor = Callable[[str, "str | None"], str]


@dataclass(frozen=True, slots=True)
class Page:
    name: str
    url: str | None
    html: str
    expected: str


@dataclass(frozen=True, slots=True)
class Score:
    precision: float
    recall: float

    @property
    def f1(self) -> float:
        total = self.precision + self.recall
        return 2 * self.precision * self.recall / total if total else 0.0


def _shingles(text: str) -> Counter[tuple[str, ...]]:
    tokens = _TOKEN_RE.findall(text)
    # Like the reference: a text shorter than one shingle still yields one (short) shingle.
    starts = range(max(1, len(tokens) - _SHINGLE_SIZE + 1))
    return Counter(shingle for i in starts if (shingle := tuple(tokens[i : i + _SHINGLE_SIZE])))


def page_counts(expected: str, predicted: str) -> tuple[float, float, float]:
    """(tp, fp, fn) over shingle counts for one page, normalised to sum to 1."""
    truth, guess = _shingles(expected), _shingles(predicted)
    tp = sum((truth & guess).values())
    fp = sum((guess - truth).values())
    fn = sum((truth - guess).values())
    total = tp + fp + fn
    return (tp / total, fp / total, fn / total) if total else (0.0, 0.0, 0.0)


def _precision(tp: float, fp: float, fn: float) -> float:
    if fp == fn == 0:
        return 1.0
    return 0.0 if tp == fp == 0 else tp / (tp + fp)


def _recall(tp: float, fp: float, fn: float) -> float:
    if fp == fn == 0:
        return 1.0
    return 0.0 if tp == fn == 0 else tp / (tp + fn)


def score(counts: Sequence[tuple[float, float, float]]) -> Score:
    """Average per-page precision and recall (pages with nothing to score are skipped)."""
    precisions = [_precision(*c) for c in counts if c[0] + c[1] > 0]
    recalls = [_recall(*c) for c in counts if c[0] + c[2] > 0]
    return Score(
        precision=statistics.mean(precisions) if precisions else 0.0,
        recall=statistics.mean(recalls) if recalls else 0.0,
    )


def load_pages(data_dir: Path) -> list[Page]:
    truth = json.loads((data_dir / "ground_truth.json").read_text(encoding="utf-8"))
    return [
        Page(
            name=name,
            url=entry.get("url"),
            html=gzip.decompress((data_dir / "html" / name).read_bytes()).decode(
                "utf-8", errors="replace"
            ),
            expected="\n\n".join(entry["body"]),
        )
        for name, entry in sorted(truth.items())
    ]


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


def _run(name: str, extract: Extractor, pages: Sequence[Page]) -> None:
    for page in pages[:_WARM_UP_PAGES]:  # lazy imports and stop-list loading are not per page
        extract(page.html, page.url)
    started = time.perf_counter()
    outputs = [extract(page.html, page.url) for page in pages]
    elapsed = time.perf_counter() - started
    result = score([page_counts(p.expected, out) for p, out in zip(pages, outputs, strict=True)])
    empty = sum(1 for out in outputs if not out)
    print(
        f"{name:<22} precision={result.precision:.4f} recall={result.recall:.4f} "
        f"F1={result.f1:.4f}  {len(pages) / elapsed:6.1f} pages/s  empty={empty}/{len(pages)}"
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA_DIR, help="data set directory")
    args = parser.parse_args(argv)
    # trafilatura logs a warning for every page it discards; the summary says enough.
    logging.getLogger("trafilatura").setLevel(logging.ERROR)
    pages = load_pages(args.data)
    print(f"{len(pages)} pages from {args.data}")
    for name, extract in EXTRACTORS.items():
        _run(name, extract, pages)


if __name__ == "__main__":
    main()
