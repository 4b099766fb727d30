"""Scoring extracted text against a known article body, and loading such a data set.

Scores the way the Zyte (Scrapinghub) article-extraction benchmark does: ``\\w+``
tokens, word 4-gram shingles, per-page true/false positives and false negatives
from shingle counts (normalised to sum to 1, so long pages weigh no more than
short ones), precision and recall averaged over pages, and F1 of the two averages.
Used by ``benchmarks/extraction.py``.
"""

from __future__ import annotations

import gzip
import json
import re
import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Page", "Score", "load_pages", "page_counts", "score"]

_SHINGLE_SIZE = 4
_TOKEN_RE = re.compile(r"\w+")


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
