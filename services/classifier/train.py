"""Train the topic models shipped in ``models/``: ``python -m services.classifier.train``.

Reads the labelled corpora in ``<shared>/data/topics`` (rows whose ``topic`` is null and
exact duplicates are dropped), fits one TF-IDF + logistic-regression model per language
and writes ``models/topic-<language>.npz``. Everything is deterministic (sorted
vocabulary, lbfgs, fixed data order), so a rerun writes byte-identical files.

``--validate`` also prints how the recipe does on data it was not trained on: for Arabic,
leave one outlet out (train on four outlets, test on the fifth); for English, a single
outlet, five category-balanced blocks of consecutive file numbers.

Needs scikit-learn, which the services themselves do not.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from sklearn.feature_extraction.text import TfidfVectorizer  # type: ignore[import-untyped]
from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]
from sklearn.metrics import accuracy_score, classification_report, f1_score  # type: ignore[import-untyped]

from services.classifier.model import MODELS_DIR, save_topic_model
from services.classifier.text import topic_features

__all__ = ["CORPORA", "RECIPES", "THRESHOLDS", "Recipe", "export", "fit", "main"]

CORPORA = {"ar": "ant21_ar.jsonl.gz", "en": "bbc_en.jsonl.gz"}
# Candidate NEWSFLOW_CLASSIFIER_MIN_TOPIC_CONFIDENCE values reported by --validate.
THRESHOLDS = (0.4, 0.5, 0.6, 0.7)
_DEFAULT_TOPICS_DIR = (
    Path(os.environ.get("NEWSFLOW_SHARED_DIR", Path(__file__).resolve().parents[3] / "shared"))
    / "data"
    / "topics"
)


@dataclass(frozen=True, slots=True)
class Recipe:
    """Chosen by leave-one-outlet-out on Arabic (docs/benchmarks.md)."""

    c: float = 3.0  # inverse L2 strength; 1-10 measured within 0.002 of each other
    min_df: int = 3  # a word seen in fewer articles is more likely a name than a topic
    max_df: float = 1.0  # share of articles above which a word is dropped (function words)
    max_words: int = 60_000
    max_iter: int = 500


# English drops words in over half the articles ("the", "said"): they carry an outlet's
# style, not a topic (BBC blocks 0.967 -> 0.970; it moved no Arabic fold, so Arabic keeps all).
RECIPES = {"ar": Recipe(), "en": Recipe(max_df=0.5)}


@dataclass(frozen=True, slots=True)
class Corpus:
    features: list[list[str]]
    topics: NDArray[np.str_]
    groups: NDArray[np.str_]  # outlet, or validation block


def _read(path: Path) -> Iterator[dict[str, str]]:
    seen: set[str] = set()
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        for line in lines:
            row = json.loads(line)
            key = " ".join((row.get("text") or "").split())  # same body = same article
            if row.get("topic") is None or key in seen:
                continue
            seen.add(key)
            yield row


def _file_number(row: dict[str, str]) -> int:
    match = re.search(r"(\d+)\.txt$", row["id"])  # BBC ids: "bbc/<category>/<nnn>.txt"
    return int(match.group(1)) if match else 0


def _english_blocks(rows: list[dict[str, str]], count: int = 5) -> list[str]:
    """Per category, ``count`` blocks of consecutive file numbers (one outlet, no sources)."""
    blocks = [""] * len(rows)
    for topic in {row["topic"] for row in rows}:
        members = sorted(
            (i for i, r in enumerate(rows) if r["topic"] == topic),
            key=lambda i: _file_number(rows[i]),
        )
        for rank, index in enumerate(members):
            blocks[index] = f"block{rank * count // len(members) + 1}"
    return blocks


def load_corpus(path: Path, language: str) -> Corpus:
    rows = list(_read(path))
    groups = _english_blocks(rows) if language == "en" else [row["source"] for row in rows]
    return Corpus(
        features=[topic_features(r.get("title") or "", r.get("text") or "") for r in rows],
        topics=np.array([r["topic"] for r in rows]),
        groups=np.array(groups),
    )


def _identity(features: list[str]) -> list[str]:
    return features


def fit(
    features: Sequence[list[str]], topics: NDArray[np.str_], recipe: Recipe
) -> tuple[TfidfVectorizer, LogisticRegression]:
    vectorizer = TfidfVectorizer(
        analyzer=_identity,
        sublinear_tf=True,
        min_df=recipe.min_df,
        max_df=recipe.max_df,
        max_features=recipe.max_words,
    )
    matrix = vectorizer.fit_transform(features)
    # Balanced classes: outlets differ wildly in their topic mix (France24 is 88% politics).
    model = LogisticRegression(C=recipe.c, max_iter=recipe.max_iter, class_weight="balanced")
    model.fit(matrix, topics)
    return vectorizer, model


def export(
    path: Path, language: str, vectorizer: TfidfVectorizer, model: LogisticRegression
) -> None:
    words = vectorizer.get_feature_names_out()
    save_topic_model(
        path,
        language=language,
        topics=[str(topic) for topic in model.classes_],
        words=[str(word) for word in words],
        idf=vectorizer.idf_,
        coefficients=model.coef_.T,
        intercept=model.intercept_,
    )


def validate(corpus: Corpus, recipe: Recipe) -> None:
    predicted = np.empty_like(corpus.topics)
    confidence = np.zeros(len(corpus.topics))
    for group in sorted(set(corpus.groups)):
        held_out = corpus.groups == group
        train = [f for f, out in zip(corpus.features, held_out, strict=True) if not out]
        test = [f for f, out in zip(corpus.features, held_out, strict=True) if out]
        vectorizer, model = fit(train, corpus.topics[~held_out], recipe)
        probabilities = model.predict_proba(vectorizer.transform(test))
        predicted[held_out] = model.classes_[probabilities.argmax(axis=1)]
        confidence[held_out] = probabilities.max(axis=1)
        truth, guess = corpus.topics[held_out], predicted[held_out]
        present = sorted(set(truth))
        accuracy = accuracy_score(truth, guess)
        macro_f1 = f1_score(truth, guess, average="macro", labels=present)
        print(
            f"  held out {group:<9} n={held_out.sum():>5}  accuracy={accuracy:.3f}"
            f"  macro-F1 (its topics)={macro_f1:.3f}"
        )
    print(
        f"  pooled n={len(predicted)}  accuracy={accuracy_score(corpus.topics, predicted):.3f}"
        f"  macro-F1={f1_score(corpus.topics, predicted, average='macro'):.3f}"
    )
    print(classification_report(corpus.topics, predicted, digits=3))
    for threshold in THRESHOLDS:
        kept = confidence >= threshold
        print(
            f"  min confidence {threshold:.1f}: topic given to {kept.mean():.1%},"
            f" accuracy {accuracy_score(corpus.topics[kept], predicted[kept]):.3f},"
            f" macro-F1 {f1_score(corpus.topics[kept], predicted[kept], average='macro'):.3f}"
        )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m services.classifier.train", description=__doc__
    )
    parser.add_argument("--data", type=Path, default=_DEFAULT_TOPICS_DIR, help="labelled corpora")
    parser.add_argument("--out", type=Path, default=MODELS_DIR, help="where the models go")
    parser.add_argument("--validate", action="store_true", help="print held-out-outlet scores")
    parser.add_argument("--language", choices=sorted(CORPORA), action="append")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for language in args.language or sorted(CORPORA):
        source = args.data / CORPORA[language]
        if not source.exists():
            print(f"missing {source}", file=sys.stderr)
            return 1
        corpus = load_corpus(source, language)
        recipe = RECIPES[language]
        print(f"{language}: {len(corpus.topics)} articles from {source}")
        if args.validate:
            validate(corpus, recipe)
        vectorizer, model = fit(corpus.features, corpus.topics, recipe)
        target = args.out / f"topic-{language}.npz"
        export(target, language, vectorizer, model)
        print(f"  wrote {target} ({target.stat().st_size // 1024} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
