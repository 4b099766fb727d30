"""The topic model at run time: TF-IDF + multinomial logistic regression in numpy.

Training fits scikit-learn's ``TfidfVectorizer(sublinear_tf=True)`` and
``LogisticRegression`` (for Arabic blended with naive Bayes into the same linear form,
``train.Blend``) and exports what inference needs into one ``.npz``: the
vocabulary, the idf weights (times train.py's topic weights), the coefficients
(float16, rows = words, so one article's words are a cheap row gather) and the
intercepts. Inference repeats the same arithmetic:
``tf = 1 + log(count)``, times idf, L2-normalised, dot the coefficients, softmax.
scikit-learn is not imported here: a service only needs numpy.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import repeat
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

__all__ = ["MODELS_DIR", "TopicModel", "load_topic_models", "save_topic_model"]

MODELS_DIR = Path(__file__).resolve().parents[2] / "models"
_FILE_PREFIX = "topic-"
# Words are letters only, so a newline can join them into one compact byte array.
_SEPARATOR = "\n"


@dataclass(frozen=True, slots=True)
class TopicModel:
    language: str
    topics: tuple[str, ...]
    vocabulary: dict[str, int]
    idf: NDArray[np.float32]
    coefficients: NDArray[np.float32]  # (words, topics)
    intercept: NDArray[np.float32]  # (topics,)
    version: str  # first 12 hex digits of the file's sha256

    @classmethod
    def load(cls, path: Path) -> TopicModel:
        content = path.read_bytes()
        with np.load(path, allow_pickle=False) as arrays:
            words = arrays["vocabulary"].tobytes().decode("utf-8").split(_SEPARATOR)
            return cls(
                language=str(arrays["language"]),
                topics=tuple(str(topic) for topic in arrays["topics"]),
                vocabulary={word: index for index, word in enumerate(words)},
                idf=arrays["idf"].astype(np.float32),
                coefficients=arrays["coefficients"].astype(np.float32),
                intercept=arrays["intercept"].astype(np.float32),
                version=hashlib.sha256(content).hexdigest()[:12],
            )

    def probabilities(self, tokens: Sequence[str]) -> dict[str, float] | None:
        """Probability of every topic, or None when no word is in the vocabulary."""
        # Counted in C; each distinct word looked up once (the vocabulary is the slow dict).
        counted = Counter(tokens)
        size = len(counted)
        ids = np.fromiter(map(self.vocabulary.get, counted, repeat(-1)), dtype=np.intp, count=size)
        counts = np.fromiter(counted.values(), dtype=np.float32, count=size)
        known = ids >= 0
        ids = ids[known]
        if not len(ids):
            return None
        order = ids.argsort()  # np.unique's order, so the sums are those of earlier releases
        ids, counts = ids[order], counts[known][order]
        tf = 1.0 + np.log(counts)
        weights = tf * self.idf[ids]
        norm = np.linalg.norm(weights)
        if norm:  # zero when every known word has zero weight: scikit-learn keeps zeros too
            weights /= norm
        scores = weights @ self.coefficients[ids] + self.intercept
        exp = np.exp(scores - scores.max())
        probabilities = exp / exp.sum()
        return {topic: float(p) for topic, p in zip(self.topics, probabilities, strict=True)}


def save_topic_model(
    path: Path,
    *,
    language: str,
    topics: Sequence[str],
    words: Sequence[str],
    idf: NDArray[np.floating],
    coefficients: NDArray[np.floating],
    intercept: NDArray[np.floating],
) -> None:
    """Write a model in the layout :meth:`TopicModel.load` reads (byte-for-byte stable)."""
    vocabulary = _SEPARATOR.join(words).encode("utf-8")
    np.savez_compressed(
        path,
        language=np.array(language),
        topics=np.array(list(topics)),
        vocabulary=np.frombuffer(vocabulary, dtype=np.uint8),
        idf=np.asarray(idf, dtype=np.float32),
        coefficients=np.asarray(coefficients, dtype=np.float16),
        intercept=np.asarray(intercept, dtype=np.float32),
    )


def load_topic_models(directory: Path = MODELS_DIR) -> dict[str, TopicModel]:
    """Every ``topic-<language>.npz`` in the directory, by language."""
    models = (TopicModel.load(path) for path in sorted(directory.glob(f"{_FILE_PREFIX}*.npz")))
    return {model.language: model for model in models}
