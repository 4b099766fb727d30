"""Classifier speed: articles/s for language + topic, start-up time, peak memory.

    .venv/bin/python -m benchmarks.classifier [--articles 5000] [--warmup 0] [--quality]

Texts are ~3 KB: real articles from the labelled corpora (Arabic and English, half
each) cut or repeated to 3,000 characters; a fixed bilingual paragraph when the shared
data is absent. Each measurement runs in a fresh interpreter so that start-up includes
the imports and peak RSS is this work's alone:

- start-up: process start until ``Classifier.load()`` returns (fastText + topic models);
- throughput: ``Classifier.classify(title, text)`` over every article, one process,
  each article once; the token caches start cold, as in a freshly started service,
  unless ``--warmup N`` first classifies N other articles of the same corpora, as a
  service that has been running has (``--articles 2000 --warmup 2000`` keeps the two
  sets apart within BBC's 2,089 articles);
- peak RSS: ``ru_maxrss`` of that process at the end.

``--quality`` adds the one English check from other publishers that exists offline: the
80 Fundus extraction pages (``<shared>/data/extraction/fundus``, 16 US/UK publishers,
2024) carry no topic, so 57 of them were labelled by hand for this benchmark (below; the
other 23 are crime, health, lifestyle, French, or fit two topics). Small and
politics-heavy: a sanity check of cross-publisher drift, not a benchmark of record.
"""

from __future__ import annotations

import argparse
import gzip
import itertools
import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

__all__ = ["main"]

TEXT_CHARS = 3000
_SHARED_DIR = Path(
    os.environ.get("NEWSFLOW_SHARED_DIR", Path(__file__).resolve().parents[2] / "shared")
)
_TOPICS_DIR = _SHARED_DIR / "data" / "topics"
# Labelled by hand from each page's body, for this check only: file stem -> topic.
_FUNDUS_TOPICS = {
    "APNews_0": "politics", "APNews_1": "sports", "APNews_2": "sports", "APNews_3": "sports",
    "APNews_4": "politics", "CNBC_0": "economy", "CNBC_1": "economy", "CNBC_2": "economy",
    "CNBC_3": "economy", "CNBC_4": "economy", "FoxNews_0": "politics", "FoxNews_1": "politics",
    "FoxNews_2": "politics", "FoxNews_4": "politics", "FreeBeacon_1": "politics",
    "FreeBeacon_2": "politics", "FreeBeacon_3": "politics", "FreeBeacon_4": "politics",
    "LATimes_0": "sports", "LATimes_1": "politics", "LATimes_2": "politics",
    "OccupyDemocrats_0": "politics", "OccupyDemocrats_1": "politics",
    "OccupyDemocrats_2": "politics", "OccupyDemocrats_3": "politics",
    "OccupyDemocrats_4": "politics", "Reuters_0": "politics",
    "Reuters_1": "economy", "TheGatewayPundit_0": "politics", "TheGatewayPundit_1": "economy",
    "TheGatewayPundit_3": "politics", "TheGuardian_0": "scitech", "TheGuardian_1": "politics",
    "TheGuardian_2": "culture", "TheGuardian_3": "scitech", "TheGuardian_4": "culture",
    "TheIndependent_0": "culture", "TheIndependent_1": "culture", "TheIndependent_4": "politics",
    "TheIntercept_1": "politics", "TheNation_0": "politics", "TheNation_1": "culture",
    "TheNation_2": "politics", "TheNation_3": "politics", "TheNation_4": "politics",
    "TheNewYorker_0": "politics", "TheNewYorker_1": "culture", "TheNewYorker_2": "culture",
    "TheNewYorker_4": "culture", "TheTelegraph_0": "sports", "TheTelegraph_1": "culture",
    "TheTelegraph_2": "culture", "TheTelegraph_3": "sports", "TheTelegraph_4": "politics",
    "WashingtonTimes_1": "politics", "WashingtonTimes_2": "politics",
    "WashingtonTimes_4": "politics",
}  # fmt: skip
_FALLBACK = (
    "The harbour authority said on Monday that cargo volumes rose for the third month. "
    "قال مسؤولون إن الاجتماع تناول سبل تعزيز التعاون الاقتصادي بين البلدين. "
)


def _articles(count: int, skip: int = 0) -> list[tuple[str, str]]:
    """``count`` articles, half from each corpus, after the first ``skip`` of each."""
    per_file = count // 2
    articles: list[tuple[str, str]] = []
    for name in ("ant21_ar.jsonl.gz", "bbc_en.jsonl.gz"):
        path = _TOPICS_DIR / name
        if not path.exists():
            continue
        with gzip.open(path, "rt", encoding="utf-8") as lines:
            wanted = itertools.islice(lines, skip, skip + per_file)
            rows = [json.loads(line) for line in wanted]
        for row in rows:
            text = row["text"] * (1 + TEXT_CHARS // max(len(row["text"]), 1))
            articles.append((row["title"] or "", text[:TEXT_CHARS]))
    while len(articles) < count:
        articles.append(("Bench", (_FALLBACK * (1 + TEXT_CHARS // len(_FALLBACK)))[:TEXT_CHARS]))
    return articles[:count]


def _worker(count: int, warmup: int) -> None:
    started = time.perf_counter()
    from services.classifier.core import Classifier

    classifier = Classifier.load()
    loaded = time.perf_counter() - started
    for title, text in _articles(warmup, skip=count // 2):
        classifier.classify(title, text)
    articles = _articles(count)
    started = time.perf_counter()
    topics = sum(classifier.classify(title, text).topic is not None for title, text in articles)
    elapsed = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "load_s": loaded,
                "articles": len(articles),
                "mean_chars": sum(len(t) + len(x) for t, x in articles) / len(articles),
                "articles_per_s": len(articles) / elapsed,
                "with_topic": topics,
                "peak_rss_mb": peak_mb,
            }
        )
    )


def _fundus_quality() -> None:
    from services.classifier.core import Classifier

    truth_path = _SHARED_DIR / "data" / "extraction" / "fundus" / "ground_truth.json"
    if not truth_path.exists():
        print(f"quality: skipped, {truth_path} is absent")
        return
    pages = json.loads(truth_path.read_text(encoding="utf-8"))
    classifier = Classifier.load(min_topic_confidence=0.0)
    results: list[tuple[str, str, float]] = []
    for name, topic in _FUNDUS_TOPICS.items():
        page = pages[f"{name}.html.gz"]
        body = page["body"] if isinstance(page["body"], str) else " ".join(page["body"])
        labels = classifier.classify(page.get("title") or "", body)
        results.append((topic, labels.topic or "-", labels.topic_confidence or 0.0))
    for threshold in (0.0, 0.5):
        kept = [(t, p) for t, p, confidence in results if confidence >= threshold]
        print(
            f"English, 16 other publishers, min confidence {threshold:.1f}: {len(kept)}/"
            f"{len(results)} given a topic, accuracy {_accuracy(kept):.3f},"
            f" macro-F1 {_macro_f1(kept):.3f}"
        )


def _accuracy(pairs: Sequence[tuple[str, str]]) -> float:
    return sum(t == p for t, p in pairs) / max(len(pairs), 1)


def _macro_f1(pairs: Sequence[tuple[str, str]]) -> float:
    scores = []
    for topic in sorted({t for t, _ in pairs}):
        hits = sum(t == p == topic for t, p in pairs)
        predicted = sum(p == topic for _, p in pairs)
        actual = sum(t == topic for t, _ in pairs)
        scores.append(2 * hits / (predicted + actual) if predicted + actual else 0.0)
    return sum(scores) / max(len(scores), 1)


def _startup_s() -> float:
    code = "from services.classifier.core import Classifier; Classifier.load()"
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True)
    return time.perf_counter() - started


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.classifier")
    parser.add_argument("--articles", type=int, default=5000)
    parser.add_argument(
        "--warmup",
        type=int,
        default=0,
        help="classify this many other articles first, as a running service has",
    )
    parser.add_argument("--quality", action="store_true", help="also the English hand-label check")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        _worker(args.articles, args.warmup)
        return 0
    startups = sorted(_startup_s() for _ in range(3))
    command = [sys.executable, "-m", "benchmarks.classifier", "--worker"]
    arguments = ["--articles", str(args.articles), "--warmup", str(args.warmup)]
    output = subprocess.run(
        [*command, *arguments], check=True, capture_output=True, text=True
    ).stdout
    result = json.loads(output)
    print(f"start-up (process start to Classifier.load() done, median of 3): {startups[1]:.2f} s")
    print(
        f"throughput: {result['articles_per_s']:,.0f} articles/s"
        f" ({result['articles']} articles, mean {result['mean_chars']:,.0f} chars,"
        f" {result['with_topic']} given a topic), one process"
        + (f", after {args.warmup} other articles" if args.warmup else ", caches cold")
    )
    print(f"peak RSS: {result['peak_rss_mb']:.0f} MB")
    if args.quality:
        _fundus_quality()
    return 0


if __name__ == "__main__":
    sys.exit(main())
