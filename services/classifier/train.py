"""Train the topic models shipped in ``models/``: ``python -m services.classifier.train``.

Reads the labelled corpora in ``<shared>/data/topics`` (rows whose ``topic`` is null and
exact duplicates are dropped), fits one TF-IDF + logistic-regression model per language
(Arabic blended with complement naive Bayes, see :class:`Blend`) and writes
``models/topic-<language>.npz``. Everything is deterministic (sorted vocabulary, lbfgs,
naive Bayes' sums, fixed data order), so a rerun writes byte-identical files.

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
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.feature_extraction.text import TfidfVectorizer  # type: ignore[import-untyped]
from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]
from sklearn.metrics import accuracy_score, classification_report, f1_score  # type: ignore[import-untyped]
from sklearn.naive_bayes import ComplementNB  # type: ignore[import-untyped]

from services.classifier.model import MODELS_DIR, save_topic_model
from services.classifier.text import topic_features

__all__ = ["CORPORA", "RECIPES", "THRESHOLDS", "Blend", "Recipe", "export", "fit", "main"]

CORPORA = {"ar": "ant21_ar.jsonl.gz", "en": "bbc_en.jsonl.gz"}
# Candidate NEWSFLOW_CLASSIFIER_MIN_TOPIC_CONFIDENCE values reported by --validate.
THRESHOLDS = (0.4, 0.5, 0.6, 0.7)
_WORD = re.compile(r"[^\W\d_]{2,}")  # as text.tokens splits, before lower-casing
_SENTENCE_OPENERS = frozenset(".!?:;\"“”'‘’([—–-\n")  # a capital after these says nothing
_SPACES = frozenset(" \t\r\xa0")
_DEFAULT_TOPICS_DIR = (
    Path(os.environ.get("NEWSFLOW_SHARED_DIR", Path(__file__).resolve().parents[3] / "shared"))
    / "data"
    / "topics"
)


@dataclass(frozen=True, slots=True)
class Recipe:
    """Chosen by leave-one-outlet-out on Arabic, BBC blocks and Fundus (docs/benchmarks.md)."""

    c: float = 3.0  # inverse L2 strength; 1-10 measured within 0.002 of each other
    min_df: int = 3  # a word seen in fewer articles is more likely a name than a topic
    max_df: float = 1.0  # share of articles above which a word is dropped (function words)
    max_words: int = 60_000
    max_iter: int = 500
    # idf times (1 - topic entropy of the word) ** this; 0 = plain idf. See topic_weights.
    topic_weight_power: float = 0.5
    # Drop words written capitalised mid-sentence at least this often: names (None = keep).
    max_name_share: float | None = None
    # Weight of complement naive Bayes in a geometric mean with the regression (0 = none).
    naive_bayes_weight: float = 0.0


# English drops words in over half the articles ("the", "said"): they carry an outlet's
# style, not a topic. It also drops names (Blair, Labour, London): BBC's are British and
# of 2004-05, so they teach "politics = these names" and nothing that carries over to
# other publishers. Arabic has no capitals to find names by.
RECIPES = {
    "ar": Recipe(naive_bayes_weight=0.5),
    "en": Recipe(max_df=0.5, max_name_share=0.8),
}


@dataclass(frozen=True, slots=True)
class Corpus:
    features: list[list[str]]
    topics: NDArray[np.str_]
    groups: NDArray[np.str_]  # outlet, or validation block
    name_shares: dict[str, float]  # word -> share of its mid-sentence uses capitalised


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
        # Only a recipe that drops names needs them (counting Arabic would find none).
        name_shares=name_shares(r.get("text") or "" for r in rows)
        if RECIPES[language].max_name_share is not None
        else {},
    )


def name_shares(texts: Iterable[str]) -> dict[str, float]:
    """Per lower-cased word, the share of its uses inside a sentence that are capitalised.

    A sentence's first word is capitalised whatever it is, so it is not counted. Near 1:
    a name (person, party, place, company); near 0: an ordinary word. Uses no labels.
    """
    capitalised: Counter[str] = Counter()
    inside: Counter[str] = Counter()
    for text in texts:
        for match in _WORD.finditer(text):
            before = match.start() - 1
            while before >= 0 and text[before] in _SPACES:
                before -= 1
            if before < 0 or text[before] in _SENTENCE_OPENERS:
                continue
            word = match.group()
            inside[word.lower()] += 1
            capitalised[word.lower()] += word[0].isupper()
    return {word: capitalised[word] / count for word, count in inside.items()}


def _identity(features: list[str]) -> list[str]:
    return features


def topic_weights(matrix: Any, topics: NDArray[np.str_]) -> NDArray[np.float64]:
    """Per word, 1 - H(topic | word) / log(topics), from class-balanced document frequencies.

    1 for a word seen in one topic only, 0 for one spread evenly ("said", "week"). Scaling
    idf by it lets the L2 penalty fall hardest on words that say nothing about the topic,
    which otherwise pick up an outlet's habits.
    """
    present = (matrix > 0).astype(np.float64)
    classes = np.unique(topics)
    frequency = np.vstack([np.asarray(present[topics == c].mean(axis=0)).ravel() for c in classes])
    share = (frequency + 1e-4) / (frequency + 1e-4).sum(axis=0)  # smoothed P(topic | word)
    entropy: NDArray[np.float64] = -(share * np.log(share)).sum(axis=0) / np.log(len(classes))
    return np.clip(1.0 - entropy, 0.0, 1.0)


class Blend:
    """Weighted geometric mean of two models' topic probabilities, renormalised.

    Logistic regression and complement naive Bayes both score an article linearly in
    the same TF-IDF vector (log-probability = score - a per-article constant), so the
    blend is itself one linear model, ``coef_`` and ``intercept_``: the exported file
    and the runtime do not change. Held out by outlet, Arabic scores better blended than
    with either model alone (docs/classifier.md).
    """

    def __init__(
        self, regression: LogisticRegression, naive_bayes: ComplementNB, weight: float
    ) -> None:
        self.regression, self.naive_bayes, self.weight = regression, naive_bayes, weight
        self.classes_: NDArray[np.str_] = regression.classes_
        # Naive Bayes' weights are -log(share) of each word, 6-13 in every topic alike.
        # A word's mean over the topics adds the same to every topic's score, which
        # softmax ignores; without it float16 keeps the differences (mostly below 1).
        log_shares = naive_bayes.feature_log_prob_
        log_shares = log_shares - log_shares.mean(axis=0)
        # ComplementNB adds no class prior when there are several classes: no intercept.
        self.coef_: NDArray[np.float64] = (1 - weight) * regression.coef_ + weight * log_shares
        self.intercept_: NDArray[np.float64] = (1 - weight) * regression.intercept_

    def predict_proba(self, matrix: Any) -> NDArray[np.float64]:
        scores = np.asarray(matrix @ self.coef_.T) + self.intercept_
        exp = np.exp(scores - scores.max(axis=1, keepdims=True))
        probabilities: NDArray[np.float64] = exp / exp.sum(axis=1, keepdims=True)
        return probabilities


def fit(
    features: Sequence[list[str]],
    topics: NDArray[np.str_],
    recipe: Recipe,
    name_shares: Mapping[str, float] | None = None,
) -> tuple[TfidfVectorizer, LogisticRegression | Blend]:
    if recipe.max_name_share is not None and name_shares:
        limit = recipe.max_name_share
        names = {word for word, share in name_shares.items() if share >= limit}
        features = [[f for f in sample if f not in names] for sample in features]
    vectorizer = TfidfVectorizer(
        analyzer=_identity,
        sublinear_tf=True,
        min_df=recipe.min_df,
        max_df=recipe.max_df,
        max_features=recipe.max_words,
    )
    matrix = vectorizer.fit_transform(features)
    if recipe.topic_weight_power:
        # Folded into idf, so the exported model and the runtime need nothing new.
        weights = topic_weights(matrix, topics) ** recipe.topic_weight_power
        vectorizer.idf_ = vectorizer.idf_ * weights
        matrix = vectorizer.transform(features)
    # Balanced classes: outlets differ wildly in their topic mix (France24 is 88% politics).
    model = LogisticRegression(C=recipe.c, max_iter=recipe.max_iter, class_weight="balanced")
    model.fit(matrix, topics)
    if not recipe.naive_bayes_weight:
        return vectorizer, model
    naive_bayes = ComplementNB().fit(matrix, topics)
    return vectorizer, Blend(model, naive_bayes, recipe.naive_bayes_weight)


def export(
    path: Path, language: str, vectorizer: TfidfVectorizer, model: LogisticRegression | Blend
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
        vectorizer, model = fit(train, corpus.topics[~held_out], recipe, corpus.name_shares)
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
        vectorizer, model = fit(corpus.features, corpus.topics, recipe, corpus.name_shares)
        target = args.out / f"topic-{language}.npz"
        export(target, language, vectorizer, model)
        print(f"  wrote {target} ({target.stat().st_size // 1024} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
